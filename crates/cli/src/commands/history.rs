//! `cutover history`: past deployments, newest first, with outcome and duration.

use crate::args::{ServiceArgs, SharedArgs};
use crate::context::Context;
use crate::outcome::Outcome;
use crate::report::Format;
use cutover_aws::ledger::DynamoLedger;
use cutover_aws::release::aws::DynamoReleases;
use cutover_aws::release::Releases;
use cutover_aws::LedgerStore;
use cutover_core::experiment::Decision;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

pub fn run(Args { service, limit }: Args, shared: SharedArgs) -> Result<Outcome, String> {
    service.check()?;
    super::with_context(shared, |mut ctx, format| async move {
        history(&mut ctx, &service.app, &service.env, limit, format).await?;
        Ok(Outcome::Done)
    })
}

async fn history(
    ctx: &mut Context,
    app: &str,
    env: &str,
    limit: usize,
    format: Format,
) -> Result<(), String> {
    let machine = ctx.state_machine_arn().await?;
    let client = aws_sdk_sfn::Client::new(&ctx.conf);
    let mut rows = Vec::new();
    let mut token = None;
    loop {
        let out = client
            .list_executions()
            .state_machine_arn(&machine)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| cutover_aws::AwsError::from_sdk("ListExecutions", e).to_string())?;
        for e in out.executions() {
            let Some(id) = cutover_core::execution_name::deployment_id_in(e.name(), app, env)
            else {
                continue;
            };
            let start = e.start_date().secs();
            let stop = e.stop_date().map(|d| d.secs());
            rows.push((
                start,
                id.to_string(),
                e.status().as_str().to_string(),
                stop.map(|s| s - start),
            ));
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows.truncate(limit);
    // Experiments are told apart by their archived ledger record, which holds the verdict.
    let table = ctx.ledger_table().await?;
    let archived = DynamoLedger::from_conf(&ctx.conf, table)
        .archived(app, env, limit.max(1) * 2)
        .await
        .map_err(|e| e.to_string())?;
    for (start, id, status, secs) in &rows {
        let experiment = archived
            .iter()
            .find(|d| &d.id == id)
            .and_then(|d| d.experiment.as_ref());
        let outcome = match (status.as_str(), experiment.and_then(|e| e.decision)) {
            ("SUCCEEDED", Some(Decision::Promote)) => "experiment: winner promoted",
            ("SUCCEEDED", Some(_)) => "experiment: control kept",
            (_, _) if experiment.is_some() && status != "RUNNING" => "experiment: rolled back",
            _ => match status.as_str() {
                "SUCCEEDED" => "promoted",
                "ABORTED" => "stopped (rollback or person)",
                "FAILED" => "failed or rolled back",
                "RUNNING" => "running",
                _ => "other",
            },
        };
        let verdict = experiment
            .and_then(|e| e.result.as_ref())
            .map(|r| r.summary.as_str());
        if format == Format::Json {
            println!(
                "{}",
                json!({ "deploymentId": id, "status": status, "outcome": outcome, "startedAt": start, "durationSeconds": secs, "experiment": experiment })
            );
        } else {
            let when = aws_smithy_time(*start);
            println!(
                "{when}  {id:<40} {status:<9} {outcome:<28} {}",
                secs.map_or("-".into(), |s| format!("{s} s"))
            );
            if let Some(v) = verdict {
                println!("{:22}{v}", "");
            }
        }
    }
    // Releases across regions, from the home region's archive (empty elsewhere).
    let table = ctx.ledger_table().await?;
    let releases = DynamoReleases::from_conf(&ctx.conf, table)
        .archived(app, env, limit)
        .await
        .map_err(|e| e.to_string())?;
    for r in &releases {
        let secs = r
            .ended_at_ms
            .map(|e| e.saturating_sub(r.started_at_ms) / 1000);
        if format == Format::Json {
            println!("{}", json!({ "release": r, "durationSeconds": secs }));
        } else {
            let when = aws_smithy_time((r.started_at_ms / 1000) as i64);
            println!(
                "{when}  {} · {}",
                r.summary(),
                secs.map_or("-".into(), |s| format!("{s} s"))
            );
        }
    }
    Ok(())
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn aws_smithy_time(secs: i64) -> String {
    aws_sdk_sfn::primitives::DateTime::from_secs(secs)
        .fmt(aws_sdk_sfn::primitives::DateTimeFormat::DateTime)
        .unwrap_or_else(|_| secs.to_string())
}
