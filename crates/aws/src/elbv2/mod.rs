//! The load-balancer port over Elastic Load Balancing v2.
//!
//! Writes replace only the forward action's target-group list; the action list is read first and
//! written back whole, so stickiness, authentication actions and ordering survive a shift.

use crate::ports::TaggedRule;
use crate::{AwsError, LoadBalancer};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, TargetGroupStickinessConfig, TargetGroupTuple,
};
use aws_sdk_elasticloadbalancingv2::Client;
use cutover_core::target::HeaderRoute;
use cutover_core::traffic::{ForwardRoute, RouteRef, Stickiness, WeightedGroup};
use cutover_core::TargetHealth;

mod attributes;
mod rules;

/// ELBv2's Describe* calls support no resource-level permissions; a write names the listener (the
/// production one, or the test listener), or the rule when the target shifts a listener rule.
/// Cutover's own test rules are created on the production listener, tagged in the same call (which
/// AWS authorizes as `AddTags` with `elasticloadbalancing:CreateAction`), and deleted only while
/// they carry the test-route tag.
pub const PERMISSIONS: &[crate::iam::Needs] = {
    use crate::iam::{allow, allow_if};
    const DESCRIBE: [crate::iam::Permission; 2] = [
        allow("elasticloadbalancing:DescribeListeners", "*"),
        allow("elasticloadbalancing:DescribeRules", "*"),
    ];
    const TEST_RULE: &str =
        "arn:{partition}:elasticloadbalancing:{region}:{account}:listener-rule/app/{test_rule}";
    &[
        ("LoadBalancer::forward_route", &DESCRIBE),
        (
            "LoadBalancer::set_forward_route",
            &[
                DESCRIBE[0],
                DESCRIBE[1],
                allow("elasticloadbalancing:ModifyListener", "{listener}"),
                allow("elasticloadbalancing:ModifyRule", "{rule}"),
            ],
        ),
        (
            "LoadBalancer::set_test_listener",
            &[
                DESCRIBE[0],
                allow("elasticloadbalancing:ModifyListener", "{test_listener}"),
            ],
        ),
        (
            "LoadBalancer::target_health",
            &[allow("elasticloadbalancing:DescribeTargetHealth", "*")],
        ),
        (
            "LoadBalancer::deregistration_delay",
            &[allow(
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "*",
            )],
        ),
        (
            "LoadBalancer::tagged_rules",
            &[DESCRIBE[1], allow("elasticloadbalancing:DescribeTags", "*")],
        ),
        (
            "LoadBalancer::create_header_rule",
            &[
                allow("elasticloadbalancing:CreateRule", "{listener}"),
                allow_if(
                    "elasticloadbalancing:AddTags",
                    TEST_RULE,
                    "elasticloadbalancing:CreateAction",
                    "CreateRule",
                ),
            ],
        ),
        (
            "LoadBalancer::delete_rule",
            &[allow_if(
                "elasticloadbalancing:DeleteRule",
                TEST_RULE,
                "aws:ResourceTag/cutover:test-route",
                "{app}/{env}",
            )],
        ),
    ]
};

/// A call about one target group failed: `NotFound` naming it when AWS said it does not exist.
fn group_error<E>(
    operation: &'static str,
    target_group_arn: &str,
    missing: bool,
    e: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> AwsError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    if missing {
        AwsError::NotFound {
            what: "target group",
            id: target_group_arn.into(),
        }
    } else {
        AwsError::from_sdk(operation, e)
    }
}

pub struct Elbv2 {
    client: Client,
}

impl Elbv2 {
    pub fn new(client: Client) -> Self {
        Elbv2 { client }
    }

    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        Elbv2::new(Client::new(conf))
    }

    async fn actions(&self, at: &RouteRef) -> Result<Vec<Action>, AwsError> {
        match at {
            RouteRef::Listener(arn) => {
                let out = self
                    .client
                    .describe_listeners()
                    .listener_arns(arn)
                    .send()
                    .await
                    .map_err(|e| {
                        if e.as_service_error()
                            .is_some_and(|s| s.is_listener_not_found_exception())
                        {
                            AwsError::NotFound {
                                what: "listener",
                                id: arn.clone(),
                            }
                        } else {
                            AwsError::from_sdk("DescribeListeners", e)
                        }
                    })?;
                let listener = out.listeners().first().ok_or_else(|| AwsError::NotFound {
                    what: "listener",
                    id: arn.clone(),
                })?;
                Ok(listener.default_actions().to_vec())
            }
            RouteRef::Rule(arn) => {
                let out = self
                    .client
                    .describe_rules()
                    .rule_arns(arn)
                    .send()
                    .await
                    .map_err(|e| {
                        if e.as_service_error()
                            .is_some_and(|s| s.is_rule_not_found_exception())
                        {
                            AwsError::NotFound {
                                what: "listener rule",
                                id: arn.clone(),
                            }
                        } else {
                            AwsError::from_sdk("DescribeRules", e)
                        }
                    })?;
                let rule = out.rules().first().ok_or_else(|| AwsError::NotFound {
                    what: "listener rule",
                    id: arn.clone(),
                })?;
                Ok(rule.actions().to_vec())
            }
        }
    }
}

fn what(at: &RouteRef) -> &'static str {
    match at {
        RouteRef::Listener(_) => "listener",
        RouteRef::Rule(_) => "listener rule",
    }
}

