//! rollback: put all production traffic back on the live colour, stop the deployment, record why.
//!
//! Requests arrive as alarm actions (direct or through SNS), the deploy state machine's Catch, or a
//! person (`event.rs`). The sequence, each step idempotent:
//! 1. conditional ledger write to `RollingBack`: the race winner is decided here, and from then on no
//!    shift moves traffic toward the candidate (a shift that lost restores the live weights itself);
//! 2. listener back to 100 % live (read, check, write, read back) — the moment that counts;
//! 3. the deploy execution stopped with the reason (not when the execution itself asked);
//! 4. the listener re-asserted until the longest in-flight shift could have finished;
//! 5. the test route closed (after the re-assert, so a test route that opened late is caught too);
//! 6. the candidate service scaled to 0, unless the target keeps it for inspection;
//! 7. ledger `RolledBack` with trigger, every source, and timings; one EMF line and one log line.
//!
//! Alarms going `OK`/`INSUFFICIENT_DATA`, alarms no target configuration lists, and alarms of services
//! with no active deployment are logged and change nothing. With `autoRollback` off an alarm is only
//! noted on the active deployment.

pub mod event;
mod rolling;

use cutover_aws::traffic::{read_route, write_route};
use cutover_aws::{test_route, told, Hooks, Telemetry};
use cutover_aws::{
    Cloud, Executions, FlagSource, LedgerStore, LoadBalancer, Services, TargetSource,
};
use cutover_core::telemetry::{metrics, Emf};
use cutover_core::{AnyTarget, Failure, Status, TargetConfig, Weights};
use event::{RollbackRequest, Trigger};
use serde_json::{json, Value};
use std::time::Duration;

/// Every port method this function calls: its IAM policy in template.yaml is checked against
/// what these need (tests/iam.rs), and its tests fail on a call missing here.
pub const CALLS: &[&str] = &[
    "TargetSource::with_alarm",
    "TargetSource::any_target",
    "FlagSource::flags",
    "LedgerStore::load",
    "LedgerStore::save",
    "LedgerStore::archive",
    "LoadBalancer::forward_route",
    "LoadBalancer::set_forward_route",
    "LoadBalancer::set_test_listener",
    "LoadBalancer::tagged_rules",
    "LoadBalancer::delete_rule",
    "Executions::stop",
    "Services::service",
    "Services::update_service",
    "Telemetry::publish",
    "Hooks::notify",
];

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long after restoring traffic to keep checking the listener: the longest a shift that read
    /// the ledger before `RollingBack` could still take to write (its SDK timeouts and retries).
    pub reassert_ms: u64,
    pub reassert_every_ms: u64,
    /// This function's account and region: an alarm from elsewhere is not this stack's to act on
    /// (the topic's policy admits only this account's CloudWatch; this catches a misrouted one).
    pub home: Option<(&'static str, &'static str)>,
}

impl Settings {
    /// The defaults, with the template's `REASSERT_MS` when the function has one.
    pub fn with_reassert_ms(reassert_ms: Option<u64>) -> Settings {
        let d = Settings::default();
        Settings {
            reassert_ms: reassert_ms.unwrap_or(d.reassert_ms),
            ..d
        }
    }

    pub fn at_home(self, account: &'static str, region: &'static str) -> Settings {
        Settings {
            home: Some((account, region)),
            ..self
        }
    }

    /// Why an alarm from `account`/`region` is not this function's, if it is not.
    fn foreign(&self, account: Option<&str>, region: Option<&str>) -> Option<String> {
        let (home_account, home_region) = self.home?;
        match (account, region) {
            (Some(a), _) if a != home_account => Some(format!("from account {a}")),
            (_, Some(r)) if r != home_region => Some(format!("from region {r}")),
            _ => None,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            reassert_ms: 3_000,
            reassert_every_ms: 200,
            home: None,
        }
    }
}

/// Milliseconds since the epoch: the handler reads the clock as it goes, for the timings it records.
pub type Clock<'a> = &'a (dyn Fn() -> u64 + Sync);

/// One rollback to attempt: which service, which deployment, why, and what asked.
pub(crate) struct Ask<'a> {
    app: &'a str,
    env: &'a str,
    deployment_id: Option<&'a str>,
    reason: String,
    trigger: &'static str,
    /// What asked, for the record; none for a consequence of this rollback.
    source: Option<String>,
    stop_execution: bool,
    /// The alarm's own state-change time, for the alarm-to-traffic-restored metric.
    alarm_at_ms: Option<u64>,
}

