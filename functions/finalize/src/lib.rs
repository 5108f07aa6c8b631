//! finalize: the end of a successful deployment, in two actions the state machine calls apart.
//!
//! `promote`: all traffic is on the verified candidate; the test route is closed (its header rule
//! deleted, the test listener on the new live colour), and the ledger makes the candidate live and
//! last-known-good.
//! `scaleDown`: after the termination wait, the previous colour's service goes to 0 tasks — only if
//! the ledger still says this deployment was promoted (a late call can never scale down live), the
//! listener read back sends nothing to it, and its target group's deregistration delay has passed
//! since its weight went to 0; until then it answers `waitSeconds` and the state machine waits.

use cutover_aws::traffic::read_weights;
use cutover_aws::{load_ledger, Cloud, LoadBalancer, Services, TargetSource};
use cutover_aws::{test_route, told};
use cutover_core::fields::{invalid_field, text};
use cutover_core::{Colour, DeploymentRef, ErrorType, Failure, Status, TargetConfig, Weights};
use serde_json::{json, Value};

/// Every port method this function calls: its IAM policy in template.yaml is checked against
/// what these need (tests/iam.rs), and its tests fail on a call missing here.
pub const CALLS: &[&str] = &[
    "TargetSource::target",
    "LedgerStore::load",
    "LedgerStore::save",
    "LedgerStore::archive",
    "LoadBalancer::forward_route",
    "LoadBalancer::set_test_listener",
    "LoadBalancer::tagged_rules",
    "LoadBalancer::delete_rule",
    "LoadBalancer::deregistration_delay",
    "Services::update_service",
    "Telemetry::publish",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Promote,
    ScaleDown,
}

pub struct FinalizeRequest {
    pub at: DeploymentRef,
    pub action: Action,
    /// scaleDown after its drain wait: the seconds the state machine's Wait just spent, which the
    /// previous answer asked for. The clock alone would not do: the local cloud compresses Waits.
    pub waited_seconds: u64,
}

impl FinalizeRequest {
    pub fn from_event(event: &Value) -> Result<FinalizeRequest, Failure> {
        let at = DeploymentRef::from_event(event)?;
        let action = match text(event, "action")?.as_str() {
            "promote" => Action::Promote,
            "scaleDown" => Action::ScaleDown,
            other => {
                return Err(invalid_field(
                    "action",
                    format!("must be promote or scaleDown, got \"{other}\""),
                ))
            }
        };
        let waited_seconds = match event.get("waitedSeconds") {
            None | Some(Value::Null) => 0,
            Some(v) => v.as_u64().filter(|s| *s <= 3_600).ok_or_else(|| {
                invalid_field(
                    "waitedSeconds",
                    "must be a whole number of seconds, at most 3600",
                )
            })?,
        };
        Ok(FinalizeRequest {
            at,
            action,
            waited_seconds,
        })
    }
}

pub async fn handle(cloud: &impl Cloud, event: &Value, now_ms: u64) -> Result<Value, Failure> {
    let (lb, ledger, targets, services) = (
        cloud.lb(),
        cloud.ledger(),
        cloud.targets(),
        cloud.services(),
    );
    let req = FinalizeRequest::from_event(event)?;
    let (app, env, id) = (
        req.at.app.as_str(),
        req.at.env.as_str(),
        req.at.deployment_id.as_str(),
    );
    let target = targets.target(app, env).await?;
    match req.action {
        Action::Promote => {
            let record = load_ledger(ledger, app, env).await?;
            let candidate = record
                .deployment
                .as_ref()
                .filter(|d| d.id == id)
                .map(|d| d.candidate)
                .ok_or_else(|| {
                    Failure::new(
                        ErrorType::Aborted,
                        format!("deployment {id} no longer owns the ledger"),
                    )
                })?;
            // The ledger's word is not enough: the load balancer must agree that the candidate has it all.
            all_on(
                lb,
                &target,
                candidate,
                id,
                &format!("cannot promote {candidate}"),
            )
            .await?;
            let closed = test_route::close(lb, &target, app, env, candidate).await?;
            let (_, record) = told::record(cloud, app, env, None, |l| {
                l.close_test_route(now_ms);
                l.promote(id, now_ms)
            })
            .await?;
            tracing::info!(app, env, id, live = %record.live_colour, test_rules_deleted = closed.rules_deleted, "promoted");
            Ok(
                json!({ "deploymentId": id, "live": record.live_colour, "lastKnownGood": record.last_known_good }),
            )
        }
        Action::ScaleDown => {
            let record = load_ledger(ledger, app, env).await?;
            let Some(d) = record
                .deployment
                .as_ref()
                .filter(|d| d.id == id && d.status == Status::Promoted)
            else {
                return Err(Failure::new(
                    ErrorType::Aborted,
                    format!("deployment {id} is not the promoted one; nothing scaled down"),
                )
                .with_details(json!({ "deploymentId": id })));
            };
            let live = record.live_colour;
            let old = live.other();
            // Tasks stop only once nothing reaches them: the listener, read back, sends all to live,
            // and the old group has had its deregistration delay to finish in-flight requests.
            all_on(lb, &target, live, id, &format!("{old} not scaled down")).await?;
            let delay = lb
                .deregistration_delay(target.target_groups.get(old))
                .await?;
            let since = d.drained_since_ms(old);
            let ready_at = since + u64::from(delay) * 1_000;
            // The Wait that just ended lasted what the last answer asked: the delay has passed.
            if now_ms < ready_at && req.waited_seconds == 0 {
                let wait = (ready_at - now_ms).div_ceil(1_000);
                tracing::info!(app, env, id, colour = %old, deregistration_delay_s = delay, wait_s = wait, "waiting for the old colour to drain");
                return Ok(
                    json!({ "deploymentId": id, "waitSeconds": wait, "deregistrationDelaySeconds": delay }),
                );
            }
            let name = target.services.get(old);
            services
                .update_service(&target.cluster, name, None, 0)
                .await?;
            let drained_ms = now_ms.saturating_sub(since);
            tracing::info!(
                app,
                env,
                id,
                service = name,
                drained_ms,
                "previous colour scaled to 0"
            );
            Ok(json!({
                "deploymentId": id,
                "scaledDown": name,
                "waitSeconds": 0,
                "deregistrationDelaySeconds": delay,
                "drainedMs": drained_ms,
            }))
        }
    }
}

/// The listener, read back, sends everything to `colour`; otherwise `Conflict`, saying what was
/// refused (`refused`) and what the listener holds.
async fn all_on(
    lb: &impl LoadBalancer,
    target: &TargetConfig,
    colour: Colour,
    id: &str,
    refused: &str,
) -> Result<(), Failure> {
    let on_listener = read_weights(lb, target).await?;
    if on_listener == Weights::all_on(colour) {
        return Ok(());
    }
    Err(Failure::new(
        ErrorType::Conflict,
        format!("{refused}: the listener is at {on_listener}"),
    )
    .with_details(json!({ "deploymentId": id, "found": on_listener })))
}
