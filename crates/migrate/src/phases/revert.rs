//! Restore and revert, the two halves of undoing a migration: restore puts the switch back and keeps
//! both tables in step for the drain; revert drops the target and keeps the source.

use super::frame::{
    begin, drop_functions, exec, forget_verify_and_switch, is_own_target, now, record,
    record_alone, table_exists, Row,
};
use crate::sql::{self, names};
use crate::{db_failure, SwitchStore};
use cutover_core::migration::{MigrationSpec, Stage};
use cutover_core::Failure;
use serde_json::{json, Value};
use tokio_postgres::Client;

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
pub(super) async fn restore<S: SwitchStore>(
    db: &mut Client,
    spec: &MigrationSpec,
    raw: &Value,
    switch: &S,
    row: &Row,
) -> Result<Value, Failure> {
    let restored = restore_switch(spec, switch, row).await?;
    record_alone(
        db,
        spec,
        raw,
        Stage::Reverting,
        json!({ "phase": "restore", "at": now(), "switchRestored": restored }),
    )
    .await?;
    // Without a switch there is no instance on the target to wait for.
    let drain = if row.switch_recorded {
        spec.drain_seconds
    } else {
        0
    };
    tracing::info!(id = spec.id, switch = %spec.switch.at, ?restored, drain, "switch restored; target kept for the drain");
    Ok(json!({ "stage": "reverting", "switchRestored": restored, "drainSeconds": drain }))
}

pub(super) async fn revert<S: SwitchStore>(
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
    if table_exists(&tx, &spec.source.to_string()).await? {
        exec(
            &tx,
            &sql::drop_trigger(&n.forward_trigger, &spec.source.quoted()),
        )
        .await?;
    }
    // Only a target this migration created is dropped: a table of the same name that was there
    // before (expand refused it) is the application's.
    let target = spec.target.to_string();
    let exists = table_exists(&tx, &target).await?;
    let dropped = exists && is_own_target(&tx, spec).await?;
    if dropped {
        exec(&tx, &sql::drop_table(&spec.target.quoted())).await?;
    } else if exists {
        tracing::warn!(id = spec.id, %target, "target not created by this migration: kept");
    }
    drop_functions(&tx, &n).await?;
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
    Ok(json!({
        "stage": "reverted",
        "from": row.stage.map(Stage::as_str),
        "switchRestored": restored,
        "targetDropped": dropped,
    }))
}
