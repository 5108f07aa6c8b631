//! `cutover approve --token T`: answer a migration waiting at its approval gate.

use crate::args::SharedArgs;
use crate::context::Context;
use crate::outcome::Outcome;
use crate::report::Report;
use aws_sdk_sfn as sfn;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    token: String,
    /// Refuse instead, saying why; the migration reverts.
    #[arg(long)]
    reject: Option<String>,
}

pub fn run(Args { token, reject }: Args, shared: SharedArgs) -> Result<Outcome, String> {
    if token.trim().is_empty() || token.len() > 4096 {
        return Err("--token: the taskToken from the approval message".into());
    }
    if reject.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return Err("--reject: say why, for the record".into());
    }
    super::with_context(shared, |ctx, format| async move {
        approve(&ctx, &token, reject.as_deref(), &Report::new(format)).await?;
        Ok(Outcome::Done)
    })
}

/// SendTaskSuccess (contract goes ahead) or SendTaskFailure `Rejected` (the migration reverts).
async fn approve(
    ctx: &Context,
    token: &str,
    reject: Option<&str>,
    report: &Report,
) -> Result<(), String> {
    let client = sfn::Client::new(&ctx.conf);
    let who = std::env::var("USER")
        .or_else(|_| std::env::var("GITHUB_ACTOR"))
        .unwrap_or_else(|_| "unknown".into());
    match reject {
        None => {
            let output = json!({ "approved": true, "by": who });
            client
                .send_task_success()
                .task_token(token)
                .output(output.to_string())
                .send()
                .await
                .map_err(|e| cutover_aws::AwsError::from_sdk("SendTaskSuccess", e).to_string())?;
            report.event(
                "approved",
                &format!("approved by {who}: the migration contracts"),
                output,
            );
        }
        Some(reason) => {
            client
                .send_task_failure()
                .task_token(token)
                .error("Rejected")
                .cause(format!("{who}: {reason}"))
                .send()
                .await
                .map_err(|e| cutover_aws::AwsError::from_sdk("SendTaskFailure", e).to_string())?;
            report.event(
                "rejected",
                &format!("rejected by {who}: {reason}; the migration reverts"),
                json!({ "by": who, "reason": reason }),
            );
        }
    }
    Ok(())
}
