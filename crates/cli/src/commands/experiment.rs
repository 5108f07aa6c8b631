//! `cutover experiment start|conclude`: an A/B experiment is a deployment whose plan holds one split
//! for a duration (docs/experiments.md). `start` prints what the experiment can detect before it
//! starts, and refuses a duration too short to detect anything; it then starts and follows the
//! execution as `deploy` does. `conclude` promotes the winner, or with `--keep-control` keeps the
//! control, and ends a still-running duration early (the guards' verification and the verdict run).

use super::deploy::{now_ms, start_and_follow, Request};
use crate::args::{names, ServiceArgs, SharedArgs};
use crate::context::Context;
use crate::outcome::Outcome;
use crate::report::{Format, Report};
use cutover_aws::elbv2::Elbv2;
use cutover_aws::ledger::DynamoLedger;
use cutover_aws::metrics::CloudWatchMetrics;
use cutover_aws::traffic::read_weights;
use cutover_aws::{LedgerStore, Metrics, SeriesQuery};
use cutover_core::experiment::{judged_periods, period_for, power, ExperimentSpec};
use cutover_core::target::target_group_dimension;
use cutover_core::{Colour, Weights};
use serde_json::{json, Value};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Start an experiment: --split % of production on the new image for --duration, judged on --metric.
    Start(StartArgs),
    /// Promote the experiment's winner now (or keep the control); ends a running duration early.
    Conclude(ConcludeArgs),
}

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    #[command(flatten)]
    service: ServiceArgs,
    /// The candidate (B) image; the live image is the control (A).
    #[arg(long)]
    image: String,
    /// The candidate's share of production traffic, 1 to 99 %.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=99))]
    split: u8,
    /// How long the split holds: 2h, 90m, 1d (at least 1m, at most 1d).
    #[arg(long, value_parser = seconds)]
    duration: u32,
    /// The primary metric, NAMESPACE:NAME:STAT[:DIM=VALUE,…], published per TargetGroup dimension.
    #[arg(long)]
    metric: String,
    /// The variant with the higher metric wins (default: the lower, as for latency or errors).
    #[arg(long)]
    higher_is_better: bool,
    /// Promote a winning candidate without waiting for `cutover experiment conclude`.
    #[arg(long)]
    auto_promote: bool,
    /// How long a user stays on the variant they got (ALB target-group stickiness, 1s to 7d;
    /// default: the duration).
    #[arg(long, value_parser = seconds)]
    stickiness: Option<u32>,
    /// How long a winner waits for `conclude` before the control is kept (default 1d; 0: keep the
    /// control at once unless --auto-promote).
    #[arg(long, value_parser = seconds_or_zero)]
    conclude_within: Option<u32>,
    /// Confidence of the test and of the effect's interval (default 0.95).
    #[arg(long)]
    confidence: Option<f64>,
    /// The experiment's deployment id (default: $GITHUB_SHA).
    #[arg(long, env = "GITHUB_SHA")]
    id: String,
    /// Follow the experiment to its end; exit 0 when it ran to a verdict (winner promoted or control
    /// kept), 2 when a guard rolled it back.
    #[arg(long)]
    wait: bool,
}

#[derive(Debug, clap::Args)]
pub struct ConcludeArgs {
    #[command(flatten)]
    service: ServiceArgs,
    /// Keep the control whatever the verdict.
    #[arg(long)]
    keep_control: bool,
}

fn seconds(text: &str) -> Result<u32, String> {
    let d = humantime::parse_duration(text).map_err(|e| format!("{e} (e.g. 90s, 30m, 2h, 1d)"))?;
    u32::try_from(d.as_secs())
        .ok()
        .filter(|s| *s > 0 && d.subsec_nanos() == 0)
        .ok_or_else(|| "must be a whole number of seconds, at least 1".to_string())
}

pub(super) fn seconds_or_zero(text: &str) -> Result<u32, String> {
    if text.trim() == "0" {
        return Ok(0);
    }
    seconds(text)
}

pub fn run(args: Args, shared: SharedArgs) -> Result<Outcome, String> {
    match args.command {
        Sub::Start(a) => run_start(a, shared),
        Sub::Conclude(a) => run_conclude(a, shared),
    }
}

fn spec_value(a: &StartArgs) -> Result<Value, String> {
    let mut v = json!({
        "split": a.split, "durationSeconds": a.duration, "metric": a.metric,
        "higherIsBetter": a.higher_is_better, "autoPromote": a.auto_promote,
    });
    for (k, x) in [
        ("stickinessSeconds", a.stickiness),
        ("concludeWithinSeconds", a.conclude_within),
    ] {
        if let Some(x) = x {
            v[k] = json!(x);
        }
    }
    if let Some(c) = a.confidence {
        v["confidence"] = json!(c);
    }
    // The prepare function checks the same: a bad flag never reaches AWS.
    ExperimentSpec::from_json(&v)
        .map_err(|f| format!("--{}", f.reason.trim_start_matches("experiment.")))?;
    Ok(v)
}

