//! shift-traffic: move production traffic to one step of a deployment's plan.
//!
//! Read → check → write → read back (docs/architecture.md, "Traffic shifting"), bracketed by the ledger: the deployment must still
//! own the ledger and not be rolling back before the write, and the new split is recorded after it.
//! If a rollback claimed the ledger while the write was in flight, this function puts the live weights
//! back itself and reports `Aborted`, so a rollback always wins. A repeated step changes nothing.
//! `{"testRoute": "open"}` opens the test route instead (test_route.rs).
//! An experiment's split is written with its target-group stickiness, and the split that ends it
//! (all on one colour) with the stickiness the listener had before, in the same write.

mod test_route;

use cutover_aws::told::{self, weights_metric};
use cutover_aws::traffic::{read_weights, write_route};
use cutover_aws::{load_ledger, Cloud, LoadBalancer, TargetSource};
use cutover_core::{
    invalid_field, Colour, DeploymentRef, ErrorType, Failure, TargetConfig, Weights,
};
use serde_json::{json, Value};

/// Every port method this function calls: its IAM policy in template.yaml is checked against
/// what these need (tests/iam.rs), and its tests fail on a call missing here.
pub const CALLS: &[&str] = &[
    "TargetSource::target",
    "LedgerStore::load",
    "LedgerStore::save",
    "LedgerStore::archive",
    "LoadBalancer::forward_route",
    "LoadBalancer::set_forward_route",
    "LoadBalancer::set_test_listener",
    "LoadBalancer::tagged_rules",
    "LoadBalancer::create_header_rule",
    "LoadBalancer::delete_rule",
    "Telemetry::publish",
];

/// The validated request.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftRequest {
    pub app: String,
    pub env: String,
    pub deployment_id: String,
    pub step_index: u32,
    pub target: Requested,
}

/// Either an explicit split, or the candidate's percentage (what the state machine's plan holds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Requested {
    Weights(Weights),
    CandidatePercent(u8),
}

impl ShiftRequest {
    pub fn from_event(event: &Value) -> Result<ShiftRequest, Failure> {
        let obj = event
            .as_object()
            .ok_or_else(|| invalid_field("$", "the event must be a JSON object"))?;
        // The split is checked first: it is what a caller most often gets wrong.
        let target = match (obj.get("weights"), obj.get("weight")) {
            (Some(w), None) => {
                Requested::Weights(Weights::from_json(w).map_err(|e| invalid_field("weights", e))?)
            }
            (None, Some(w)) => {
                Requested::CandidatePercent(w.as_u64().filter(|p| *p <= 100).ok_or_else(|| {
                    invalid_field(
                        "weight",
                        format!("must be an integer from 0 to 100, got {w}"),
                    )
                })? as u8)
            }
            (Some(_), Some(_)) => {
                return Err(invalid_field(
                    "weights",
                    "give either weights or weight, not both",
                ))
            }
            (None, None) => return Err(invalid_field("weights", "is required")),
        };
        let DeploymentRef {
            app,
            env,
            deployment_id,
        } = DeploymentRef::from_event(event)?;
        let step_index = match obj.get("stepIndex") {
            None => 0,
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    invalid_field(
                        "stepIndex",
                        format!("must be a non-negative integer, got {v}"),
                    )
                })?,
        };
        Ok(ShiftRequest {
            app,
            env,
            deployment_id,
            step_index,
            target,
        })
    }
}

pub async fn handle(cloud: &impl Cloud, event: &Value, now_ms: u64) -> Result<Value, Failure> {
    if event.get("testRoute").is_some() {
        return test_route::open(cloud, event, now_ms).await;
    }
    let (lb, ledger, targets) = (cloud.lb(), cloud.ledger(), cloud.targets());
    let req = ShiftRequest::from_event(event)?;
    let (app, env, id) = (
        req.app.as_str(),
        req.env.as_str(),
        req.deployment_id.as_str(),
    );
    let target = targets.target(app, env).await?;
    let mut record = load_ledger(ledger, app, env).await?;
    let live = record.live_colour;
    let deployment = record.active(id)?;
    let (expected, candidate) = (deployment.weights, deployment.candidate);
    let wanted = match req.target {
        Requested::Weights(w) => w,
        Requested::CandidatePercent(p) => Weights::with_candidate(candidate, p),
    };
    let experiment = deployment.experiment.clone();
    let stickiness = experiment.as_ref().map(|e| {
        if wanted.of(candidate).is_multiple_of(100) {
            e.restored_stickiness()
        } else {
            e.spec.stickiness()
        }
    });
    let restored = experiment.as_ref().map(|e| e.restored_stickiness());
    // The ledger must accept this step before the listener is touched: no half-applied shift.
    record
        .clone()
        .record_shift(id, req.step_index, wanted, now_ms)?;

    let before = read_weights(lb, &target).await?;
    if before != expected && before != wanted {
        return Err(Failure::new(
            ErrorType::Conflict,
            format!("the ledger expects {expected} on the listener, found {before}"),
        )
        .with_details(json!({ "deploymentId": id, "expected": expected, "found": before })));
    }
    if before != wanted {
        // The fence: however long the listener read took, a rollback that claimed the ledger (and
        // may have finished re-asserting the live weights) since the first check stops the write.
        // What is left between this read and the write landing is the write's own duration, which
        // the rollback's re-assert window (RollbackReassertMs) covers.
        load_ledger(ledger, app, env)
            .await?
            .record_shift(id, req.step_index, wanted, now_ms)?;
        write_route(lb, &target, wanted, stickiness).await?;
        weights_metric(cloud.telemetry(), app, env, wanted, now_ms);
    }
    match told::record(cloud, app, env, None, |l| {
        l.record_shift(id, req.step_index, wanted, now_ms)
    })
    .await
    {
        Ok(_) => {
            tracing::info!(app, env, id, step = req.step_index, from = %before, to = %wanted, "traffic shifted");
            Ok(
                json!({ "deploymentId": id, "stepIndex": req.step_index, "previous": before, "weights": wanted, "changed": before != wanted }),
            )
        }
        Err(f) if f.error_type == ErrorType::Aborted => {
            restore_live(lb, &target, live, wanted, restored).await?;
            Err(f)
        }
        Err(f) => Err(f),
    }
}

/// A rollback claimed the ledger during our write: undo it, unless the listener has moved on already.
async fn restore_live<L: LoadBalancer>(
    lb: &L,
    target: &TargetConfig,
    live: Colour,
    ours: Weights,
    stickiness: Option<cutover_core::Stickiness>,
) -> Result<(), Failure> {
    let now = read_weights(lb, target).await?;
    if now == ours && now != Weights::all_on(live) {
        tracing::warn!(%live, "rollback began during this shift; restoring the live weights");
        write_route(lb, target, Weights::all_on(live), stickiness).await?;
    }
    Ok(())
}
