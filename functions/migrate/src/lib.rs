//! The migrate function: `{"phase", "spec", "cursor"?}` in, the phase's result out. The event and the
//! spec are validated whole before the password is read or a connection opened.

use cutover_aws::{told, Cloud, SecretSource};
use cutover_core::migration::{MigrationSpec, Phase};
use cutover_core::telemetry::MigrationChange;
use cutover_core::{invalid_field, ErrorType, Failure};
use cutover_migrate::PhaseRequest;
use serde_json::{json, Value};

/// Every port method this function calls: its IAM policy in template.yaml is checked against
/// what these need (tests/iam.rs), and its tests fail on a call missing here.
pub const CALLS: &[&str] = &[
    "SecretSource::password",
    "SwitchStore::get",
    "SwitchStore::put",
    "SwitchStore::delete",
    "Telemetry::publish",
];

/// A checked event: what to run, on which spec (kept as given, to recognise a re-used id).
#[derive(Debug)]
pub struct MigrateRequest {
    pub spec: MigrationSpec,
    pub raw_spec: Value,
    pub phase: PhaseRequest,
}

impl MigrateRequest {
    pub fn from_event(event: &Value) -> Result<MigrateRequest, Failure> {
        let phase_name = event
            .get("phase")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let phase = Phase::parse(phase_name).ok_or_else(|| {
        invalid_field(
            "phase",
            format!("must be one of expand, backfill, verify, switch, contract, restore, revert, got {:?}", event.get("phase")),
        )
    })?;
        let raw_spec = event.get("spec").cloned().unwrap_or(Value::Null);
        let spec = MigrationSpec::from_json(&raw_spec).map_err(|errors| {
            let fields: Vec<String> = errors.iter().map(|e| format!("spec.{e}")).collect();
            Failure::new(
                ErrorType::InvalidInput,
                format!("invalid migration spec: {}", fields.join("; ")),
            )
            .with_details(json!({ "fields": fields }))
        })?;
        let cursor = match event.get("cursor") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items))
                if items.iter().all(Value::is_string) && items.len() == spec.key.len() =>
            {
                Some(
                    items
                        .iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect(),
                )
            }
            Some(other) => {
                return Err(invalid_field(
                    "cursor",
                    format!(
                        "must be null or {} key values as strings, got {other}",
                        spec.key.len()
                    ),
                ))
            }
        };
        Ok(MigrateRequest {
            spec,
            raw_spec,
            phase: PhaseRequest { phase, cursor },
        })
    }
}

/// Batches from the request's cursor until the table is done or `until` has passed; the answer is the
/// last batch's, with the rows scanned and copied summed and the number of batches.
async fn backfill_for(
    db: &mut tokio_postgres::Client,
    req: &MigrateRequest,
    switch: &impl cutover_aws::SwitchStore,
    until: std::time::Instant,
) -> Result<Value, Failure> {
    let mut phase = req.phase.clone();
    let (mut batches, mut scanned, mut copied) = (0u64, 0i64, 0i64);
    loop {
        let mut out = cutover_migrate::run(db, &req.spec, &req.raw_spec, &phase, switch).await?;
        batches += 1;
        scanned += out["scanned"].as_i64().unwrap_or(0);
        copied += out["copied"].as_i64().unwrap_or(0);
        let cursor: Option<Vec<String>> = serde_json::from_value(out["cursor"].clone()).ok();
        if out["done"] == true || std::time::Instant::now() >= until || cursor.is_none() {
            out["scanned"] = json!(scanned);
            out["copied"] = json!(copied);
            out["batches"] = json!(batches);
            return Ok(out);
        }
        phase.cursor = cursor;
    }
}

pub async fn handle(cloud: &impl Cloud, event: &Value) -> Result<Value, Failure> {
    let req = MigrateRequest::from_event(event)?;
    let switch = cloud.switches();
    let credentials = cloud
        .secrets()
        .password(&req.spec.database.password)
        .await?;
    let endpoint = credentials.endpoint(&req.spec.database)?;
    let mut db = cutover_migrate::connect::connect(&endpoint, &credentials.password).await?;
    let started = std::time::Instant::now();
    let out = if req.phase.phase == Phase::Backfill {
        backfill_for(
            &mut db,
            &req,
            switch,
            started + cutover_migrate::BACKFILL_BUDGET,
        )
        .await
    } else {
        cutover_migrate::run(&mut db, &req.spec, &req.raw_spec, &req.phase, switch).await
    };
    let ms = started.elapsed().as_millis() as u64;
    tell(cloud, &req, &out, ms).await;
    match &out {
        Ok(v) => {
            tracing::info!(id = req.spec.id, phase = req.phase.phase.as_str(), ms, result = %v, "phase done")
        }
        Err(f) => {
            tracing::warn!(id = req.spec.id, phase = req.phase.phase.as_str(), ms, error = %f, "phase failed")
        }
    }
    out
}

/// The phase's metrics and event, under the spec's service (`unassigned` when it names none, so that
/// a migration's figures are never lost for want of a dimension).
async fn tell(cloud: &impl Cloud, req: &MigrateRequest, out: &Result<Value, Failure>, ms: u64) {
    let (app, env) = req
        .spec
        .service
        .clone()
        .unwrap_or_else(|| ("unassigned".into(), "unassigned".into()));
    let count = |k: &str| out.as_ref().ok().and_then(|v| v[k].as_u64());
    let change = MigrationChange {
        app,
        env,
        migration_id: req.spec.id.clone(),
        phase: req.phase.phase.as_str().to_string(),
        outcome: if out.is_ok() { "Succeeded" } else { "Failed" }.into(),
        duration_ms: ms,
        rows_copied: (req.phase.phase == Phase::Backfill)
            .then(|| count("copied"))
            .flatten(),
        mismatches: (req.phase.phase == Phase::Verify)
            .then(|| count("mismatchedRanges"))
            .flatten(),
        error_type: out.as_ref().err().map(|f| format!("{:?}", f.error_type)),
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    told::tell_migration(cloud.telemetry(), &change, now_ms).await;
}
