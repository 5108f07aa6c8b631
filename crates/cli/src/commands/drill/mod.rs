//! `cutover drill`: prove, before it is needed, that a bad release is caught. Deploys the live image
//! as a canary whose revision carries `CUTOVER_DRILL_FAULT` (the application injects that fault),
//! follows it like `deploy --wait`, and reports how long detection and rollback took and how many
//! requests users got wrong; the report is also written to the deployment's history record. A drill
//! never promotes (core `drill`): a fault nobody detected is rolled back when the canary ends, and
//! the command exits 3 — the safety net has a hole. `--fault stop-tasks` leaves the revision as it is
//! and stops a share of the candidate's tasks through the stack's FIS experiment
//! ([`stop_tasks`]).

mod stop_tasks;

use super::deploy::{now_ms, start_and_follow, Request};
use crate::args::{names, ServiceArgs, SharedArgs};
use crate::context::Context;
use crate::outcome::Outcome;
use crate::report::Report;
use cutover_aws::ledger::DynamoLedger;
use cutover_aws::metrics::CloudWatchMetrics;
use cutover_aws::{LedgerStore, Metrics, MetricsQuery};
use cutover_core::drill::{exposure, DrillFault, DrillReport};
use cutover_core::target::target_group_dimension;
use cutover_core::Deployment;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    /// The fault: errors (a share of the candidate's requests answer 5XX) or latency, which the
    /// application injects; stop-tasks, a share of its tasks stopped by the stack's FIS experiment.
    #[arg(long, default_value = "errors", value_parser = fault)]
    fault: DrillFault,
    /// The canary's share of production traffic, 1 to 50 %.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(1..=50))]
    weight: u8,
    /// How long the canary bakes before its verification, in seconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(60..=3600))]
    bake: u32,
    /// The drill's deployment id (default: drill-<epoch ms>).
    #[arg(long)]
    id: Option<String>,
    /// stop-tasks: the FIS experiment template (default: the stack's DrillExperimentTemplateId).
    #[arg(long)]
    experiment_template: Option<String>,
}

fn fault(text: &str) -> Result<DrillFault, String> {
    DrillFault::parse(text).ok_or_else(|| "errors, latency or stop-tasks".to_string())
}

