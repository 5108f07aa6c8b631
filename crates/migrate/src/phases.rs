//! The six phases over one PostgreSQL connection. Each runs in transactions that leave either all of
//! its change or none, takes the migration's advisory lock, and can be re-run with the same result.

use crate::sql::{self, names};
use crate::{db_failure, SwitchStore};
use cutover_core::migration::{decide, Decision, MigrationSpec, Phase, Stage, Standing};
use cutover_core::{ErrorType, Failure};
use serde_json::{json, Value};
use tokio_postgres::{Client, Transaction};

/// What one invocation asks for. `cursor` is backfill's position, as text key values.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseRequest {
    pub phase: Phase,
    pub cursor: Option<Vec<String>>,
}

/// How long DDL waits for a lock before giving up (and being retried): a migration must never queue
/// the application's writes behind it for longer.
const LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '5s'";

struct Row {
    stage: Option<Stage>,
    verified: bool,
    switch_recorded: bool,
    switch_previous: Option<String>,
}

async fn begin<'a>(db: &'a mut Client, spec: &MigrationSpec) -> Result<Transaction<'a>, Failure> {
    let tx = db.transaction().await.map_err(db_failure)?;
    exec(&tx, LOCK_TIMEOUT).await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('cutover:' || $1))",
        &[&spec.id],
    )
    .await
    .map_err(db_failure)?;
    Ok(tx)
}

/// One statement of a phase, in its transaction.
async fn exec(tx: &Transaction<'_>, statement: &str) -> Result<(), Failure> {
    tx.batch_execute(statement).await.map_err(db_failure)
}

/// A new target (expand) or none (revert): no verify verdict and no recorded switch carry over.
async fn forget_verify_and_switch(
    tx: &Transaction<'_>,
    spec: &MigrationSpec,
) -> Result<(), Failure> {
    tx.execute(
        "UPDATE cutover.migrations SET verified = false, switch_recorded = false, switch_previous = NULL WHERE id = $1",
        &[&spec.id],
    )
    .await
    .map_err(db_failure)?;
    Ok(())
}

async fn load(tx: &Transaction<'_>, spec: &MigrationSpec, raw: &Value) -> Result<Row, Failure> {
    exec(tx, sql::BOOKKEEPING).await?;
    let row = tx
        .query_opt(
            "SELECT stage, verified, switch_recorded, switch_previous, spec = $2 FROM cutover.migrations WHERE id = $1",
            &[&spec.id, raw],
        )
        .await
        .map_err(db_failure)?;
    let Some(row) = row else {
        return Ok(Row {
            stage: None,
            verified: false,
            switch_recorded: false,
            switch_previous: None,
        });
    };
    let stage = Stage::parse(row.get::<_, &str>(0));
    let same_spec: bool = row.get(4);
    if !same_spec && stage != Some(Stage::Reverted) {
        return Err(Failure::new(
            ErrorType::Conflict,
            format!(
                "migration {} is recorded with a different spec; revert it or use a new id",
                spec.id
            ),
        ));
    }
    Ok(Row {
        stage,
        verified: row.get(1),
        switch_recorded: row.get(2),
        switch_previous: row.get(3),
    })
}

async fn record(
    tx: &Transaction<'_>,
    spec: &MigrationSpec,
    raw: &Value,
    stage: Stage,
    event: Value,
) -> Result<(), Failure> {
    tx.execute(
        "INSERT INTO cutover.migrations (id, spec, stage, history) VALUES ($1, $2, $3, jsonb_build_array($4::jsonb))
         ON CONFLICT (id) DO UPDATE SET spec = $2, stage = $3, updated_at = now(),
           history = cutover.migrations.history || jsonb_build_array($4::jsonb)",
        &[&spec.id, raw, &stage.as_str(), &event],
    )
    .await
    .map_err(db_failure)?;
    Ok(())
}

fn refused(phase: Phase, why: String) -> Failure {
    Failure::new(ErrorType::Conflict, why).with_details(json!({ "phase": phase.as_str() }))
}

