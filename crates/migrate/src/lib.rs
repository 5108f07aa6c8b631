//! Zero-downtime table migrations on PostgreSQL: the statements (`sql`), the phases that run them
//! (`phases`), and the connection (`connect`). The spec and the phase rules are in `cutover-core`.

pub mod connect;
pub mod phases;
pub mod sql;

pub use cutover_aws::SwitchStore;
pub use phases::{run, PhaseRequest};

/// How long one invocation of the migrate function keeps copying batches (it may run 300 s). One
/// batch per invocation made the state machine's history the limit: 25 000 events are ~3.5 M rows at
/// 1 000 a batch, and the execution would fail outside any Catch with triggers in place.
pub const BACKFILL_BUDGET: std::time::Duration = std::time::Duration::from_secs(120);

use cutover_core::{ErrorType, Failure};
use serde_json::json;

/// SQLSTATE classes that a later attempt can get past: lock timeouts, serialization failures,
/// deadlocks, connection loss, a server shutting down or out of connections.
fn is_transient(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("57")
        || code.starts_with("53")
        || matches!(code, "55P03" | "40001" | "40P01")
}

/// A database error as a function failure: the SQLSTATE decides whether the state machine retries
/// (`AwsTransient`) or stops (`InvalidInput`). The message is PostgreSQL's (which never holds the
/// password) without the row data PostgreSQL puts in some errors.
pub fn db_failure(e: tokio_postgres::Error) -> Failure {
    match e.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            let kind = if is_transient(code) {
                ErrorType::AwsTransient
            } else {
                ErrorType::InvalidInput
            };
            // A failure travels into the Step Functions history, the logs and the CLI. PostgreSQL's
            // DETAIL quotes rows (a duplicate key's values, "Failing row contains (…)"), and a data
            // exception's message quotes the value that did not fit: neither leaves here. The
            // names of the table, column and constraint are schema, not data, and are kept.
            let message = if code.starts_with("22") {
                format!(
                    "a value does not fit its type or range (the value is not shown){}",
                    db.column()
                        .map_or(String::new(), |c| format!(" in column {c}"))
                )
            } else {
                db.message().to_string()
            };
            Failure::new(kind, format!("PostgreSQL {code}: {message}")).with_details(json!({
                "sqlstate": code,
                "table": db.table(),
                "column": db.column(),
                "constraint": db.constraint(),
            }))
        }
        // tokio-postgres says what went wrong in the error's source ("authentication error" alone
        // would not tell a refused channel binding from a wrong password).
        None => Failure::new(
            ErrorType::AwsTransient,
            match std::error::Error::source(&e) {
                Some(cause) => format!("PostgreSQL connection: {e}: {cause}"),
                None => format!("PostgreSQL connection: {e}"),
            },
        ),
    }
}
