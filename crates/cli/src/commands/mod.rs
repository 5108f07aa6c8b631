//! One file per subcommand: its flags (`Args`) and `run`, which checks every value before it builds
//! the runtime, so a bad invocation never reaches AWS.

pub mod approve;
pub mod check_target;
pub mod deploy;
pub mod history;
pub mod migrate;
pub mod plan;
pub mod promote;
pub mod rollback;
pub mod status;

use crate::outcome::Outcome;
use crate::report::Report;
use serde_json::Value;
use std::future::Future;

/// The AWS part of a subcommand, on a runtime built only once its input has been checked.
fn block_on(work: impl Future<Output = Result<Outcome, String>>) -> Result<Outcome, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(work)
}

/// The last event of a followed execution: how it ended and how long it took.
fn report_result(
    report: &Report,
    followed: Result<(Outcome, Value), String>,
) -> Result<Outcome, String> {
    report.finish();
    let (outcome, result) = followed?;
    let text = format!(
        "{outcome:?} after {} s: {} {}",
        result["durationSeconds"],
        result["status"].as_str().unwrap_or("?"),
        result["error"].as_str().unwrap_or("")
    );
    report.event("result", text.trim_end(), result);
    Ok(outcome)
}
