//! Target group attributes: the deregistration delay, which says how long in-flight requests may
//! still reach a target after the load balancer stops routing new ones to it.

use super::Elbv2;
use crate::AwsError;

const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";
/// The attribute's range in the target group attributes reference.
const MAX_DEREGISTRATION_DELAY: u32 = 3_600;

impl Elbv2 {
    pub(super) async fn delay_of(&self, target_group_arn: &str) -> Result<u32, AwsError> {
        let out = self
            .client
            .describe_target_group_attributes()
            .target_group_arn(target_group_arn)
            .send()
            .await
            .map_err(|e| {
                let missing = e
                    .as_service_error()
                    .is_some_and(|s| s.is_target_group_not_found_exception());
                super::group_error(
                    "DescribeTargetGroupAttributes",
                    target_group_arn,
                    missing,
                    e,
                )
            })?;
        let value = out
            .attributes()
            .iter()
            .find(|a| a.key() == Some(DEREGISTRATION_DELAY))
            .and_then(|a| a.value());
        // Lambda target groups have no such attribute: nothing drains there.
        let Some(value) = value else { return Ok(0) };
        value
            .parse::<u32>()
            .ok()
            .filter(|s| *s <= MAX_DEREGISTRATION_DELAY)
            .ok_or_else(|| AwsError::Unusable {
                what: "target group",
                id: target_group_arn.into(),
                problem: format!("{DEREGISTRATION_DELAY} is \"{value}\", not 0..=3600 seconds"),
            })
    }
}
