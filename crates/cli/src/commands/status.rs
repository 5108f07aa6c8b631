//! `cutover status`: what is live now — the ledger, the live colour, the weights the load balancer
//! reports, the active execution.

use crate::args::{ServiceArgs, SharedArgs};
use crate::context::Context;
use crate::outcome::Outcome;
use crate::report::{bar, sparkline, Format};
use cutover_aws::elbv2::Elbv2;
use cutover_aws::ledger::DynamoLedger;
use cutover_aws::release::aws::DynamoReleases;
use cutover_aws::release::Releases;
use cutover_aws::traffic::read_weights;
use cutover_aws::LedgerStore;
use serde_json::json;

pub fn run(service: ServiceArgs, shared: SharedArgs) -> Result<Outcome, String> {
    service.check()?;
    super::with_context(shared, |mut ctx, format| async move {
        status(&mut ctx, &service.app, &service.env, format).await?;
        Ok(Outcome::Done)
    })
}

async fn status(ctx: &mut Context, app: &str, env: &str, format: Format) -> Result<(), String> {
    let table = ctx.ledger_table().await?;
    let ledger = DynamoLedger::from_conf(&ctx.conf, table)
        .load(app, env)
        .await
        .map_err(|e| e.to_string())?;
    let target = ctx.target(app, env).await?;
    let weights = read_weights(&Elbv2::from_conf(&ctx.conf), &target)
        .await
        .map_err(|f| f.reason)?;
    let d = ledger.as_ref().and_then(|l| l.deployment.as_ref());
    let execution = match d.and_then(|d| d.execution_arn.clone()) {
        Some(arn) => {
            let out = super::describe_execution(&aws_sdk_sfn::Client::new(&ctx.conf), &arn).await?;
            Some(json!({ "arn": arn, "status": out.status().as_str() }))
        }
        None => None,
    };
    // The release machine lives in the home region only; elsewhere there is no release item.
    let table = ctx.ledger_table().await?;
    let release = DynamoReleases::from_conf(&ctx.conf, table)
        .load(app, env)
        .await
        .map_err(|e| e.to_string())?;
    let view = json!({
        "app": app, "env": env,
        "liveColour": ledger.as_ref().map(|l| l.live_colour),
        "lastKnownGood": ledger.as_ref().and_then(|l| l.last_known_good.clone()),
        "loadBalancerWeights": weights,
        "deployment": d,
        "execution": execution,
        "release": release,
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
        // The split over the deployment, as `cutover report` draws it.
        let shares: Vec<u8> = cutover_core::timeline::Timeline::of(d)
            .split
            .iter()
            .map(|p| p.candidate_percent)
            .collect();
        println!("  candidate split {}", sparkline(&shares));
        if let Some(v) = d.verdicts.last() {
            println!(
                "  last verdict    {} at {}% (score {})",
                v.verdict,
                v.candidate_weight,
                v.score.map_or("-".into(), |s| format!("{s:.0}"))
            );
        }
        for h in &d.hooks {
            println!(
                "  hook            {} {} {} after {} call(s){}",
                h.stage.as_str(),
                h.function,
                h.status,
                h.attempts,
                h.reason
                    .as_deref()
                    .map_or(String::new(), |r| format!(": {r}"))
            );
        }
        if let Some(e) = &d.experiment {
            println!("  {}", e.describe());
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
    if let Some(r) = &release {
        println!("  {}", r.summary());
    }
    Ok(())
}