/// The fields the state machine's Wait and Choice states read, in every answer of their phase
/// (a missing path would fail the execution outside any Catch): expand carries the bake and the
/// approval gate with the spec's defaults applied, restore how long to drain.
fn for_state_machine(phase: Phase, spec: &MigrationSpec, out: &mut Value) {
    match phase {
        Phase::Expand => {
            out["bakeSeconds"] = json!(spec.bake_seconds);
            out["approval"] = json!(spec.approval);
        }
        Phase::Restore if !out["drainSeconds"].is_u64() => out["drainSeconds"] = json!(0),
        _ => {}
    }
}

/// Run one phase. `raw` is the spec as it was given, stored to recognise a re-used id.
pub async fn run<S: SwitchStore>(
    db: &mut Client,
    spec: &MigrationSpec,
    raw: &Value,
    req: &PhaseRequest,
    switch: &S,
) -> Result<Value, Failure> {
    let phase = req.phase;
    let tx = begin(db, spec).await?;
    let row = load(&tx, spec, raw).await?;
    let standing = Standing {
        stage: row.stage,
        verified: row.verified,
    };
    let decision = decide(phase, standing).map_err(|why| refused(phase, why))?;
    if decision == Decision::Done {
        // A retry after success answers what the successful run answered.
        let stored: Option<Value> = tx
            .query_opt(
                "SELECT results -> $2 FROM cutover.migrations WHERE id = $1",
                &[&spec.id, &phase.as_str()],
            )
            .await
            .map_err(db_failure)?
            .and_then(|r| r.get(0));
        tx.commit().await.map_err(db_failure)?;
        let mut out = stored.unwrap_or_else(|| json!({ "stage": row.stage.map(Stage::as_str) }));
        out["phase"] = json!(phase.as_str());
        out["id"] = json!(spec.id);
        out["alreadyDone"] = json!(true);
        for_state_machine(phase, spec, &mut out);
        return Ok(out);
    }
    let mut out = match phase {
        Phase::Expand => expand(tx, spec, raw).await?,
        Phase::Backfill => backfill(tx, spec, req.cursor.as_deref()).await?,
        Phase::Verify => {
            tx.commit().await.map_err(db_failure)?;
            let report = verify(db, spec).await?;
            record_verify(db, spec, &report).await?;
            report
        }
        Phase::Switch => {
            tx.commit().await.map_err(db_failure)?;
            switch_over(db, spec, raw, switch, &row).await?
        }
        Phase::Contract => contract(tx, spec, raw).await?,
        Phase::Restore => {
            tx.commit().await.map_err(db_failure)?;
            restore(db, spec, raw, switch, &row).await?
        }
        Phase::Revert => {
            tx.commit().await.map_err(db_failure)?;
            revert(db, spec, raw, switch, &row).await?
        }
    };
    for_state_machine(phase, spec, &mut out);
    out["phase"] = json!(phase.as_str());
    out["id"] = json!(spec.id);
    if phase != Phase::Backfill {
        db.execute(
            "UPDATE cutover.migrations SET results = results || jsonb_build_object($2::text, $3::jsonb) WHERE id = $1",
            &[&spec.id, &phase.as_str(), &out],
        )
        .await
        .map_err(db_failure)?;
    }
    Ok(out)
}

async fn expand(tx: Transaction<'_>, spec: &MigrationSpec, raw: &Value) -> Result<Value, Failure> {
    let src = spec.source.to_string();
    let key: Vec<String> = spec.key.iter().map(|k| k.to_string()).collect();
    let exists: bool = tx
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&src])
        .await
        .map_err(db_failure)?
        .get(0);
    if !exists {
        return Err(Failure::new(
            ErrorType::InvalidInput,
            format!("source table {src} does not exist"),
        ));
    }
    let unique: bool = tx
        .query_one(sql::SOURCE_KEY_IS_UNIQUE, &[&src, &key])
        .await
        .map_err(db_failure)?
        .get(0);
    if !unique {
        return Err(Failure::new(
            ErrorType::InvalidInput,
            format!(
                "key ({}) is not the primary key or a unique index of {src}",
                key.join(", ")
            ),
        ));
    }
    tx.batch_execute(&sql::probe_forward(spec))
        .await
        .map_err(mapping_failure)?;
    let n = names(spec);
    exec(&tx, &sql::create_target(spec)).await?;
    exec(&tx, &sql::forward_function(spec)).await?;
    for stmt in sql::create_trigger(&n.forward_trigger, &spec.source.quoted(), &n.forward_fn) {
        exec(&tx, &stmt).await?;
    }
    forget_verify_and_switch(&tx, spec).await?;
    record(
        &tx,
        spec,
        raw,
        Stage::Expanded,
        json!({ "phase": "expand", "at": now() }),
    )
    .await?;
    tx.commit().await.map_err(db_failure)?;
    tracing::info!(id = spec.id, target = %spec.target, "expanded: target created, forward triggers on source");
    Ok(json!({ "stage": "expanded", "target": spec.target.to_string() }))
}

