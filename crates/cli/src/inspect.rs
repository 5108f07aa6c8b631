//! `cutover status`, `cutover history` and `cutover rollback`: what is live now, what happened
//! before, and the manual rollback.

use crate::context::Context;
use crate::report::{bar, Format};
use aws_sdk_lambda::primitives::Blob;
use cutover_aws::config::SsmTargets;
use cutover_aws::elbv2::Elbv2;
use cutover_aws::ledger::DynamoLedger;
use cutover_aws::traffic::read_weights;
use cutover_aws::{LedgerStore, TargetSource};
use serde_json::{json, Value};

pub async fn status(ctx: &mut Context, app: &str, env: &str, format: Format) -> Result<(), String> {
    let table = ctx.ledger_table().await?;
    let ledger = DynamoLedger::from_conf(&ctx.conf, table)
        .load(app, env)
        .await
        .map_err(|e| e.to_string())?;
    let target = SsmTargets::from_conf(&ctx.conf)
        .target(app, env)
        .await
        .map_err(|f| f.reason)?;
    let weights = read_weights(&Elbv2::from_conf(&ctx.conf), &target)
        .await
        .map_err(|f| f.reason)?;
    let d = ledger.as_ref().and_then(|l| l.deployment.as_ref());
    let execution = match d.and_then(|d| d.execution_arn.clone()) {
        Some(arn) => {
            let out = aws_sdk_sfn::Client::new(&ctx.conf)
                .describe_execution()
                .execution_arn(&arn)
                .send()
                .await
                .map_err(|e| cutover_aws::AwsError::from_sdk("DescribeExecution", e).to_string())?;
            Some(json!({ "arn": arn, "status": out.status().as_str() }))
        }
        None => None,
    };
    let view = json!({
        "app": app, "env": env,
        "liveColour": ledger.as_ref().map(|l| l.live_colour),
        "lastKnownGood": ledger.as_ref().and_then(|l| l.last_known_good.clone()),
        "loadBalancerWeights": weights,
        "deployment": d,
        "execution": execution,
    });
    if format == Format::Json {
        println!("{view}");
        return Ok(());
    }
    println!("{app}/{env}");
    println!(
        "  live colour     {}",
        view["liveColour"]
            .as_str()
            .unwrap_or("- (no deployment yet)")
    );
    if let Some(r) = ledger.as_ref().and_then(|l| l.last_known_good.as_ref()) {
        println!("  last known good {} ({})", r.image, r.task_definition_arn);
    }
    println!(
        "  load balancer   blue {} / green {}   {}",
        weights.blue(),
        weights.green(),
        bar(weights)
    );
    if let Some(d) = d {
        println!(
            "  deployment      {} {} (candidate {}, {} shifts, image {})",
            d.id,
            d.status,
            d.candidate,
            d.shifts.len(),
            d.image
        );
        if let Some(v) = d.verdicts.last() {
            println!(
                "  last verdict    {} at {}% (score {})",
                v.verdict,
                v.candidate_weight,
                v.score.map_or("-".into(), |s| format!("{s:.0}"))
            );
        }
        if let Some(r) = &d.reason {
            println!("  reason          {r}");
        }
    }
    if let Some(e) = execution {
        println!(
            "  execution       {} {}",
            e["status"].as_str().unwrap_or("?"),
            e["arn"].as_str().unwrap_or("?")
        );
    }
    Ok(())
}

pub async fn history(
    ctx: &mut Context,
    app: &str,
    env: &str,
    limit: usize,
    format: Format,
) -> Result<(), String> {
    let machine = ctx.state_machine_arn().await?;
    let client = aws_sdk_sfn::Client::new(&ctx.conf);
    let prefix = format!("{app}-{env}-");
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
            let Some(id) = e.name().strip_prefix(&prefix) else {
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
    for (start, id, status, secs) in &rows {
        let outcome = match status.as_str() {
            "SUCCEEDED" => "promoted",
            "ABORTED" => "stopped (rollback or person)",
            "FAILED" => "failed or rolled back",
            "RUNNING" => "running",
            _ => "other",
        };
        if format == Format::Json {
            println!(
                "{}",
                json!({ "deploymentId": id, "status": status, "outcome": outcome, "startedAt": start, "durationSeconds": secs })
            );
        } else {
            let when = aws_smithy_time(*start);
            println!(
                "{when}  {id:<40} {status:<9} {outcome:<28} {}",
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

pub async fn rollback(
    ctx: &mut Context,
    app: &str,
    env: &str,
    reason: &str,
    format: Format,
) -> Result<(), String> {
    let function = ctx.rollback_function().await?;
    let out = aws_sdk_lambda::Client::new(&ctx.conf)
        .invoke()
        .function_name(&function)
        .payload(Blob::new(
            json!({ "app": app, "env": env, "reason": reason }).to_string(),
        ))
        .send()
        .await
        .map_err(|e| cutover_aws::AwsError::from_sdk("Invoke", e).to_string())?;
    let body: Value = out
        .payload()
        .and_then(|b| serde_json::from_slice(b.as_ref()).ok())
        .unwrap_or(Value::Null);
    if out.function_error().is_some() {
        let reason = body["errorMessage"].as_str().unwrap_or("rollback failed");
        return Err(format!("rollback refused: {reason}"));
    }
    if format == Format::Json {
        println!("{body}");
    } else if body["rolledBack"] == true {
        println!(
            "rolled back {} of {app}/{env}: traffic on {} within {} ms of the request",
            body["deploymentId"].as_str().unwrap_or("?"),
            body["live"].as_str().unwrap_or("?"),
            body["timeToRollbackMs"]
        );
    } else {
        println!(
            "nothing to roll back for {app}/{env} (deployment status: {})",
            body["status"]
        );
    }
    Ok(())
}

/// End the current step's bake now. Safe by construction: the step's verification (alarms, targets,
/// thresholds, the judge) still runs before any further shift. Returns the exit code: 0, or 4 when
/// nothing is baking.
pub async fn promote(
    ctx: &mut Context,
    app: &str,
    env: &str,
    format: Format,
) -> Result<u8, String> {
    let table = ctx.ledger_table().await?;
    let ledger = DynamoLedger::from_conf(&ctx.conf, table);
    let now = crate::deploy::now_ms();
    // A service that never had a deployment has no ledger item: nothing bakes, same as an idle one.
    if ledger
        .load(app, env)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        eprintln!("cutover: no active deployment of {app}/{env} to promote");
        return Ok(4);
    }
    match cutover_aws::update_ledger(&ledger, app, env, None, |l| l.skip_bake(now)).await {
        Ok(((id, step), _)) => {
            if format == Format::Json {
                println!(
                    "{}",
                    json!({ "deploymentId": id, "step": step, "bakeSkipped": true })
                );
            } else {
                println!("{app}/{env}: the rest of step {}'s bake is skipped for {id}; its verification runs next", step + 1);
            }
            Ok(0)
        }
        Err(f) if f.error_type == cutover_core::ErrorType::Conflict => {
            eprintln!("cutover: {}", f.reason);
            Ok(4)
        }
        Err(f) => Err(f.reason),
    }
}
