//! `cutover release`: start the home region's release execution named for `<app>-<env>-<id>` (or
//! attach to it) and, with `--wait`, follow it: one block of lines per region as the release item
//! records them, then the result. Exit codes as `deploy`'s: 0 every wave promoted, 2 a region rolled
//! back (the release stopped, or `rollbackAll` returned the promoted ones), 3 failed, 4 refused (the
//! plan, another release, or a region's failover partner unhealthy before anything moved).

use crate::args::{names, strategy_value, ServiceArgs, SharedArgs};
use crate::context::Context;
use crate::outcome::Outcome;
use crate::report::Report;
use aws_sdk_sfn as sfn;
use cutover_aws::release::aws::{AwsRegions, DynamoReleases};
use cutover_aws::release::{RegionalStack, Regions, Releases};
use cutover_core::release::plan::waves_from_text;
use cutover_core::release::{RegionOutcome, ReleaseRecord, ReleaseStatus};
use cutover_core::Deployment;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    /// The container image to release.
    #[arg(long)]
    image: String,
    /// Waves over the stored plan's: regions of a wave by `,`, waves by `;` ("us-east-2;us-west-2,eu-west-1").
    #[arg(long)]
    waves: Option<String>,
    /// The bake between waves over the stored plan's: 0, 90s, 30m, 1h (at most 1d).
    #[arg(long, value_parser = super::experiment::seconds_or_zero)]
    bake: Option<u32>,
    /// What a failed or refused region does over the stored plan's: stop (the next waves never
    /// start) or rollbackAll (also return the regions this release promoted).
    #[arg(long, value_parser = ["stop", "rollbackAll"])]
    on_failure: Option<String>,
    /// A preset or {"steps": [...]} every region deploys with; default: each region's target's.
    #[arg(long)]
    strategy: Option<String>,
    /// The release id, usually the commit SHA (default: $GITHUB_SHA); at most 33 characters.
    #[arg(long, env = "GITHUB_SHA")]
    id: String,
    /// Follow the release to its end; the exit code tells how it ended.
    #[arg(long)]
    wait: bool,
}

pub fn run(args: Args, shared: SharedArgs) -> Result<Outcome, String> {
    let Args {
        service: ServiceArgs { app, env },
        image,
        waves,
        bake,
        on_failure,
        strategy,
        id,
        wait,
    } = args;
    if bake.is_some_and(|b| b > 86_400) {
        return Err("--bake: at most 1d".into());
    }
    names(&[("app", &app), ("env", &env), ("id", &id)])?;
    if id.len() > 33 {
        return Err(
            "--id: at most 33 characters (a region's revert is deployment <id>-revert)".into(),
        );
    }
    crate::args::image(&image)?;
    if let Some(w) = &waves {
        let plan = cutover_core::release::ReleasePlan {
            waves: waves_from_text(w),
            bake_seconds: 0,
            on_failure: cutover_core::release::OnFailure::Stop,
            failover: Vec::new(),
        };
        // The regions' stacks and pairs are the release function's to check; the shape is ours.
        let problems = plan.problems(&[]);
        if !problems.is_empty() {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err(format!("--waves: {}", lines.join("; ")));
        }
    }
    let strategy = strategy.as_deref().map(strategy_value).transpose()?;
    let input = json!({ "app": app, "env": env, "image": image, "releaseId": id,
        "waves": waves, "bakeSeconds": bake, "onFailure": on_failure, "strategy": strategy });
    let stack = shared.stack.clone();
    super::with_context(shared, |mut ctx, format| async move {
        let report = Report::new(format);
        let machine = ctx.release_state_machine_arn().await?;
        let name = cutover_core::execution_name::deployment(&app, &env, &id);
        let Some(arn) =
            super::deploy::start_or_attach(&ctx, &machine, &name, &input, &report).await?
        else {
            report.finish();
            return Ok(Outcome::Refused);
        };
        if !wait {
            return Ok(Outcome::Done);
        }
        let regions = AwsRegions::new(ctx.conf.clone(), stack);
        let followed = follow(&mut ctx, &regions, &arn, &app, &env, &id, &report).await;
        super::report_result(&report, followed)
    })
}

