//! release: the steps of a multi-region release, which the release state machine (in the home
//! region) calls one at a time. Step Functions cannot start an execution in another region itself, so
//! this function starts each region's deploy execution and the machine polls it through here.
//!
//! `plan`: read and check the plan (the stored one, `waves` from the command line over it) against
//!   the regions whose Cutover stack is published, and record the release (a retry with the same id
//!   finds it; another running release refuses with `Conflict`).
//! `start` / `poll`: one region's deploy execution (or, for `rollbackAll`, its revert), see region.rs.
//! `wave`: once every region of a wave has ended, what next (bake, done, stop, rollbackAll).
//! `finish`: the release's end in its record.
//!
//! The claim and the end are told on the home region's bus (`Cutover Release State Change`) and in
//! the release metrics; each region's deployment tells of itself in its own region.

mod region;

use cutover_aws::release::{Regions, ReleaseCloud, Releases};
use cutover_aws::told;
use cutover_core::fields::{invalid_field, text};
use cutover_core::release::plan::waves_from_text;
use cutover_core::release::{Next, ReleasePlan, ReleaseRecord, ReleaseStatus};
use cutover_core::{check_name, ErrorType, Failure, FieldError};
use serde_json::{json, Value};

pub use region::{caught, fail, poll, start};

/// Every port method this function calls (held against its policy by tests/iam.rs).
pub const CALLS: &[&str] = &[
    "Regions::stack",
    "Regions::start",
    "Regions::execution",
    "Regions::ledger",
    "HealthChecks::observations",
    "Releases::load",
    "Releases::save",
    "Releases::archive",
    "Releases::plan",
    "Releases::execution_status",
    "Telemetry::publish",
];

/// A revert is deployment `<id>-revert`, and a deployment id is at most 40 characters.
pub const MAX_RELEASE_ID: usize = 40 - "-revert".len();
const SAVE_ATTEMPTS: usize = 8;

/// Which release an event is about.
pub struct ReleaseRef {
    pub app: String,
    pub env: String,
    pub id: String,
}

impl ReleaseRef {
    pub fn from_event(event: &Value) -> Result<ReleaseRef, Failure> {
        let (app, env, id) = (
            text(event, "app")?,
            text(event, "env")?,
            text(event, "releaseId")?,
        );
        check_name("app", &app)?;
        check_name("env", &env)?;
        check_name("releaseId", &id)?;
        if id.len() > MAX_RELEASE_ID {
            return Err(invalid_field(
                "releaseId",
                format!("must be at most {MAX_RELEASE_ID} characters (its revert is <id>-revert)"),
            ));
        }
        Ok(ReleaseRef { app, env, id })
    }
}

pub async fn handle(cloud: &impl ReleaseCloud, event: &Value, now: u64) -> Result<Value, Failure> {
    let action = text(event, "action")?;
    // `plan` gets the execution's whole input as `release` (a raw StartExecution may lack fields a
    // JSONPath would need), with the execution's ARN beside it.
    let merged;
    let event = match event.get("release") {
        Some(Value::Object(input)) => {
            let mut m = input.clone();
            m.insert("action".into(), json!(action));
            if let Some(arn) = event.get("executionArn") {
                m.insert("executionArn".into(), arn.clone());
            }
            merged = Value::Object(m);
            &merged
        }
        Some(other) => {
            return Err(invalid_field(
                "release",
                format!("must be the release request, got {other}"),
            ))
        }
        None => event,
    };
    let at = ReleaseRef::from_event(event)?;
    let out = match action.as_str() {
        "plan" => plan(cloud, &at, event, now).await,
        "start" => start(cloud, &at, event, now).await,
        "poll" => poll(cloud, &at, event, now).await,
        "fail" => fail(cloud, &at, event, now).await,
        "wave" => wave(cloud, &at, event).await,
        "finish" => finish(cloud, &at, event, now).await,
        other => Err(invalid_field(
            "action",
            format!("must be plan, start, poll, fail, wave or finish, got \"{other}\""),
        )),
    }?;
    tracing::info!(action, app = at.app, env = at.env, release = at.id, out = %out, "release step");
    Ok(out)
}

fn problems(errors: Vec<FieldError>, what: &str) -> Failure {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    Failure::new(
        ErrorType::InvalidInput,
        format!("{what}: {}", lines.join("; ")),
    )
    .with_details(json!({ "problems": lines }))
}

/// The release's record, which must be this release's.
pub(crate) async fn load(
    cloud: &impl ReleaseCloud,
    at: &ReleaseRef,
) -> Result<ReleaseRecord, Failure> {
    match cloud.releases().load(&at.app, &at.env).await? {
        Some(r) if r.id == at.id => Ok(r),
        Some(r) => Err(Failure::new(
            ErrorType::Conflict,
            format!(
                "{}/{} is in release {} now, not {}",
                at.app, at.env, r.id, at.id
            ),
        )),
        None => Err(Failure::new(
            ErrorType::InvalidInput,
            format!("no release {} of {}/{} was planned", at.id, at.app, at.env),
        )),
    }
}

