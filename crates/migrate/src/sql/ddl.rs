//! Tables, trigger functions and triggers: what expand and switch create and contract and revert drop.

use super::{cast, key_pairs, list, names};
use cutover_core::migration::{Expr, Ident, MigrationSpec};

/// The target table, and the comment that marks it as this migration's own (a table that exists
/// without the mark is refused by expand and never dropped by revert).
pub fn create_target(spec: &MigrationSpec) -> [String; 2] {
    let cols = list(&spec.columns, |c| {
        let null = if c.nullable { "" } else { " NOT NULL" };
        format!("{} {}{null}", c.name.quoted(), c.ty.sql())
    });
    let pk = list(key_pairs(spec), |(_, t, _)| t.quoted());
    let target = spec.target.quoted();
    [
        format!("CREATE TABLE {target} ({cols}, PRIMARY KEY ({pk}))"),
        format!(
            "COMMENT ON TABLE {target} IS {}",
            Expr::Text(target_mark(spec)).sql("")
        ),
    ]
}

/// What marks a table as created by migration `spec.id`.
pub fn target_mark(spec: &MigrationSpec) -> String {
    format!("created by cutover migration {}", spec.id)
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
        // The application's sessions run this function: its settings, not theirs, decide how its
        // names resolve and how its literals read.
        "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql \
         SET search_path = pg_catalog, pg_temp SET standard_conforming_strings = on AS {}",
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
        drop_trigger(trigger, table),
        format!(
            "CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE ON {table} \
             FOR EACH ROW EXECUTE FUNCTION {function}()"
        ),
    ]
}

pub fn drop_trigger(trigger: &str, table: &str) -> String {
    format!("DROP TRIGGER IF EXISTS {trigger} ON {table}")
}

pub fn drop_function(function: &str) -> String {
    format!("DROP FUNCTION IF EXISTS {function}()")
}

pub fn drop_table(table: &str) -> String {
    format!("DROP TABLE IF EXISTS {table}")
}
