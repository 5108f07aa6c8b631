//! One region of a release: start its deploy execution (after the failover gate) or, for
//! `rollbackAll`, its revert; then poll it until its ledger and Step Functions agree it ended.

use crate::{load, update, ReleaseRef};
use cutover_aws::release::{HealthChecks, RegionalStack, Regions, ReleaseCloud, Started};
use cutover_aws::AwsError;
use cutover_core::execution_name;
use cutover_core::fields::{invalid_field, text};
use cutover_core::release::budget;
use cutover_core::release::failover::{busy_refusal, health_refusal};
use cutover_core::release::record::regional_outcome;
use cutover_core::release::{RegionOutcome, ReleaseRecord};
use cutover_core::{ErrorType, Failure};
use serde_json::{json, Value};

// Poll waits and the execution's history budget: cutover_core::release::budget.

fn region_of(event: &Value) -> Result<(String, bool), Failure> {
    let region = text(event, "region")?;
    if !cutover_core::release::plan::is_region_code(&region) {
        return Err(invalid_field(
            "region",
            format!("\"{region}\" is not a region code"),
        ));
    }
    Ok((
        region,
        event
            .get("revert")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    ))
}

async fn stack(cloud: &impl ReleaseCloud, region: &str) -> Result<RegionalStack, Failure> {
    cloud.regions().stack(region).await?.ok_or_else(|| {
        Failure::new(
            ErrorType::InvalidInput,
            format!("no Cutover stack is published in {region}"),
        )
    })
}

