//! The ELBv2 adapter against mocked SDK responses: exact requests, preserved settings, error mapping.

use aws_sdk_elasticloadbalancingv2::config::retry::RetryConfig;
use aws_sdk_elasticloadbalancingv2::operation::describe_listeners::{
    DescribeListenersError, DescribeListenersOutput,
};
use aws_sdk_elasticloadbalancingv2::operation::modify_listener::ModifyListenerOutput;
use aws_sdk_elasticloadbalancingv2::types::error::ListenerNotFoundException;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, AuthenticateOidcActionConfig, ForwardActionConfig, Listener,
    TargetGroupStickinessConfig, TargetGroupTuple,
};
use aws_sdk_elasticloadbalancingv2::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use cutover_aws::elbv2::Elbv2;
use cutover_aws::{AwsError, LoadBalancer};
use cutover_core::traffic::{ForwardRoute, RouteRef, Weights};
use cutover_core::ErrorType;
use std::time::Duration;

const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/live/1/2";
const BLUE: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1";
const GREEN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2";

const THROTTLED: &str = r#"<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
  <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
  <RequestId>5b2b9e8e-0000-0000-0000-000000000000</RequestId></ErrorResponse>"#;

fn stickiness() -> TargetGroupStickinessConfig {
    TargetGroupStickinessConfig::builder()
        .enabled(true)
        .duration_seconds(600)
        .build()
}

/// A listener as owners set it up: an OIDC action first, then a sticky forward 100/0.
fn listener(blue: i32, green: i32) -> DescribeListenersOutput {
    let auth = Action::builder()
        .r#type(ActionTypeEnum::AuthenticateOidc)
        .order(1)
        .authenticate_oidc_config(
            AuthenticateOidcActionConfig::builder()
                .issuer("https://idp.example.com")
                .client_id("cutover")
                .build(),
        )
        .build();
    let forward = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .order(2)
        .forward_config(
            ForwardActionConfig::builder()
                .target_groups(
                    TargetGroupTuple::builder()
                        .target_group_arn(BLUE)
                        .weight(blue)
                        .build(),
                )
                .target_groups(
                    TargetGroupTuple::builder()
                        .target_group_arn(GREEN)
                        .weight(green)
                        .build(),
                )
                .target_group_stickiness_config(stickiness())
                .build(),
        )
        .build();
    DescribeListenersOutput::builder()
        .listeners(
            Listener::builder()
                .listener_arn(LISTENER)
                .default_actions(auth)
                .default_actions(forward)
                .build(),
        )
        .build()
}

fn client(rules: &[&Rule]) -> Client {
    mock_client!(
        aws_sdk_elasticloadbalancingv2,
        RuleMode::MatchAny,
        rules,
        |c| c.retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1))
        )
    )
}

fn route() -> RouteRef {
    RouteRef::Listener(LISTENER.into())
}

#[tokio::test]
async fn reads_the_forward_weights() {
    let describe = mock!(Client::describe_listeners)
        .match_requests(|r| r.listener_arns() == [LISTENER])
        .then_output(|| listener(90, 10));
    let lb = Elbv2::new(client(&[&describe]));
    let r = lb.forward_route(&route()).await.unwrap();
    assert_eq!(
        r.weights(BLUE, GREEN).unwrap(),
        Weights::new(90, 10).unwrap()
    );
}

#[tokio::test]
async fn write_keeps_stickiness_and_other_actions() {
    let describe = mock!(Client::describe_listeners).then_output(|| listener(100, 0));
    let modify = mock!(Client::modify_listener)
        .match_requests(|r| {
            let actions = r.default_actions();
            let fwd = actions[1].forward_config().unwrap();
            r.listener_arn() == Some(LISTENER)
                && actions.len() == 2
                && actions[0].r#type() == Some(&ActionTypeEnum::AuthenticateOidc)
                && actions[0].order() == Some(1)
                && actions[1].order() == Some(2)
                && actions[1].target_group_arn().is_none()
                && fwd.target_group_stickiness_config() == Some(&stickiness())
                && fwd
                    .target_groups()
                    .iter()
                    .map(|t| (t.target_group_arn().unwrap(), t.weight().unwrap()))
                    .collect::<Vec<_>>()
                    == vec![(BLUE, 90), (GREEN, 10)]
        })
        .then_output(|| ModifyListenerOutput::builder().build());
    let lb = Elbv2::new(client(&[&describe, &modify]));
    let new = ForwardRoute::for_weights(BLUE, GREEN, Weights::new(90, 10).unwrap());
    lb.set_forward_route(&route(), &new).await.unwrap();
    assert_eq!(
        modify.num_calls(),
        1,
        "the ModifyListener request did not match"
    );
}

