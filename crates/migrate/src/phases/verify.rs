//! Verify: source and target compared range by range, count and checksum, from one snapshot.

use crate::db_failure;
use crate::sql;
use cutover_core::migration::MigrationSpec;
use cutover_core::Failure;
use serde_json::{json, Value};
use tokio_postgres::Client;

pub(super) async fn verify(db: &mut Client, spec: &MigrationSpec) -> Result<Value, Failure> {
    // Both sides from one snapshot: the triggers write the target in the writer's own transaction, so
    // in any snapshot the two agree unless something was lost.
    let tx = db
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(db_failure)?;
    tx.batch_execute(sql::SESSION_SETTINGS)
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
    let (mut src_rows, mut tgt_rows, mut first_diff, mut mismatched) = (0i64, 0i64, None, 0u64);
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
        if sc != tc || ss != ts {
            mismatched += 1;
            first_diff = first_diff.or_else(|| {
                Some(json!({ "after": lo, "upTo": hi, "sourceRows": sc, "targetRows": tc }))
            });
        }
    }
    tx.commit().await.map_err(db_failure)?;
    let passed = first_diff.is_none();
    let report = json!({ "passed": passed, "ranges": ranges.len(), "sourceRows": src_rows,
                         "targetRows": tgt_rows, "mismatchedRanges": mismatched,
                         "firstDifference": first_diff });
    // The verdict is recorded outside the read-only snapshot.
    Ok(report)
}

/// Verify's verdict, written after its read-only transaction.
pub(super) async fn record_verify(
    db: &mut Client,
    spec: &MigrationSpec,
    report: &Value,
) -> Result<(), Failure> {
    let passed = report["passed"].as_bool().unwrap_or(false);
    db.execute(sql::RECORD_VERIFY, &[&spec.id, &passed, report])
        .await
        .map_err(db_failure)?;
    Ok(())
}
