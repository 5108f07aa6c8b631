//! `cutover`: what CI and people run.
//!
//! Exit codes: 0 promoted (or the command succeeded), 1 usage or AWS error, 2 rolled back, 3 failed,
//! 4 refused (another deployment is active, or deployments are frozen).

mod context;
mod deploy;
mod inspect;
mod migrate;
mod report;

use clap::{Parser, Subcommand};
use context::{Context, StackArgs};
use cutover_core::{check_name, Strategy, TargetConfig};
use report::{Format, Report};
use serde_json::Value;
use std::process::ExitCode;

const EXIT_CODES: &str = "Exit codes: 0 promoted / done, 1 usage or AWS error, 2 rolled back, \
3 failed, 4 refused (conflict with an active deployment, or deployments frozen).";

#[derive(Parser)]
#[command(
    name = "cutover",
    version,
    about = "Safe blue/green and canary deployments for ECS behind an ALB",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    stack: StackArgs,
    /// text: a live line on a terminal, one line per event otherwise; json: one object per line.
    #[arg(long, value_enum, default_value = "text", global = true)]
    output: Format,
}

#[derive(Subcommand)]
enum Command {
    /// Start a deployment (execution <app>-<env>-<id>); the same id again attaches to it.
    #[command(after_help = EXIT_CODES)]
    Deploy {
        #[arg(long)]
        app: String,
        #[arg(long)]
        env: String,
        /// The container image to deploy.
        #[arg(long)]
        image: String,
        /// A preset (Canary10Percent5Minutes, …) or {"steps": [...]}; default: the target's.
        #[arg(long)]
        strategy: Option<String>,
        /// The deployment id, usually the commit SHA (default: $GITHUB_SHA).
        #[arg(long, env = "GITHUB_SHA")]
        id: String,
        /// Follow the deployment to its end; the exit code tells how it ended.
        #[arg(long)]
        wait: bool,
    },
    /// The ledger, the live colour, the weights the load balancer reports, the active execution.
    Status {
        #[arg(long)]
        app: String,
        #[arg(long)]
        env: String,
    },
    /// Past deployments, newest first, with outcome and duration.
    History {
        #[arg(long)]
        app: String,
        #[arg(long)]
        env: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Put all traffic back on the live colour now and stop the active deployment.
    Rollback {
        #[arg(long)]
        app: String,
        #[arg(long)]
        env: String,
        #[arg(long)]
        reason: String,
    },
    /// Skip the rest of the current step's bake; the step's verification still runs before any shift.
    Promote {
        #[arg(long)]
        app: String,
        #[arg(long)]
        env: String,
    },
    /// Print the steps a strategy expands to: a preset name or {"steps": [{"weight", "bakeSeconds"}]}.
    Plan {
        #[arg(long)]
        strategy: String,
    },
    /// Run a table migration (expand, backfill, verify, switch, bake, contract; revert on failure)
    /// from a spec file. The same spec again attaches to its execution. Exit codes: 0 contracted,
    /// 2 reverted, 3 failed, 4 refused.
    Migrate {
        #[arg(long)]
        spec: std::path::PathBuf,
        /// Name the execution <id>-<run> instead of <id>-<spec fingerprint> (to re-run a reverted spec).
        #[arg(long)]
        run: Option<String>,
        /// Follow the migration to its end; the exit code tells how it ended.
        #[arg(long)]
        wait: bool,
    },
    /// Answer a migration waiting for approval, with the task token from the approval topic's message:
    /// it contracts, or with --reject it reverts.
    Approve {
        #[arg(long)]
        token: String,
        /// Refuse instead, saying why; the migration reverts.
        #[arg(long)]
        reject: Option<String>,
    },
    /// Validate a target configuration file (the JSON stored at /cutover/<app>/<env>/target).
    CheckTarget { file: std::path::PathBuf },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("cutover: {message}");
            ExitCode::from(1)
        }
    }
}

/// A strategy argument: a bare preset name, or JSON for custom steps.
fn strategy_value(text: &str) -> Result<Value, String> {
    let value = serde_json::from_str(text).unwrap_or(Value::String(text.to_string()));
    Strategy::from_json(&value).map_err(|e| format!("--strategy: {e}"))?;
    Ok(value)
}