#[tokio::test]
async fn an_experiments_write_replaces_the_stickiness_in_the_same_call() {
    let describe = mock!(Client::describe_listeners).then_output(|| listener(100, 0));
    let modify = mock!(Client::modify_listener)
        .match_requests(|r| {
            let fwd = r.default_actions()[1].forward_config().unwrap();
            let s = fwd.target_group_stickiness_config().unwrap();
            r.default_actions().len() == 2
                && s.enabled() == Some(true)
                && s.duration_seconds() == Some(7200)
                && fwd.target_groups().len() == 2
        })
        .then_output(|| ModifyListenerOutput::builder().build());
    let lb = Elbv2::new(client(&[&describe, &modify]));
    // The listener read back reports the stickiness it has.
    assert_eq!(
        lb.forward_route(&route()).await.unwrap().stickiness,
        Some(cutover_core::Stickiness {
            enabled: true,
            duration_seconds: Some(600)
        })
    );
    let new = ForwardRoute::for_weights(BLUE, GREEN, Weights::new(50, 50).unwrap())
        .with_stickiness(Some(cutover_core::Stickiness {
            enabled: true,
            duration_seconds: Some(7200),
        }));
    lb.set_forward_route(&route(), &new).await.unwrap();
    assert_eq!(
        modify.num_calls(),
        1,
        "the ModifyListener request did not match"
    );
}

#[tokio::test]
async fn missing_listener_is_invalid_input() {
    let describe = mock!(Client::describe_listeners).then_error(|| {
        DescribeListenersError::ListenerNotFoundException(
            ListenerNotFoundException::builder()
                .message("One or more listeners not found")
                .build(),
        )
    });
    let lb = Elbv2::new(client(&[&describe]));
    let err = lb.forward_route(&route()).await.unwrap_err();
    assert_eq!(
        err,
        AwsError::NotFound {
            what: "listener",
            id: LISTENER.into()
        }
    );
    assert_eq!(err.error_type(), ErrorType::InvalidInput);
    assert_eq!(
        describe.num_calls(),
        1,
        "a missing listener must not be retried"
    );
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_then_succeeds() {
    let describe = mock!(Client::describe_listeners)
        .sequence()
        .http_status(400, Some(THROTTLED.into()))
        .times(2)
        .output(|| listener(100, 0))
        .build();
    let lb = Elbv2::new(client(&[&describe]));
    let r = lb.forward_route(&route()).await.unwrap();
    assert_eq!(
        r.weights(BLUE, GREEN).unwrap(),
        Weights::new(100, 0).unwrap()
    );
    assert_eq!(describe.num_calls(), 3);
}

#[tokio::test]
async fn throttling_past_the_sdk_retries_is_aws_transient() {
    let describe = mock!(Client::describe_listeners)
        .sequence()
        .http_status(400, Some(THROTTLED.into()))
        .repeatedly()
        .build();
    let lb = Elbv2::new(client(&[&describe]));
    let err = lb.forward_route(&route()).await.unwrap_err();
    assert!(
        matches!(&err, AwsError::Transient { operation: "DescribeListeners", message } if message.contains("Throttling")),
        "{err:?}"
    );
    assert_eq!(err.error_type(), ErrorType::AwsTransient);
    assert_eq!(describe.num_calls(), 3);
}

#[tokio::test]
async fn server_errors_are_transient_and_validation_is_not() {
    let five = mock!(Client::describe_listeners)
        .sequence()
        .http_status(503, None)
        .repeatedly()
        .build();
    let err = Elbv2::new(client(&[&five]))
        .forward_route(&route())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::AwsTransient, "{err:?}");

    let bad = r#"<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>bad arn</Message></Error><RequestId>1</RequestId></ErrorResponse>"#;
    let invalid = mock!(Client::describe_listeners)
        .sequence()
        .http_status(400, Some(bad.into()))
        .repeatedly()
        .build();
    let err = Elbv2::new(client(&[&invalid]))
        .forward_route(&route())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AwsError::Rejected { code, .. } if code == "ValidationError"),
        "{err:?}"
    );
    assert_eq!(invalid.num_calls(), 1);
}

