//! `cutover check-target FILE`: a target configuration checked here, every bad field listed. No AWS
//! call. AWS's metric rules apply unless `METRIC_PERIOD_FLOOR_SECONDS` lowers them, as the functions'
//! own environment does in the local cloud.

use crate::outcome::Outcome;
use cutover_core::TargetConfig;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    file: PathBuf,
}

pub fn run(Args { file }: Args) -> Result<Outcome, String> {
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
    let rules = cutover_aws::aws_cloud::metric_rules(|k| std::env::var(k).ok())
        .map_err(|e| e.to_string())?;
    match TargetConfig::from_json_with(&value, rules) {
        Ok(t) => {
            println!(
                "{}: valid (listener {}, {} alarms)",
                file.display(),
                t.listener_arn,
                t.alarms.len()
            );
            Ok(Outcome::Done)
        }
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
            Err(format!(
                "{}: {} bad field(s)\n{}",
                file.display(),
                errors.len(),
                lines.join("\n")
            ))
        }
    }
}
