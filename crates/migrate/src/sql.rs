//! Every statement a migration runs, rendered from the validated spec: identifiers quoted, types from
//! the supported list, expressions from their parsed tree, values only as `$n` parameters.

use cutover_core::migration::{Expr, Ident, MigrationSpec};

/// The bookkeeping table, created on first use in its own schema.
pub const BOOKKEEPING: &str = "CREATE SCHEMA IF NOT EXISTS cutover;
CREATE TABLE IF NOT EXISTS cutover.migrations (
  id text PRIMARY KEY,
  spec jsonb NOT NULL,
  stage text NOT NULL,
  verified boolean NOT NULL DEFAULT false,
  report jsonb,
  switch_recorded boolean NOT NULL DEFAULT false,
  switch_previous text,
  history jsonb NOT NULL DEFAULT '[]',
  results jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now()
)";

/// Names derived from the migration id (letters, digits and `-`), so always valid identifiers.
pub struct Names {
    pub forward_fn: String,
    pub reverse_fn: String,
    pub forward_trigger: String,
    pub reverse_trigger: String,
}

pub fn names(spec: &MigrationSpec) -> Names {
    let base = spec.id.replace('-', "_");
    let q = |s: String| {
        Ident::parse(&s)
            .expect("derived from a validated id")
            .quoted()
    };
    Names {
        forward_fn: format!("cutover.{}", q(format!("fwd_{base}"))),
        reverse_fn: format!("cutover.{}", q(format!("rev_{base}"))),
        forward_trigger: q(format!("cutover_fwd_{base}")),
        reverse_trigger: q(format!("cutover_rev_{base}")),
    }
}

fn list<T>(items: impl IntoIterator<Item = T>, f: impl Fn(T) -> String) -> String {
    items.into_iter().map(f).collect::<Vec<_>>().join(", ")
}

/// Source key columns and the target columns they are copied into, in key order.
fn key_pairs(spec: &MigrationSpec) -> Vec<(&Ident, &Ident, String)> {
    spec.key
        .iter()
        .map(|k| {
            let t = spec.key_target(k).expect("validated: key copied plainly");
            (k, &t.name, t.ty.sql())
        })
        .collect()
}

pub fn create_target(spec: &MigrationSpec) -> String {
    let cols = list(&spec.columns, |c| {
        let null = if c.nullable { "" } else { " NOT NULL" };
        format!("{} {}{null}", c.name.quoted(), c.ty.sql())
    });
    let pk = list(key_pairs(spec), |(_, t, _)| t.quoted());
    format!(
        "CREATE TABLE IF NOT EXISTS {} ({cols}, PRIMARY KEY ({pk}))",
        spec.target.quoted()
    )
}

/// Plans every mapping expression against the source without reading a row: a wrong column, type or
/// function fails here, not in a trigger on the application's next write.
pub fn probe_forward(spec: &MigrationSpec) -> String {
    let exprs = list(spec.mapped(), |(c, e)| cast(e, "s", &c.ty.sql()));
    format!("SELECT {exprs} FROM {} AS s LIMIT 0", spec.source.quoted())
}

pub fn probe_reverse(spec: &MigrationSpec) -> String {
    let exprs = list(spec.reverse_mapping(), |(_, e)| e.sql("t"));
    format!("SELECT {exprs} FROM {} AS t LIMIT 0", spec.target.quoted())
}

fn cast(e: &Expr, row: &str, ty: &str) -> String {
    format!("CAST({} AS {ty})", e.sql(row))
}

/// Whether the source has a unique index on exactly the key columns (ON CONFLICT needs one). $1 is
/// the source as `schema.table` text, resolved by PostgreSQL, $2 the key column names.
pub const SOURCE_KEY_IS_UNIQUE: &str = "SELECT EXISTS (
  SELECT 1 FROM pg_index i
  WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL
    AND (SELECT array_agg(a.attname::text ORDER BY a.attname)
         FROM pg_attribute a
         WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey))
        = (SELECT array_agg(x ORDER BY x) FROM unnest($2::text[]) x)
    AND i.indnkeyatts = cardinality($2::text[]))";

/// Source columns that are NOT NULL without a default: a write that lands on the target after the
/// switch must fill each of them, so each needs a reverse mapping.
pub const SOURCE_REQUIRED_COLUMNS: &str = "SELECT a.attname::text FROM pg_attribute a
  WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
    AND a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = ''
  ORDER BY a.attnum";

/// A dollar-quote tag the body does not contain, so a string literal can never close the body.
fn dollar_quote(body: &str) -> String {
    let tag = (0..)
        .map(|i| format!("$cutover{i}$"))
        .find(|t| !body.contains(t.as_str()))
        .expect("some tag is free");
    format!("{tag}{body}{tag}")
}

