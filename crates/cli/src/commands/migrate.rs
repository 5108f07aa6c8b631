//! `cutover migrate --spec FILE`: check the spec here, start the migrate execution (the same spec
//! again attaches to it), and with `--wait` follow its phases from the execution history.

use crate::args::{names, SharedArgs};
use crate::context::Context;
use crate::outcome::Outcome;
use crate::report::Report;
use aws_sdk_sfn as sfn;
use aws_sdk_sfn::types::HistoryEventType;
use cutover_core::migration::MigrationSpec;
use serde_json::{json, Value};
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    spec: std::path::PathBuf,
    /// Name the execution <id>-<run> instead of <id>-<spec fingerprint> (to re-run a reverted spec).
    #[arg(long)]
    run: Option<String>,
    /// Follow the migration to its end; the exit code tells how it ended.
    #[arg(long)]
    wait: bool,
}

pub fn run(Args { spec, run, wait }: Args, shared: SharedArgs) -> Result<Outcome, String> {
    let (raw, parsed) = load_spec(&spec)?;
    if let Some(r) = &run {
        names(&[("run", r)])?;
    }
    let name = execution_name(&parsed, &raw, run.as_deref());
    super::with_context(shared, |mut ctx, format| async move {
        let report = Report::new(format);
        let Some(arn) = start(&mut ctx, &raw, &name, &report).await? else {
            report.finish();
            return Ok(Outcome::Refused);
        };
        if !wait {
            return Ok(Outcome::Done);
        }
        let followed = follow(&mut ctx, &arn, &report).await;
        super::report_result(&report, followed)
    })
}

/// The spec file, checked whole: every problem is listed before anything is called.
fn load_spec(path: &std::path::Path) -> Result<(Value, MigrationSpec), String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--spec {}: {e}", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("--spec {}: not JSON: {e}", path.display()))?;
    let spec = MigrationSpec::from_json(&value).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
        format!(
            "--spec {}: invalid migration spec:\n{}",
            path.display(),
            lines.join("\n")
        )
    })?;
    Ok((value, spec))
}

/// A hash of the spec's canonical text: the same spec names the same execution, an edited one a new
/// one.
fn fingerprint(spec: &Value) -> String {
    let h = cutover_core::execution_name::fnv1a(&[&spec.to_string()]);
    format!("{h:016x}")[..10].to_string()
}

fn execution_name(spec: &MigrationSpec, raw: &Value, run: Option<&str>) -> String {
    let suffix = run.map_or_else(|| fingerprint(raw), String::from);
    format!("{}-{suffix}", spec.id)
}

async fn start(
    ctx: &mut Context,
    raw: &Value,
    name: &str,
    report: &Report,
) -> Result<Option<String>, String> {
    let machine = ctx.migrate_state_machine_arn().await?;
    super::deploy::start_or_attach(ctx, &machine, name, &json!({ "spec": raw }), report).await
}

/// One line for a phase's result.
fn phase_line(out: &Value) -> String {
    let phase = out["phase"].as_str().unwrap_or("?");
    let again = if out["alreadyDone"] == true {
        " (already done)"
    } else {
        ""
    };
    match phase {
        "expand" => format!(
            "expand: {} created, forward triggers on the source{again}",
            out["target"].as_str().unwrap_or("target")
        ),
        "backfill" => format!(
            "backfill: {} rows copied of {} scanned, cursor {}",
            out["copied"], out["scanned"], out["cursor"]
        ),
        "verify" => format!(
            "verify: {} ({} ranges, {} source rows, {} target rows{})",
            if out["passed"] == true {
                "passed"
            } else {
                "FAILED"
            },
            out["ranges"],
            out["sourceRows"],
            out["targetRows"],
            if out["firstDifference"].is_null() {
                String::new()
            } else {
                format!(", first difference {}", out["firstDifference"])
            }
        ),
        "switch" => format!(
            "switch: {} = {} (was {}){again}",
            out["switch"].as_str().unwrap_or("?"),
            out["value"],
            out["previous"]
        ),
        "contract" => format!(
            "contract: {} dropped{again}",
            out["dropped"].as_str().unwrap_or("source")
        ),
        "restore" => format!(
            "restore: switch put back (to {}); the target stays {} s for instances that cached it{again}",
            out["switchRestored"],
            out["drainSeconds"]
        ),
        "revert" => format!(
            "revert: target dropped, source kept (from {}, switch restored to {}){again}",
            out["from"], out["switchRestored"]
        ),
        _ => format!("{phase}: {out}"),
    }
}

