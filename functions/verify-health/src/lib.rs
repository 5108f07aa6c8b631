//! verify-health: is the candidate healthy at this step?
//!
//! `phase: "stable"` (after prepare) asks only whether the candidate's ECS service has settled on the
//! new task definition. `phase: "step"` (after each bake) also requires every candidate target to be
//! healthy, every alarm of the target configuration out of ALARM, and the candidate's own traffic to
//! pass the health policy's thresholds and the canary judge against the baseline (`traffic.rs`).
//! `phase: "bake"` keeps the bake loop's time between Wait slices (`bake.rs`); `phase: "hook"` runs
//! the team's lifecycle hook of a stage (`hook.rs`); `phase: "experiment"` judges an A/B experiment's
//! primary metric and says where its traffic goes (`experiment.rs`).
//!
//! The answer is `Healthy` (success), `HealthPending` (the state machine asks again, with backoff) or
//! `HealthFailed` (the ledger turns `RollingBack` at once and the state machine rolls back). Pending
//! past the policy's verification timeout is failed: a release Cutover knows nothing about never
//! passes. Each step's final verdict, with its score and every check's line, goes into the ledger.

pub mod bake;
pub mod experiment;
pub mod hook;
mod realtime;
mod traffic;

use cutover_aws::told;
use cutover_aws::{load_ledger, Alarms, Cloud, TargetSource, Telemetry};
use cutover_core::telemetry::{metrics, Emf};
use cutover_core::{
    alarms_verdict, invalid_field, DeploymentRef, ErrorType, Failure, Verdict, VerdictRecord,
};
use serde_json::{json, Value};

/// Every port method this function calls: its IAM policy in template.yaml is checked against
/// what these need (tests/iam.rs), and its tests fail on a call missing here.
pub const CALLS: &[&str] = &[
    "TargetSource::target",
    "LedgerStore::load",
    "LedgerStore::save",
    "LedgerStore::archive",
    "Services::service",
    "LoadBalancer::target_health",
    "Alarms::states",
    "Metrics::group_series",
    "Metrics::metric_series",
    "Telemetry::publish",
    "Hooks::invoke",
];

/// Unhealthy targets this soon after a shift are still settling, not failing.
pub const TARGET_GRACE_MS: u64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Stable,
    Step,
    Bake,
    Hook,
    Experiment,
}

pub struct VerifyRequest {
    pub at: DeploymentRef,
    pub phase: Phase,
}

impl VerifyRequest {
    pub fn from_event(event: &Value) -> Result<VerifyRequest, Failure> {
        let at = DeploymentRef::from_event(event)?;
        let phase = match event.get("phase").and_then(Value::as_str).unwrap_or("step") {
            "stable" => Phase::Stable,
            "step" => Phase::Step,
            "bake" => Phase::Bake,
            "hook" => Phase::Hook,
            "experiment" => Phase::Experiment,
            other => {
                return Err(invalid_field(
                    "phase",
                    format!("must be stable, bake, step, hook or experiment, got \"{other}\""),
                ))
            }
        };
        Ok(VerifyRequest { at, phase })
    }
}

