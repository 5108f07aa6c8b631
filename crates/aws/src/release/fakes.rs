//! In-memory release ports: regional stacks, their executions and ledgers, health checks, the home
//! table. Tests set what a region's execution and ledger say, then assert what the release wrote.

use super::{
    ExecutionState, HealthChecks, RegionalStack, Regions, ReleaseCloud, Releases, Started,
};
use crate::AwsError;
use cutover_core::release::ReleaseRecord;
use cutover_core::Ledger;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq)]
pub struct FakeExecution {
    pub region: String,
    pub name: String,
    pub input: String,
    pub state: ExecutionState,
}

#[derive(Default)]
struct State {
    stacks: BTreeMap<String, RegionalStack>,
    executions: BTreeMap<String, FakeExecution>,
    ledgers: BTreeMap<String, Ledger>,
    health: BTreeMap<String, Vec<String>>,
    release: Option<ReleaseRecord>,
    plan: Option<Value>,
    health_reads: Vec<String>,
    archive: BTreeMap<(u64, String), ReleaseRecord>,
    /// Release executions that ended (any other is running).
    release_executions: BTreeMap<String, Option<String>>,
}

#[derive(Clone, Default)]
pub struct FakeReleaseCloud {
    state: Arc<Mutex<State>>,
    known: Vec<String>,
    /// What the release told: its metric lines and state-change events.
    pub telemetry: Arc<crate::fakes::FakeTelemetry>,
}

impl FakeReleaseCloud {
    /// A cloud with a Cutover stack in each of `regions`.
    /// The home release execution `arn` ended with `status` (`None`: Step Functions no longer
    /// knows it).
    /// Change the stored release item in place (a test's stand-in for a write that never landed).
    pub fn edit_release(&self, change: impl FnOnce(&mut ReleaseRecord)) {
        if let Some(r) = self.lock().release.as_mut() {
            change(r);
        }
    }

    pub fn end_release_execution(&self, arn: &str, status: Option<&str>) {
        self.lock()
            .release_executions
            .insert(arn.into(), status.map(String::from));
    }