pub async fn handle(
    cloud: &impl Cloud,
    settings: Settings,
    event: &Value,
    clock: Clock<'_>,
) -> Result<Value, Failure> {
    let received_at = clock();
    let mut outcomes = Vec::new();
    for trigger in RollbackRequest::from_event(event)?.triggers {
        match &trigger {
            Trigger::Alarm {
                name,
                state,
                reason,
                via,
                account,
                region,
                changed_at_ms,
            } => {
                if let Some(why) = settings.foreign(account.as_deref(), region.as_deref()) {
                    tracing::warn!(
                        alarm = name,
                        via,
                        why,
                        "alarm of another account or region: ignored"
                    );
                    outcomes.push(json!({ "alarm": name, "ignored": why }));
                    continue;
                }
                if state != "ALARM" {
                    tracing::info!(
                        alarm = name,
                        state,
                        via,
                        "alarm left ALARM or never entered it: nothing to do"
                    );
                    outcomes.push(json!({ "alarm": name, "ignored": format!("state {state}") }));
                    continue;
                }
                let services = cloud.targets().with_alarm(name).await?;
                if services.is_empty() {
                    tracing::info!(
                        alarm = name,
                        via,
                        "no target configuration lists this alarm: nothing to do"
                    );
                    outcomes
                        .push(json!({ "alarm": name, "ignored": "no service lists this alarm" }));
                }
                for (app, env) in &services {
                    let ask = Ask {
                        app,
                        env,
                        deployment_id: None,
                        reason: format!("alarm {name}: {reason}"),
                        trigger: "alarm",
                        source: Some(format!("alarm {name} via {via}")),
                        stop_execution: true,
                        alarm_at_ms: *changed_at_ms,
                    };
                    outcomes.push(on_alarm(cloud, settings, ask, name, received_at, clock).await?);
                }
            }
            Trigger::Step {
                app,
                env,
                deployment_id,
                reason,
                aborted,
            } => {
                let ask = Ask {
                    app,
                    env,
                    deployment_id: Some(deployment_id),
                    reason: reason.clone(),
                    trigger: "step",
                    source: (!aborted).then(|| reason.clone()),
                    stop_execution: false,
                    alarm_at_ms: None,
                };
                outcomes.push(roll_back(cloud, settings, ask, received_at, clock).await?);
            }
            Trigger::Manual {
                app,
                env,
                deployment_id,
                reason,
            } => {
                let ask = Ask {
                    app,
                    env,
                    deployment_id: deployment_id.as_deref(),
                    reason: format!("manual: {reason}"),
                    trigger: "manual",
                    source: Some(format!("manual: {reason}")),
                    stop_execution: true,
                    alarm_at_ms: None,
                };
                outcomes.push(roll_back(cloud, settings, ask, received_at, clock).await?);
            }
        }
    }
    Ok(match <[Value; 1]>::try_from(outcomes) {
        Ok([one]) => one,
        Err(many) => json!({ "outcomes": many }),
    })
}

/// Whether an alarm may roll back on its own. A flag that cannot be read must not keep a release
/// the alarm says is bad in production: the rollback goes ahead, and the log says why.
async fn auto_rollback(cloud: &impl Cloud, app: &str, env: &str, alarm: &str) -> bool {
    match cloud.flags().flags().await {
        Ok(flags) => flags.auto_rollback,
        Err(e) => {
            tracing::warn!(app, env, alarm, error = %e, "the autoRollback flag cannot be read: rolling back as if it were on");
            true
        }
    }
}