#[tokio::test]
async fn two_forward_actions_are_refused_before_any_write() {
    let describe = mock!(Client::describe_listeners).then_output(|| {
        let mut out = listener(100, 0);
        let fwd = out.listeners.as_mut().unwrap()[0].default_actions()[1].clone();
        out.listeners.as_mut().unwrap()[0]
            .default_actions
            .as_mut()
            .unwrap()
            .push(fwd);
        out
    });
    let modify =
        mock!(Client::modify_listener).then_output(|| ModifyListenerOutput::builder().build());
    let lb = Elbv2::new(client(&[&describe, &modify]));
    let new = ForwardRoute::for_weights(BLUE, GREEN, Weights::new(90, 10).unwrap());
    let err = lb.set_forward_route(&route(), &new).await.unwrap_err();
    assert!(matches!(err, AwsError::Unusable { .. }), "{err:?}");
    assert_eq!(modify.num_calls(), 0);
}

mod rules {
    //! The test route's header rule at the SDK edge: the CreateRule request as AWS documents it,
    //! rules found by tag across DescribeTags' 20-ARN pages, and the errors a deployment can meet.
    use super::*;
    use aws_sdk_elasticloadbalancingv2::operation::create_rule::{
        CreateRuleError, CreateRuleOutput,
    };
    use aws_sdk_elasticloadbalancingv2::operation::delete_rule::{
        DeleteRuleError, DeleteRuleOutput,
    };
    use aws_sdk_elasticloadbalancingv2::operation::describe_rules::DescribeRulesOutput;
    use aws_sdk_elasticloadbalancingv2::operation::describe_tags::DescribeTagsOutput;
    use aws_sdk_elasticloadbalancingv2::types::error::{
        PriorityInUseException, RuleNotFoundException,
    };
    use aws_sdk_elasticloadbalancingv2::types::{Rule as ElbRule, Tag, TagDescription};
    use cutover_core::target::HeaderRoute;

    const RULE: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/live/1/2/9";

    fn header() -> HeaderRoute {
        HeaderRoute {
            name: "X-Cutover-Candidate".into(),
            value: "1".into(),
            priority: 10,
        }
    }

    fn tags() -> Vec<(String, String)> {
        vec![
            ("cutover:test-route".into(), "live/prod".into()),
            ("cutover:deployment".into(), "d1".into()),
        ]
    }

    #[tokio::test]
    async fn create_sends_the_header_condition_the_forward_and_the_tags_in_one_call() {
        let create = mock!(Client::create_rule)
            .match_requests(|r| {
                let c = &r.conditions()[0];
                let h = c.http_header_config().unwrap();
                let fwd = r.actions()[0].forward_config().unwrap();
                r.listener_arn() == Some(LISTENER)
                    && r.priority() == Some(10)
                    && c.field() == Some("http-header")
                    && h.http_header_name() == Some("X-Cutover-Candidate")
                    && h.values() == ["1"]
                    && fwd.target_groups()[0].target_group_arn() == Some(GREEN)
                    && r.tags().len() == 2
                    && r.tags()[0].key() == Some("cutover:test-route")
                    && r.tags()[0].value() == Some("live/prod")
            })
            .then_output(|| {
                CreateRuleOutput::builder()
                    .rules(ElbRule::builder().rule_arn(RULE).build())
                    .build()
            });
        let lb = Elbv2::new(client(&[&create]));
        let arn = lb
            .create_header_rule(LISTENER, &header(), GREEN, &tags())
            .await
            .unwrap();
        assert_eq!(arn, RULE);
        assert_eq!(
            create.num_calls(),
            1,
            "the CreateRule request did not match"
        );
    }

