//! `cutover`: what CI and people run. So far the offline commands: expand a strategy into its steps,
//! and check a target configuration before it goes into SSM.

use clap::{Parser, Subcommand};
use cutover_core::{Strategy, TargetConfig};
use serde_json::Value;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cutover",
    version,
    about = "Safe blue/green and canary deployments for ECS behind an ALB"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the steps a strategy expands to: a preset name or {"steps": [{"weight", "bakeSeconds"}]}.
    Plan {
        #[arg(long)]
        strategy: String,
    },
    /// Validate a target configuration file (the JSON stored at /cutover/<app>/<env>/target).
    CheckTarget { file: std::path::PathBuf },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cutover: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Plan { strategy } => {
            // A bare name is a preset; anything that parses as JSON is a custom plan.
            let value = serde_json::from_str(&strategy).unwrap_or(Value::String(strategy));
            let strategy = Strategy::from_json(&value).map_err(|e| e.to_string())?;
            let mut elapsed = 0u64;
            for (i, step) in strategy.plan().iter().enumerate() {
                println!(
                    "step {:>2}: candidate {:>3}%  bake {:>5} s  (t+{} s)",
                    i + 1,
                    step.weight,
                    step.bake_seconds,
                    elapsed
                );
                elapsed += u64::from(step.bake_seconds);
            }
            Ok(())
        }
        Command::CheckTarget { file } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let value: Value = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
            match TargetConfig::from_json(&value) {
                Ok(t) => {
                    println!(
                        "{}: valid (listener {}, {} alarms)",
                        file.display(),
                        t.listener_arn,
                        t.alarms.len()
                    );
                    Ok(())
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
    }
}