async fn on_alarm(
    cloud: &impl Cloud,
    settings: Settings,
    ask: Ask<'_>,
    alarm: &str,
    received_at: u64,
    clock: Clock<'_>,
) -> Result<Value, Failure> {
    let (app, env) = (ask.app, ask.env);
    if let AnyTarget::Rolling(t) = cloud.targets().any_target(app, env).await? {
        if !auto_rollback(cloud, app, env, alarm).await {
            tracing::warn!(
                app,
                env,
                alarm,
                "autoRollback is off: rolling service left as it is"
            );
            return Ok(json!({ "app": app, "env": env, "alarm": alarm, "noted": true }));
        }
        return rolling::roll_back(cloud, &t, ask, received_at, clock).await;
    }
    let active = cloud
        .ledger()
        .load(app, env)
        .await?
        .and_then(|l| l.deployment)
        .filter(|d| !d.status.is_final());
    let Some(d) = active else {
        tracing::info!(
            app,
            env,
            alarm,
            "alarm for a service with no active deployment: nothing to do"
        );
        return Ok(
            json!({ "app": app, "env": env, "alarm": alarm, "ignored": "no active deployment" }),
        );
    };
    if !auto_rollback(cloud, app, env, alarm).await {
        told::record(cloud, app, env, None, |l| {
            l.note_alarm(alarm);
            Ok(())
        })
        .await?;
        tracing::warn!(
            app,
            env,
            alarm,
            id = d.id,
            "autoRollback is off: alarm noted, nothing rolled back"
        );
        return Ok(
            json!({ "app": app, "env": env, "alarm": alarm, "deploymentId": d.id, "noted": true }),
        );
    }
    roll_back(cloud, settings, ask, received_at, clock).await
}

/// How long this rollback took, from the request that started it: to traffic restored, and from the
/// alarm's own state change when an alarm started it. The count is the ledger transition's
/// (`told::record`).
fn timing_metric(cloud: &impl Cloud, ask: &Ask<'_>, id: &str, received_at: u64, restored_at: u64) {
    let emf = Emf::new(ask.app, ask.env, restored_at)
        .property("DeploymentId", id)
        .property("Trigger", ask.trigger);
    cloud
        .telemetry()
        .metric(&with_timing(emf, ask, received_at, restored_at));
}

/// `emf` with the rollback's two durations: the request's to `restored_at`, and the alarm's when
/// an alarm asked (a deployment's rollback and a rolling service's share them).
pub(crate) fn with_timing(emf: Emf, ask: &Ask<'_>, received_at: u64, restored_at: u64) -> Emf {
    let emf = emf.with(
        metrics::TIME_TO_ROLLBACK,
        restored_at.saturating_sub(received_at) as f64,
    );
    match ask.alarm_at_ms {
        Some(at) => emf.with(
            metrics::ALARM_TO_RESTORED,
            restored_at.saturating_sub(at) as f64,
        ),
        None => emf,
    }
}

/// The team's afterRollback hook, handed to Lambda as an event once traffic is restored and the
/// ledger says RolledBack: it cannot slow or fail the rollback. Only the request that claimed the
/// rollback's ledger record sends it (claimed there), so duplicate alarms do not run it twice.
async fn after_rollback(
    cloud: &impl Cloud,
    (app, env): (&str, &str),
    target: &TargetConfig,
    d: &cutover_core::Deployment,
    now_ms: u64,
) {
    let Some(hook) = &target.hooks.after_rollback else {
        return;
    };
    let payload = json!({
        "app": app, "env": env, "deploymentId": d.id, "image": d.image,
        "candidateColour": d.candidate, "testEndpoint": target.hooks.test_endpoint,
        "stage": "afterRollback", "attempt": 1, "reason": d.reason,
    });
    // Claimed in the ledger first: of several requests finishing the same rollback, one sends it.
    let claimed = told::record(cloud, app, env, None, |l| {
        Ok(l.claim_after_rollback(&d.id, &hook.function, now_ms))
    })
    .await;
    match claimed {
        Ok((true, _)) => {}
        Ok((false, _)) => return,
        Err(e) => {
            tracing::warn!(id = d.id, hook = hook.function, %e, "afterRollback hook not claimed; not sent");
            return;
        }
    }
    if let Err(e) = cloud.hooks().notify(&hook.function, &payload).await {
        let why = e.to_string();
        tracing::warn!(
            id = d.id,
            hook = hook.function,
            why,
            "afterRollback hook not invoked"
        );
        let noted = told::record(cloud, app, env, None, |l| {
            l.after_rollback_failed(&d.id, &why, now_ms);
            Ok(())
        })
        .await;
        if let Err(e) = noted {
            tracing::warn!(id = d.id, %e, "afterRollback failure not recorded");
        }
    } else {
        tracing::info!(id = d.id, hook = hook.function, "afterRollback hook queued");
    }
}