/// The index of the single forward action; anything else is a configuration Cutover cannot shift.
fn forward_index(at: &RouteRef, actions: &[Action]) -> Result<usize, AwsError> {
    let forwards: Vec<usize> = actions
        .iter()
        .enumerate()
        .filter(|(_, a)| a.r#type() == Some(&ActionTypeEnum::Forward))
        .map(|(i, _)| i)
        .collect();
    match forwards.as_slice() {
        [i] => Ok(*i),
        _ => Err(AwsError::Unusable {
            what: what(at),
            id: at.arn().to_string(),
            problem: format!(
                "has {} forward actions; Cutover shifts exactly one",
                forwards.len()
            ),
        }),
    }
}

fn route_of(action: &Action) -> ForwardRoute {
    let groups = match action.forward_config() {
        Some(fc) if !fc.target_groups().is_empty() => fc
            .target_groups()
            .iter()
            .map(|t| WeightedGroup {
                target_group_arn: t.target_group_arn().unwrap_or_default().to_string(),
                // ELBv2 treats an unspecified weight as 1.
                weight: t.weight().unwrap_or(1),
            })
            .collect(),
        _ => action
            .target_group_arn()
            .map(|arn| {
                vec![WeightedGroup {
                    target_group_arn: arn.to_string(),
                    weight: 1,
                }]
            })
            .unwrap_or_default(),
    };
    let stickiness = action
        .forward_config()
        .and_then(|f| f.target_group_stickiness_config())
        .map(|s| Stickiness {
            enabled: s.enabled().unwrap_or(false),
            duration_seconds: s.duration_seconds().and_then(|d| u32::try_from(d).ok()),
        });
    ForwardRoute { groups, stickiness }
}

impl LoadBalancer for Elbv2 {
    async fn forward_route(&self, at: &RouteRef) -> Result<ForwardRoute, AwsError> {
        let actions = self.actions(at).await?;
        let i = forward_index(at, &actions)?;
        Ok(route_of(&actions[i]))
    }

    async fn set_forward_route(&self, at: &RouteRef, route: &ForwardRoute) -> Result<(), AwsError> {
        let mut actions = self.actions(at).await?;
        let i = forward_index(at, &actions)?;
        let forward = &mut actions[i];
        let stickiness = match &route.stickiness {
            None => forward
                .forward_config()
                .and_then(|f| f.target_group_stickiness_config())
                .cloned(),
            Some(s) => Some(
                TargetGroupStickinessConfig::builder()
                    .enabled(s.enabled)
                    .set_duration_seconds(s.duration_seconds.map(|d| d as i32))
                    .build(),
            ),
        };
        let tuples = route
            .groups
            .iter()
            .map(|g| {
                TargetGroupTuple::builder()
                    .target_group_arn(&g.target_group_arn)
                    .weight(g.weight)
                    .build()
            })
            .collect();
        forward.forward_config = Some(
            ForwardActionConfig::builder()
                .set_target_groups(Some(tuples))
                .set_target_group_stickiness_config(stickiness)
                .build(),
        );
        // With several groups the single-group shorthand must be absent, or ELBv2 rejects the action.
        forward.target_group_arn = None;
        match at {
            RouteRef::Listener(arn) => {
                self.client
                    .modify_listener()
                    .listener_arn(arn)
                    .set_default_actions(Some(actions))
                    .send()
                    .await
                    .map_err(|e| {
                        if e.as_service_error()
                            .is_some_and(|s| s.is_listener_not_found_exception())
                        {
                            AwsError::NotFound {
                                what: "listener",
                                id: arn.clone(),
                            }
                        } else {
                            AwsError::from_sdk("ModifyListener", e)
                        }
                    })?;
            }
            RouteRef::Rule(arn) => {
                self.client
                    .modify_rule()
                    .rule_arn(arn)
                    .set_actions(Some(actions))
                    .send()
                    .await
                    .map_err(|e| {
                        if e.as_service_error()
                            .is_some_and(|s| s.is_rule_not_found_exception())
                        {
                            AwsError::NotFound {
                                what: "listener rule",
                                id: arn.clone(),
                            }
                        } else {
                            AwsError::from_sdk("ModifyRule", e)
                        }
                    })?;
            }
        }
        tracing::info!(arn = at.arn(), groups = ?route.groups, stickiness = ?route.stickiness, "forward action written");
        Ok(())
    }

    async fn set_test_listener(
        &self,
        listener_arn: &str,
        route: &ForwardRoute,
    ) -> Result<(), AwsError> {
        self.set_forward_route(&RouteRef::Listener(listener_arn.into()), route)
            .await
    }

    async fn tagged_rules(
        &self,
        listener_arn: &str,
        key: &str,
    ) -> Result<Vec<TaggedRule>, AwsError> {
        self.rules_tagged(listener_arn, key).await
    }

    async fn create_header_rule(
        &self,
        listener_arn: &str,
        header: &HeaderRoute,
        target_group_arn: &str,
        tags: &[(String, String)],
    ) -> Result<String, AwsError> {
        self.create_rule(listener_arn, header, target_group_arn, tags)
            .await
    }

    async fn delete_rule(&self, rule_arn: &str) -> Result<(), AwsError> {
        self.remove_rule(rule_arn).await
    }

    async fn deregistration_delay(&self, target_group_arn: &str) -> Result<u32, AwsError> {
        self.delay_of(target_group_arn).await
    }

    async fn target_health(&self, target_group_arn: &str) -> Result<Vec<TargetHealth>, AwsError> {
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(target_group_arn)
            .send()
            .await
            .map_err(|e| {
                let missing = e
                    .as_service_error()
                    .is_some_and(|s| s.is_target_group_not_found_exception());
                group_error("DescribeTargetHealth", target_group_arn, missing, e)
            })?;
        Ok(out
            .target_health_descriptions()
            .iter()
            .map(|d| TargetHealth {
                id: d.target().and_then(|t| t.id()).unwrap_or_default().into(),
                state: d
                    .target_health()
                    .and_then(|h| h.state())
                    .map_or("unknown", |s| s.as_str())
                    .into(),
            })
            .collect())
    }
}
