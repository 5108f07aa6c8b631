//! The migration spec: what to copy where, keyed how, and which switch tells the application which
//! table to use. Validated whole, every problem named by its field, before anything runs.

use super::expr::Expr;
use super::ident::{Ident, SqlType, TableName};
use super::switch::{read_switch, Switch};
use crate::fields::{FieldError, Reader};
use serde_json::Value;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq)]
pub struct MigrationSpec {
    /// Lower-case letters, digits and `-`: it names the bookkeeping row and the triggers.
    pub id: String,
    pub database: Database,
    pub source: TableName,
    pub target: TableName,
    pub columns: Vec<Column>,
    /// Source columns that order the copy; each is copied as it is into a target column, and those
    /// target columns are the target's primary key.
    pub key: Vec<Ident>,
    pub batch_size: u32,
    /// Rows per range that verify checks with one count and one checksum.
    pub verify_range_rows: u32,
    pub switch: Switch,
    /// Source column ← expression over target columns, for writes that land on the target after the
    /// switch. Plain copies are reversed without being listed.
    pub reverse: Vec<(Ident, Expr)>,
    pub bake_seconds: u64,
    pub approval: bool,
    /// After a failed migration puts the switch back, how long the application may still write to
    /// the target (its switch cache) before revert drops it.
    pub drain_seconds: u64,
    /// The service whose dashboard the migration's metrics and events belong to (`app`, `env`);
    /// optional, as a database may serve no one service.
    pub service: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: Ident,
    pub ty: SqlType,
    pub nullable: bool,
    /// Target column ← expression over source columns; `None` leaves it NULL.
    pub from: Option<Expr>,
}

/// Where the migration connects. Host, port, database and user may be left to the password's
/// secret (RDS's secret shape names them); given in both, they must agree
/// ([`Credentials::endpoint`](super::Credentials::endpoint)).
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub name: Option<String>,
    pub user: Option<String>,
    pub password: PasswordRef,
    pub tls: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PasswordRef {
    /// A Secrets Manager secret: a plain string, or RDS's JSON with a `password` field.
    Secret(String),
    /// An SSM SecureString parameter.
    Parameter(String),
}

fn ident(r: &mut Reader<'_>, key: &str, value: Option<String>) -> Option<Ident> {
    Ident::parse(&value?).map_err(|e| r.fail(key, e)).ok()
}