/// Apply `change` to the stored record and write it conditionally, again on a fresh read whenever
/// another writer got there first. Returns the change's value and the record as stored.
pub(crate) async fn update<T>(
    cloud: &impl ReleaseCloud,
    at: &ReleaseRef,
    mut change: impl FnMut(&mut ReleaseRecord) -> Result<T, Failure>,
) -> Result<(T, ReleaseRecord), Failure> {
    for _ in 0..SAVE_ATTEMPTS {
        let mut record = load(cloud, at).await?;
        let before = record.clone();
        let out = change(&mut record)?;
        if record == before || cloud.releases().save(&record).await? {
            return Ok((out, record));
        }
    }
    Err(Failure::new(
        ErrorType::AwsTransient,
        format!("the release item kept changing under {SAVE_ATTEMPTS} writes; retry"),
    ))
}

async fn plan(
    cloud: &impl ReleaseCloud,
    at: &ReleaseRef,
    event: &Value,
    now: u64,
) -> Result<Value, Failure> {
    let image = text(event, "image")?;
    if image.chars().any(char::is_whitespace) {
        return Err(invalid_field(
            "image",
            "must be an image reference without spaces",
        ));
    }
    // Known: the configured regions whose stack is published (a region with no stack is unknown).
    let mut known = Vec::new();
    for r in cloud.known_regions() {
        if cloud.regions().stack(r).await?.is_some() {
            known.push(r.clone());
        }
    }
    if known.is_empty() {
        return Err(Failure::new(
            ErrorType::InvalidInput,
            format!(
                "no Cutover stack is published in any release region ({})",
                cloud.known_regions().join(", ")
            ),
        ));
    }
    let stored = cloud.releases().plan(&at.app, &at.env).await?;
    // The command line's waves, bake and onFailure over the stored plan's, checked as one plan.
    let mut overrides = serde_json::Map::new();
    if let Some(w) = event.get("waves").and_then(Value::as_str) {
        overrides.insert("waves".into(), json!(waves_from_text(w)));
    }
    for key in ["bakeSeconds", "onFailure"] {
        if let Some(v) = event.get(key).filter(|v| !v.is_null()) {
            overrides.insert(key.into(), v.clone());
        }
    }
    let plan = match (stored, overrides.is_empty()) {
        (Some(doc), true) => ReleasePlan::from_json(&doc, &known)
            .map_err(|e| problems(e, "the stored release plan"))?,
        (stored, false) if stored.is_some() || overrides.contains_key("waves") => {
            let mut doc = stored.unwrap_or_else(|| json!({}));
            let Some(fields) = doc.as_object_mut() else {
                return Err(problems(
                    vec![FieldError {
                        field: "release plan".into(),
                        problem: "must be a JSON object".into(),
                    }],
                    "the stored release plan",
                ));
            };
            fields.extend(overrides);
            ReleasePlan::from_json(&doc, &known)
                .map_err(|e| problems(e, "the release plan with the command line's overrides"))?
        }
        _ => {
            return Err(Failure::new(
                ErrorType::InvalidInput,
                format!(
                    "{}/{} has no release plan at {} and none was given (--waves)",
                    at.app,
                    at.env,
                    cutover_aws::release::plan_parameter(&at.app, &at.env)
                ),
            ))
        }
    };
    let execution_arn = event
        .get("executionArn")
        .and_then(Value::as_str)
        .map(String::from);
    let strategy = event.get("strategy").filter(|s| !s.is_null()).cloned();
    let record = claim(cloud, at, &image, plan, strategy, execution_arn, now).await?;
    Ok(json!({
        "wave": record.wave,
        "regions": record.plan.waves[record.wave],
        "waveCount": record.plan.waves.len(),
        "bakeSeconds": record.plan.bake_seconds,
        "onFailure": record.plan.on_failure,
    }))
}

