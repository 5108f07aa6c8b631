//! `cutover deploy`: start the deploy execution named for `<app>-<env>-<id>` (or attach to the one a re-run of
//! the same CI job already started) and, with `--wait`, follow it to its end.

use crate::args::{names, strategy_value, ServiceArgs, SharedArgs};
use crate::context::Context;
use crate::outcome::Outcome;
use crate::report::{bar, Report};
use aws_sdk_sfn as sfn;
use cutover_aws::ledger::DynamoLedger;
use cutover_aws::LedgerStore;
use cutover_core::{Deployment, Strategy};
use serde_json::{json, Value};
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    /// The container image to deploy.
    #[arg(long)]
    image: String,
    /// A preset (Canary10Percent5Minutes, …) or {"steps": [...]}; default: the target's.
    #[arg(long)]
    strategy: Option<String>,
    /// The deployment id, usually the commit SHA (default: $GITHUB_SHA).
    #[arg(long, env = "GITHUB_SHA")]
    id: String,
    /// Follow the deployment to its end; the exit code tells how it ended.
    #[arg(long)]
    wait: bool,
}

pub fn run(args: Args, shared: SharedArgs) -> Result<Outcome, String> {
    let Args {
        service: ServiceArgs { app, env },
        image,
        strategy,
        id,
        wait,
    } = args;
    names(&[("app", &app), ("env", &env), ("id", &id)])?;
    crate::args::image(&image)?;
    let strategy = strategy.as_deref().map(strategy_value).transpose()?;
    let req = Request {
        app,
        env,
        image,
        strategy,
        experiment: None,
        drill: None,
        id,
    };
    super::with_context(shared, |mut ctx, format| async move {
        start_and_follow(&mut ctx, &req, wait, &Report::new(format)).await
    })
}

/// Start (or attach to) the execution and, with `wait`, follow it to the outcome it reports.
pub(super) async fn start_and_follow(
    ctx: &mut Context,
    req: &Request,
    wait: bool,
    report: &Report,
) -> Result<Outcome, String> {
    let Some(arn) = start(ctx, req, report).await? else {
        report.finish();
        return Ok(Outcome::Refused);
    };
    if !wait {
        return Ok(Outcome::Done);
    }
    let followed = follow(ctx, &arn, req, report).await;
    super::report_result(report, followed)
}

pub(super) struct Request {
    pub app: String,
    pub env: String,
    pub image: String,
    pub strategy: Option<Value>,
    /// An A/B experiment's spec (`cutover experiment start`) instead of a strategy.
    pub experiment: Option<Value>,
    /// A rollback drill's fault (`cutover drill`): `{"fault": "errors"}`.
    pub drill: Option<Value>,
    pub id: String,
}

/// `arn:…:stateMachine:NAME` → `arn:…:execution:NAME:EXECUTION`.
fn execution_arn(state_machine: &str, name: &str) -> String {
    format!(
        "{}:{name}",
        state_machine.replacen(":stateMachine:", ":execution:", 1)
    )
}

async fn start(
    ctx: &mut Context,
    req: &Request,
    report: &Report,
) -> Result<Option<String>, String> {
    let machine = ctx.state_machine_arn().await?;
    let name = cutover_core::execution_name::deployment(&req.app, &req.env, &req.id);
    let mut input = json!({
        "app": req.app, "env": req.env, "image": req.image, "deploymentId": req.id, "strategy": req.strategy,
    });
    if let Some(e) = &req.experiment {
        input["experiment"] = e.clone();
    }
    if let Some(d) = &req.drill {
        input["drill"] = d.clone();
    }
    start_or_attach(ctx, &machine, &name, &input, report).await
}