    #[tokio::test]
    async fn a_taken_priority_is_invalid_input_naming_the_field() {
        let create = mock!(Client::create_rule).then_error(|| {
            CreateRuleError::PriorityInUseException(
                PriorityInUseException::builder()
                    .message("Priority '10' is currently in use")
                    .build(),
            )
        });
        let lb = Elbv2::new(client(&[&create]));
        let err = lb
            .create_header_rule(LISTENER, &header(), GREEN, &tags())
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), ErrorType::InvalidInput);
        assert!(err.to_string().contains("testHeader.priority"), "{err}");
    }

    #[tokio::test]
    async fn rules_are_found_by_tag_past_the_default_rule_and_twenty_arns_a_call() {
        let arns: Vec<String> = (0..25).map(|i| format!("{RULE}{i:02}")).collect();
        let listed = arns.clone();
        let describe = mock!(Client::describe_rules).then_output(move || {
            let mut out = DescribeRulesOutput::builder().rules(
                ElbRule::builder()
                    .rule_arn("default")
                    .is_default(true)
                    .build(),
            );
            for a in &listed {
                out = out.rules(ElbRule::builder().rule_arn(a).is_default(false).build());
            }
            out.build()
        });
        let tagged = arns[22].clone();
        let tags = mock!(Client::describe_tags)
            .match_requests(|r| {
                r.resource_arns().len() <= 20 && !r.resource_arns().contains(&"default".to_string())
            })
            .then_output(move || {
                // The mock answers every page with the tagged rule: the calls are what is counted.
                let mut out = DescribeTagsOutput::builder();
                let d = TagDescription::builder()
                    .resource_arn(&tagged)
                    .tags(
                        Tag::builder()
                            .key("cutover:test-route")
                            .value("live/prod")
                            .build(),
                    )
                    .build();
                out = out.tag_descriptions(d);
                out.build()
            });
        let lb = Elbv2::new(client(&[&describe, &tags]));
        let found = lb
            .tagged_rules(LISTENER, "cutover:test-route")
            .await
            .unwrap();
        assert_eq!(tags.num_calls(), 2, "25 rules take two DescribeTags calls");
        assert_eq!(found[0].arn, arns[22]);
        assert_eq!(found[0].tags["cutover:test-route"], "live/prod");
    }

    #[tokio::test]
    async fn deleting_a_rule_that_is_gone_is_done() {
        let delete = mock!(Client::delete_rule).then_error(|| {
            DeleteRuleError::RuleNotFoundException(
                RuleNotFoundException::builder().message("gone").build(),
            )
        });
        let lb = Elbv2::new(client(&[&delete]));
        lb.delete_rule(RULE).await.unwrap();
        let ok = mock!(Client::delete_rule)
            .match_requests(|r| r.rule_arn() == Some(RULE))
            .then_output(|| DeleteRuleOutput::builder().build());
        let lb = Elbv2::new(client(&[&ok]));
        lb.delete_rule(RULE).await.unwrap();
        assert_eq!(ok.num_calls(), 1);
    }
}

mod attributes {
    //! The deregistration delay at the SDK edge: the attribute's documented key and string value,
    //! the default AWS fills in, a Lambda group without it, and a missing group.
    use super::*;
    use aws_sdk_elasticloadbalancingv2::operation::describe_target_group_attributes::{
        DescribeTargetGroupAttributesError, DescribeTargetGroupAttributesOutput,
    };
    use aws_sdk_elasticloadbalancingv2::types::error::TargetGroupNotFoundException;
    use aws_sdk_elasticloadbalancingv2::types::TargetGroupAttribute;

    fn attrs(pairs: &[(&str, &str)]) -> DescribeTargetGroupAttributesOutput {
        let mut out = DescribeTargetGroupAttributesOutput::builder();
        for (k, v) in pairs {
            out = out.attributes(TargetGroupAttribute::builder().key(*k).value(*v).build());
        }
        out.build()
    }

    async fn delay(rule: &Rule) -> Result<u32, AwsError> {
        Elbv2::new(client(&[rule])).deregistration_delay(BLUE).await
    }

    #[tokio::test]
    async fn reads_the_delay_among_the_group_s_other_attributes() {
        let r = mock!(Client::describe_target_group_attributes)
            .match_requests(|r| r.target_group_arn() == Some(BLUE))
            .then_output(|| {
                attrs(&[
                    ("stickiness.enabled", "false"),
                    ("deregistration_delay.timeout_seconds", "300"),
                    ("slow_start.duration_seconds", "0"),
                ])
            });
        assert_eq!(delay(&r).await.unwrap(), 300);
    }

    #[tokio::test]
    async fn a_group_without_the_attribute_drains_nothing_and_a_bad_value_is_unusable() {
        let none = mock!(Client::describe_target_group_attributes)
            .then_output(|| attrs(&[("lambda.multi_value_headers.enabled", "false")]));
        assert_eq!(delay(&none).await.unwrap(), 0);
        let bad = mock!(Client::describe_target_group_attributes)
            .then_output(|| attrs(&[("deregistration_delay.timeout_seconds", "3601")]));
        let err = delay(&bad).await.unwrap_err();
        assert!(matches!(err, AwsError::Unusable { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn a_missing_group_is_not_found_and_throttling_is_transient() {
        let gone = mock!(Client::describe_target_group_attributes).then_error(|| {
            DescribeTargetGroupAttributesError::TargetGroupNotFoundException(
                TargetGroupNotFoundException::builder().build(),
            )
        });
        let err = delay(&gone).await.unwrap_err();
        assert!(matches!(err, AwsError::NotFound { .. }), "{err:?}");
        let slow = mock!(Client::describe_target_group_attributes)
            .sequence()
            .http_status(400, Some(THROTTLED.into()))
            .repeatedly()
            .build();
        assert_eq!(
            delay(&slow).await.unwrap_err().error_type(),
            ErrorType::AwsTransient
        );
    }
}
