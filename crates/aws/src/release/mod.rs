//! The release function's seam (issue 18). It runs in the home region and reaches the Cutover stacks
//! of other regions, so none of the regional ports apply: its own, gathered by [`ReleaseCloud`].
//! Step Functions' own `startExecution` integration cannot start an execution in another region
//! (docs/multi-region.md, "Why a function starts the regional executions"), so the release machine
//! asks this function to start and to poll them.

#[cfg(feature = "release")]
pub mod aws;
#[cfg(feature = "fakes")]
pub mod fakes;

use crate::{AwsError, Telemetry};
use cutover_core::release::ReleaseRecord;
use cutover_core::Ledger;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::future::Future;

/// What a regional stack publishes about itself (its SSM parameter `/cutover-stack/<stack name>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionalStack {
    #[serde(default)]
    pub region: String,
    pub deploy_state_machine_arn: String,
    pub ledger_table: String,
}

/// A regional execution as Step Functions describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionState {
    pub status: String,
    pub error: Option<String>,
    pub input: Option<String>,
}

/// What a start found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    New {
        arn: String,
    },
    /// An execution of that name exists; its input tells whether it is this request's.
    Existing {
        arn: String,
        input: String,
    },
}

/// The Cutover stacks of the release's regions.
pub trait Regions {
    /// The stack of `region`, or `None` when none is published there.
    fn stack(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Option<RegionalStack>, AwsError>> + Send;

    /// Start the regional deploy execution `name` with `input`.
    fn start(
        &self,
        stack: &RegionalStack,
        name: &str,
        input: &str,
    ) -> impl Future<Output = Result<Started, AwsError>> + Send;

    fn execution(
        &self,
        region: &str,
        arn: &str,
    ) -> impl Future<Output = Result<ExecutionState, AwsError>> + Send;

    /// That region's deployment ledger of `app`/`env`.
    fn ledger(
        &self,
        stack: &RegionalStack,
        app: &str,
        env: &str,
    ) -> impl Future<Output = Result<Option<Ledger>, AwsError>> + Send;
}

/// Route 53 health checks.
pub trait HealthChecks {
    /// The status each Route 53 checker last observed (`Success: …` / `Failure: …`).
    fn observations(
        &self,
        health_check_id: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
}

/// Releases in the home region's ledger table, and their plans in its Parameter Store.
pub trait Releases {
    fn load(
        &self,
        app: &str,
        env: &str,
    ) -> impl Future<Output = Result<Option<ReleaseRecord>, AwsError>> + Send;

    /// Write as `version + 1` only if the stored version is still `version` (0: none stored yet).
    /// `Ok(false)`: someone else wrote first.
    fn save(&self, release: &ReleaseRecord) -> impl Future<Output = Result<bool, AwsError>> + Send;

    /// Keep a finished release in the service's history (idempotent: the same release again
    /// replaces its own record).
    fn archive(&self, release: &ReleaseRecord)
        -> impl Future<Output = Result<(), AwsError>> + Send;

    /// The newest `limit` archived releases, newest first.
    fn archived(
        &self,
        app: &str,
        env: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ReleaseRecord>, AwsError>> + Send;

    /// The status of a release execution of the home release machine (`RUNNING`, `FAILED`,
    /// `ABORTED`, …); `None` when Step Functions no longer knows it (90 days after it closed).
    fn execution_status(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;

    /// The plan stored at `/cutover/<app>/<env>/release`, as JSON; `None` when there is none.
    fn plan(
        &self,
        app: &str,
        env: &str,
    ) -> impl Future<Output = Result<Option<Value>, AwsError>> + Send;
}

pub trait ReleaseCloud: Sync {
    type Regions: Regions + Sync;
    type HealthChecks: HealthChecks + Sync;
    type Releases: Releases + Sync;
    /// The home region's metrics and bus: a release's start and end.
    type Telemetry: Telemetry + Sync;
    fn regions(&self) -> &Self::Regions;
    fn health_checks(&self) -> &Self::HealthChecks;
    fn releases(&self) -> &Self::Releases;
    /// The regions the stack was told about (`RELEASE_REGIONS`), in that order.
    fn known_regions(&self) -> &[String];
    fn telemetry(&self) -> &Self::Telemetry;
}

/// The parameter a regional stack publishes its outputs in.
pub fn stack_parameter(stack_name: &str) -> String {
    format!("/cutover-stack/{stack_name}")
}

/// The parameter of a service's release plan.
pub fn plan_parameter(app: &str, env: &str) -> String {
    format!("/cutover/{app}/{env}/release")
}
