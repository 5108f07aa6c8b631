//! The phases over one PostgreSQL connection, one file each, around a shared frame (`frame`).
//! Each runs in transactions that leave either all of its change or none, takes the migration's
//! advisory lock, and can be re-run with the same result.

mod backfill;
mod contract;
mod expand;
mod frame;
mod revert;
mod switch;
mod verify;

use crate::sql;
use crate::{db_failure, SwitchStore};
use cutover_core::migration::{decide, Decision, MigrationSpec, Phase, Stage, Standing};
use cutover_core::{ErrorType, Failure};
use serde_json::{json, Value};
use tokio_postgres::Client;

/// What one invocation asks for. `cursor` is backfill's position, as text key values.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseRequest {
    pub phase: Phase,
    pub cursor: Option<Vec<String>>,
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
    let tx = frame::begin(db, spec).await?;
    let row = frame::load(&tx, spec, raw).await?;
    let standing = Standing {
        stage: row.stage,
        verified: row.verified,
    };
    let decision = decide(phase, standing).map_err(|why| refused(phase, why))?;
    if decision == Decision::Done {
        // A retry after success answers what the successful run answered.
        let stored: Option<Value> = tx
            .query_opt(sql::STORED_RESULT, &[&spec.id, &phase.as_str()])
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
        Phase::Expand => expand::expand(tx, spec, raw).await?,
        Phase::Backfill => backfill::backfill(tx, spec, req.cursor.as_deref()).await?,
        Phase::Verify => {
            tx.commit().await.map_err(db_failure)?;
            let report = verify::verify(db, spec).await?;
            verify::record_verify(db, spec, &report).await?;
            report
        }
        Phase::Switch => {
            tx.commit().await.map_err(db_failure)?;
            switch::switch_over(db, spec, raw, switch, &row).await?
        }
        Phase::Contract => contract::contract(tx, spec, raw).await?,
        Phase::Restore => {
            tx.commit().await.map_err(db_failure)?;
            revert::restore(db, spec, raw, switch, &row).await?
        }
        Phase::Revert => {
            tx.commit().await.map_err(db_failure)?;
            revert::revert(db, spec, raw, switch, &row).await?
        }
    };
    for_state_machine(phase, spec, &mut out);
    out["phase"] = json!(phase.as_str());
    out["id"] = json!(spec.id);
    if phase != Phase::Backfill {
        db.execute(sql::STORE_RESULT, &[&spec.id, &phase.as_str(), &out])
            .await
            .map_err(db_failure)?;
    }
    Ok(out)
}
