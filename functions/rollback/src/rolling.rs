//! Rolling mode: one ECS service, no listener to shift. A rollback puts the service back on the
//! last-known-good task definition from the ledger, keeping its task count. Idempotent: a service
//! already on it is left alone and nothing is written.

use crate::{Ask, Clock};
use cutover_aws::{told, Telemetry};
use cutover_aws::{Cloud, LedgerStore, Services};
use cutover_core::telemetry::{metrics, Emf};
use cutover_core::{ErrorType, Failure, RollbackRecord, RollingTarget};
use serde_json::{json, Value};

pub(crate) async fn roll_back(
    cloud: &impl Cloud,
    t: &RollingTarget,
    ask: Ask<'_>,
    received_at: u64,
    clock: Clock<'_>,
) -> Result<Value, Failure> {
    let (app, env) = (ask.app, ask.env);
    let good = cloud
        .ledger()
        .load(app, env)
        .await?
        .and_then(|l| l.last_known_good)
        .ok_or_else(|| {
            Failure::new(
                ErrorType::InvalidInput,
                format!("{app}/{env}: no last-known-good release in the ledger to roll back to"),
            )
            .with_details(json!({ "app": app, "env": env }))
        })?;
    let service = cloud.services().service(&t.cluster, &t.service).await?;
    if service.task_definition_arn == good.task_definition_arn {
        tracing::info!(
            app,
            env,
            service = t.service,
            task_definition = good.task_definition_arn,
            "already on the last-known-good release: nothing to do"
        );
        return Ok(
            json!({ "app": app, "env": env, "mode": "rolling", "rolledBack": false, "taskDefinition": good.task_definition_arn }),
        );
    }
    cloud
        .services()
        .update_service(
            &t.cluster,
            &t.service,
            Some(&good.task_definition_arn),
            service.desired,
        )
        .await?;
    let done = clock();
    let record = RollbackRecord {
        trigger: ask.trigger.into(),
        sources: ask.source.clone().into_iter().collect(),
        requested_at_ms: received_at,
        traffic_restored_at_ms: Some(done),
        finished_at_ms: Some(done),
        alarm_at_ms: ask.alarm_at_ms,
    };
    told::record(cloud, app, env, None, |l| {
        l.last_rollback = Some(record.clone());
        Ok(())
    })
    .await?;
    let ms = done.saturating_sub(received_at);
    // A rolling service has no deployment of Cutover's to move, so no transition counts it: this does.
    let emf = Emf::new(app, env, done)
        .by("Trigger", ask.trigger)
        .property("TaskDefinition", service.task_definition_arn.as_str())
        .with(metrics::DEPLOYMENTS_ROLLED_BACK, 1.0);
    cloud
        .telemetry()
        .metric(&crate::with_timing(emf, &ask, received_at, done));
    tracing::warn!(
        app,
        env,
        service = t.service,
        from = service.task_definition_arn,
        to = good.task_definition_arn,
        trigger = ask.trigger,
        reason = ask.reason,
        time_to_rollback_ms = ms,
        "rolling service rolled back"
    );
    Ok(json!({
        "app": app,
        "env": env,
        "mode": "rolling",
        "rolledBack": true,
        "previousTaskDefinition": service.task_definition_arn,
        "taskDefinition": good.task_definition_arn,
        "rollback": record,
        "timeToRollbackMs": ms,
    }))
}
