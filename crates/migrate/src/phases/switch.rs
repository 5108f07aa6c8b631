//! Switch: reverse triggers on the target, then the application's switch turned over to it. The
//! value it had before is recorded first, once, for revert.

use super::frame::{begin, exec, mapping_failure, now, record_alone, Row};
use crate::sql::{self, names};
use crate::{db_failure, SwitchStore};
use cutover_core::migration::{MigrationSpec, Stage};
use cutover_core::{ErrorType, Failure};
use serde_json::{json, Value};
use tokio_postgres::Client;

pub(super) async fn switch_over<S: SwitchStore>(
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
    tx.execute(sql::RECORD_SWITCH_PREVIOUS, &[&spec.id, &previous])
        .await
        .map_err(db_failure)?;
    tx.commit().await.map_err(db_failure)?;
    let value = spec.switch.value_over(previous.as_deref());
    switch.put(&spec.switch.at, &value).await?;
    record_alone(
        db,
        spec,
        raw,
        Stage::Switched,
        json!({ "phase": "switch", "at": now(), "value": value }),
    )
    .await?;
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