async fn backfill(
    tx: Transaction<'_>,
    spec: &MigrationSpec,
    cursor: Option<&[String]>,
) -> Result<Value, Failure> {
    if let Some(c) = cursor {
        if c.len() != spec.key.len() {
            return Err(Failure::new(
                ErrorType::InvalidInput,
                format!(
                    "cursor has {} values, the key has {}",
                    c.len(),
                    spec.key.len()
                ),
            ));
        }
    }
    let limit = i64::from(spec.batch_size);
    let stmt = sql::backfill(spec, cursor.is_some());
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&limit];
    if let Some(c) = cursor {
        params.extend(
            c.iter()
                .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync)),
        );
    }
    let row = tx.query_one(&stmt, &params).await.map_err(db_failure)?;
    let scanned: i64 = row.get(0);
    let copied: i64 = row.get(1);
    let last: Option<Vec<String>> = (2..2 + spec.key.len())
        .map(|i| row.get::<_, Option<String>>(i))
        .collect();
    tx.commit().await.map_err(db_failure)?;
    let done = scanned < limit;
    // An empty batch keeps the cursor it was given, so a retry of the last call answers the same.
    let cursor = last.or_else(|| cursor.map(<[String]>::to_vec));
    tracing::info!(
        id = spec.id,
        scanned,
        copied,
        done,
        ?cursor,
        "backfill batch"
    );
    Ok(json!({ "cursor": cursor, "scanned": scanned, "copied": copied, "done": done }))
}

async fn verify(db: &mut Client, spec: &MigrationSpec) -> Result<Value, Failure> {
    // Both sides from one snapshot: the triggers write the target in the writer's own transaction, so
    // in any snapshot the two agree unless something was lost.
    let tx = db
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(db_failure)?;
    let range_rows = i64::from(spec.verify_range_rows);
    let bounds: Vec<Vec<String>> = tx
        .query(&sql::verify_bounds(spec), &[&range_rows])
        .await
        .map_err(db_failure)?
        .iter()
        .map(|r| (0..spec.key.len()).map(|i| r.get::<_, String>(i)).collect())
        .collect();
    let mut ranges = Vec::with_capacity(bounds.len() + 1);
    let mut lower: Option<Vec<String>> = None;
    for upper in bounds.into_iter().map(Some).chain([None]) {
        ranges.push((lower.clone(), upper.clone()));
        lower = upper;
    }
    let (mut src_rows, mut tgt_rows, mut first_diff) = (0i64, 0i64, None);
    for (lo, hi) in &ranges {
        let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = Vec::new();
        for v in lo.iter().chain(hi.iter()).flatten() {
            params.push(v);
        }
        let side = |target: bool| sql::verify_range(spec, target, lo.is_some(), hi.is_some());
        let s = tx
            .query_one(&side(false), &params)
            .await
            .map_err(db_failure)?;
        let t = tx
            .query_one(&side(true), &params)
            .await
            .map_err(db_failure)?;
        let (sc, tc): (i64, i64) = (s.get(0), t.get(0));
        let (ss, ts): (String, String) = (s.get(1), t.get(1));
        src_rows += sc;
        tgt_rows += tc;
        if first_diff.is_none() && (sc != tc || ss != ts) {
            first_diff =
                Some(json!({ "after": lo, "upTo": hi, "sourceRows": sc, "targetRows": tc }));
        }
    }
    tx.commit().await.map_err(db_failure)?;
    let passed = first_diff.is_none();
    let report = json!({ "passed": passed, "ranges": ranges.len(), "sourceRows": src_rows,
                         "targetRows": tgt_rows, "firstDifference": first_diff });
    // The verdict is recorded outside the read-only snapshot.
    Ok(report)
}