/// Why `region` must not be deployed now, if it must not: a failover partner that Route 53 does
/// not show healthy, or that is being deployed itself.
async fn refusal(
    cloud: &impl ReleaseCloud,
    record: &ReleaseRecord,
    region: &str,
) -> Result<Option<String>, Failure> {
    for rec in record
        .plan
        .failover
        .iter()
        .filter(|f| f.half(region).is_some())
    {
        let partner = rec.partner(region).expect("a half has a partner");
        let observations = match cloud
            .health_checks()
            .observations(&partner.health_check_id)
            .await
        {
            Ok(o) => Some(o),
            Err(AwsError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some(why) = health_refusal(region, rec, observations.as_deref()) {
            return Ok(Some(why));
        }
        if let Some(s) = cloud.regions().stack(&partner.region).await? {
            let busy = cloud
                .regions()
                .ledger(&s, &record.app, &record.env)
                .await?
                .and_then(|l| l.deployment)
                .filter(|d| !d.status.is_final());
            if let Some(d) = busy {
                return Ok(Some(busy_refusal(region, &partner.region, &d.id, d.status)));
            }
        }
    }
    Ok(None)
}

fn refused(region: &str, revert: bool, reason: &str) -> Value {
    json!({ "region": region, "revert": revert, "outcome": RegionOutcome::Refused, "reason": reason })
}

pub async fn start(
    cloud: &impl ReleaseCloud,
    at: &ReleaseRef,
    event: &Value,
    now: u64,
) -> Result<Value, Failure> {
    let (region, revert) = region_of(event)?;
    let record = load(cloud, at).await?;
    if !record.plan.regions().any(|r| r == region) {
        return Err(invalid_field(
            "region",
            format!("{region} is not in release {}'s plan", at.id),
        ));
    }
    // A retried start finds the execution its first try started.
    let started = record.region(&region).and_then(|r| {
        let run = r.run(revert)?;
        Some((run.execution_arn.clone(), run.outcome, run.reason.clone()))
    });
    // Begun but no execution recorded: a try that passed the gate died before or just after its
    // StartExecution. The gate is not asked again (it may say no now while that execution runs);
    // the start below attaches to the execution if it exists.
    let begun = started.is_some();
    match started {
        Some((Some(arn), outcome, reason)) => {
            return Ok(
                json!({ "region": region, "revert": revert, "executionArn": arn,
                "outcome": outcome, "reason": reason, "waitSeconds": budget::wait_seconds(0, 0) }),
            )
        }
        Some((None, Some(outcome), reason)) => {
            return Ok(
                json!({ "region": region, "revert": revert, "outcome": outcome, "reason": reason }),
            )
        }
        _ => {}
    }
    let stack = stack(cloud, &region).await?;
    let ledger = cloud.regions().ledger(&stack, &at.app, &at.env).await?;
    let previous = ledger
        .as_ref()
        .and_then(|l| l.last_known_good.as_ref())
        .map(|r| r.image.clone());

    let (deployment_id, image, strategy) = if revert {
        // A revert is a whole deployment of the region: the same gate as its first one.
        if !begun {
            if let Some(why) = refusal(cloud, &record, &region).await? {
                update(cloud, at, |r| {
                    if r.begin_revert(&region, now).is_ok() {
                        r.end_run(&region, true, RegionOutcome::Refused, Some(&why), now);
                    }
                    Ok(())
                })
                .await?;
                tracing::warn!(region, reason = why, "revert refused");
                return Ok(refused(&region, true, &why));
            }
        }
        let begun = update(cloud, at, |r| Ok(r.begin_revert(&region, now).cloned())).await?;
        let run = match begun.0 {
            Ok(run) => run,
            // Nothing to return to: this region's revert fails (the release ends Failed), the
            // others still run.
            Err(why) => {
                return Ok(json!({ "region": region, "revert": true,
                    "outcome": RegionOutcome::Failed, "reason": why }))
            }
        };
        (run.deployment_id, run.image, json!("AllAtOnce"))
    } else {
        let gate = if begun {
            None
        } else {
            refusal(cloud, &record, &region).await?
        };
        if let Some(why) = gate {
            update(cloud, at, |r| {
                r.begin_region(&region, previous.clone(), now);
                r.end_run(&region, false, RegionOutcome::Refused, Some(&why), now);
                Ok(())
            })
            .await?;
            tracing::warn!(region, reason = why, "region refused");
            return Ok(refused(&region, false, &why));
        }
        update(cloud, at, |r| {
            r.begin_region(&region, previous.clone(), now);
            Ok(())
        })
        .await?;
        (
            at.id.clone(),
            record.image.clone(),
            record.strategy.clone().unwrap_or(Value::Null),
        )
    };

    // The same input `cutover deploy --id <release id>` gives, so a person's deploy attaches to it.
    let input = json!({ "app": at.app, "env": at.env, "image": image,
        "deploymentId": deployment_id, "strategy": strategy });
    let name = execution_name::deployment(&at.app, &at.env, &deployment_id);
    let arn = match cloud
        .regions()
        .start(&stack, &name, &input.to_string())
        .await?
    {
        Started::New { arn } => arn,
        Started::Existing { arn, input: theirs }
            if serde_json::from_str::<Value>(&theirs).ok().as_ref() == Some(&input) =>
        {
            arn
        }
        Started::Existing { arn, .. } => {
            let why = format!(
                "{arn} was started for another request under this release's name; give the release another id"
            );
            update(cloud, at, |r| {
                r.end_run(&region, revert, RegionOutcome::Refused, Some(&why), now);
                Ok(())
            })
            .await?;
            return Ok(refused(&region, revert, &why));
        }
    };
    update(cloud, at, |r| {
        if let Some(run) = r.run_mut(&region, revert) {
            run.execution_arn.get_or_insert(arn.clone());
        }
        Ok(())
    })
    .await?;
    tracing::info!(
        region,
        revert,
        execution = arn,
        "regional deploy execution started"
    );
    Ok(
        json!({ "region": region, "revert": revert, "executionArn": arn,
        "outcome": Value::Null, "waitSeconds": budget::wait_seconds(0, 0) }),
    )
}

pub async fn poll(
    cloud: &impl ReleaseCloud,
    at: &ReleaseRef,
    event: &Value,
    now: u64,
) -> Result<Value, Failure> {
    let (region, revert) = region_of(event)?;
    let arn = text(event, "executionArn")?;
    let record = load(cloud, at).await?;
    let run = record
        .region(&region)
        .and_then(|r| r.run(revert))
        .ok_or_else(|| {
            invalid_field(
                "region",
                format!("{region} was not started by release {}", at.id),
            )
        })?
        .clone();
    if let Some(outcome) = run.outcome {
        return Ok(
            json!({ "region": region, "revert": revert, "executionArn": arn,
            "outcome": outcome, "reason": run.reason }),
        );
    }
    let stack = stack(cloud, &region).await?;
    let execution = cloud.regions().execution(&region, &arn).await?;
    let ledger = cloud.regions().ledger(&stack, &at.app, &at.env).await?;
    let ours = ledger
        .as_ref()
        .and_then(|l| l.deployment.as_ref())
        .map(|d| (d.id.as_str(), d.status));
    let used = budget::events_used(&record, now);
    let Some((outcome, reason)) = regional_outcome(
        &execution.status,
        execution.error.as_deref(),
        ours,
        &run.deployment_id,
    )
    .or_else(|| {
        // Following on would risk the execution's history limit, which fails it with no Catch.
        (used > budget::HISTORY_GUARD).then(|| {
            (RegionOutcome::Failed, Some(format!(
                "the release stopped following {region}: its execution has written about {used} of Step Functions' {} history events; {arn} goes on by itself (see that region's ledger)",
                budget::HISTORY_LIMIT
            )))
        })
    }) else {
        return Ok(
            json!({ "region": region, "revert": revert, "executionArn": arn,
            "outcome": Value::Null,
            "waitSeconds": budget::wait_seconds(now.saturating_sub(run.started_at_ms), used) }),
        );
    };
    update(cloud, at, |r| {
        r.end_run(&region, revert, outcome, reason.as_deref(), now);
        Ok(())
    })
    .await?;
    tracing::info!(region, revert, ?outcome, "regional deployment ended");
    Ok(
        json!({ "region": region, "revert": revert, "executionArn": arn,
        "outcome": outcome, "reason": reason }),
    )
}

/// A caught error (`error`: Step Functions' `{Error, Cause}`) as `<Error>: <reason>`. A function's
/// Cause is its JSON reason (Lambda's `errorMessage` holding it, or it alone); the reason is kept,
/// not the whole document.
pub fn caught(event: &Value) -> String {
    let error = event.get("error");
    let name = error
        .and_then(|e| e.get("Error"))
        .and_then(Value::as_str)
        .unwrap_or("Unknown");
    let cause = error
        .and_then(|e| e.get("Cause"))
        .and_then(Value::as_str)
        .map(|c| {
            let doc = serde_json::from_str::<Value>(c).ok();
            let inner = doc
                .as_ref()
                .and_then(|v| v.get("errorMessage"))
                .and_then(Value::as_str)
                .and_then(|m| serde_json::from_str::<Value>(m).ok());
            inner
                .as_ref()
                .or(doc.as_ref())
                .and_then(|v| v.get("reason").and_then(Value::as_str).map(String::from))
                .unwrap_or_else(|| c.to_string())
        })
        .unwrap_or_default();
    format!("{name}: {cause}")
}

/// The machine could not start or read a region (its error after the retries): that run ends
/// Failed with the error, and the wave goes on to its decision.
pub async fn fail(
    cloud: &impl ReleaseCloud,
    at: &ReleaseRef,
    event: &Value,
    now: u64,
) -> Result<Value, Failure> {
    let (region, revert) = region_of(event)?;
    let caught = caught(event);
    let (why, _) = update(cloud, at, |r| {
        if !revert {
            r.begin_region(&region, None, now);
        }
        // Lost track of a started execution: it goes on by itself, and says so. Its partner's
        // gate still sees it in that region's ledger, so the pair never moves at once.
        let why = match r
            .run_mut(&region, revert)
            .and_then(|x| x.execution_arn.clone())
        {
            Some(arn) => format!("{caught}; {arn} may still be running (see that region's ledger)"),
            None => caught.clone(),
        };
        r.end_run(&region, revert, RegionOutcome::Failed, Some(&why), now);
        Ok(why)
    })
    .await?;
    tracing::warn!(region, revert, reason = why, "region failed");
    Ok(
        json!({ "region": region, "revert": revert, "outcome": RegionOutcome::Failed, "reason": why }),
    )
}