/// 100 % live, read back, and after an experiment the listener's own stickiness again, in the same
/// write (no client may stay stuck to the emptied colour). Returns the weights found first.
async fn restore<L: LoadBalancer>(
    lb: &L,
    target: &TargetConfig,
    live: Weights,
    stickiness: Option<&cutover_core::Stickiness>,
) -> Result<Weights, Failure> {
    let (before, sticky_now) = read_route(lb, target).await?;
    let sticky_wrong =
        stickiness.is_some_and(|s| !cutover_core::traffic::same_stickiness(sticky_now.as_ref(), s));
    if before != live || sticky_wrong {
        write_route(lb, target, live, stickiness.cloned()).await?;
    }
    Ok(before)
}

async fn roll_back(
    cloud: &impl Cloud,
    settings: Settings,
    ask: Ask<'_>,
    received_at: u64,
    clock: Clock<'_>,
) -> Result<Value, Failure> {
    let (app, env) = (ask.app, ask.env);
    let target = match cloud.targets().any_target(app, env).await? {
        AnyTarget::BlueGreen(t) => *t,
        AnyTarget::Rolling(t) => {
            return rolling::roll_back(cloud, &t, ask, received_at, clock).await
        }
    };
    let (started, record) = told::record(cloud, app, env, None, |l| {
        match (&l.deployment, ask.deployment_id) {
            (Some(d), Some(id)) if d.id != id => Ok(false),
            _ => {
                let claimed =
                    l.claim_rollback(&ask.reason, ask.trigger, ask.source.as_deref(), received_at)?;
                if let Some(at) = ask.alarm_at_ms {
                    l.alarm_moment(at);
                }
                Ok(claimed)
            }
        }
    })
    .await?;
    let Some(d) = record
        .deployment
        .clone()
        .filter(|d| d.status == Status::RollingBack)
    else {
        let status = record.deployment.as_ref().map(|d| d.status);
        tracing::info!(
            app,
            env,
            ?status,
            reason = ask.reason,
            "nothing to roll back"
        );
        return Ok(json!({ "app": app, "env": env, "rolledBack": false, "status": status }));
    };
    let live = Weights::all_on(record.live_colour);
    let stickiness = d.experiment.as_ref().map(|e| e.restored_stickiness());
    let before = restore(cloud.lb(), &target, live, stickiness.as_ref()).await?;
    let restored_at = clock();
    if before != live {
        told::weights_metric(cloud.telemetry(), app, env, live, restored_at);
    }

    if ask.stop_execution {
        if let Some(arn) = &d.execution_arn {
            cloud
                .executions()
                .stop(arn, "CutoverRollback", &ask.reason)
                .await?;
        }
    }
    let mut reasserted = 0;
    while clock().saturating_sub(restored_at) < settings.reassert_ms {
        tokio::time::sleep(Duration::from_millis(settings.reassert_every_ms)).await;
        let seen = restore(cloud.lb(), &target, live, stickiness.as_ref()).await?;
        if seen != live {
            reasserted += 1;
            tracing::warn!(app, env, id = d.id, %seen, "a late shift moved traffic after the rollback; restored again");
        }
    }
    test_route::close(cloud.lb(), &target, app, env, record.live_colour).await?;
    if !target.keep_candidate_on_rollback {
        cloud
            .services()
            .update_service(&target.cluster, target.services.get(d.candidate), None, 0)
            .await?;
    }
    let (_, record) = told::record(cloud, app, env, None, |l| {
        l.traffic_restored(restored_at);
        l.close_test_route(clock());
        l.finish_rollback(clock())
    })
    .await?;
    let d = record.deployment.expect("the rollback just wrote it");
    after_rollback(cloud, (app, env), &target, &d, clock()).await;
    let r = d.rollback.clone().expect("claimed above");
    let ms = restored_at.saturating_sub(received_at);
    if started {
        timing_metric(cloud, &ask, &d.id, received_at, restored_at);
    }
    tracing::warn!(
        app, env, id = d.id, trigger = r.trigger, sources = ?r.sources, reason = d.reason,
        from = %before, to = %live, first_claim = started, time_to_rollback_ms = ms,
        reasserted, candidate_kept = target.keep_candidate_on_rollback, "rolled back"
    );
    Ok(json!({
        "app": app,
        "env": env,
        "rolledBack": true,
        "startedHere": started,
        "deploymentId": d.id,
        "live": record.live_colour,
        "previousWeights": before,
        "reason": d.reason,
        "rollback": r,
        "timeToRollbackMs": ms,
        "status": d.status,
    }))
}