/// Start the execution `name`, or attach to the one already started under that name when it was
/// started with the same input. `None`: it was started for something else (reported, refused).
pub(super) async fn start_or_attach(
    ctx: &Context,
    machine: &str,
    name: &str,
    input: &Value,
    report: &Report,
) -> Result<Option<String>, String> {
    let client = sfn::Client::new(&ctx.conf);
    match client
        .start_execution()
        .state_machine_arn(machine)
        .name(name)
        .input(input.to_string())
        .send()
        .await
    {
        // AWS answers a repeated start with the same name and input with the existing execution.
        Ok(out) => {
            report.event(
                "started",
                &format!("started {}", out.execution_arn),
                json!({ "executionArn": out.execution_arn }),
            );
            Ok(Some(out.execution_arn))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_execution_already_exists()) =>
        {
            // AWS refuses a different input under a running execution's name, and any input under a
            // finished one's: only the input tells whether it is this request's execution.
            let arn = execution_arn(machine, name);
            let theirs = super::describe_execution(&client, &arn).await?;
            let theirs: Value = serde_json::from_str(theirs.input().unwrap_or("null"))
                .map_err(|e| format!("{arn}: its input is not JSON: {e}"))?;
            let differences = differences(&theirs, input);
            if !differences.is_empty() {
                report.event(
                    "refused",
                    &format!(
                        "{arn} was started for another request ({}): not following it as this one; give another id",
                        differences.join("; ")
                    ),
                    json!({ "executionArn": arn, "differences": differences }),
                );
                return Ok(None);
            }
            report.event(
                "attached",
                &format!("attached to the running or finished {arn}"),
                json!({ "executionArn": arn }),
            );
            Ok(Some(arn))
        }
        Err(e) => Err(cutover_aws::AwsError::from_sdk("StartExecution", e).to_string()),
    }
}

/// `field: theirs → ours` for every top-level field in which two execution inputs differ.
fn differences(theirs: &Value, ours: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (a, b) = (
        theirs.as_object().unwrap_or(&empty),
        ours.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k).unwrap_or(&Value::Null) != b.get(*k).unwrap_or(&Value::Null))
        .map(|k| {
            let show = |v: Option<&Value>| v.map_or("none".to_string(), Value::to_string);
            format!("{k}: {} → {}", show(a.get(k)), show(b.get(k)))
        })
        .collect()
}

/// What changed in the ledger since the last look, as events.
pub(super) fn changes(report: &Report, before: Option<&Deployment>, now: &Deployment) {
    if before.map(|d| d.status) != Some(now.status) {
        report.event(
            "status",
            &format!("ledger: {}", now.status),
            json!({ "status": now.status }),
        );
    }
    let seen = before.map_or(0, |d| d.shifts.len());
    for s in now.shifts.iter().skip(seen) {
        report.event(
            "shift",
            &format!(
                "step {}: {} / {}   {}",
                s.step_index + 1,
                s.weights.blue(),
                s.weights.green(),
                bar(s.weights)
            ),
            json!({ "step": s.step_index, "weights": s.weights }),
        );
    }
    let seen = before.map_or(0, |d| d.verdicts.len());
    for v in now.verdicts.iter().skip(seen) {
        let score = v
            .score
            .map_or("no score".into(), |s| format!("score {s:.0}"));
        let detail = if v.verdict == "Healthy" {
            v.lines
                .iter()
                .find(|l| l.starts_with("judge:"))
                .cloned()
                .unwrap_or_default()
        } else {
            v.lines.join("\n            ")
        };
        report.event(
            "verdict",
            &format!("verdict at {}%: {} ({score}) {detail}", v.candidate_weight, v.verdict),
            json!({ "step": v.step_index, "verdict": v.verdict, "score": v.score, "lines": v.lines }),
        );
    }
    let verdict = |d: Option<&Deployment>| {
        d.and_then(|d| d.experiment.as_ref())
            .and_then(|e| Some((e.result.as_ref()?.summary.clone(), e.decision)))
    };
    if let (old, Some((summary, decision))) = (verdict(before), verdict(Some(now))) {
        if old.as_ref().map(|o| o.1) != Some(decision) {
            let e = now
                .experiment
                .as_ref()
                .expect("a verdict is an experiment's");
            let decision = decision.map_or("-".into(), |d| format!("{d:?}"));
            report.event(
                "experiment",
                &format!("experiment: {summary}; decision {decision}"),
                json!({ "experiment": e }),
            );
        }
    }
    if let (None, Some(r)) = (before.and_then(|d| d.rollback.as_ref()), &now.rollback) {
        report.event(
            "rollback",
            &format!("rollback by {} ({})", r.trigger, r.sources.join(", ")),
            json!({ "rollback": r }),
        );
    }
    // The record is written once traffic is back; its first sighting may already say so.
    let restored = |d: Option<&Deployment>| {
        d.and_then(|d| d.rollback.as_ref())
            .and_then(|r| r.traffic_restored_at_ms)
    };
    if let (None, Some(at), Some(r)) = (restored(before), restored(Some(now)), &now.rollback) {
        let ms = at.saturating_sub(r.requested_at_ms);
        report.event(
            "restored",
            &format!("traffic back on the live colour {ms} ms after the rollback was asked for"),
            json!({ "timeToRollbackMs": ms }),
        );
    }
}

