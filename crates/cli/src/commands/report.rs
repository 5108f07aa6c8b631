//! `cutover report`: an HTML page of a service's recent deployments, from the ledger (archived
//! deployments and the one in flight) and CloudWatch (the candidate's and the baseline's ALB metrics
//! over each deployment's window). Needs dynamodb:GetItem and Query on the ledger table,
//! ssm:GetParameter on the target configuration, and cloudwatch:GetMetricData.

use crate::args::{ServiceArgs, SharedArgs};
use crate::context::Context;
use crate::html::{self, Section};
use crate::outcome::Outcome;
use crate::report::Format;
use cutover_aws::config::SsmTargets;
use cutover_aws::ledger::DynamoLedger;
use cutover_aws::metrics::CloudWatchMetrics;
use cutover_aws::{LedgerStore, Metrics, MetricsQuery, TargetSource};
use cutover_core::target::target_group_dimension;
use cutover_core::timeline::{report_period, Summary, Timeline};
use cutover_core::{GroupSeries, TargetConfig};
use serde_json::json;
use std::path::PathBuf;

/// How far back `--deployment` looks for its id.
const SEARCH_DEPTH: usize = 100;
/// Metric context either side of a deployment's window.
const MARGIN_S: i64 = 30;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    /// Only this deployment (among the newest 100).
    #[arg(long)]
    deployment: Option<String>,
    /// How many of the newest deployments the history table and the page cover (1 to 100).
    #[arg(long, default_value_t = 10)]
    limit: usize,
    #[arg(long, default_value = "report.html")]
    out: PathBuf,
}

pub fn run(args: Args, shared: SharedArgs) -> Result<Outcome, String> {
    args.service.check()?;
    if !(1..=SEARCH_DEPTH).contains(&args.limit) {
        return Err(format!(
            "--limit must be 1 to {SEARCH_DEPTH}, got {}",
            args.limit
        ));
    }
    if let Some(id) = &args.deployment {
        crate::args::names(&[("deployment", id)])?;
    }
    super::with_context(shared, |mut ctx, format| async move {
        report(&mut ctx, &args, format).await?;
        Ok(Outcome::Done)
    })
}

async fn report(ctx: &mut Context, args: &Args, format: Format) -> Result<(), String> {
    let (app, env) = (args.service.app.as_str(), args.service.env.as_str());
    let table = ctx.ledger_table().await?;
    let ledger = DynamoLedger::from_conf(&ctx.conf, table);
    let depth = if args.deployment.is_some() {
        SEARCH_DEPTH
    } else {
        args.limit
    };
    let mut deployments = ledger
        .archived(app, env, depth)
        .await
        .map_err(|e| e.to_string())?;
    // The deployment in flight (or just ended and not yet archived) is the newest.
    if let Some(current) = ledger
        .load(app, env)
        .await
        .map_err(|e| e.to_string())?
        .and_then(|l| l.deployment)
    {
        if !deployments.iter().any(|d| d.id == current.id) {
            deployments.insert(0, current);
        }
    }
    match &args.deployment {
        Some(id) => {
            deployments.retain(|d| &d.id == id);
            if deployments.is_empty() {
                return Err(format!(
                    "no deployment {id} of {app}/{env} among the newest {SEARCH_DEPTH}"
                ));
            }
        }
        None => deployments.truncate(args.limit),
    }
    // A report without metric charts is still a report: say why on the page.
    let rules = cutover_aws::aws_cloud::metric_rules(|k| std::env::var(k).ok())
        .map_err(|e| e.to_string())?;
    let target = SsmTargets::from_conf(&ctx.conf, rules)
        .target(app, env)
        .await
        .map_err(|f| f.reason);
    let metrics = CloudWatchMetrics::from_conf(&ctx.conf);
    let now_ms = now_ms();
    let mut sections = Vec::new();
    for d in &deployments {
        let timeline = Timeline::of(d);
        let series = match &target {
            Ok(t) => series(&metrics, t, &timeline, now_ms).await,
            Err(why) => Err(format!("the target configuration could not be read: {why}")),
        };
        sections.push(Section {
            timeline,
            metrics: series,
        });
    }
    let page = html::page(app, env, now_ms, &Summary::of(&deployments), &sections)?;
    write(&args.out, &page)?;
    let path = args.out.display().to_string();
    if format == Format::Json {
        println!(
            "{}",
            json!({ "out": path, "deployments": sections.len(), "bytes": page.len() })
        );
    } else {
        println!(
            "wrote {path}: {} deployments of {app}/{env}, {} bytes",
            sections.len(),
            page.len()
        );
    }
    Ok(())
}

/// The candidate's and the baseline's series over the deployment's window, at a period CloudWatch
/// still keeps for data that old.
async fn series(
    metrics: &CloudWatchMetrics,
    t: &TargetConfig,
    timeline: &Timeline,
    now_ms: u64,
) -> Result<[GroupSeries; 2], String> {
    let start_s = (timeline.started_at_ms / 1000) as i64 - MARGIN_S;
    let end_s = (timeline.ended_at_ms / 1000) as i64 + MARGIN_S;
    let now_s = (now_ms / 1000) as i64;
    let period_s = report_period(start_s, end_s, now_s, t.health_policy.period_seconds)
        .ok_or("CloudWatch keeps metrics for 455 days; this deployment is older")?;
    let groups = [timeline.candidate, timeline.candidate.other()].map(|c| {
        target_group_dimension(t.target_groups.get(c))
            .unwrap_or_default()
            .to_string()
    });
    let q = MetricsQuery {
        load_balancer: t.load_balancer.clone(),
        target_groups: groups.to_vec(),
        start_s,
        end_s: end_s.min(now_s.max(start_s + 1)),
        period_s,
    };
    let mut got = metrics
        .group_series(&q)
        .await
        .map_err(|e| format!("reading CloudWatch: {e}"))?
        .into_iter();
    match (got.next(), got.next()) {
        (Some(candidate), Some(baseline)) => Ok([candidate, baseline]),
        _ => Err("CloudWatch returned fewer series than asked for".into()),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Written beside the destination and renamed onto it: an interrupted run leaves the previous
/// report, never half a page.
fn write(out: &PathBuf, page: &str) -> Result<(), String> {
    let mut partial = out.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, page)
        .and_then(|()| std::fs::rename(&partial, out))
        .map_err(|e| format!("writing {}: {e}", out.display()))
}
