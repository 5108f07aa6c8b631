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