/// The status line: where the deployment is, and how long the current bake has left on paper.
fn status_line(d: &Deployment, plan: &[cutover_core::PlanStep], now_ms: u64) -> String {
    let step = d.step_index.map_or(0, |s| s as usize);
    let mut line = format!(
        "{} · step {}/{} · {}",
        d.status,
        step + 1,
        plan.len().max(1),
        bar(d.weights)
    );
    if let (Some(s), Some(shift)) = (plan.get(step), d.shifts.last()) {
        let elapsed = now_ms.saturating_sub(shift.at_ms) / 1000;
        let left = u64::from(s.bake_seconds).saturating_sub(elapsed);
        if left > 0 && d.status == cutover_core::Status::Shifting {
            line.push_str(&format!(" · bake {left}s of {}s left", s.bake_seconds));
        }
    }
    line
}

async fn follow(
    ctx: &mut Context,
    arn: &str,
    req: &Request,
    report: &Report,
) -> Result<(Outcome, Value), String> {
    let client = sfn::Client::new(&ctx.conf);
    let table = ctx.ledger_table().await?;
    let ledger = DynamoLedger::from_conf(&ctx.conf, table);
    let plan = match (&req.strategy, &req.experiment) {
        (Some(s), _) => Strategy::from_json(s).map(|s| s.plan()).unwrap_or_default(),
        (None, Some(e)) => cutover_core::experiment::ExperimentSpec::from_json(e)
            .map(|e| e.plan())
            .unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    let mut last: Option<Deployment> = None;
    // Up to a minute for a rollback that stopped the execution to record its end.
    let mut settle_polls = 150;
    loop {
        let exec = super::describe_execution(&client, arn).await?;
        let record = ledger
            .load(&req.app, &req.env)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(d) = record.and_then(|l| l.deployment).filter(|d| d.id == req.id) {
            changes(report, last.as_ref(), &d);
            report.status(status_line(&d, &plan, now_ms()));
            last = Some(d);
        }
        let status = exec.status().as_str().to_string();
        let rolling_back = last
            .as_ref()
            .is_some_and(|d| d.status == cutover_core::Status::RollingBack);
        // A rollback stops the execution first and finishes its work after: wait for its record.
        if status != "RUNNING" && !(rolling_back && settle_polls > 0) {
            let error = exec.error().map(String::from);
            let outcome = match (
                status.as_str(),
                error.as_deref(),
                last.as_ref().map(|d| d.status),
            ) {
                // An experiment that kept its control ends here too: the rollback path, then Succeed.
                ("SUCCEEDED", _, Some(cutover_core::Status::RolledBack)) => Outcome::ControlKept,
                ("SUCCEEDED", _, _) => Outcome::Promoted,
                // A step's Conflict after prepare claimed the ledger ends rolled back, not refused.
                (_, _, Some(cutover_core::Status::RolledBack)) => Outcome::RolledBack,
                (_, Some("Conflict" | "Frozen"), _) => Outcome::Refused,
                _ => Outcome::Failed,
            };
            let secs = match (exec.start_date(), exec.stop_date()) {
                (start, Some(stop)) => (stop.secs() - start.secs()).max(0),
                _ => 0,
            };
            let result = json!({
                "outcome": format!("{outcome:?}"), "exitCode": outcome.code(), "executionArn": arn,
                "status": status, "error": error, "cause": exec.cause(), "durationSeconds": secs,
                "deployment": last,
            });
            return Ok((outcome, result));
        }
        if status != "RUNNING" {
            settle_polls -= 1;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

pub(super) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
