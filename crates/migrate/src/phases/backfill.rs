//! Backfill: one batch of source rows copied into the target per call, from the cursor on.

use crate::db_failure;
use crate::sql;
use cutover_core::migration::MigrationSpec;
use cutover_core::{ErrorType, Failure};
use serde_json::{json, Value};
use tokio_postgres::Transaction;

pub(super) async fn backfill(
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