/// A row trigger function that mirrors every write on one table into the other. Writes it makes
/// itself set `cutover.syncing` for their duration, so the other direction's trigger ignores them
/// instead of echoing them back.
fn sync_function(
    name: &str,
    into: &str,
    columns: &[(Ident, Expr)],
    into_key: &[&Ident],
    from_key: &[&Ident],
) -> String {
    let cols = list(columns, |(c, _)| c.quoted());
    let values = list(columns, |(_, e)| e.sql("NEW"));
    let updates: Vec<String> = columns
        .iter()
        .filter(|(c, _)| !into_key.contains(&c))
        .map(|(c, _)| format!("{0} = EXCLUDED.{0}", c.quoted()))
        .collect();
    let on_conflict = if updates.is_empty() {
        "DO NOTHING".to_string()
    } else {
        format!("DO UPDATE SET {}", updates.join(", "))
    };
    let conflict = list(into_key, |c| c.quoted());
    let match_old = into_key
        .iter()
        .zip(from_key)
        .map(|(i, f)| format!("{} = OLD.{}", i.quoted(), f.quoted()))
        .collect::<Vec<_>>()
        .join(" AND ");
    let old_key = list(from_key, |k| format!("OLD.{}", k.quoted()));
    let new_key = list(from_key, |k| format!("NEW.{}", k.quoted()));
    let body = format!(
        "
BEGIN
  IF current_setting('cutover.syncing', true) = 'on' THEN RETURN NULL; END IF;
  PERFORM set_config('cutover.syncing', 'on', true);
  IF TG_OP = 'DELETE' THEN
    DELETE FROM {into} WHERE {match_old};
  ELSE
    IF TG_OP = 'UPDATE' THEN
      IF ROW({old_key}) IS DISTINCT FROM ROW({new_key}) THEN
        DELETE FROM {into} WHERE {match_old};
      END IF;
    END IF;
    INSERT INTO {into} ({cols}) VALUES ({values}) ON CONFLICT ({conflict}) {on_conflict};
  END IF;
  PERFORM set_config('cutover.syncing', 'off', true);
  RETURN NULL;
END
"
    );
    format!(
        "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS {}",
        dollar_quote(&body)
    )
}

pub fn forward_function(spec: &MigrationSpec) -> String {
    let columns: Vec<(Ident, Expr)> = spec
        .mapped()
        .map(|(c, e)| {
            (
                c.name.clone(),
                Expr::Cast(Box::new(e.clone()), c.ty.clone()),
            )
        })
        .collect();
    let pairs = key_pairs(spec);
    let into_key: Vec<&Ident> = pairs.iter().map(|p| p.1).collect();
    let from_key: Vec<&Ident> = pairs.iter().map(|p| p.0).collect();
    sync_function(
        &names(spec).forward_fn,
        &spec.target.quoted(),
        &columns,
        &into_key,
        &from_key,
    )
}

pub fn reverse_function(spec: &MigrationSpec) -> String {
    let pairs = key_pairs(spec);
    let into_key: Vec<&Ident> = pairs.iter().map(|p| p.0).collect();
    let from_key: Vec<&Ident> = pairs.iter().map(|p| p.1).collect();
    sync_function(
        &names(spec).reverse_fn,
        &spec.source.quoted(),
        &spec.reverse_mapping(),
        &into_key,
        &from_key,
    )
}

pub fn create_trigger(trigger: &str, table: &str, function: &str) -> [String; 2] {
    [
        format!("DROP TRIGGER IF EXISTS {trigger} ON {table}"),
        format!(
            "CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE ON {table} \
             FOR EACH ROW EXECUTE FUNCTION {function}()"
        ),
    ]
}

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

pub fn drop_table(table: &str) -> String {
    format!("DROP TABLE IF EXISTS {table}")
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn spec(edit: impl FnOnce(&mut Value)) -> MigrationSpec {
        let mut v: Value =
            serde_json::from_str(include_str!("../../../local/migrate/tickets-spec.json")).unwrap();
        edit(&mut v);
        MigrationSpec::from_json(&v).unwrap()
    }

    #[test]
    fn a_literal_cannot_close_the_function_body() {
        let s = spec(|v| {
            v["target"]["columns"][3]["from"] =
                serde_json::json!("concat(email, '$cutover0$; DROP TABLE x; --')");
        });
        let f = forward_function(&s);
        // The body is quoted with a tag the literal does not contain, and the literal stays a literal.
        assert!(f.contains("AS $cutover1$"), "{f}");
        assert!(f.ends_with("$cutover1$"), "{f}");
        assert!(f.contains("'$cutover0$; DROP TABLE x; --'"), "{f}");
    }

    #[test]
    fn statements_name_only_quoted_identifiers() {
        let s = spec(|_| {});
        assert_eq!(
            create_target(&s),
            "CREATE TABLE IF NOT EXISTS \"public\".\"tickets_v2\" (\"id\" bigint NOT NULL, \
             \"event_id\" bigint NOT NULL, \"holder_name\" text NOT NULL, \"email_lower\" text, \
             \"price_cents\" bigint NOT NULL, \"status\" character varying(16) NOT NULL, \
             \"updated_at\" timestamp with time zone NOT NULL, PRIMARY KEY (\"id\"))"
        );
        let b = backfill(&s, true);
        assert!(
            b.contains(
                "WHERE ROW(s.\"id\") > ROW($2::text::bigint) ORDER BY s.\"id\" LIMIT $1 FOR SHARE"
            ),
            "{b}"
        );
        assert!(b.contains("ON CONFLICT (\"id\") DO NOTHING"), "{b}");
        let f = forward_function(&s);
        assert!(
            f.contains("current_setting('cutover.syncing', true) = 'on'"),
            "{f}"
        );
        assert!(
            f.contains("DO UPDATE SET \"event_id\" = EXCLUDED.\"event_id\""),
            "{f}"
        );
        let r = reverse_function(&s);
        assert!(
            r.contains("INSERT INTO \"public\".\"tickets\" (\"email\", \"price\", \"id\""),
            "{r}"
        );
        assert!(
            r.contains("DELETE FROM \"public\".\"tickets\" WHERE \"id\" = OLD.\"id\""),
            "{r}"
        );
        assert_eq!(names(&s).forward_trigger, "\"cutover_fwd_tickets_v2\"");
    }
}
