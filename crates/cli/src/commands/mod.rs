//! One file per subcommand: its flags (`Args`) and `run`, which checks every value before it builds
//! the runtime, so a bad invocation never reaches AWS.

pub mod approve;
pub mod check_target;
pub mod deploy;
pub mod drill;
pub mod experiment;
pub mod failover;
pub mod history;
pub mod migrate;
pub mod plan;
pub mod promote;
pub mod release;
pub mod report;
pub mod rollback;
pub mod status;

use crate::args::SharedArgs;
use crate::context::Context;
use crate::outcome::Outcome;
use crate::report::{Format, Report};
use aws_sdk_sfn as sfn;
use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use serde_json::Value;
use std::future::Future;

/// The AWS part of a subcommand, given the account's context and the report format, on a runtime
/// built only once the subcommand's input has been checked.
fn with_context<W, F>(shared: SharedArgs, work: W) -> Result<Outcome, String>
where
    W: FnOnce(Context, Format) -> F,
    F: Future<Output = Result<Outcome, String>>,
{
    let format = shared.output;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(async move { work(Context::new(shared).await, format).await })
}

async fn describe_execution(
    client: &sfn::Client,
    arn: &str,
) -> Result<DescribeExecutionOutput, String> {
    client
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .map_err(|e| cutover_aws::AwsError::from_sdk("DescribeExecution", e).to_string())
}

/// The reason of a Cutover function's failure, from the execution's `cause`: Lambda's
/// `{errorType, errorMessage}` whose message is the function's `{errorType, reason, details}`.
fn failure_reason(cause: &str) -> Option<String> {
    let lambda: serde_json::Value = serde_json::from_str(cause).ok()?;
    let message = lambda["errorMessage"].as_str()?;
    let failure: serde_json::Value = serde_json::from_str(message).ok()?;
    failure["reason"].as_str().map(String::from)
}

/// The last event of a followed execution: how it ended and how long it took.
fn report_result(
    report: &Report,
    followed: Result<(Outcome, Value), String>,
) -> Result<Outcome, String> {
    report.finish();
    let (outcome, result) = followed?;
    let why = result["cause"]
        .as_str()
        .and_then(failure_reason)
        .map_or(String::new(), |r| format!(": {r}"));
    let text = format!(
        "{outcome:?} after {} s: {} {}{why}",
        result["durationSeconds"],
        result["status"].as_str().unwrap_or("?"),
        result["error"].as_str().unwrap_or("")
    );
    report.event("result", text.trim_end(), result);
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_functions_reason_is_read_out_of_the_executions_cause() {
        let cause = r#"{"errorType": "Conflict", "errorMessage": "{\"errorType\":\"Conflict\",\"reason\":\"us-east-1 is not deployed\",\"details\":{}}"}"#;
        assert_eq!(
            super::failure_reason(cause).as_deref(),
            Some("us-east-1 is not deployed")
        );
        assert_eq!(super::failure_reason("States.Timeout"), None);
        assert_eq!(super::failure_reason(r#"{"errorMessage": "plain"}"#), None);
    }
}
