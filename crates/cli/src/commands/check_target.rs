//! `cutover check-target FILE`: a target configuration checked here, every bad field listed. No AWS
//! call.

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
    match TargetConfig::from_json(&value) {
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
