//! What every phase does around its own change: a transaction under the lock timeout and the
//! migration's advisory lock, the migration's row read and checked against the spec, and the new stage
//! written with its history event.

use crate::db_failure;
use crate::sql::{self, Names};
use cutover_core::migration::{MigrationSpec, Stage};
use cutover_core::{ErrorType, Failure};
use serde_json::Value;
use tokio_postgres::{Client, Transaction};

pub(super) struct Row {
    pub(super) stage: Option<Stage>,
    pub(super) verified: bool,
    pub(super) switch_recorded: bool,
    pub(super) switch_previous: Option<String>,
}

pub(super) async fn begin<'a>(
    db: &'a mut Client,
    spec: &MigrationSpec,
) -> Result<Transaction<'a>, Failure> {
    let tx = db.transaction().await.map_err(db_failure)?;
    exec(&tx, sql::SESSION_SETTINGS).await?;
    exec(&tx, sql::LOCK_TIMEOUT).await?;
    tx.execute(sql::ADVISORY_LOCK, &[&spec.id])
        .await
        .map_err(db_failure)?;
    Ok(tx)
}

/// One statement of a phase, in its transaction.
pub(super) async fn exec(tx: &Transaction<'_>, statement: &str) -> Result<(), Failure> {
    tx.batch_execute(statement).await.map_err(db_failure)
}

/// A new target (expand) or none (revert): no verify verdict and no recorded switch carry over.
pub(super) async fn forget_verify_and_switch(
    tx: &Transaction<'_>,
    spec: &MigrationSpec,
) -> Result<(), Failure> {
    tx.execute(sql::FORGET_VERIFY_AND_SWITCH, &[&spec.id])
        .await
        .map_err(db_failure)?;
    Ok(())
}

pub(super) async fn load(
    tx: &Transaction<'_>,
    spec: &MigrationSpec,
    raw: &Value,
) -> Result<Row, Failure> {
    exec(tx, sql::BOOKKEEPING).await?;
    let row = tx
        .query_opt(sql::LOAD_MIGRATION, &[&spec.id, raw])
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

pub(super) async fn record(
    tx: &Transaction<'_>,
    spec: &MigrationSpec,
    raw: &Value,
    stage: Stage,
    event: Value,
) -> Result<(), Failure> {
    tx.execute(sql::RECORD_STAGE, &[&spec.id, raw, &stage.as_str(), &event])
        .await
        .map_err(db_failure)?;
    Ok(())
}

/// A stage written in a transaction of its own, after work outside any (the switch store's).
pub(super) async fn record_alone(
    db: &mut Client,
    spec: &MigrationSpec,
    raw: &Value,
    stage: Stage,
    event: Value,
) -> Result<(), Failure> {
    let tx = begin(db, spec).await?;
    record(&tx, spec, raw, stage, event).await?;
    tx.commit().await.map_err(db_failure)
}

/// Whether the table named `schema.table` exists.
pub(super) async fn table_exists(tx: &Transaction<'_>, table: &str) -> Result<bool, Failure> {
    Ok(tx
        .query_one(sql::TABLE_EXISTS, &[&table])
        .await
        .map_err(db_failure)?
        .get(0))
}

/// Whether `table` exists and carries `spec`'s mark: a table Cutover created for this migration.
pub(super) async fn is_own_target(
    tx: &Transaction<'_>,
    spec: &MigrationSpec,
) -> Result<bool, Failure> {
    let comment: Option<String> = tx
        .query_one(sql::TABLE_COMMENT, &[&spec.target.to_string()])
        .await
        .map_err(db_failure)?
        .get(0);
    Ok(comment.as_deref() == Some(sql::target_mark(spec).as_str()))
}

/// Both trigger functions, whichever exist: contract and revert leave neither behind.
pub(super) async fn drop_functions(tx: &Transaction<'_>, n: &Names) -> Result<(), Failure> {
    for f in [&n.forward_fn, &n.reverse_fn] {
        exec(tx, &sql::drop_function(f)).await?;
    }
    Ok(())
}

pub(super) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A mapping that PostgreSQL cannot plan is the spec's fault: say which error and refuse.
pub(super) fn mapping_failure(e: tokio_postgres::Error) -> Failure {
    let mut f = db_failure(e);
    if f.error_type != ErrorType::AwsTransient {
        f.error_type = ErrorType::InvalidInput;
        f.reason = format!("a mapping does not fit the table: {}", f.reason);
    }
    f
}
