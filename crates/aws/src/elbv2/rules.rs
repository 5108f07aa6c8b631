//! Listener rules Cutover creates itself (the test route's header rule): found by tag, created with
//! its tags in the same call, deleted. A rule that is gone already counts as deleted, so a retried
//! close is a no-op.

use super::Elbv2;
use crate::ports::TaggedRule;
use crate::AwsError;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, HttpHeaderConditionConfig, RuleCondition, Tag,
    TargetGroupTuple,
};
use cutover_core::target::HeaderRoute;
use std::collections::BTreeMap;

/// DescribeTags takes at most 20 resource ARNs per call (its API reference).
const TAGS_PER_CALL: usize = 20;

impl Elbv2 {
    pub(super) async fn rules_tagged(
        &self,
        listener_arn: &str,
        key: &str,
    ) -> Result<Vec<TaggedRule>, AwsError> {
        let mut arns = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .client
                .describe_rules()
                .listener_arn(listener_arn)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| {
                    if e.as_service_error()
                        .is_some_and(|s| s.is_listener_not_found_exception())
                    {
                        AwsError::NotFound {
                            what: "listener",
                            id: listener_arn.into(),
                        }
                    } else {
                        AwsError::from_sdk("DescribeRules", e)
                    }
                })?;
            arns.extend(
                out.rules()
                    .iter()
                    .filter(|r| r.is_default() != Some(true))
                    .filter_map(|r| r.rule_arn().map(String::from)),
            );
            marker = out.next_marker().map(String::from);
            if marker.is_none() {
                break;
            }
        }
        let mut found = Vec::new();
        for chunk in arns.chunks(TAGS_PER_CALL) {
            let out = self
                .client
                .describe_tags()
                .set_resource_arns(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeTags", e))?;
            for d in out.tag_descriptions() {
                let tags: BTreeMap<String, String> = d
                    .tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").into())))
                    .collect();
                if let (Some(arn), true) = (d.resource_arn(), tags.contains_key(key)) {
                    found.push(TaggedRule {
                        arn: arn.into(),
                        tags,
                    });
                }
            }
        }
        Ok(found)
    }

    pub(super) async fn create_rule(
        &self,
        listener_arn: &str,
        header: &HeaderRoute,
        target_group_arn: &str,
        tags: &[(String, String)],
    ) -> Result<String, AwsError> {
        let condition = RuleCondition::builder()
            .field("http-header")
            .http_header_config(
                HttpHeaderConditionConfig::builder()
                    .http_header_name(&header.name)
                    .values(&header.value)
                    .build(),
            )
            .build();
        let forward = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn(target_group_arn)
                            .weight(1)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        let out = self
            .client
            .create_rule()
            .listener_arn(listener_arn)
            .priority(header.priority as i32)
            .conditions(condition)
            .actions(forward)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| {
                let se = e.as_service_error();
                if se.is_some_and(|s| s.is_priority_in_use_exception()) {
                    AwsError::Unusable {
                        what: "listener",
                        id: listener_arn.into(),
                        problem: format!(
                            "priority {} is taken by another rule: give testHeader.priority a free one",
                            header.priority
                        ),
                    }
                } else if se.is_some_and(|s| s.is_too_many_rules_exception()) {
                    AwsError::Unusable {
                        what: "listener",
                        id: listener_arn.into(),
                        problem: "has as many rules as its quota allows".into(),
                    }
                } else if se.is_some_and(|s| s.is_listener_not_found_exception()) {
                    AwsError::NotFound {
                        what: "listener",
                        id: listener_arn.into(),
                    }
                } else if se.is_some_and(|s| s.is_target_group_not_found_exception()) {
                    AwsError::NotFound {
                        what: "target group",
                        id: target_group_arn.into(),
                    }
                } else {
                    AwsError::from_sdk("CreateRule", e)
                }
            })?;
        let arn = out
            .rules()
            .first()
            .and_then(|r| r.rule_arn())
            .ok_or_else(|| AwsError::Unusable {
                what: "listener",
                id: listener_arn.into(),
                problem: "CreateRule answered without the rule it created".into(),
            })?;
        tracing::info!(listener = listener_arn, rule = arn, header = %header.name, "test rule created");
        Ok(arn.into())
    }

    pub(super) async fn remove_rule(&self, rule_arn: &str) -> Result<(), AwsError> {
        match self.client.delete_rule().rule_arn(rule_arn).send().await {
            Ok(_) => {
                tracing::info!(rule = rule_arn, "rule deleted");
                Ok(())
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_rule_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::from_sdk("DeleteRule", e)),
        }
    }
}
