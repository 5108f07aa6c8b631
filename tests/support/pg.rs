//! Migration scenarios on the local PostgreSQL (local/postgres.sh): a `tickets`-shaped source table,
//! a writer that keeps inserting, updating and deleting while phases run and remembers what it
//! committed, and readers that put either table's rows into the same shape to compare them.

use cutover_aws::fakes::FakeSwitches;
use cutover_core::migration::MigrationSpec;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_postgres::{Client, NoTls};

pub fn pg_port() -> u16 {
    std::env::var("PG_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(55432)
}

pub fn pg_database() -> String {
    std::env::var("PG_DATABASE").unwrap_or_else(|_| "live_event".into())
}

pub async fn connect() -> Client {
    let url = format!(
        "host=127.0.0.1 port={} user=postgres dbname={}",
        pg_port(),
        pg_database()
    );
    let (client, conn) = tokio_postgres::connect(&url, NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL at {url}: {e}; run `make test` (it starts local/postgres.sh)")
        });
    tokio::spawn(conn);
    client
}

/// A ticket in the application's terms; both tables' rows are read into this shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub event_id: i64,
    pub holder: String,
    pub email: String,
    pub cents: i64,
    pub status: String,
    pub updated: i64,
}

pub type Tickets = BTreeMap<i64, Ticket>;

/// The sample spec (local/migrate/tickets-spec.json) on tables `<name>` → `<name>_v2`.
pub fn spec_for(name: &str, batch: u32) -> Value {
    let mut v: Value =
        serde_json::from_str(include_str!("../../local/migrate/tickets-spec.json")).unwrap();
    v["id"] = json!(name.replace('_', "-"));
    v["source"] = json!(format!("public.{name}"));
    v["target"]["table"] = json!(format!("public.{name}_v2"));
    v["batchSize"] = json!(batch);
    v["database"]["port"] = json!(pg_port());
    v["database"]["name"] = json!(pg_database());
    v["switch"]["parameter"] = json!(format!("/live-event/test/{name}"));
    v["switch"]["value"] = json!(format!("{name}_v2"));
    v
}

pub fn parse(v: &Value) -> MigrationSpec {
    MigrationSpec::from_json(v).unwrap_or_else(|e| panic!("{e:?}"))
}

/// `rows` tickets with ids 1..=rows, in one statement.
pub async fn create_source(db: &Client, name: &str, rows: i64) -> Tickets {
    db.batch_execute(&format!(
        "DROP TABLE IF EXISTS {name}_v2; DROP TABLE IF EXISTS {name};
         CREATE TABLE {name} (id bigint PRIMARY KEY, event_id bigint NOT NULL, holder text NOT NULL,
           email text, price numeric(10,2) NOT NULL, status varchar(16) NOT NULL,
           updated_at timestamptz NOT NULL, notes text);"
    ))
    .await
    .unwrap();
    db.execute(
        &format!(
            "INSERT INTO {name} SELECT g, g % 97, 'holder ' || g, 'fan' || g || '@example.com',
               (g % 5000) / 100.0 + 10, 'sold', to_timestamp(1700000000 + g), NULL
             FROM generate_series(1, $1::bigint) g"
        ),
        &[&rows],
    )
    .await
    .unwrap();
    read(db, name, false).await
}

/// Every row of the source (`target = false`) or of the target, in ticket shape.
pub async fn read(db: &Client, name: &str, target: bool) -> Tickets {
    let q = if target {
        format!("SELECT id, event_id, holder_name, coalesce(email_lower, ''), price_cents, status::text,
                 extract(epoch from updated_at)::bigint FROM {name}_v2")
    } else {
        format!(
            "SELECT id, event_id, holder, coalesce(email, ''), (price * 100)::bigint, status::text,
                 extract(epoch from updated_at)::bigint FROM {name}"
        )
    };
    db.query(&q, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get(0),
                Ticket {
                    event_id: r.get(1),
                    holder: r.get(2),
                    email: r.get(3),
                    cents: r.get(4),
                    status: r.get(5),
                    updated: r.get(6),
                },
            )
        })
        .collect()
}

pub async fn table_exists(db: &Client, table: &str) -> bool {
    db.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await
        .unwrap()
        .get(0)
}

/// Lost, extra and stale rows of `actual` against `expected`, and the first few differences.
pub fn diff(expected: &Tickets, actual: &Tickets) -> (usize, usize, usize, Vec<String>) {
    let mut shown = Vec::new();
    let (mut lost, mut extra, mut stale) = (0, 0, 0);
    for (id, want) in expected {
        match actual.get(id) {
            None => {
                lost += 1;
                if shown.len() < 5 {
                    shown.push(format!("lost {id}"));
                }
            }
            Some(got) if got != want => {
                stale += 1;
                if shown.len() < 5 {
                    shown.push(format!("stale {id}: want {want:?}, got {got:?}"));
                }
            }
            Some(_) => {}
        }
    }
    for id in actual.keys().filter(|id| !expected.contains_key(id)) {
        extra += 1;
        if shown.len() < 5 {
            shown.push(format!("extra {id}"));
        }
    }
    (lost, extra, stale, shown)
}

/// What the writer did, for the assertions and the closing figures.
#[derive(Debug, Default, Clone)]
pub struct WriterReport {
    pub inserts: u64,
    pub updates: u64,
    pub deletes: u64,
    pub on_target: u64,
    pub failed: u64,
    pub last_error: Option<String>,
    /// The slowest single write: the longest a migration statement made the application wait.
    pub max_write: Duration,
    /// The 99th percentile of write latency.
    pub p99_write: Duration,
}