async fn follow(ctx: &mut Context, arn: &str, report: &Report) -> Result<(Outcome, Value), String> {
    let client = sfn::Client::new(&ctx.conf);
    let (mut seen, mut copied, mut batches) = (0usize, 0i64, 0u64);
    loop {
        let exec = super::describe_execution(&client, arn).await?;
        let mut events = Vec::new();
        let mut token = None;
        loop {
            let page = client
                .get_execution_history()
                .execution_arn(arn)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    cutover_aws::AwsError::from_sdk("GetExecutionHistory", e).to_string()
                })?;
            events.extend(page.events().to_vec());
            token = page.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
        for e in events.iter().skip(seen) {
            match e.r#type() {
                HistoryEventType::TaskSucceeded => {
                    let out: Value = e
                        .task_succeeded_event_details()
                        .and_then(|d| d.output())
                        .and_then(|o| serde_json::from_str(o).ok())
                        .unwrap_or(Value::Null);
                    if out["phase"] == "backfill" {
                        // One invocation copies as many batches as its time budget allows.
                        batches += out["batches"].as_u64().unwrap_or(1);
                        copied += out["copied"].as_i64().unwrap_or(0);
                        report.status(format!("backfill: batch {batches}, {copied} rows copied"));
                        if out["done"] == true {
                            report.event(
                                "backfill",
                                &format!(
                                    "backfill: done in {batches} batches, {copied} rows copied"
                                ),
                                json!({ "batches": batches, "copied": copied }),
                            );
                        }
                    } else if out.get("phase").is_some() {
                        report.event(
                            out["phase"].as_str().unwrap_or("phase"),
                            &phase_line(&out),
                            out.clone(),
                        );
                    }
                }
                HistoryEventType::TaskScheduled
                    if e.task_scheduled_event_details()
                        .is_some_and(|d| d.resource().contains("waitForTaskToken")) =>
                {
                    report.event("approval", "waiting for approval: `cutover approve --token T` with the token from the approval topic's message", json!({}));
                }
                HistoryEventType::TaskFailed => {
                    let d = e.task_failed_event_details();
                    let (error, cause) = (
                        d.and_then(|d| d.error()).unwrap_or("?"),
                        d.and_then(|d| d.cause()).unwrap_or(""),
                    );
                    report.event(
                        "failed",
                        &format!("phase failed: {error}: {cause}"),
                        json!({ "error": error, "cause": cause }),
                    );
                }
                _ => {}
            }
        }
        seen = events.len();
        let status = exec.status().as_str().to_string();
        if status != "RUNNING" {
            let error = exec.error().unwrap_or_default().to_string();
            let outcome = match (status.as_str(), error.as_str()) {
                ("SUCCEEDED", _) => Outcome::Contracted,
                (_, "MigrationReverted") => Outcome::Reverted,
                (_, "MigrationRefused") => Outcome::Refused,
                _ => Outcome::Failed,
            };
            let started = exec.start_date().secs();
            let stopped = exec.stop_date().map_or(started, |d| d.secs());
            return Ok((
                outcome,
                json!({ "status": status, "error": error, "executionArn": arn,
                                        "batches": batches, "copied": copied, "durationSeconds": stopped - started }),
            ));
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_spec_names_the_same_execution() {
        let raw: Value =
            serde_json::from_str(include_str!("../../../../local/migrate/tickets-spec.json"))
                .unwrap();
        let spec = MigrationSpec::from_json(&raw).unwrap();
        let a = execution_name(&spec, &raw, None);
        assert_eq!(a, execution_name(&spec, &raw.clone(), None));
        assert!(
            a.starts_with("tickets-v2-") && a.len() == "tickets-v2-".len() + 10,
            "{a}"
        );
        let mut edited = raw.clone();
        edited["batchSize"] = json!(100);
        assert_ne!(a, execution_name(&spec, &edited, None));
        assert_eq!(execution_name(&spec, &raw, Some("r2")), "tickets-v2-r2");
    }
}
