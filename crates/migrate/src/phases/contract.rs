//! Contract: the source, the reverse triggers and both trigger functions dropped; the target stays.

use super::frame::{drop_functions, exec, now, record};
use crate::db_failure;
use crate::sql::{self, names};
use cutover_core::migration::{MigrationSpec, Stage};
use cutover_core::Failure;
use serde_json::{json, Value};
use tokio_postgres::Transaction;

pub(super) async fn contract(
    tx: Transaction<'_>,
    spec: &MigrationSpec,
    raw: &Value,
) -> Result<Value, Failure> {
    let n = names(spec);
    exec(
        &tx,
        &sql::drop_trigger(&n.reverse_trigger, &spec.target.quoted()),
    )
    .await?;
    exec(&tx, &sql::drop_table(&spec.source.quoted())).await?;
    drop_functions(&tx, &n).await?;
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
