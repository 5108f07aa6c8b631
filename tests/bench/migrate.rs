//! `make bench-migrate`: on the local PostgreSQL, the batched backfill against one
//! `INSERT INTO … SELECT` of the whole table, each with the forward triggers installed and a writer
//! inserting, updating and deleting throughout. Prints rows/s and the writer's write latencies.
//! Figures, not pass/fail: this machine is shared. ROWS (default 200000), BATCH (5000) and KINDS
//! (`batched,single,batched,single`) override. For the batched kind it also prints how many
//! invocations of the migrate function the backfill takes at its time budget, and the history events
//! they cost the migrate state machine (a `Backfill` Task and its `BackfillDone` Choice: 7 events
//! each, of Step Functions' 25 000).

use cutover_aws::fakes::FakeSwitches;
use cutover_core::migration::Phase;
use cutover_migrate::{run, sql, PhaseRequest};
use cutover_scenarios::pg::{self, Writer};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A `Backfill` Task (entered, scheduled, started, succeeded, exited) and its Choice (entered, exited).
const BACKFILL_EVENTS: u32 = 7;

fn env(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn one(kind: &str, rows: u32, batch: u32) {
    let name = cutover_scenarios::unique(&format!("bench_{kind}_"));
    let raw = pg::spec_for(&name, batch);
    let spec = pg::parse(&raw);
    let mut db = pg::connect().await;
    let initial = pg::create_source(&db, &name, i64::from(rows)).await;
    let switch = Arc::new(FakeSwitches::default());
    let req = |phase, cursor| PhaseRequest { phase, cursor };
    run(&mut db, &spec, &raw, &req(Phase::Expand, None), &*switch)
        .await
        .unwrap();
    let writer = Writer::start(&name, initial, switch.clone(), 99).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let mut statements = 0;
    if kind == "batched" {
        let mut cursor = None;
        loop {
            let out = run(
                &mut db,
                &spec,
                &raw,
                &req(Phase::Backfill, cursor),
                &*switch,
            )
            .await
            .unwrap();
            statements += 1;
            cursor = serde_json::from_value(out["cursor"].clone()).unwrap();
            if out["done"] == true {
                break;
            }
        }
    } else {
        db.execute(&sql::copy_all(&spec), &[]).await.unwrap();
        statements = 1;
    }
    let took = started.elapsed();
    let history = if kind == "batched" {
        // The function packs batches into invocations of BACKFILL_BUDGET each.
        let invocations = took.as_secs_f64() / cutover_migrate::BACKFILL_BUDGET.as_secs_f64();
        let invocations = invocations.ceil() as u32;
        format!(
            " = {invocations} invocation(s) of {} s, {} history events",
            cutover_migrate::BACKFILL_BUDGET.as_secs(),
            invocations * BACKFILL_EVENTS
        )
    } else {
        String::new()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (model, report) = writer.stop().await;
    let (lost, extra, stale, _) = pg::diff(&model, &pg::read(&db, &name, true).await);
    println!(
        "{kind:>12}: {rows} rows in {:>6.0} ms = {:>8.0} rows/s, {statements} statements{history}; writer: {} writes, \
         max {:.1} ms, p99 {:.1} ms; target vs model: {lost} lost, {extra} extra, {stale} stale",
        took.as_secs_f64() * 1000.0,
        f64::from(rows) / took.as_secs_f64(),
        report.inserts + report.updates + report.deletes,
        report.max_write.as_secs_f64() * 1000.0,
        report.p99_write.as_secs_f64() * 1000.0,
    );
    db.batch_execute(&format!("DROP TABLE {name}_v2; DROP TABLE {name}"))
        .await
        .unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (rows, batch) = (env("ROWS", 200_000), env("BATCH", 5000));
    println!(
        "migration backfill, PostgreSQL on 127.0.0.1:{}, batch {batch}",
        pg::pg_port()
    );
    let kinds = std::env::var("KINDS").unwrap_or_else(|_| "batched,single,batched,single".into());
    for kind in kinds.split(',') {
        one(kind, rows, batch).await;
    }
}
