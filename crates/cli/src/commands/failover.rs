//! `cutover failover status`: for each Route 53 failover record of the service's release plan, the
//! region the record favours now, each half's health check as Route 53's checkers report it, and
//! each region's live colour and image from its own ledger.

use crate::args::{names, ServiceArgs, SharedArgs};
use crate::outcome::Outcome;
use crate::report::Report;
use cutover_aws::release::aws::{AwsRegions, DynamoReleases, Route53HealthChecks};
use cutover_aws::release::{HealthChecks, Regions, Releases};
use cutover_core::release::failover::{FailoverHalf, FailoverRecord};
use cutover_core::release::{healthy_share, ReleasePlan};
use serde_json::json;

/// Route 53 calls an endpoint healthy when more than 18 % of its checkers do.
const ROUTE53_HEALTHY_SHARE: f64 = 0.18;

#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// Which region each failover record favours, its health checks, each region's live version.
    Status(ServiceArgs),
}

pub fn run(args: Args, shared: SharedArgs) -> Result<Outcome, String> {
    let Args::Status(ServiceArgs { app, env }) = args;
    names(&[("app", &app), ("env", &env)])?;
    let stack = shared.stack.clone();
    super::with_context(shared, |mut ctx, format| async move {
        let report = Report::new(format);
        let table = ctx.ledger_table().await?;
        let releases = DynamoReleases::from_conf(&ctx.conf, table);
        let doc = releases
            .plan(&app, &env)
            .await
            .map_err(|e| e.to_string())?
            .ok_or(format!(
                "{app}/{env} has no release plan at {}: no failover record to show",
                cutover_aws::release::plan_parameter(&app, &env)
            ))?;
        let plan = ReleasePlan::from_json(&doc, &[]).map_err(|e| {
            let lines: Vec<String> = e.iter().map(ToString::to_string).collect();
            format!("the release plan: {}", lines.join("; "))
        })?;
        if plan.failover.is_empty() {
            return Err(format!(
                "{app}/{env}'s release plan names no failover record"
            ));
        }
        let checks = Route53HealthChecks::new(aws_sdk_route53::Client::new(&ctx.conf));
        let regions = AwsRegions::new(ctx.conf.clone(), stack);
        for rec in &plan.failover {
            show(&report, rec, &checks, &regions, &app, &env).await?;
        }
        report.finish();
        Ok(Outcome::Done)
    })
}

async fn show(
    report: &Report,
    rec: &FailoverRecord,
    checks: &Route53HealthChecks,
    regions: &AwsRegions,
    app: &str,
    env: &str,
) -> Result<(), String> {
    let mut halves = Vec::new();
    for (role, half) in [("PRIMARY", &rec.primary), ("SECONDARY", &rec.secondary)] {
        halves.push((role, half, state(half, checks, regions, app, env).await?));
    }
    let healthy = |h: &HalfState| h.share.is_some_and(|s| s > ROUTE53_HEALTHY_SHARE);
    // Route 53 answers with the primary while it is healthy, else with a healthy secondary.
    let favoured = if healthy(&halves[0].2) || !healthy(&halves[1].2) {
        &rec.primary
    } else {
        &rec.secondary
    };
    report.event(
        "record",
        &format!(
            "{} (zone {}): favours {} ({})",
            rec.record_name, rec.hosted_zone_id, favoured.region, favoured.set_identifier
        ),
        json!({ "recordName": rec.record_name, "hostedZoneId": rec.hosted_zone_id,
            "favours": favoured.region }),
    );
    for (role, half, s) in halves {
        let share = s.share.map_or("no checker reports".to_string(), |x| {
            format!("{:.0} % of {} checkers healthy", x * 100.0, s.checkers)
        });
        report.event(
            "region",
            &format!(
                "  {role:<9} {:<14} health check {}: {share} · live {} {}",
                half.region, half.health_check_id, s.colour, s.image
            ),
            json!({ "role": role, "region": half.region, "healthCheckId": half.health_check_id,
                "healthyShare": s.share, "checkers": s.checkers, "liveColour": s.colour,
                "image": s.image }),
        );
    }
    Ok(())
}

struct HalfState {
    share: Option<f64>,
    checkers: usize,
    colour: String,
    image: String,
}

async fn state(
    half: &FailoverHalf,
    checks: &Route53HealthChecks,
    regions: &AwsRegions,
    app: &str,
    env: &str,
) -> Result<HalfState, String> {
    let observations = checks
        .observations(&half.health_check_id)
        .await
        .map_err(|e| e.to_string())?;
    let stack = regions
        .stack(&half.region)
        .await
        .map_err(|e| e.to_string())?;
    let ledger = match &stack {
        Some(s) => regions
            .ledger(s, app, env)
            .await
            .map_err(|e| e.to_string())?,
        None => None,
    };
    let (colour, image) = match (&stack, &ledger) {
        (None, _) => ("-".into(), "(no Cutover stack in this region)".into()),
        (_, None) => ("-".into(), "(no deployment yet)".into()),
        (_, Some(l)) => (
            format!("{:?}", l.live_colour).to_lowercase(),
            l.last_known_good
                .as_ref()
                .map_or("-".into(), |r| r.image.clone()),
        ),
    };
    Ok(HalfState {
        share: healthy_share(&observations),
        checkers: observations.len(),
        colour,
        image,
    })
}