/// Verify's verdict, written after its read-only transaction.
pub(crate) async fn record_verify(
    db: &mut Client,
    spec: &MigrationSpec,
    report: &Value,
) -> Result<(), Failure> {
    let passed = report["passed"].as_bool().unwrap_or(false);
    db.execute(
        "UPDATE cutover.migrations SET verified = $2::boolean, report = $3, updated_at = now(),
           history = history || jsonb_build_array(jsonb_build_object('phase', 'verify', 'passed', $2::boolean, 'at', now()))
         WHERE id = $1",
        &[&spec.id, &passed, report],
    )
    .await
    .map_err(db_failure)?;
    Ok(())
}

async fn switch_over<S: SwitchStore>(
    db: &mut Client,
    spec: &MigrationSpec,
    raw: &Value,
    switch: &S,
    row: &Row,
) -> Result<Value, Failure> {
    let src = spec.source.to_string();
    let required: Vec<String> = db
        .query(sql::SOURCE_REQUIRED_COLUMNS, &[&src])
        .await
        .map_err(db_failure)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let reversed: Vec<String> = spec
        .reverse_mapping()
        .iter()
        .map(|(c, _)| c.to_string())
        .collect();
    let missing: Vec<&String> = required.iter().filter(|c| !reversed.contains(c)).collect();
    if !missing.is_empty() {
        return Err(Failure::new(
            ErrorType::InvalidInput,
            format!("switch refused: NOT NULL source columns {missing:?} have no reverse mapping, so a write on the target could not reach the source"),
        ));
    }
    // The value to restore on revert is recorded before the switch is touched, once.
    let previous = if row.switch_recorded {
        row.switch_previous.clone()
    } else {
        switch.get(&spec.switch.at).await?
    };
    let tx = begin(db, spec).await?;
    tx.batch_execute(&sql::probe_reverse(spec))
        .await
        .map_err(mapping_failure)?;
    let n = names(spec);
    exec(&tx, &sql::reverse_function(spec)).await?;
    for stmt in sql::create_trigger(&n.reverse_trigger, &spec.target.quoted(), &n.reverse_fn) {
        exec(&tx, &stmt).await?;
    }
    tx.execute(
        "UPDATE cutover.migrations SET switch_recorded = true, switch_previous = $2 WHERE id = $1 AND NOT switch_recorded",
        &[&spec.id, &previous],
    )
    .await
    .map_err(db_failure)?;
    tx.commit().await.map_err(db_failure)?;
    let value = spec.switch.value_over(previous.as_deref());
    switch.put(&spec.switch.at, &value).await?;
    let tx = begin(db, spec).await?;
    record(
        &tx,
        spec,
        raw,
        Stage::Switched,
        json!({ "phase": "switch", "at": now(), "value": value }),
    )
    .await?;
    tx.commit().await.map_err(db_failure)?;
    tracing::info!(
        id = spec.id,
        switch = %spec.switch.at,
        value,
        "switched; reverse triggers on target"
    );
    Ok(
        json!({ "stage": "switched", "switch": spec.switch.at.to_string(), "value": value, "previous": previous }),
    )
}

async fn contract(
    tx: Transaction<'_>,
    spec: &MigrationSpec,
    raw: &Value,
) -> Result<Value, Failure> {
    let n = names(spec);
    exec(
        &tx,
        &format!(
            "DROP TRIGGER IF EXISTS {} ON {}",
            n.reverse_trigger,
            spec.target.quoted()
        ),
    )
    .await?;
    exec(&tx, &sql::drop_table(&spec.source.quoted())).await?;
    for f in [&n.forward_fn, &n.reverse_fn] {
        exec(&tx, &format!("DROP FUNCTION IF EXISTS {f}()")).await?;
    }
    record(
        &tx,
        spec,
        raw,
        Stage::Contracted,
        json!({ "phase": "contract", "at": now() }),
    )
    .await?;
    tx.commit().await.map_err(db_failure)?;
    tracing::info!(id = spec.id, source = %spec.source, "contracted: source and triggers dropped");
    Ok(json!({ "stage": "contracted", "dropped": spec.source.to_string() }))
}