/// A writer that runs until stopped: ~40 % updates, 30 % inserts, 30 % deletes of random rows. It
/// writes to the table the switch names (the source until the switch says `<name>_v2`) and records
/// each committed write in its model, so the model is the table "as it would be without the
/// migration".
pub struct Writer {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(Tickets, WriterReport)>,
}

impl Writer {
    pub async fn start(name: &str, model: Tickets, switch: Arc<FakeSwitches>, seed: u64) -> Writer {
        Writer::start_cached(name, model, switch, seed, Duration::ZERO).await
    }

    /// A writer that re-reads the switch only every `cache`, like an application instance that
    /// caches its parameter: it keeps writing to the old table for up to `cache` after a change.
    pub async fn start_cached(
        name: &str,
        model: Tickets,
        switch: Arc<FakeSwitches>,
        seed: u64,
        cache: Duration,
    ) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let db = connect().await;
        let (name, flag) = (name.to_string(), stop.clone());
        let task =
            tokio::spawn(
                async move { write_loop(db, name, model, (switch, cache), flag, seed).await },
            );
        Writer { stop, task }
    }

    pub async fn stop(self) -> (Tickets, WriterReport) {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.unwrap()
    }
}

async fn write_loop(
    db: Client,
    name: String,
    mut model: Tickets,
    (switch, cache): (Arc<FakeSwitches>, Duration),
    stop: Arc<AtomicBool>,
    seed: u64,
) -> (Tickets, WriterReport) {
    let mut rng = seed | 1;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut ids: Vec<i64> = model.keys().copied().collect();
    let mut next_id = ids.last().copied().unwrap_or(0) + 1_000_000;
    let mut report = WriterReport::default();
    let parameter = format!("/live-event/test/{name}");
    let mut n = 0u64;
    let mut latencies = Vec::new();
    let mut on_target = false;
    let mut read_at: Option<Instant> = None;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        if read_at.is_none_or(|t| t.elapsed() >= cache) {
            on_target = switch.value(&parameter).as_deref() == Some(&format!("{name}_v2"));
            read_at = Some(Instant::now());
        }
        let roll = next() % 10;
        let at = (next() % ids.len().max(1) as u64) as usize;
        let ticket = Ticket {
            event_id: (next() % 97) as i64,
            holder: format!("holder {n}"),
            email: format!("w{n}@example.com"),
            cents: (next() % 90_000) as i64 + 100,
            status: ["sold", "used", "refunded"][(next() % 3) as usize].into(),
            updated: 1_800_000_000 + n as i64,
        };
        let started = Instant::now();
        let (kind, id, result) = if roll < 3 || ids.is_empty() {
            let id = next_id;
            next_id += 1;
            let sql = if on_target {
                format!("INSERT INTO {name}_v2 (id, event_id, holder_name, email_lower, price_cents, status, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7))")
            } else {
                format!(
                    "INSERT INTO {name} (id, event_id, holder, email, price, status, updated_at)
                         VALUES ($1, $2, $3, $4, $5::bigint / 100.0, $6, to_timestamp($7))"
                )
            };
            let r = db
                .execute(
                    &sql,
                    &[
                        &id,
                        &ticket.event_id,
                        &ticket.holder,
                        &ticket.email,
                        &ticket.cents,
                        &ticket.status,
                        &(ticket.updated as f64),
                    ],
                )
                .await;
            ("insert", id, r)
        } else if roll < 7 {
            let id = ids[at];
            let sql = if on_target {
                format!("UPDATE {name}_v2 SET event_id = $2, holder_name = $3, email_lower = $4, price_cents = $5,
                         status = $6, updated_at = to_timestamp($7) WHERE id = $1")
            } else {
                format!("UPDATE {name} SET event_id = $2, holder = $3, email = $4, price = $5::bigint / 100.0,
                         status = $6, updated_at = to_timestamp($7) WHERE id = $1")
            };
            let r = db
                .execute(
                    &sql,
                    &[
                        &id,
                        &ticket.event_id,
                        &ticket.holder,
                        &ticket.email,
                        &ticket.cents,
                        &ticket.status,
                        &(ticket.updated as f64),
                    ],
                )
                .await;
            ("update", id, r)
        } else {
            let id = ids[at];
            let table = if on_target {
                format!("{name}_v2")
            } else {
                name.clone()
            };
            let r = db
                .execute(&format!("DELETE FROM {table} WHERE id = $1"), &[&id])
                .await;
            ("delete", id, r)
        };
        latencies.push(started.elapsed());
        report.max_write = report.max_write.max(started.elapsed());
        match result {
            Ok(1) => {
                report.on_target += u64::from(on_target);
                match kind {
                    "insert" => {
                        report.inserts += 1;
                        ids.push(id);
                        model.insert(id, ticket);
                    }
                    "update" => {
                        report.updates += 1;
                        model.insert(id, ticket);
                    }
                    _ => {
                        report.deletes += 1;
                        ids.swap_remove(at);
                        model.remove(&id);
                    }
                }
            }
            Ok(rows) => {
                report.failed += 1;
                report.last_error = Some(format!(
                    "{kind} {id} touched {rows} rows on {}",
                    if on_target { "target" } else { "source" }
                ));
            }
            Err(e) => {
                report.failed += 1;
                report.last_error = Some(format!("{kind} {id}: {e}"));
            }
        }
        if n.is_multiple_of(64) {
            tokio::task::yield_now().await;
        }
    }
    latencies.sort();
    let p99 = (latencies.len() * 99 / 100).min(latencies.len().saturating_sub(1));
    report.p99_write = latencies.get(p99).copied().unwrap_or_default();
    (model, report)
}
