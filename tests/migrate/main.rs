//! Migrations on real PostgreSQL (local/postgres.sh), phase by phase through `cutover-migrate`, while
//! a writer keeps changing the table. The writer's model is the table as it would be without the
//! migration; both tables are compared with it row by row.

use cutover_aws::fakes::FakeSwitches;
use cutover_core::migration::{MigrationSpec, Phase};
use cutover_migrate::{run, PhaseRequest};
use cutover_scenarios::appconfig;
use cutover_scenarios::pg::{self, diff, read, table_exists, Writer};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::Client;

mod phases;

struct Migration {
    db: Client,
    spec: MigrationSpec,
    raw: Value,
    switch: Arc<FakeSwitches>,
    name: String,
}

impl Migration {
    async fn new(name: &str, batch: u32) -> Migration {
        let raw = pg::spec_for(name, batch);
        Migration {
            db: pg::connect().await,
            spec: pg::parse(&raw),
            raw,
            switch: Arc::new(FakeSwitches::default()),
            name: name.into(),
        }
    }

    async fn try_phase(
        &mut self,
        phase: Phase,
        cursor: Option<Vec<String>>,
    ) -> Result<Value, cutover_core::Failure> {
        let req = PhaseRequest { phase, cursor };
        run(&mut self.db, &self.spec, &self.raw, &req, &*self.switch).await
    }

    async fn phase(&mut self, phase: Phase) -> Value {
        self.try_phase(phase, None)
            .await
            .unwrap_or_else(|f| panic!("{phase}: {f}"))
    }

    /// Backfill batches until done; the number of batches, or stop after `max` batches.
    async fn backfill(&mut self, max: usize) -> (usize, Option<Vec<String>>) {
        let mut cursor = None;
        for n in 1..=max {
            let out = self
                .try_phase(Phase::Backfill, cursor.clone())
                .await
                .unwrap();
            cursor = serde_json::from_value(out["cursor"].clone()).unwrap();
            if out["done"] == true {
                return (n, cursor);
            }
        }
        (max, cursor)
    }

    fn parameter(&self) -> String {
        self.spec.switch.at.to_string()
    }

    async fn exists(&self, suffix: &str) -> bool {
        table_exists(&self.db, &format!("public.{}{suffix}", self.name)).await
    }
}

fn assert_same(what: &str, expected: &pg::Tickets, actual: &pg::Tickets) {
    let (lost, extra, stale, shown) = diff(expected, actual);
    assert_eq!(
        (lost, extra, stale),
        (0, 0, 0),
        "{what}: {lost} lost, {extra} extra, {stale} stale: {shown:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrates_200k_rows_while_a_writer_inserts_updates_and_deletes() {
    let _one = cutover_scenarios::one_at_a_time().lock().await;
    let name = cutover_scenarios::unique("tickets_e2e_");
    let mut m = Migration::new(&name, 5000).await;
    let initial = pg::create_source(&m.db, &name, 200_000).await;
    m.switch
        .values
        .lock()
        .unwrap()
        .insert(m.parameter(), name.clone());
    let writer = Writer::start(&name, initial, m.switch.clone(), 0x5eed).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    m.phase(Phase::Expand).await;
    let (batches, _) = m.backfill(1000).await;
    let verify = m.phase(Phase::Verify).await;
    assert_eq!(verify["passed"], true, "{verify}");
    let switched = m.phase(Phase::Switch).await;
    assert_eq!(switched["previous"], name.as_str());
    // The writer now writes to the target, and the reverse triggers carry it to the source.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (model, report) = writer.stop().await;
    println!("200k: {batches} batches; verify {verify}; writer {report:?}");
    assert_eq!(report.failed, 0, "{:?}", report.last_error);
    assert!(
        report.on_target > 50 && report.inserts > 100 && report.deletes > 100,
        "{report:?}"
    );

    assert_same("target", &model, &read(&m.db, &name, true).await);
    assert_same("source", &model, &read(&m.db, &name, false).await);
    assert!(model.len() > 190_000);

    let contract = m.phase(Phase::Contract).await;
    assert_eq!(contract["stage"], "contracted");
    assert!(!m.exists("").await, "source still there");
    assert_same(
        "target after contract",
        &model,
        &read(&m.db, &name, true).await,
    );
    assert_eq!(m.switch.value(&m.parameter()), Some(format!("{name}_v2")));
    // No trigger or function of the migration is left.
    let left: i64 =
        m.db.query_one(
            "SELECT count(*) FROM pg_proc WHERE proname LIKE '%' || $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}

/// The four points the issue names; each reverts while the writer keeps writing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revert_from_each_phase_keeps_the_source_complete_and_drops_the_target() {
    let _one = cutover_scenarios::one_at_a_time().lock().await;
    for (i, point) in ["expand", "mid-backfill", "verify", "switch"]
        .into_iter()
        .enumerate()
    {
        let name = cutover_scenarios::unique(&format!("tickets_rv{i}_"));
        let mut m = Migration::new(&name, 1000).await;
        let initial = pg::create_source(&m.db, &name, 20_000).await;
        m.switch
            .values
            .lock()
            .unwrap()
            .insert(m.parameter(), name.clone());
        // An application that caches the switch for 300 ms, so it still writes to the target for a
        // while after restore puts the switch back; the drain (600 ms here) outlasts that.
        let writer = Writer::start_cached(
            &name,
            initial,
            m.switch.clone(),
            7 + i as u64,
            Duration::from_millis(300),
        )
        .await;
        m.phase(Phase::Expand).await;
        if point != "expand" {
            m.backfill(if point == "mid-backfill" { 5 } else { 1000 })
                .await;
        }
        if point == "verify" || point == "switch" {
            assert_eq!(m.phase(Phase::Verify).await["passed"], true);
        }
        if point == "switch" {
            m.phase(Phase::Switch).await;
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
        let restored = m.phase(Phase::Restore).await;
        assert_eq!(
            restored["drainSeconds"],
            if point == "switch" { 60 } else { 0 },
            "{restored}"
        );
        tokio::time::sleep(Duration::from_millis(600)).await;
        let reverted = m.phase(Phase::Revert).await;
        // Writes continue across the revert, and none fails: the cached switch expired in the drain.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (model, report) = writer.stop().await;
        println!("revert after {point}: {reverted}; writer {report:?}");
        assert_eq!(reverted["stage"], "reverted");
        assert!(!m.exists("_v2").await, "{point}: target still there");
        assert_same(
            &format!("source after revert from {point}"),
            &model,
            &read(&m.db, &name, false).await,
        );
        assert_eq!(
            m.switch.value(&m.parameter()),
            Some(name.clone()),
            "{point}: switch not restored"
        );
        if point == "switch" {
            assert!(report.on_target > 0, "{report:?}");
        }
        assert_eq!(report.failed, 0, "{point}: {:?}", report.last_error);
        let triggers: i64 =
            m.db.query_one(
                "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'cutover_%' || $1",
                &[&name],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(triggers, 0, "{point}: triggers left");
    }
}