/// What changed in the release item since the last look, one event per region's step: the starts
/// (`starts`), or the endings and the next wave.
fn changes(report: &Report, before: Option<&ReleaseRecord>, now: &ReleaseRecord, starts: bool) {
    for r in &now.regions {
        let old = before.and_then(|b| b.region(&r.region));
        for revert in [false, true] {
            let Some(run) = r.run(revert) else { continue };
            let old_run = old.and_then(|o| o.run(revert));
            let what = if revert { "revert to" } else { "deploy" };
            if starts
                && run.execution_arn.is_some()
                && old_run.and_then(|o| o.execution_arn.as_ref()).is_none()
            {
                report.event(
                    "region",
                    &format!(
                        "{}: wave {} · {what} {} started {}",
                        r.region,
                        r.wave + 1,
                        run.image,
                        run.execution_arn.as_deref().unwrap_or("")
                    ),
                    json!({ "region": r.region, "wave": r.wave, "revert": revert, "run": run }),
                );
            }
            if starts {
                continue;
            }
            if let (Some(outcome), None) = (run.outcome, old_run.and_then(|o| o.outcome)) {
                let why = run
                    .reason
                    .as_deref()
                    .map_or(String::new(), |w| format!(": {w}"));
                report.event(
                    "region",
                    &format!("{}: {what} {} {outcome:?}{why}", r.region, run.image),
                    json!({ "region": r.region, "wave": r.wave, "revert": revert, "run": run }),
                );
            }
        }
    }
    if !starts && before.map(|b| b.wave) != Some(now.wave) && now.wave > 0 {
        report.event(
            "wave",
            &format!(
                "wave {} of {}: {} (after a bake of {} s)",
                now.wave + 1,
                now.plan.waves.len(),
                now.plan.waves[now.wave].join(", "),
                now.plan.bake_seconds
            ),
            json!({ "wave": now.wave, "regions": now.plan.waves[now.wave] }),
        );
    }
}

fn outcome_of(status: &str, error: Option<&str>, record: Option<&ReleaseRecord>) -> Outcome {
    let any = |o: RegionOutcome| {
        record.is_some_and(|r| r.regions.iter().any(|x| x.deploy.outcome == Some(o)))
    };
    match (status, error, record.map(|r| r.status)) {
        ("SUCCEEDED", _, _) => Outcome::Promoted,
        (_, _, Some(ReleaseStatus::RolledBack)) => Outcome::RolledBack,
        (_, _, Some(ReleaseStatus::Stopped)) if any(RegionOutcome::RolledBack) => {
            Outcome::RolledBack
        }
        // Refused only while nothing moved: a refusal after a promoted wave is a failed release.
        (_, _, Some(ReleaseStatus::Stopped))
            if any(RegionOutcome::Refused)
                && !any(RegionOutcome::Failed)
                && !any(RegionOutcome::Promoted) =>
        {
            Outcome::Refused
        }
        (_, Some("Conflict" | "InvalidInput" | "Frozen"), _) => Outcome::Refused,
        _ => Outcome::Failed,
    }
}

/// Each running region's own progress, as `deploy` prints it, its lines prefixed with the region.
struct RegionalProgress<'a> {
    regions: &'a AwsRegions,
    stacks: HashMap<String, RegionalStack>,
    seen: HashMap<(String, String), Deployment>,
}