impl MigrationSpec {
    pub fn from_json(value: &Value) -> Result<MigrationSpec, Vec<FieldError>> {
        let mut errors = Vec::new();
        let obj = crate::fields::document(value)?;
        let mut r = Reader::new(&mut errors, Some(obj));
        let id = r.string("id", true).filter(|id| {
            let ok = id.len() <= 40
                && id.starts_with(|c: char| c.is_ascii_lowercase())
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                r.fail("id", format!("\"{id}\" must be lower-case letters, digits and -, starting with a letter, at most 40"));
            }
            ok
        });
        let database = read_database(&mut r.child("database", true));
        let source = r
            .string("source", true)
            .and_then(|s| TableName::parse(&s).map_err(|e| r.fail("source", e)).ok());
        let (target, columns) = read_target(&mut r.child("target", true));
        let key: Option<Vec<Ident>> = match r.value("key", true) {
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let s = v.as_str().map(String::from);
                    if s.is_none() {
                        r.fail(&format!("key[{i}]"), "must be a column name");
                    }
                    ident(&mut r, &format!("key[{i}]"), s)
                })
                .collect(),
            Some(other) => {
                r.fail(
                    "key",
                    format!("must be a non-empty list of columns, got {other}"),
                );
                None
            }
            None => None,
        };
        let batch_size = r.integer("batchSize", 100_000, 1000) as u32;
        if batch_size == 0 {
            r.fail("batchSize", "must be at least 1");
        }
        let verify_range_rows = r.integer("verifyRangeRows", 10_000_000, 10_000) as u32;
        if verify_range_rows == 0 {
            r.fail("verifyRangeRows", "must be at least 1");
        }
        let switch = read_switch(&mut r);
        let reverse = read_reverse(&mut r);
        let bake_seconds = r.integer("bakeSeconds", 86_400, 300);
        let approval = r.boolean("approval", false);
        let drain_seconds = r.integer("drainSeconds", 3_600, 60);
        let mut name = |field: &str| {
            r.string(field, false).filter(|v| {
                crate::flags::check_name(field, v)
                    .map_err(|e| r.fail(field, e.reason))
                    .is_ok()
            })
        };
        let service = match (name("app"), name("env")) {
            (Some(app), Some(env)) => Some((app, env)),
            (None, None) => None,
            _ => {
                r.fail(
                    "app",
                    "app and env name the service together: give both or neither",
                );
                None
            }
        };

        let (
            Some(id),
            Some(database),
            Some(source),
            Some(target),
            Some(columns),
            Some(key),
            Some(switch),
            Some(reverse),
        ) = (id, database, source, target, columns, key, switch, reverse)
        else {
            return Err(errors);
        };
        let spec = MigrationSpec {
            id,
            database,
            source,
            target,
            columns,
            key,
            batch_size,
            verify_range_rows,
            switch,
            reverse,
            bake_seconds,
            approval,
            drain_seconds,
            service,
        };
        errors.extend(spec.cross_checks());
        if errors.is_empty() {
            Ok(spec)
        } else {
            Err(errors)
        }
    }

    fn cross_checks(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut fail = |field: String, problem: String| errors.push(FieldError { field, problem });
        if self.source == self.target {
            fail("target.table".into(), "must differ from source".into());
        }
        for k in &self.key {
            if self.key_target(k).is_none() {
                fail(
                    "key".into(),
                    format!("{k} must be copied as it is into a target column (\"col\": \"{k}\")"),
                );
            }
        }
        let targets: BTreeSet<&Ident> = self.columns.iter().map(|c| &c.name).collect();
        for (i, (col, e)) in self.reverse.iter().enumerate() {
            let mut used = BTreeSet::new();
            e.columns(&mut used);
            for u in used.iter().filter(|u| !targets.contains(u)) {
                fail(
                    format!("reverse.{col}"),
                    format!("{u} is not a target column"),
                );
            }
            if self.key.contains(col) {
                fail(
                    format!("reverse.{col}"),
                    "key columns are reversed as they were copied".into(),
                );
            }
            if self.reverse[..i].iter().any(|(c, _)| c == col) {
                fail(format!("reverse.{col}"), "is listed twice".into());
            }
        }
        errors
    }

    /// The target column a source key column is copied into.
    pub fn key_target(&self, source_key: &Ident) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.from.as_ref().and_then(Expr::as_column) == Some(source_key))
    }

    /// Target columns filled from the source, in the target's column order.
    pub fn mapped(&self) -> impl Iterator<Item = (&Column, &Expr)> {
        self.columns
            .iter()
            .filter_map(|c| c.from.as_ref().map(|e| (c, e)))
    }

    /// Source column ← expression over target columns: the listed `reverse` entries plus every plain
    /// copy turned around (a source column copied into two target columns comes back from the first).
    pub fn reverse_mapping(&self) -> Vec<(Ident, Expr)> {
        let mut out = self.reverse.clone();
        for (c, e) in self.mapped() {
            if let Some(src) = e.as_column() {
                if !out.iter().any(|(s, _)| s == src) {
                    out.push((src.clone(), Expr::Column(c.name.clone())));
                }
            }
        }
        out
    }

    /// Source columns the mapping reads.
    pub fn source_columns(&self) -> BTreeSet<Ident> {
        let mut cols: BTreeSet<Ident> = self.key.iter().cloned().collect();
        for (_, e) in self.mapped() {
            e.columns(&mut cols);
        }
        cols
    }
}

/// Where database passwords live: the migrate function's policy reads these and nothing else.
pub const SECRET_PREFIX: &str = "cutover/";
pub const PARAMETER_PREFIX: &str = "/cutover/db/";

