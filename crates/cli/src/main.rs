//! `cutover`: what CI and people run.
//!
//! Exit codes: 0 promoted (or the command succeeded), 1 usage or AWS error, 2 rolled back, 3 failed,
//! 4 refused (another deployment is active, or deployments are frozen).

mod args;
mod commands;
mod context;
mod html;
mod outcome;
mod report;

use args::{ServiceArgs, SharedArgs};
use clap::{Parser, Subcommand};
use commands::{approve, check_target, deploy, history, migrate, plan, promote, rollback, status};
use outcome::Outcome;
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
    shared: SharedArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Start a deployment (execution <app>-<env>-<id>, cut to 80 characters, plus a tag); the same id again attaches to it.
    #[command(after_help = EXIT_CODES)]
    Deploy(deploy::Args),
    /// The ledger, the live colour, the weights the load balancer reports, the active execution.
    Status(ServiceArgs),
    /// Past deployments, newest first, with outcome and duration.
    History(history::Args),
    /// Write an HTML page of recent deployments: listener weights over time, bake windows, verdicts,
    /// alarm and rollback moments, candidate vs baseline 5XX rate and p95, and a history table.
    Report(commands::report::Args),
    /// Put all traffic back on the live colour now and stop the active deployment.
    Rollback(rollback::Args),
    /// Skip the rest of the current step's bake; the step's verification still runs before any shift.
    Promote(ServiceArgs),
    /// Print the steps a strategy expands to: a preset name or {"steps": [{"weight", "bakeSeconds"}]}.
    Plan(plan::Args),
    /// Run a table migration (expand, backfill, verify, switch, bake, contract; revert on failure)
    /// from a spec file. The same spec again attaches to its execution. Exit codes: 0 contracted,
    /// 2 reverted, 3 failed, 4 refused.
    Migrate(migrate::Args),
    /// Answer a migration waiting for approval, with the task token from the approval topic's message:
    /// it contracts, or with --reject it reverts.
    Approve(approve::Args),
    /// Validate a target configuration file (the JSON stored at /cutover/<app>/<env>/target).
    CheckTarget(check_target::Args),
    /// A/B experiments: `start` holds a split for a duration and judges a metric; `conclude`
    /// promotes the winner (or keeps the control). Exit codes as deploy's; 0 also when the control
    /// is kept.
    Experiment(commands::experiment::Args),
    /// Release an image region by region in waves (the home region's release machine): each region's
    /// deployment as `deploy` runs it, a bake between waves, stop (or roll all back) at the first
    /// failure. The same id again attaches. Exit codes as deploy's.
    #[command(after_help = EXIT_CODES)]
    Release(commands::release::Args),
    /// A rollback drill: a canary of the live image whose revision carries CUTOVER_DRILL_FAULT, which
    /// Cutover must detect and roll back; reports detection time, time to rollback and the requests
    /// users got wrong, and writes the report to the history. Never promotes. Exit codes: 0 detected
    /// and rolled back, 3 not detected (rolled back at the end of the canary) or failed, 4 refused.
    Drill(commands::drill::Args),
    /// Route 53 failover: `status` shows which region each record of the release plan favours,
    /// each half's health check, and each region's live colour and image.
    #[command(subcommand)]
    Failover(commands::failover::Args),
}

fn main() -> ExitCode {
    let outcome = match Cli::try_parse() {
        Ok(cli) => run(cli).unwrap_or_else(|message| {
            eprintln!("cutover: {message}");
            Outcome::Error
        }),
        Err(e) => {
            let _ = e.print();
            if e.use_stderr() {
                Outcome::Error
            } else {
                Outcome::Done
            }
        }
    };
    ExitCode::from(outcome.code())
}

fn run(cli: Cli) -> Result<Outcome, String> {
    let shared = cli.shared;
    match cli.command {
        Command::Deploy(args) => deploy::run(args, shared),
        Command::Status(args) => status::run(args, shared),
        Command::History(args) => history::run(args, shared),
        Command::Report(args) => commands::report::run(args, shared),
        Command::Rollback(args) => rollback::run(args, shared),
        Command::Promote(args) => promote::run(args, shared),
        Command::Plan(args) => plan::run(args),
        Command::Migrate(args) => migrate::run(args, shared),
        Command::Approve(args) => approve::run(args, shared),
        Command::CheckTarget(args) => check_target::run(args),
        Command::Experiment(args) => commands::experiment::run(args, shared),
        Command::Release(args) => commands::release::run(args, shared),
        Command::Failover(args) => commands::failover::run(args, shared),
        Command::Drill(args) => commands::drill::run(args, shared),
    }
}
