//! `cutover rollback`: the manual rollback, through the same function alarms invoke.

use crate::args::{ServiceArgs, SharedArgs};
use crate::context::Context;
use crate::outcome::Outcome;
use crate::report::Format;
use aws_sdk_lambda::primitives::Blob;
use serde_json::{json, Value};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    #[arg(long)]
    reason: String,
}

pub fn run(Args { service, reason }: Args, shared: SharedArgs) -> Result<Outcome, String> {
    service.check()?;
    if reason.trim().is_empty() {
        return Err("--reason: say why, for the record".into());
    }
    super::with_context(shared, |mut ctx, format| async move {
        rollback(&mut ctx, &service.app, &service.env, &reason, format).await?;
        Ok(Outcome::Done)
    })
}

async fn rollback(
    ctx: &mut Context,
    app: &str,
    env: &str,
    reason: &str,
    format: Format,
) -> Result<(), String> {
    let function = ctx.rollback_function().await?;
    let lambda = aws_sdk_lambda::Client::new(&ctx.conf);
    let body = invoke(&lambda, &function, app, env, reason).await?;
    if format == Format::Json {
        println!("{body}");
    } else if body["rolledBack"] == true {
        println!(
            "rolled back {} of {app}/{env}: traffic on {} within {} ms of the request",
            body["deploymentId"].as_str().unwrap_or("?"),
            body["live"].as_str().unwrap_or("?"),
            body["timeToRollbackMs"]
        );
    } else {
        println!(
            "nothing to roll back for {app}/{env} (deployment status: {})",
            body["status"]
        );
    }
    Ok(())
}

/// Ask the rollback function to roll `app`/`env`'s active deployment back; its answer.
pub(super) async fn invoke(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    app: &str,
    env: &str,
    reason: &str,
) -> Result<Value, String> {
    let out = lambda
        .invoke()
        .function_name(function)
        .payload(Blob::new(
            json!({ "app": app, "env": env, "reason": reason }).to_string(),
        ))
        .send()
        .await
        .map_err(|e| cutover_aws::AwsError::from_sdk("Invoke", e).to_string())?;
    let body: Value = out
        .payload()
        .and_then(|b| serde_json::from_slice(b.as_ref()).ok())
        .unwrap_or(Value::Null);
    if out.function_error().is_some() {
        let reason = body["errorMessage"].as_str().unwrap_or("rollback failed");
        return Err(format!("rollback refused: {reason}"));
    }
    Ok(body)
}