/// The switch's value from before the migration, put back (or removed if there was none); `None`
/// when the switch was never touched.
async fn restore_switch<S: SwitchStore>(
    spec: &MigrationSpec,
    switch: &S,
    row: &Row,
) -> Result<Option<Option<String>>, Failure> {
    if !row.switch_recorded {
        return Ok(None);
    }
    match &row.switch_previous {
        Some(v) => switch.put(&spec.switch.at, v).await?,
        None => switch.delete(&spec.switch.at).await?,
    }
    Ok(Some(row.switch_previous.clone()))
}

/// The first half of a revert: the switch goes back and both tables and triggers stay, so writes
/// from instances that still read the old switch reach the source during the drain.
async fn restore<S: SwitchStore>(
    db: &mut Client,
    spec: &MigrationSpec,
    raw: &Value,
    switch: &S,
    row: &Row,
) -> Result<Value, Failure> {
    let restored = restore_switch(spec, switch, row).await?;
    let tx = begin(db, spec).await?;
    record(
        &tx,
        spec,
        raw,
        Stage::Reverting,
        json!({ "phase": "restore", "at": now(), "switchRestored": restored }),
    )
    .await?;
    tx.commit().await.map_err(db_failure)?;
    // Without a switch there is no instance on the target to wait for.
    let drain = if row.switch_recorded {
        spec.drain_seconds
    } else {
        0
    };
    tracing::info!(id = spec.id, switch = %spec.switch.at, ?restored, drain, "switch restored; target kept for the drain");
    Ok(json!({ "stage": "reverting", "switchRestored": restored, "drainSeconds": drain }))
}

async fn revert<S: SwitchStore>(
    db: &mut Client,
    spec: &MigrationSpec,
    raw: &Value,
    switch: &S,
    row: &Row,
) -> Result<Value, Failure> {
    // The switch goes back first (again, if restore did it: the same value), while the reverse
    // triggers still carry writes on the target to the source; only then is the target dropped.
    let restored = restore_switch(spec, switch, row).await?;
    let tx = begin(db, spec).await?;
    let n = names(spec);
    let has_source: bool = tx
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[&spec.source.to_string()],
        )
        .await
        .map_err(db_failure)?
        .get(0);
    if has_source {
        exec(
            &tx,
            &format!(
                "DROP TRIGGER IF EXISTS {} ON {}",
                n.forward_trigger,
                spec.source.quoted()
            ),
        )
        .await?;
    }
    exec(&tx, &sql::drop_table(&spec.target.quoted())).await?;
    for f in [&n.forward_fn, &n.reverse_fn] {
        exec(&tx, &format!("DROP FUNCTION IF EXISTS {f}()")).await?;
    }
    if row.stage.is_some() {
        forget_verify_and_switch(&tx, spec).await?;
        record(
            &tx,
            spec,
            raw,
            Stage::Reverted,
            json!({ "phase": "revert", "at": now(), "from": row.stage.map(Stage::as_str) }),
        )
        .await?;
    }
    tx.commit().await.map_err(db_failure)?;
    tracing::info!(id = spec.id, from = ?row.stage.map(Stage::as_str), "reverted: target dropped, source kept");
    Ok(
        json!({ "stage": "reverted", "from": row.stage.map(Stage::as_str), "switchRestored": restored }),
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A mapping that PostgreSQL cannot plan is the spec's fault: say which error and refuse.
fn mapping_failure(e: tokio_postgres::Error) -> Failure {
    let mut f = db_failure(e);
    if f.error_type != ErrorType::AwsTransient {
        f.error_type = ErrorType::InvalidInput;
        f.reason = format!("a mapping does not fit the table: {}", f.reason);
    }
    f
}