/// Record the release, or find it recorded by an earlier try; refuse while another one runs.
async fn claim(
    cloud: &impl ReleaseCloud,
    at: &ReleaseRef,
    image: &str,
    plan: ReleasePlan,
    strategy: Option<Value>,
    execution_arn: Option<String>,
    now: u64,
) -> Result<ReleaseRecord, Failure> {
    for _ in 0..SAVE_ATTEMPTS {
        let current = cloud.releases().load(&at.app, &at.env).await?;
        let version = match &current {
            // The same release again (a retried Plan, `cutover release` run twice) attaches; the
            // same id for another image or strategy would replay the old release as this one.
            Some(r) if r.id == at.id && (r.image != image || r.strategy != strategy) => {
                return Err(Failure::new(
                    ErrorType::Conflict,
                    format!(
                        "release {} of {}/{} was {} for {}; give this release another id",
                        r.id,
                        at.app,
                        at.env,
                        if r.status.is_final() {
                            "made"
                        } else {
                            "started"
                        },
                        r.image
                    ),
                ))
            }
            Some(r) if r.id == at.id => return Ok(r.clone()),
            Some(r) if !r.status.is_final() => {
                // A release whose execution died (stopped by a person, failed past its retries)
                // never finished its record: it would hold off every later release.
                if let Some(why) = abandoned(cloud, r).await? {
                    retire(cloud, r, &why, now).await?;
                    continue;
                }
                return Err(Failure::new(
                    ErrorType::Conflict,
                    format!(
                    "release {} of {}/{} is still running (wave {} of {}); wait for it or stop it",
                    r.id,
                    at.app,
                    at.env,
                    r.wave + 1,
                    r.plan.waves.len()
                ),
                ));
            }
            Some(r) => r.version,
            None => 0,
        };
        let mut record = ReleaseRecord::new(&at.app, &at.env, &at.id, image, plan.clone(), now);
        record.execution_arn = execution_arn.clone();
        record.strategy = strategy.clone();
        record.version = version;
        if cloud.releases().save(&record).await? {
            let record = ReleaseRecord {
                version: version + 1,
                ..record
            };
            told::tell_release(cloud.telemetry(), None, &record).await;
            return Ok(record);
        }
    }
    Err(Failure::new(
        ErrorType::AwsTransient,
        "the release item kept changing; retry",
    ))
}

/// Why a running release's record is left over, if its execution is no longer running.
async fn abandoned(
    cloud: &impl ReleaseCloud,
    r: &ReleaseRecord,
) -> Result<Option<String>, Failure> {
    let Some(arn) = &r.execution_arn else {
        return Ok(None);
    };
    Ok(
        match cloud.releases().execution_status(arn).await?.as_deref() {
            Some("RUNNING") => None,
            Some(status) => Some(format!(
                "its release execution ended {status} before the release finished"
            )),
            None => Some("its release execution no longer exists".into()),
        },
    )
}

/// End a left-over release as `Failed` with `why`, keep it in the history and tell of it; a writer
/// that got there first wins (the caller reads again).
async fn retire(
    cloud: &impl ReleaseCloud,
    r: &ReleaseRecord,
    why: &str,
    now: u64,
) -> Result<(), Failure> {
    let mut ended = r.clone();
    ended.finish(ReleaseStatus::Failed, Some(why), now);
    if cloud.releases().save(&ended).await? {
        let ended = ReleaseRecord {
            version: ended.version + 1,
            ..ended
        };
        tracing::warn!(release = ended.id, why, "left-over release ended Failed");
        cloud.releases().archive(&ended).await?;
        told::tell_release(cloud.telemetry(), Some(r.status), &ended).await;
    }
    Ok(())
}

async fn wave(cloud: &impl ReleaseCloud, at: &ReleaseRef, event: &Value) -> Result<Value, Failure> {
    let wave = event
        .get("wave")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid_field("wave", "must be the index of the wave that ended"))?
        as usize;
    let (next, record) = update(cloud, at, |r| {
        let next = r.after_wave(wave);
        if let Next::Bake { wave, .. } = next {
            r.wave = wave;
        }
        Ok(next)
    })
    .await?;
    let mut out = serde_json::to_value(&next).unwrap_or_default();
    if let Next::Bake { wave, .. } = next {
        out["regions"] = json!(record.plan.waves[wave]);
    }
    Ok(out)
}

async fn finish(
    cloud: &impl ReleaseCloud,
    at: &ReleaseRef,
    event: &Value,
    now: u64,
) -> Result<Value, Failure> {
    // `Failed`: a step failed past its retries; its caught error is the reason.
    let failed =
        (event.get("status").and_then(Value::as_str) == Some("Failed")).then(|| caught(event));
    let reason = failed
        .as_deref()
        .or_else(|| event.get("reason").and_then(Value::as_str));
    let ((status, was), record) = update(cloud, at, |r| {
        let was = r.status;
        let status = match text(event, "status")?.as_str() {
            "Succeeded" => ReleaseStatus::Succeeded,
            "Stopped" => ReleaseStatus::Stopped,
            "Failed" => ReleaseStatus::Failed,
            // After rollbackAll's reverts: RolledBack only if every one of them promoted.
            "Reverted" => r.revert_status(),
            other => {
                return Err(invalid_field(
                    "status",
                    format!("must be Succeeded, Stopped, Reverted or Failed, got \"{other}\""),
                ))
            }
        };
        r.finish(status, reason, now);
        Ok((r.status, was))
    })
    .await?;
    // Told once, by the write that ended it: a retried finish finds it final already.
    told::tell_release(cloud.telemetry(), Some(was), &record).await;
    // `cutover history` reads finished releases from here; a retried finish replaces its own copy.
    cloud.releases().archive(&record).await?;
    Ok(json!({ "status": status }))
}