pub(crate) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn read_database(r: &mut Reader<'_>) -> Option<Database> {
    let host = r.string("host", false);
    let port = r
        .value("port", false)
        .is_some()
        .then(|| r.integer("port", 65_535, 5432) as u16);
    let name = r.string("name", false);
    let user = r.string("user", false);
    let secret = r.string("passwordSecret", false);
    let parameter = r.string("passwordParameter", false);
    let password = match (secret, parameter) {
        // Only the migrate function may read these, and only under these names (template.yaml): a
        // password stored elsewhere is one its policy does not grant, refused here with the reason.
        (Some(s), None) if !s.starts_with(SECRET_PREFIX) && !s.starts_with("arn:") => {
            r.fail(
                "passwordSecret",
                format!(
                    "must be a secret named {SECRET_PREFIX}… or the ARN of one the stack's \
                     DatabaseSecretArns parameter lists (as RDS-managed rds!… secrets are)"
                ),
            );
            None
        }
        (None, Some(p)) if !p.starts_with(PARAMETER_PREFIX) => {
            r.fail(
                "passwordParameter",
                format!("must be a SecureString parameter under {PARAMETER_PREFIX}"),
            );
            None
        }
        (Some(s), None) => Some(PasswordRef::Secret(s)),
        (None, Some(p)) => Some(PasswordRef::Parameter(p)),
        _ => {
            r.fail(
                "passwordSecret",
                "give exactly one of passwordSecret and passwordParameter",
            );
            None
        }
    };
    let tls = match r.string("tls", false).as_deref() {
        None | Some("verify-full") => true,
        Some("disable") => false,
        Some(other) => {
            r.fail(
                "tls",
                format!("must be verify-full or disable, got \"{other}\""),
            );
            true
        }
    };
    // Without TLS the password would cross the network in the clear to whatever host the spec names.
    if !tls && host.as_deref().is_some_and(|h| !is_loopback(h)) {
        // (A host that only the secret names is held to the same rule when it is resolved.)
        r.fail(
            "tls",
            "disable is only for a database on this machine (127.0.0.1, ::1, localhost)",
        );
    }
    Some(Database {
        host,
        port,
        name,
        user,
        password: password?,
        tls,
    })
}

fn read_target(r: &mut Reader<'_>) -> (Option<TableName>, Option<Vec<Column>>) {
    let table = r
        .string("table", true)
        .and_then(|s| TableName::parse(&s).map_err(|e| r.fail("table", e)).ok());
    let columns = match r.value("columns", true) {
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut cols: Vec<Column> = Vec::new();
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                let prefix = format!("columns[{i}]");
                let Some(obj) = item.as_object() else {
                    r.fail(&prefix, "must be an object");
                    ok = false;
                    continue;
                };
                let mut c = Reader {
                    prefix: r.path(&prefix),
                    errors: &mut *r.errors,
                    obj: Some(obj),
                };
                let name = c.string("name", true);
                let name = ident(&mut c, "name", name);
                let ty = c
                    .string("type", true)
                    .and_then(|t| SqlType::parse(&t).map_err(|e| c.fail("type", e)).ok());
                let nullable = c.boolean("nullable", true);
                let from = c.string("from", false).and_then(|f| {
                    Expr::parse(&f)
                        .map_err(|e| c.fail("from", format!("\"{f}\": {e}")))
                        .ok()
                });
                if c.obj
                    .and_then(|o| o.get("from"))
                    .is_some_and(|v| !v.is_null())
                    && from.is_none()
                {
                    ok = false;
                }
                if from.is_none() && !nullable {
                    c.fail("from", "a NOT NULL column needs a mapping");
                    ok = false;
                }
                match (name, ty) {
                    (Some(name), Some(ty)) => {
                        if cols.iter().any(|c| c.name == name) {
                            c.fail("name", format!("{name} is listed twice"));
                            ok = false;
                        }
                        cols.push(Column {
                            name,
                            ty,
                            nullable,
                            from,
                        });
                    }
                    _ => ok = false,
                }
            }
            ok.then_some(cols)
        }
        Some(other) => {
            r.fail("columns", format!("must be a non-empty list, got {other}"));
            None
        }
        None => None,
    };
    (table, columns)
}

fn read_reverse(r: &mut Reader<'_>) -> Option<Vec<(Ident, Expr)>> {
    match r.value("reverse", false) {
        None => Some(Vec::new()),
        Some(Value::Object(map)) => {
            let mut out = Vec::new();
            let mut ok = true;
            for (k, v) in map {
                let field = format!("reverse.{k}");
                let col = Ident::parse(k).map_err(|e| r.fail(&field, e)).ok();
                let e = match v.as_str() {
                    Some(s) => Expr::parse(s)
                        .map_err(|e| r.fail(&field, format!("\"{s}\": {e}")))
                        .ok(),
                    None => {
                        r.fail(&field, "must be an expression over target columns");
                        None
                    }
                };
                match (col, e) {
                    (Some(c), Some(e)) => out.push((c, e)),
                    _ => ok = false,
                }
            }
            ok.then_some(out)
        }
        Some(other) => {
            r.fail(
                "reverse",
                format!("must be an object of column: expression, got {other}"),
            );
            None
        }
    }
}
