//! The flags more than one subcommand takes, and the checks on their values that run before any AWS
//! call.

use crate::report::Format;
use cutover_core::{check_name, Strategy};
use serde_json::Value;

/// Global: where Cutover lives in the account, and how progress is reported.
#[derive(Debug, Clone, clap::Args)]
pub struct SharedArgs {
    /// The Cutover stack whose outputs name the state machine, ledger table and rollback function.
    #[arg(long, env = "CUTOVER_STACK", default_value = "cutover", global = true)]
    pub stack: String,
    /// The deploy state machine (default: the stack's DeployStateMachineArn output).
    #[arg(long, env = "CUTOVER_STATE_MACHINE_ARN", global = true)]
    pub state_machine_arn: Option<String>,
    /// The release state machine of the home region (default: the stack's ReleaseStateMachineArn output).
    #[arg(long, env = "CUTOVER_RELEASE_STATE_MACHINE_ARN", global = true)]
    pub release_state_machine_arn: Option<String>,
    /// The ledger table (default: the stack's LedgerTableName output).
    #[arg(long, env = "CUTOVER_LEDGER_TABLE", global = true)]
    pub ledger_table: Option<String>,
    /// The migrate state machine (default: the stack's MigrateStateMachineArn output).
    #[arg(long, env = "CUTOVER_MIGRATE_STATE_MACHINE_ARN", global = true)]
    pub migrate_state_machine_arn: Option<String>,
    /// The rollback function (default: the stack's RollbackFunctionName output).
    #[arg(long, env = "CUTOVER_ROLLBACK_FUNCTION", global = true)]
    pub rollback_function: Option<String>,
    /// text: a live line on a terminal, one line per event otherwise; json: one object per line.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub output: Format,
}

// Not global: the subcommands that are about no one service (plan, migrate, approve, check-target)
// must not offer them.
#[derive(Debug, Clone, clap::Args)]
pub struct ServiceArgs {
    #[arg(long)]
    pub app: String,
    #[arg(long)]
    pub env: String,
}

impl ServiceArgs {
    pub fn check(&self) -> Result<(), String> {
        names(&[("app", &self.app), ("env", &self.env)])
    }
}

/// Names that become SSM paths, ledger keys and execution names, each reported as its flag.
/// `--image`: an image reference, not empty and without spaces.
pub fn image(image: &str) -> Result<(), String> {
    if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
        return Err("--image: must be an image reference without spaces".into());
    }
    Ok(())
}

pub fn names(pairs: &[(&str, &str)]) -> Result<(), String> {
    for (field, value) in pairs {
        check_name(field, value).map_err(|f| format!("--{}", f.reason))?;
    }
    Ok(())
}

/// A strategy argument: a bare preset name, or JSON for custom steps.
pub fn strategy_value(text: &str) -> Result<Value, String> {
    let value = serde_json::from_str(text).unwrap_or(Value::String(text.to_string()));
    Strategy::from_json(&value).map_err(|e| format!("--strategy: {e}"))?;
    Ok(value)
}
