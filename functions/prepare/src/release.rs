//! A prepare that claimed the ledger and then failed for good must not leave the service claimed:
//! every later deployment would be refused as "being deployed". It scales the candidate back to 0
//! (it may have started it) and ends the deployment `Failed` with the reason. A failure the state
//! machine retries (`AwsTransient`) keeps the claim for the retry; a rollback's `Aborted` leaves the
//! ledger to the rollback.

use crate::PrepareRequest;
use cutover_aws::told;
use cutover_aws::{Cloud, Services};
use cutover_core::Colour;
use cutover_core::{ErrorType, Failure, TargetConfig};

pub(crate) async fn after_failure(
    cloud: &impl Cloud,
    req: &PrepareRequest,
    target: &TargetConfig,
    candidate: Colour,
    failure: Failure,
    now_ms: u64,
) -> Failure {
    if failure.error_type.is_retryable() || failure.error_type == ErrorType::Aborted {
        return failure;
    }
    let (app, env, id) = (&req.app, &req.env, &req.deployment_id);
    let service = target.services.get(candidate);
    if let Err(e) = cloud
        .services()
        .update_service(&target.cluster, service, None, 0)
        .await
    {
        tracing::error!(app, env, id, service, error = %e, "prepare failed and could not scale the candidate back to 0");
    }
    let reason = format!("prepare failed: {}", failure.reason);
    match told::record(cloud, app, env, None, |l| {
        l.fail_preparing(id, &reason, now_ms)
    })
    .await
    {
        Ok(_) => tracing::warn!(
            app,
            env,
            id,
            reason,
            "prepare failed; the claim is released (Failed)"
        ),
        Err(e) => {
            tracing::error!(app, env, id, error = %e, "prepare failed and could not release the ledger")
        }
    }
    failure
}