    pub fn with_regions(regions: &[&str]) -> Self {
        let cloud = FakeReleaseCloud {
            state: Arc::default(),
            known: regions.iter().map(|r| r.to_string()).collect(),
            telemetry: Arc::default(),
        };
        for r in regions {
            cloud.lock().stacks.insert(
                r.to_string(),
                RegionalStack {
                    region: r.to_string(),
                    deploy_state_machine_arn: format!(
                        "arn:aws:states:{r}:123456789012:stateMachine:cutover-deploy"
                    ),
                    ledger_table: format!("cutover-LedgerTable-{r}"),
                },
            );
        }
        cloud
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn remove_stack(&self, region: &str) {
        self.lock().stacks.remove(region);
    }

    pub fn set_plan(&self, plan: Value) {
        self.lock().plan = Some(plan);
    }

    pub fn set_health(&self, health_check_id: &str, observations: &[&str]) {
        self.lock().health.insert(
            health_check_id.into(),
            observations.iter().map(|s| s.to_string()).collect(),
        );
    }

    pub fn set_ledger(&self, region: &str, ledger: Ledger) {
        self.lock().ledgers.insert(region.into(), ledger);
    }

    pub fn ledger_of(&self, region: &str) -> Option<Ledger> {
        self.lock().ledgers.get(region).cloned()
    }

    /// End (or change) an execution as Step Functions would report it.
    pub fn set_execution(&self, arn: &str, status: &str, error: Option<&str>) {
        if let Some(e) = self.lock().executions.get_mut(arn) {
            e.state.status = status.into();
            e.state.error = error.map(String::from);
        }
    }

    pub fn executions(&self) -> Vec<(String, FakeExecution)> {
        self.lock()
            .executions
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn release(&self) -> Option<ReleaseRecord> {
        self.lock().release.clone()
    }

    pub fn archive(&self) -> Vec<ReleaseRecord> {
        self.lock().archive.values().cloned().collect()
    }

    pub fn health_reads(&self) -> Vec<String> {
        self.lock().health_reads.clone()
    }
}

impl Regions for FakeReleaseCloud {
    async fn stack(&self, region: &str) -> Result<Option<RegionalStack>, AwsError> {
        Ok(self.lock().stacks.get(region).cloned())
    }

    async fn start(
        &self,
        stack: &RegionalStack,
        name: &str,
        input: &str,
    ) -> Result<Started, AwsError> {
        let arn = format!(
            "{}:{name}",
            stack
                .deploy_state_machine_arn
                .replacen(":stateMachine:", ":execution:", 1)
        );
        let mut s = self.lock();
        if let Some(e) = s.executions.get(&arn) {
            if e.input == input && e.state.status == "RUNNING" {
                return Ok(Started::New { arn });
            }
            return Ok(Started::Existing {
                arn,
                input: e.input.clone(),
            });
        }
        s.executions.insert(
            arn.clone(),
            FakeExecution {
                region: stack.region.clone(),
                name: name.into(),
                input: input.into(),
                state: ExecutionState {
                    status: "RUNNING".into(),
                    error: None,
                    input: Some(input.into()),
                },
            },
        );
        Ok(Started::New { arn })
    }

    async fn execution(&self, _region: &str, arn: &str) -> Result<ExecutionState, AwsError> {
        self.lock()
            .executions
            .get(arn)
            .map(|e| e.state.clone())
            .ok_or(AwsError::NotFound {
                what: "execution",
                id: arn.into(),
            })
    }

    async fn ledger(
        &self,
        stack: &RegionalStack,
        _app: &str,
        _env: &str,
    ) -> Result<Option<Ledger>, AwsError> {
        Ok(self.lock().ledgers.get(&stack.region).cloned())
    }
}

impl HealthChecks for FakeReleaseCloud {
    async fn observations(&self, health_check_id: &str) -> Result<Vec<String>, AwsError> {
        let mut s = self.lock();
        s.health_reads.push(health_check_id.into());
        s.health
            .get(health_check_id)
            .cloned()
            .ok_or(AwsError::NotFound {
                what: "Route 53 health check",
                id: health_check_id.into(),
            })
    }
}

impl Releases for FakeReleaseCloud {
    async fn load(&self, _app: &str, _env: &str) -> Result<Option<ReleaseRecord>, AwsError> {
        Ok(self.lock().release.clone())
    }

    async fn save(&self, release: &ReleaseRecord) -> Result<bool, AwsError> {
        let mut s = self.lock();
        let stored = s.release.as_ref().map_or(0, |r| r.version);
        if stored != release.version {
            return Ok(false);
        }
        s.release = Some(ReleaseRecord {
            version: release.version + 1,
            ..release.clone()
        });
        Ok(true)
    }

    async fn archive(&self, release: &ReleaseRecord) -> Result<(), AwsError> {
        self.lock()
            .archive
            .insert((release.started_at_ms, release.id.clone()), release.clone());
        Ok(())
    }

    async fn archived(
        &self,
        _app: &str,
        _env: &str,
        limit: usize,
    ) -> Result<Vec<ReleaseRecord>, AwsError> {
        Ok(self
            .lock()
            .archive
            .values()
            .rev()
            .take(limit)
            .cloned()
            .collect())
    }

    async fn execution_status(&self, arn: &str) -> Result<Option<String>, AwsError> {
        Ok(self
            .lock()
            .release_executions
            .get(arn)
            .cloned()
            .unwrap_or(Some("RUNNING".into())))
    }

    async fn plan(&self, _app: &str, _env: &str) -> Result<Option<Value>, AwsError> {
        Ok(self.lock().plan.clone())
    }
}

impl ReleaseCloud for FakeReleaseCloud {
    type Regions = FakeReleaseCloud;
    type HealthChecks = FakeReleaseCloud;
    type Releases = FakeReleaseCloud;
    type Telemetry = crate::fakes::FakeTelemetry;
    fn regions(&self) -> &Self {
        self
    }
    fn health_checks(&self) -> &Self {
        self
    }
    fn releases(&self) -> &Self {
        self
    }
    fn known_regions(&self) -> &[String] {
        &self.known
    }
    fn telemetry(&self) -> &crate::fakes::FakeTelemetry {
        &self.telemetry
    }
}