pub fn run(args: Args, shared: SharedArgs) -> Result<Outcome, String> {
    let id = args
        .id
        .clone()
        .unwrap_or_else(|| format!("drill-{}", now_ms()));
    names(&[
        ("app", &args.service.app),
        ("env", &args.service.env),
        ("id", &id),
    ])?;
    super::with_context(shared, |mut ctx, format| async move {
        let report = Report::new(format);
        let (app, env) = (args.service.app.clone(), args.service.env.clone());
        let table = ctx.ledger_table().await?;
        let ledger = DynamoLedger::from_conf(&ctx.conf, table);
        let stored = ledger.load(&app, &env).await.map_err(|e| e.to_string())?;
        // Refused before anything starts; prepare checks the same (and the freeze flag) again.
        let live_image = match &stored {
            Some(l) if l.deployment.as_ref().is_some_and(|d| !d.status.is_final()) => {
                return refuse(
                    &report,
                    "another deployment is active: drill when it has ended",
                );
            }
            Some(l) => l.last_known_good.as_ref().map(|r| r.image.clone()),
            None => None,
        };
        let Some(image) = live_image else {
            return refuse(
                &report,
                "no live image is known yet: deploy once before drilling",
            );
        };
        let stop_tasks = match args.fault {
            DrillFault::StopTasks => {
                let target = ctx.target(&app, &env).await?;
                let live = stored
                    .as_ref()
                    .map_or(cutover_core::Colour::Blue, |l| l.live_colour);
                match stop_tasks::Plan::check(
                    &mut ctx,
                    args.experiment_template.clone(),
                    &target,
                    live,
                )
                .await
                {
                    Ok(plan) => Some(plan),
                    Err(stop_tasks::Refusal::Refused(why)) => return refuse(&report, &why),
                    Err(stop_tasks::Refusal::Error(e)) => return Err(e),
                }
            }
            _ => None,
        };
        let req = Request {
            app: app.clone(),
            env: env.clone(),
            image,
            strategy: Some(json!({"steps": [
                {"weight": args.weight, "bakeSeconds": args.bake},
                {"weight": 100, "bakeSeconds": 0},
            ]})),
            experiment: None,
            drill: Some(json!({ "fault": args.fault.as_str() })),
            id: id.clone(),
        };
        let ended = AtomicBool::new(false);
        let follow = async {
            let followed = start_and_follow(&mut ctx, &req, true, &report).await;
            ended.store(true, Ordering::SeqCst);
            followed
        };
        let inject = async {
            match &stop_tasks {
                Some(plan) => Some(
                    plan.inject(&ledger, (&app, &env, &id), &ended, &report)
                        .await,
                ),
                None => None,
            }
        };
        let (followed, mut injection) = tokio::join!(follow, inject);
        if let (Some(plan), Some(i)) = (&stop_tasks, injection.as_mut()) {
            plan.finish(i, &report).await;
        }
        let followed = followed?;
        if followed == Outcome::Refused {
            return Ok(followed);
        }
        let Some(d) = ledger
            .load(&app, &env)
            .await
            .map_err(|e| e.to_string())?
            .and_then(|l| l.deployment)
            .filter(|d| d.id == id && d.drill.is_some())
        else {
            return Err(format!("the ledger holds no drill {id} after it ended"));
        };
        let (requests, failed) = candidate_counts(&ctx, &app, &env, &d).await?;
        let mut drill = DrillReport::new(&d, requests, failed)?;
        let not_injected = injection.as_ref().and_then(|i| i.error.clone());
        drill.injection = injection;
        for line in drill.lines() {
            report.event("drill", &line, json!({ "drill": drill }));
        }
        ledger
            .annotate_archived(&app, &env, &d, "drillReport", &json!(drill))
            .await
            .map_err(|e| format!("the report was not written to the history: {e}"))?;
        if let Some(e) = not_injected {
            return Err(format!("the drill's fault was not injected: {e}"));
        }
        Ok(if drill.detected {
            Outcome::Done
        } else {
            Outcome::Failed
        })
    })
}

fn refuse(report: &Report, why: &str) -> Result<Outcome, String> {
    report.event(
        "refused",
        &format!("refused: {why}"),
        json!({ "reason": why }),
    );
    report.finish();
    Ok(Outcome::Refused)
}

/// Requests and 5XX the candidate's target group served while the drill exposed it.
async fn candidate_counts(
    ctx: &Context,
    app: &str,
    env: &str,
    d: &Deployment,
) -> Result<(u64, u64), String> {
    let Some((from_ms, to_ms)) = exposure(d) else {
        return Ok((0, 0));
    };
    let target = ctx.target(app, env).await?;
    let group = target_group_dimension(target.target_groups.get(d.candidate))
        .ok_or("the candidate's target group is not a target group ARN")?
        .to_string();
    let period = target.health_policy.period_seconds;
    // ALB metrics arrive late: wait until the window's last period has landed.
    let landed_ms = to_ms + u64::from(target.health_policy.metric_delay_seconds + period) * 1000;
    if let Some(wait) = landed_ms.checked_sub(now_ms()) {
        tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
    }
    let floor = |ms: u64| {
        let s = (ms / 1000) as i64;
        s - s.rem_euclid(i64::from(period))
    };
    let series = CloudWatchMetrics::from_conf(&ctx.conf)
        .group_series(&MetricsQuery {
            load_balancer: target.load_balancer.clone(),
            target_groups: vec![group],
            start_s: floor(from_ms),
            end_s: floor(to_ms) + i64::from(period),
            period_s: period,
        })
        .await
        .map_err(|e| e.to_string())?;
    let sum = |m: &std::collections::BTreeMap<i64, f64>| m.values().sum::<f64>().round() as u64;
    Ok(series
        .first()
        .map_or((0, 0), |s| (sum(&s.requests), sum(&s.errors_5xx))))
}