impl RegionalProgress<'_> {
    async fn show(&mut self, report: &Report, r: &ReleaseRecord) -> Result<(), String> {
        for region in &r.regions {
            let run = match &region.revert {
                Some(v) => v,
                None => &region.deploy,
            };
            if run.execution_arn.is_none() {
                continue;
            }
            if !self.stacks.contains_key(&region.region) {
                match self
                    .regions
                    .stack(&region.region)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    Some(s) => self.stacks.insert(region.region.clone(), s),
                    None => continue,
                };
            }
            let stack = &self.stacks[&region.region];
            let ledger = self
                .regions
                .ledger(stack, &r.app, &r.env)
                .await
                .map_err(|e| e.to_string())?;
            let Some(d) = ledger
                .and_then(|l| l.deployment)
                .filter(|d| d.id == run.deployment_id)
            else {
                continue;
            };
            let key = (region.region.clone(), d.id.clone());
            super::deploy::changes(&report.scoped(&region.region), self.seen.get(&key), &d);
            self.seen.insert(key, d);
        }
        Ok(())
    }
}

async fn follow(
    ctx: &mut Context,
    regions: &AwsRegions,
    arn: &str,
    app: &str,
    env: &str,
    id: &str,
    report: &Report,
) -> Result<(Outcome, Value), String> {
    let client = sfn::Client::new(&ctx.conf);
    let table = ctx.ledger_table().await?;
    let releases = DynamoReleases::from_conf(&ctx.conf, table);
    let mut last: Option<ReleaseRecord> = None;
    let mut progress = RegionalProgress {
        regions,
        stacks: HashMap::new(),
        seen: HashMap::new(),
    };
    loop {
        let exec = super::describe_execution(&client, arn).await?;
        let record = releases
            .load(app, env)
            .await
            .map_err(|e| e.to_string())?
            .filter(|r| r.id == id);
        if let Some(r) = record {
            changes(report, last.as_ref(), &r, true);
            progress.show(report, &r).await?;
            changes(report, last.as_ref(), &r, false);
            report.status(format!(
                "release {} · wave {}/{} · {:?}",
                r.id,
                r.wave + 1,
                r.plan.waves.len(),
                r.status
            ));
            last = Some(r);
        }
        let status = exec.status().as_str().to_string();
        if status != "RUNNING" {
            let error = exec.error().map(String::from);
            let outcome = outcome_of(&status, error.as_deref(), last.as_ref());
            let secs = match (exec.start_date(), exec.stop_date()) {
                (start, Some(stop)) => (stop.secs() - start.secs()).max(0),
                _ => 0,
            };
            let result = json!({
                "outcome": format!("{outcome:?}"), "exitCode": outcome.code(), "executionArn": arn,
                "status": status, "error": error, "cause": exec.cause(), "durationSeconds": secs,
                "release": last,
            });
            return Ok((outcome, result));
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_core::release::ReleasePlan;

    fn stopped(outcomes: &[(&str, RegionOutcome)]) -> ReleaseRecord {
        let known: Vec<String> = outcomes.iter().map(|(r, _)| r.to_string()).collect();
        let waves: Vec<Vec<&str>> = outcomes.iter().map(|(r, _)| vec![*r]).collect();
        let plan = ReleasePlan::from_json(&json!({ "waves": waves }), &known).unwrap();
        let mut r = ReleaseRecord::new("a", "e", "r1", "img:2", plan, 1);
        for (region, outcome) in outcomes {
            r.begin_region(region, None, 1);
            r.end_run(region, false, *outcome, None, 2);
        }
        r.finish(ReleaseStatus::Stopped, None, 3);
        r
    }

    #[test]
    fn refused_is_exit_4_only_while_nothing_moved() {
        let first = stopped(&[("us-east-1", RegionOutcome::Refused)]);
        assert_eq!(
            outcome_of("FAILED", Some("ReleaseStopped"), Some(&first)),
            Outcome::Refused
        );
        let later = stopped(&[
            ("us-east-1", RegionOutcome::Promoted),
            ("us-west-2", RegionOutcome::Refused),
        ]);
        assert_eq!(
            outcome_of("FAILED", Some("ReleaseStopped"), Some(&later)),
            Outcome::Failed
        );
        let rolled = stopped(&[("us-east-1", RegionOutcome::RolledBack)]);
        assert_eq!(
            outcome_of("FAILED", Some("ReleaseStopped"), Some(&rolled)),
            Outcome::RolledBack
        );
    }
}