fn run_start(a: StartArgs, shared: SharedArgs) -> Result<Outcome, String> {
    names(&[
        ("app", &a.service.app),
        ("env", &a.service.env),
        ("id", &a.id),
    ])?;
    crate::args::image(&a.image)?;
    let value = spec_value(&a)?;
    let spec = ExperimentSpec::from_json(&value).map_err(|f| f.reason)?;
    let req = Request {
        app: a.service.app,
        env: a.service.env,
        image: a.image,
        strategy: None,
        experiment: Some(value),
        drill: None,
        id: a.id,
    };
    let wait = a.wait;
    super::with_context(shared, |mut ctx, format| async move {
        let report = Report::new(format);
        match estimate(&ctx, &req, &spec).await? {
            Ok(e) => report.event("power", &e.describe(), json!({ "power": e })),
            Err(why) => {
                report.event(
                    "refused",
                    &format!("refused before starting: {why}"),
                    json!({ "reason": why }),
                );
                report.finish();
                return Ok(Outcome::Refused);
            }
        }
        start_and_follow(&mut ctx, &req, wait, &report).await
    })
}

/// The power estimate from the last hour of the metric on the live colour's target group.
async fn estimate(
    ctx: &Context,
    req: &Request,
    spec: &ExperimentSpec,
) -> Result<Result<power::PowerEstimate, String>, String> {
    let target = ctx.target(&req.app, &req.env).await?;
    let weights = read_weights(&Elbv2::from_conf(&ctx.conf), &target)
        .await
        .map_err(|f| f.reason)?;
    let Some(live) = Colour::BOTH
        .into_iter()
        .find(|c| weights == Weights::all_on(*c))
    else {
        return Ok(Err(format!(
            "the listener is split {weights}: finish or roll back that change first"
        )));
    };
    let policy = &target.health_policy;
    let period = period_for(spec.duration_seconds, policy.period_seconds);
    let group = target_group_dimension(target.target_groups.get(live))
        .ok_or("the live target group is not a target group ARN")?
        .to_string();
    let end = (now_ms() / 1000) as i64 - i64::from(policy.metric_delay_seconds);
    let end = end - end.rem_euclid(i64::from(period));
    let history = CloudWatchMetrics::from_conf(&ctx.conf)
        .metric_series(&SeriesQuery {
            metric: spec.metric.clone(),
            target_groups: vec![group],
            start_s: end - 3600,
            end_s: end,
            period_s: period,
        })
        .await
        .map_err(|e| e.to_string())?;
    let values: Vec<f64> = history
        .first()
        .map(|m| m.values().copied().collect())
        .unwrap_or_default();
    Ok(power::estimate(
        &values,
        f64::from(spec.split) / 100.0,
        judged_periods(spec.duration_seconds, period, policy.metric_delay_seconds),
        period,
        spec.metric.kind(),
        spec.confidence,
        u64::from(policy.judge.min_samples),
    ))
}

fn run_conclude(a: ConcludeArgs, shared: SharedArgs) -> Result<Outcome, String> {
    a.service.check()?;
    super::with_context(shared, |mut ctx, format| async move {
        let (app, env) = (a.service.app.as_str(), a.service.env.as_str());
        let table = ctx.ledger_table().await?;
        let ledger = DynamoLedger::from_conf(&ctx.conf, table);
        if ledger
            .load(app, env)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
            eprintln!("cutover: no experiment of {app}/{env} to conclude");
            return Ok(Outcome::Refused);
        }
        let promote = !a.keep_control;
        let now = now_ms();
        match cutover_aws::update_ledger(&ledger, app, env, None, |l| {
            l.conclude_experiment(promote, now)
        })
        .await
        {
            Ok((id, _)) => {
                let what = if promote {
                    "the winner is promoted (if the candidate wins)"
                } else {
                    "the control keeps all traffic"
                };
                if format == Format::Json {
                    println!(
                        "{}",
                        json!({ "deploymentId": id, "promoteWinner": promote })
                    );
                } else {
                    println!("{app}/{env}: experiment {id} concluded: {what}; a running duration ends now, after its verification");
                }
                Ok(Outcome::Done)
            }
            Err(f)
                if matches!(
                    f.error_type,
                    cutover_core::ErrorType::Conflict | cutover_core::ErrorType::InvalidInput
                ) =>
            {
                eprintln!("cutover: {}", f.reason);
                Ok(Outcome::Refused)
            }
            Err(f) => Err(f.reason),
        }
    })
}
