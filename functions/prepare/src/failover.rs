//! The failover gate of every deployment in a region that is one half of a Route 53 failover record
//! (the target configuration's `failover`): the other half must be healthy by its health check and
//! not in a deployment of its own, or nothing starts. A release checks the same before it starts a
//! region; this check also covers `cutover deploy`, experiments and drills run in one region.

use cutover_aws::{AwsError, Cloud, Partners};
use cutover_core::release::failover::{busy_refusal, health_refusal};
use cutover_core::{ErrorType, Failure, TargetConfig};
use serde_json::json;

pub async fn gate(
    cloud: &impl Cloud,
    target: &TargetConfig,
    app: &str,
    env: &str,
) -> Result<(), Failure> {
    let Some(record) = &target.failover else {
        return Ok(());
    };
    let partners = cloud.partners();
    let region = partners.region();
    let Some(partner) = record.partner(region) else {
        return Err(Failure::new(
            ErrorType::InvalidInput,
            format!(
                "the target configuration's failover record {} has halves in {} and {}, not in this region ({region})",
                record.record_name, record.primary.region, record.secondary.region
            ),
        ));
    };
    let observations = match partners.observations(&partner.health_check_id).await {
        Ok(o) => Some(o),
        Err(AwsError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let refused = |why: String| {
        Failure::new(ErrorType::Conflict, why).with_details(json!({
            "region": region, "partner": partner.region, "healthCheckId": partner.health_check_id,
        }))
    };
    if let Some(why) = health_refusal(region, record, observations.as_deref()) {
        return Err(refused(why));
    }
    if let Some((id, status)) = partners.in_flight(&partner.region, app, env).await? {
        return Err(refused(busy_refusal(region, &partner.region, &id, status)));
    }
    tracing::info!(
        region,
        partner = partner.region,
        "failover partner healthy and idle"
    );
    Ok(())
}
