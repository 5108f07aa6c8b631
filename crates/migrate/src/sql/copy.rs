//! Rows moved and compared in key order: backfill's batches, verify's ranges, the benchmark's copy.

use super::{cast, key_pairs, list};
use cutover_core::migration::MigrationSpec;

/// `(s."k1", s."k2") > ($1::text::T1, $2::text::T2)`, parameters from `first`.
fn after(spec: &MigrationSpec, row: &str, first: usize, op: &str) -> String {
    let pairs = key_pairs(spec);
    let cols = list(&pairs, |(k, _, _)| format!("{row}.{}", k.quoted()));
    let params = list(pairs.iter().enumerate(), |(i, (_, _, ty))| {
        format!("${}::text::{ty}", first + i)
    });
    format!("ROW({cols}) {op} ROW({params})")
}

fn key_order(spec: &MigrationSpec, row: &str, desc: bool) -> String {
    let dir = if desc { " DESC" } else { "" };
    list(&spec.key, |k| format!("{row}.{}{dir}", k.quoted()))
}

fn key_text(spec: &MigrationSpec, row: &str) -> String {
    list(&spec.key, |k| format!("{row}.{}::text", k.quoted()))
}

/// One batch: lock the next `$1` source rows after the cursor (`$2…`) FOR SHARE, so a concurrent
/// delete either commits first (and the row is skipped) or waits until the copy is committed (and the
/// trigger then deletes the copy); insert them unless the trigger already put a newer version there.
/// Returns rows scanned, rows inserted, and the last key as text (NULL when nothing was left).
pub fn backfill(spec: &MigrationSpec, with_cursor: bool) -> String {
    let cond = if with_cursor {
        format!("WHERE {}", after(spec, "s", 2, ">"))
    } else {
        String::new()
    };
    let cols = list(spec.mapped(), |(c, _)| c.name.quoted());
    let exprs = list(spec.mapped(), |(c, e)| cast(e, "s", &c.ty.sql()));
    let conflict = list(key_pairs(spec), |(_, t, _)| t.quoted());
    format!(
        "WITH batch AS (
  SELECT s.* FROM {src} AS s {cond} ORDER BY {order} LIMIT $1 FOR SHARE
), ins AS (
  INSERT INTO {tgt} ({cols}) SELECT {exprs} FROM batch AS s ON CONFLICT ({conflict}) DO NOTHING RETURNING 1
)
SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM ins), l.*
FROM (SELECT 1) AS one LEFT JOIN LATERAL (
  SELECT {last} FROM batch AS b ORDER BY {desc} LIMIT 1
) AS l ON true",
        src = spec.source.quoted(),
        tgt = spec.target.quoted(),
        order = key_order(spec, "s", false),
        last = key_text(spec, "b"),
        desc = key_order(spec, "b", true),
    )
}

/// Every `$1`-th source key, in order: the upper bounds of verify's ranges.
pub fn verify_bounds(spec: &MigrationSpec) -> String {
    format!(
        "SELECT {keys} FROM (SELECT s.*, row_number() OVER (ORDER BY {order}) AS cutover_n FROM {src} AS s) AS x \
         WHERE x.cutover_n % $1 = 0 ORDER BY {xorder}",
        keys = key_text(spec, "x"),
        order = key_order(spec, "s", false),
        src = spec.source.quoted(),
        xorder = key_order(spec, "x", false),
    )
}

/// Count and checksum of one side over a key range: `lower` keys are parameters from $1, `upper` after
/// them. The source side casts each mapped expression to the target column's type, so equal rows
/// render to equal text.
pub fn verify_range(spec: &MigrationSpec, target_side: bool, lower: bool, upper: bool) -> String {
    let n = spec.key.len();
    let (table, row, values, key_cols) = if target_side {
        let key_cols: Vec<String> = key_pairs(spec)
            .iter()
            .map(|p| format!("t.{}", p.1.quoted()))
            .collect();
        (
            spec.target.quoted(),
            "t",
            list(spec.mapped(), |(c, _)| format!("t.{}", c.name.quoted())),
            key_cols,
        )
    } else {
        let key_cols: Vec<String> = spec
            .key
            .iter()
            .map(|k| format!("s.{}", k.quoted()))
            .collect();
        (
            spec.source.quoted(),
            "s",
            list(spec.mapped(), |(c, e)| cast(e, "s", &c.ty.sql())),
            key_cols,
        )
    };
    let bound = |first: usize, op: &str| {
        let params = list(key_pairs(spec).iter().enumerate(), |(i, (_, _, ty))| {
            format!("${}::text::{ty}", first + i)
        });
        format!("ROW({}) {op} ROW({params})", key_cols.join(", "))
    };
    let mut conds = Vec::new();
    if lower {
        conds.push(bound(1, ">"));
    }
    if upper {
        conds.push(bound(if lower { n + 1 } else { 1 }, "<="));
    }
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    format!(
        "SELECT count(*), coalesce(md5(string_agg(md5(ROW({values})::text), '' ORDER BY {order})), '') \
         FROM {table} AS {row} {filter}",
        order = key_cols.join(", "),
    )
}

/// The whole table in one statement, as a naive migration would copy it: only the benchmark runs
/// this, to compare with the batches.
pub fn copy_all(spec: &MigrationSpec) -> String {
    let cols = list(spec.mapped(), |(c, _)| c.name.quoted());
    let exprs = list(spec.mapped(), |(c, e)| cast(e, "s", &c.ty.sql()));
    let conflict = list(key_pairs(spec), |(_, t, _)| t.quoted());
    format!(
        "INSERT INTO {} ({cols}) SELECT {exprs} FROM {} AS s ON CONFLICT ({conflict}) DO NOTHING",
        spec.target.quoted(),
        spec.source.quoted()
    )
}