fn names(pairs: &[(&str, &str)]) -> Result<(), String> {
    for (field, value) in pairs {
        check_name(field, value).map_err(|f| format!("--{}", f.reason))?;
    }
    Ok(())
}

fn run(cli: Cli) -> Result<u8, String> {
    let format = cli.output;
    // Everything below that needs AWS is checked for bad input first: nothing is called for it.
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    };
    match cli.command {
        Command::Deploy {
            app,
            env,
            image,
            strategy,
            id,
            wait,
        } => {
            names(&[("app", &app), ("env", &env), ("id", &id)])?;
            if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
                return Err("--image: must be an image reference without spaces".into());
            }
            let strategy = strategy.as_deref().map(strategy_value).transpose()?;
            let req = deploy::Request {
                app,
                env,
                image,
                strategy,
                id,
            };
            runtime()?.block_on(async {
                let mut ctx = Context::new(cli.stack).await;
                let report = Report::new(format);
                let arn = deploy::start(&mut ctx, &req, &report).await?;
                if !wait {
                    return Ok(0);
                }
                let followed = deploy::follow(&mut ctx, &arn, &req, &report).await;
                report.finish();
                let (outcome, result) = followed?;
                let text = format!(
                    "{:?} after {} s: {} {}",
                    outcome,
                    result["durationSeconds"],
                    result["status"].as_str().unwrap_or("?"),
                    result["error"].as_str().unwrap_or("")
                );
                report.event("result", text.trim_end(), result);
                Ok(outcome.code())
            })
        }
        Command::Status { app, env } => {
            names(&[("app", &app), ("env", &env)])?;
            runtime()?.block_on(async {
                inspect::status(&mut Context::new(cli.stack).await, &app, &env, format).await?;
                Ok(0)
            })
        }
        Command::History { app, env, limit } => {
            names(&[("app", &app), ("env", &env)])?;
            runtime()?.block_on(async {
                inspect::history(
                    &mut Context::new(cli.stack).await,
                    &app,
                    &env,
                    limit,
                    format,
                )
                .await?;
                Ok(0)
            })
        }
        Command::Rollback { app, env, reason } => {
            names(&[("app", &app), ("env", &env)])?;
            if reason.trim().is_empty() {
                return Err("--reason: say why, for the record".into());
            }
            runtime()?.block_on(async {
                inspect::rollback(
                    &mut Context::new(cli.stack).await,
                    &app,
                    &env,
                    &reason,
                    format,
                )
                .await?;
                Ok(0)
            })
        }
        Command::Promote { app, env } => {
            names(&[("app", &app), ("env", &env)])?;
            runtime()?.block_on(async {
                inspect::promote(&mut Context::new(cli.stack).await, &app, &env, format).await
            })
        }
        Command::Plan { strategy } => {
            let value = strategy_value(&strategy)?;
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
            Ok(0)
        }
        Command::Migrate { spec, run, wait } => {
            let (raw, parsed) = migrate::load_spec(&spec)?;
            if let Some(r) = &run {
                check_name("run", r).map_err(|f| format!("--{}", f.reason))?;
            }
            let name = migrate::execution_name(&parsed, &raw, run.as_deref());
            runtime()?.block_on(async {
                let mut ctx = Context::new(cli.stack).await;
                let report = Report::new(format);
                let arn = migrate::start(&mut ctx, &raw, &name, &report).await?;
                if !wait {
                    return Ok(0);
                }
                let followed = migrate::follow(&mut ctx, &arn, &report).await;
                report.finish();
                let (outcome, result) = followed?;
                let text = format!(
                    "{outcome:?} after {} s: {} {}",
                    result["durationSeconds"],
                    result["status"].as_str().unwrap_or("?"),
                    result["error"].as_str().unwrap_or("")
                );
                report.event("result", text.trim_end(), result);
                Ok(outcome.code())
            })
        }
        Command::Approve { token, reject } => {
            if token.trim().is_empty() || token.len() > 4096 {
                return Err("--token: the taskToken from the approval message".into());
            }
            if reject.as_deref().is_some_and(|r| r.trim().is_empty()) {
                return Err("--reject: say why, for the record".into());
            }
            runtime()?.block_on(async {
                let ctx = Context::new(cli.stack).await;
                migrate::approve(&ctx, &token, reject.as_deref(), &Report::new(format)).await?;
                Ok(0)
            })
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
                    Ok(0)
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