pub async fn handle(cloud: &impl Cloud, event: &Value, now_ms: u64) -> Result<Value, Failure> {
    let req = VerifyRequest::from_event(event)?;
    match req.phase {
        Phase::Bake => return bake::answer(cloud, &req, event, now_ms).await,
        Phase::Hook => return hook::run(cloud, event, now_ms).await,
        Phase::Experiment => return experiment::answer(cloud, &req, event, now_ms).await,
        _ => {}
    }
    let (app, env, id) = (
        req.at.app.as_str(),
        req.at.env.as_str(),
        req.at.deployment_id.as_str(),
    );
    let target = cloud.targets().target(app, env).await?;
    let mut record = load_ledger(cloud.ledger(), app, env).await?;
    let d = record.active(id)?.clone();
    let release = d.release.clone().ok_or_else(|| {
        Failure::new(
            ErrorType::HealthPending,
            format!("{id}: no release registered yet"),
        )
    })?;

    let mut checks =
        vec![realtime::service(cloud, &target, &d, &release.task_definition_arn).await?];
    if req.phase == Phase::Stable {
        let verdict = Verdict::all(checks);
        tracing::info!(app, env, id, phase = "stable", ?verdict, "verified");
        return finish(cloud, &req, &d, verdict, None, Vec::new(), now_ms).await;
    }

    let (_, record) =
        told::record(cloud, app, env, None, |l| l.record_verifying(id, now_ms)).await?;
    let verifying_since = record
        .deployment
        .as_ref()
        .and_then(|d| d.verifying_since_ms)
        .unwrap_or(now_ms);
    checks.push(realtime::targets(cloud, &target, &d, now_ms).await?);
    checks.push(alarms_verdict(
        &cloud.alarms().states(&target.alarms).await?,
    ));
    let analysis = traffic::analyse_traffic(cloud.metrics(), &target, &d, now_ms).await?;
    checks.push(analysis.verdict.clone());

    let mut verdict = Verdict::all(checks);
    let timeout_ms = u64::from(target.health_policy.verify_timeout_seconds) * 1000;
    // The deadline counts from the end of the bake (the step's first verification), not the shift.
    if now_ms.saturating_sub(verifying_since) >= timeout_ms {
        verdict = verdict.at_deadline();
    }
    tracing::info!(app, env, id, phase = "step", ?verdict, score = ?analysis.score, lines = ?analysis.lines, "verified");
    finish(
        cloud,
        &req,
        &d,
        verdict,
        analysis.score,
        analysis.lines,
        now_ms,
    )
    .await
}

/// Record the verdict (and start the rollback on a failure) and shape the function's answer.
pub(crate) async fn finish(
    cloud: &impl Cloud,
    req: &VerifyRequest,
    d: &cutover_core::Deployment,
    verdict: Verdict,
    score: Option<f64>,
    lines: Vec<String>,
    now_ms: u64,
) -> Result<Value, Failure> {
    let (app, env, id) = (&req.at.app, &req.at.env, &req.at.deployment_id);
    let answer = json!({
        "deploymentId": id, "verdict": verdict, "score": score, "lines": lines, "weights": d.weights,
    });
    if req.phase == Phase::Step {
        verdict_metric(cloud.telemetry(), req, &verdict, score, now_ms);
    }
    let record = |name: &str| VerdictRecord {
        step_index: d.step_index,
        candidate_weight: d.weights.of(d.candidate),
        verdict: name.to_string(),
        score,
        lines: lines.clone(),
        at_ms: now_ms,
    };
    match (&verdict, req.phase) {
        (Verdict::Healthy, Phase::Step) => {
            told::record(cloud, app, env, None, |l| {
                l.record_verdict(id, record("Healthy"))
            })
            .await?;
        }
        (Verdict::Unhealthy(reasons), _) => {
            // The ledger turns RollingBack here, before the state machine reacts: no later shift of
            // this deployment can move traffic toward the failed candidate, whatever runs next.
            let reason = format!("HealthFailed: {}", reasons.join("; "));
            told::record(cloud, app, env, None, |l| {
                if req.phase == Phase::Step {
                    l.record_verdict(id, record("Unhealthy"))?;
                }
                l.begin_rollback(&reason, now_ms)
            })
            .await?;
        }
        _ => {}
    }
    verdict.into_result().map_err(|f| Failure {
        details: answer.clone(),
        ..f
    })?;
    Ok(answer)
}

/// One count per step verdict (a Pending step counts once per poll) and the judge's score.
fn verdict_metric(
    telemetry: &impl Telemetry,
    req: &VerifyRequest,
    verdict: &Verdict,
    score: Option<f64>,
    now_ms: u64,
) {
    let name = match verdict {
        Verdict::Healthy => "Healthy",
        Verdict::Pending(_) => "Pending",
        Verdict::Unhealthy(_) => "Unhealthy",
    };
    let mut emf = Emf::new(&req.at.app, &req.at.env, now_ms)
        .by("Verdict", name)
        .property("DeploymentId", req.at.deployment_id.as_str())
        .with(metrics::STEP_VERDICTS, 1.0);
    if let Some(s) = score.filter(|s| s.is_finite()) {
        emf = emf.with(metrics::CANARY_SCORE, s);
    }
    telemetry.metric(&emf);
}
