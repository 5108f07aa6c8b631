//! The deployment ledger's record (docs/architecture.md, "Ledger and status machine"). Every change
//! a function may make to it is in `changes`; the statuses a deployment moves through are in
//! `crate::status`.

mod changes;

use crate::status::Status;
use crate::traffic::{Colour, Weights};
use serde::{Deserialize, Serialize};

/// A task definition revision and the image of the container Cutover deploys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    pub task_definition_arn: String,
    pub image: String,
}

/// One traffic change, as recorded: the ordered list of these is the deployment's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shift {
    pub step_index: u32,
    pub weights: Weights,
    pub at_ms: u64,
}

/// A step's final health verdict, kept so a person (and `cutover status`) sees why it went on or back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictRecord {
    pub step_index: Option<u32>,
    /// The candidate's share of traffic when it was judged.
    pub candidate_weight: u8,
    /// `Healthy` or `Unhealthy`.
    pub verdict: String,
    pub score: Option<f64>,
    pub lines: Vec<String>,
    pub at_ms: u64,
}

/// One rollback of a deployment: what asked for it and how long it took. However many alarms fire
/// or deliveries repeat, a deployment has at most one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackRecord {
    /// `alarm`, `step` (a failed step of the state machine) or `manual`: whichever came first.
    pub trigger: String,
    /// Every distinct request that arrived: alarm names, the step's error, a person's reason.
    pub sources: Vec<String>,
    pub requested_at_ms: u64,
    pub traffic_restored_at_ms: Option<u64>,
    pub finished_at_ms: Option<u64>,
    /// When the alarm that asked went into ALARM (its state change, not the delivery): what
    /// `cutover report` marks as the alarm moment. Records from before it was kept have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_at_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub id: String,
    pub execution_arn: Option<String>,
    pub candidate: Colour,
    pub image: String,
    /// The candidate's task definition, once `prepare` has registered it.
    pub release: Option<Release>,
    pub status: Status,
    pub weights: Weights,
    pub step_index: Option<u32>,
    pub shifts: Vec<Shift>,
    pub started_at_ms: u64,
    pub updated_at_ms: u64,
    pub reason: Option<String>,
    /// Records written before verdicts existed have none.
    #[serde(default)]
    pub verdicts: Vec<VerdictRecord>,
    #[serde(default)]
    pub rollback: Option<RollbackRecord>,
    /// Alarms that fired while `autoRollback` was off: seen, not acted on.
    #[serde(default)]
    pub noted_alarms: Vec<String>,
    /// The step whose remaining bake a person skipped (`cutover promote`); its verification still runs.
    #[serde(default)]
    pub skip_bake: Option<u32>,
    /// When the current step's verification began: the end of its bake, which the verification
    /// deadline counts from (a 15-minute bake must not spend a 15-minute timeout).
    #[serde(default)]
    pub verifying_since_ms: Option<u64>,
    /// Where the candidate was reachable before production traffic (target/test_route.rs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_route: Option<TestRouteRecord>,
    /// The lifecycle hooks run so far, one record per stage (target/hooks.rs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookRecord>,
    /// An A/B experiment's spec, the listener's stickiness before it, and its verdict (experiment/).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<crate::experiment::ExperimentRecord>,
    /// A rollback drill's fault and canary ceiling (drill.rs): it never promotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill: Option<crate::drill::DrillRecord>,
}

/// A lifecycle hook's stage: its last answer and how long it has run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookRecord {
    pub stage: crate::target::HookStage,
    pub function: String,
    /// `InProgress`, `NoAnswer` (the invocation did not answer in time), `Succeeded` or `Failed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub attempts: u32,
    pub started_at_ms: u64,
    pub updated_at_ms: u64,
}

impl Deployment {
    /// When `colour` stopped receiving new requests: the last recorded shift that left it at 0 %, or
    /// the last write when no shift says so. Its tasks may stop only a deregistration delay later.
    pub fn drained_since_ms(&self, colour: Colour) -> u64 {
        self.shifts
            .iter()
            .rev()
            .take_while(|s| s.weights.of(colour) == 0)
            .last()
            .map_or(self.updated_at_ms, |s| s.at_ms)
    }
}

/// The test route a deployment opened, and when it was closed again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestRouteRecord {
    pub listener_arn: Option<String>,
    pub rule_arn: Option<String>,
    pub opened_at_ms: u64,
    #[serde(default)]
    pub closed_at_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    pub app: String,
    pub env: String,
    pub live_colour: Colour,
    pub last_known_good: Option<Release>,
    pub deployment: Option<Deployment>,
    /// Rolling-mode services have no deployment of Cutover's: their last rollback is kept here.
    #[serde(default)]
    pub last_rollback: Option<RollbackRecord>,
    /// Bumped by every write; the store writes only if the stored version is the one it read.
    pub version: u64,
}

/// What `acquire` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquired {
    /// A new deployment now owns the app/env.
    New,
    /// The same deployment id already owns it: a retried `prepare`, nothing changed.
    AlreadyOwned,
}

impl Ledger {
    /// The first record of an app/env, from what is live today.
    pub fn new(app: &str, env: &str, live_colour: Colour, live: Option<Release>) -> Ledger {
        Ledger {
            app: app.into(),
            env: env.into(),
            live_colour,
            last_known_good: live,
            deployment: None,
            last_rollback: None,
            version: 0,
        }
    }
}

#[cfg(test)]
mod tests;
