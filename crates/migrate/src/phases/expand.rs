//! Expand: the target table and the forward triggers that keep it in step with every write on the
//! source.

use super::frame::{
    exec, forget_verify_and_switch, is_own_target, mapping_failure, now, record, table_exists,
};
use crate::db_failure;
use crate::sql::{self, names};
use cutover_core::migration::{MigrationSpec, Stage};
use cutover_core::{ErrorType, Failure};
use serde_json::{json, Value};
use tokio_postgres::Transaction;

pub(super) async fn expand(
    tx: Transaction<'_>,
    spec: &MigrationSpec,
    raw: &Value,
) -> Result<Value, Failure> {
    let src = spec.source.to_string();
    let key: Vec<String> = spec.key.iter().map(|k| k.to_string()).collect();
    if !table_exists(&tx, &src).await? {
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
    let target = spec.target.to_string();
    if !table_exists(&tx, &target).await? {
        for stmt in sql::create_target(spec) {
            exec(&tx, &stmt).await?;
        }
    } else if !is_own_target(&tx, spec).await? {
        // Revert drops the target: adopting a table that was there before would let it drop data
        // the migration never had.
        return Err(Failure::new(
            ErrorType::InvalidInput,
            format!(
                "target table {target} already exists and was not created by migration {}: \
                 choose a new target table",
                spec.id
            ),
        )
        .with_details(json!({ "field": "target.table" })));
    }
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
