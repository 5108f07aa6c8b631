//! Every change a function may make to the ledger record.
//!
//! All rules live here, pure: the store only loads a record and writes it back on the condition that
//! its `version` has not moved. A writer that loses that race reloads and re-applies its change, so
//! the rules below are always judged against the latest record — which is how a rollback wins over an
//! in-flight promotion.

use super::HookRecord;
use super::{
    Acquired, Deployment, Ledger, Release, RollbackRecord, Shift, TestRouteRecord, VerdictRecord,
};
use crate::error::{ErrorType, Failure};
use crate::status::Status;
use crate::traffic::Weights;
use serde_json::json;

impl Ledger {
    /// Claim the app/env for deployment `id`, targeting the idle colour.
    pub fn acquire(
        &mut self,
        id: &str,
        image: &str,
        execution_arn: Option<&str>,
        now_ms: u64,
    ) -> Result<Acquired, Failure> {
        if let Some(d) = &self.deployment {
            // A retried prepare of a deployment that is being rolled back must not start it again.
            if d.id == id && d.status.is_aborting() {
                return Err(Failure::new(
                    ErrorType::Aborted,
                    format!("deployment {id} is {}", d.status),
                )
                .with_details(
                    json!({ "deploymentId": id, "status": d.status, "reason": d.reason }),
                ));
            }
            if d.id == id && !d.status.is_final() {
                return Ok(Acquired::AlreadyOwned);
            }
            if d.id == id {
                return Err(Failure::new(
                    ErrorType::Conflict,
                    format!("deployment {id} already ended as {}", d.status),
                )
                .with_details(json!({ "deploymentId": id, "status": d.status })));
            }
            if !d.status.is_final() {
                return Err(Failure::new(
                    ErrorType::Conflict,
                    format!("{}/{} is being deployed by {} ({})", self.app, self.env, d.id, d.status),
                )
                .with_details(json!({ "activeDeploymentId": d.id, "status": d.status, "executionArn": d.execution_arn })));
            }
        }
        self.deployment = Some(Deployment {
            id: id.into(),
            execution_arn: execution_arn.map(String::from),
            candidate: self.live_colour.other(),
            image: image.into(),
            release: None,
            status: Status::Preparing,
            weights: Weights::all_on(self.live_colour),
            step_index: None,
            shifts: Vec::new(),
            started_at_ms: now_ms,
            updated_at_ms: now_ms,
            reason: None,
            verdicts: Vec::new(),
            rollback: None,
            noted_alarms: Vec::new(),
            skip_bake: None,
            verifying_since_ms: None,
            test_route: None,
            hooks: Vec::new(),
            experiment: None,
            drill: None,
        });
        Ok(Acquired::New)
    }

    /// The deployment `id`, provided it still owns the record and may move traffic forward.
    pub fn active(&mut self, id: &str) -> Result<&mut Deployment, Failure> {
        let d = match self.deployment.as_mut() {
            Some(d) if d.id == id => d,
            other => {
                let owner = other.map(|d| d.id.clone());
                return Err(Failure::new(
                    ErrorType::Aborted,
                    format!("deployment {id} no longer owns the ledger"),
                )
                .with_details(json!({ "deploymentId": id, "owner": owner })));
            }
        };
        if d.status.is_aborting() || d.status == Status::Promoted {
            return Err(Failure::new(
                ErrorType::Aborted,
                format!("deployment {id} is {}", d.status),
            )
            .with_details(json!({ "deploymentId": id, "status": d.status, "reason": d.reason })));
        }
        Ok(d)
    }

    pub fn set_release(&mut self, id: &str, release: Release, now_ms: u64) -> Result<(), Failure> {
        let d = self.active(id)?;
        d.release = Some(release);
        d.updated_at_ms = now_ms;
        Ok(())
    }

    /// The test route is open: only before the first production weight, so a retry that finds it
    /// open already keeps the first record.
    pub fn open_test_route(
        &mut self,
        id: &str,
        route: TestRouteRecord,
        now_ms: u64,
    ) -> Result<(), Failure> {
        let d = self.active(id)?;
        if d.test_route.is_some() {
            return Ok(());
        }
        if d.status != Status::Preparing || !d.shifts.is_empty() {
            return Err(Failure::new(
                ErrorType::Conflict,
                format!(
                    "deployment {id} is {}: the test route opens before production traffic",
                    d.status
                ),
            ));
        }
        d.test_route = Some(route);
        d.updated_at_ms = now_ms;
        Ok(())
    }

    /// When the deployment's `stage` hook was first invoked, if it was.
    pub fn hook_started(&self, stage: crate::target::HookStage) -> Option<(u64, u32)> {
        let d = self.deployment.as_ref()?;
        d.hooks
            .iter()
            .find(|h| h.stage == stage)
            .map(|h| (h.started_at_ms, h.attempts))
    }

    /// One more answer (or none) from the `stage` hook of an active deployment. A stage that has
    /// finished (`Succeeded` or `Failed`) keeps its record: a retried call changes nothing.
    pub fn record_hook(
        &mut self,
        id: &str,
        stage: crate::target::HookStage,
        function: &str,
        status: &str,
        reason: Option<String>,
        now_ms: u64,
    ) -> Result<HookRecord, Failure> {
        let d = self.active(id)?;
        let i = match d.hooks.iter().position(|h| h.stage == stage) {
            Some(i) => i,
            None => {
                d.hooks.push(HookRecord {
                    stage,
                    function: function.into(),
                    status: "InProgress".into(),
                    reason: None,
                    attempts: 0,
                    started_at_ms: now_ms,
                    updated_at_ms: now_ms,
                });
                d.hooks.len() - 1
            }
        };
        let h = &mut d.hooks[i];
        if h.status != "Succeeded" && h.status != "Failed" {
            h.status = status.into();
            h.reason = reason;
            h.attempts += 1;
            h.updated_at_ms = now_ms;
            d.updated_at_ms = now_ms;
        }
        Ok(d.hooks[i].clone())
    }

    /// Claim the afterRollback hook of a rolled-back deployment: true for the one request that
    /// records it (`Invoked`), so however many rollback requests finish, one sends it.
    pub fn claim_after_rollback(&mut self, id: &str, function: &str, now_ms: u64) -> bool {
        let stage = crate::target::HookStage::AfterRollback;
        let Some(d) = self.deployment.as_mut().filter(|d| d.id == id) else {
            return false;
        };
        if d.status != Status::RolledBack || d.hooks.iter().any(|h| h.stage == stage) {
            return false;
        }
        d.hooks.push(HookRecord {
            stage,
            function: function.into(),
            status: "Invoked".into(),
            reason: None,
            attempts: 1,
            started_at_ms: now_ms,
            updated_at_ms: now_ms,
        });
        true
    }

    /// The claimed afterRollback hook could not be handed to Lambda.
    pub fn after_rollback_failed(&mut self, id: &str, why: &str, now_ms: u64) {
        let stage = crate::target::HookStage::AfterRollback;
        if let Some(h) = self
            .deployment
            .as_mut()
            .filter(|d| d.id == id)
            .and_then(|d| d.hooks.iter_mut().find(|h| h.stage == stage))
        {
            h.status = "Failed".into();
            h.reason = Some(why.into());
            h.updated_at_ms = now_ms;
        }
    }

    /// The test route of the current deployment, whatever its status, is closed.
    pub fn close_test_route(&mut self, now_ms: u64) {
        if let Some(r) = self
            .deployment
            .as_mut()
            .and_then(|d| d.test_route.as_mut())
            .filter(|r| r.closed_at_ms.is_none())
        {
            r.closed_at_ms = Some(now_ms);
        }
    }

    /// A prepare that failed for good after claiming ends its deployment `Failed`, so the service is
    /// free for the next one. Only while `Preparing`: traffic never moved, so there is nothing to roll
    /// back. Done already is fine.
    pub fn fail_preparing(&mut self, id: &str, reason: &str, now_ms: u64) -> Result<(), Failure> {
        let done = |d: &Deployment| d.id == id && d.status == Status::Failed;
        if self.deployment.as_ref().is_some_and(done) {
            return Ok(());
        }
        let d = self.active(id)?;
        move_to(d, Status::Failed)?;
        d.reason = Some(reason.into());
        d.updated_at_ms = now_ms;
        Ok(())
    }

    /// Record that step `step_index` sends `weights`. A repeat of the same step is a no-op.
    pub fn record_shift(
        &mut self,
        id: &str,
        step_index: u32,
        weights: Weights,
        now_ms: u64,
    ) -> Result<(), Failure> {
        let d = self.active(id)?;
        if d.status == Status::Shifting && d.step_index == Some(step_index) && d.weights == weights
        {
            return Ok(());
        }
        if let Some(drill) = &d.drill {
            drill.check_shift(weights.of(d.candidate))?;
        }
        move_to(d, Status::Shifting)?;
        d.weights = weights;
        d.step_index = Some(step_index);
        d.shifts.push(Shift {
            step_index,
            weights,
            at_ms: now_ms,
        });
        d.updated_at_ms = now_ms;
        Ok(())
    }

    /// A person asks to end the current step's bake now. Only while a step is baking (`Shifting`):
    /// the step's verification still runs, so nothing unverified moves forward.
    pub fn skip_bake(&mut self, now_ms: u64) -> Result<(String, u32), Failure> {
        let Some(d) = self.deployment.as_mut().filter(|d| !d.status.is_final()) else {
            return Err(Failure::new(
                ErrorType::Conflict,
                "no active deployment to promote",
            ));
        };
        match (d.status, d.step_index) {
            (Status::Shifting, Some(step)) => {
                d.skip_bake = Some(step);
                d.updated_at_ms = now_ms;
                Ok((d.id.clone(), step))
            }
            (status, _) => Err(Failure::new(
                ErrorType::Conflict,
                format!("deployment {} is {status}: no bake to skip", d.id),
            )
            .with_details(json!({ "deploymentId": d.id, "status": status }))),
        }
    }

    pub fn record_verifying(&mut self, id: &str, now_ms: u64) -> Result<(), Failure> {
        let d = self.active(id)?;
        if d.status != Status::Verifying {
            move_to(d, Status::Verifying)?;
            d.updated_at_ms = now_ms;
            d.verifying_since_ms = Some(now_ms);
        }
        Ok(())
    }

    /// Keep a step's verdict. A retried verification of the same step replaces its earlier record.
    pub fn record_verdict(&mut self, id: &str, v: VerdictRecord) -> Result<(), Failure> {
        let d = self.active(id)?;
        d.verdicts.retain(|r| r.step_index != v.step_index);
        d.updated_at_ms = v.at_ms;
        d.verdicts.push(v);
        Ok(())
    }

    /// All traffic is on the candidate and verified: it becomes live and last-known-good.
    pub fn promote(&mut self, id: &str, now_ms: u64) -> Result<(), Failure> {
        if self
            .deployment
            .as_ref()
            .is_some_and(|d| d.id == id && d.status == Status::Promoted)
        {
            return Ok(());
        }
        let d = self.active(id)?;
        if d.weights != Weights::all_on(d.candidate) {
            return Err(Failure::new(
                ErrorType::Conflict,
                format!("cannot promote at {}", d.weights),
            )
            .with_details(json!({ "deploymentId": id, "weights": d.weights })));
        }
        let release = d.release.clone().ok_or_else(|| {
            Failure::new(
                ErrorType::Conflict,
                format!("deployment {id} has no registered release"),
            )
        })?;
        if d.status == Status::Verifying {
            move_to(d, Status::Promoting)?;
        }
        move_to(d, Status::Promoted)?;
        d.updated_at_ms = now_ms;
        let candidate = d.candidate;
        self.live_colour = candidate;
        self.last_known_good = Some(release);
        Ok(())
    }

    /// Start rolling back the current deployment. Returns false when it already is (or has ended):
    /// duplicate alarms and retried rollbacks change nothing.
    pub fn begin_rollback(&mut self, reason: &str, now_ms: u64) -> Result<bool, Failure> {
        let Some(d) = self.deployment.as_mut() else {
            return Ok(false);
        };
        if d.status.is_aborting() || d.status.is_final() {
            return Ok(false);
        }
        move_to(d, Status::RollingBack)?;
        d.reason = Some(reason.into());
        d.updated_at_ms = now_ms;
        Ok(true)
    }

    /// Claim the rollback for one request (`trigger`, `source`) and keep its record. True only for
    /// the request that moved the deployment to `RollingBack`; a later or repeated request adds its
    /// source to the one record. A request without a source (a consequence of this rollback, not a
    /// cause) joins without one. Nothing active to roll back: false, and nothing changes.
    pub fn claim_rollback(
        &mut self,
        reason: &str,
        trigger: &str,
        source: Option<&str>,
        now_ms: u64,
    ) -> Result<bool, Failure> {
        let started = self.begin_rollback(reason, now_ms)?;
        // Only while the rollback is in flight: a request after it finished changes nothing.
        let Some(d) = self
            .deployment
            .as_mut()
            .filter(|d| d.status == Status::RollingBack)
        else {
            return Ok(false);
        };
        let record = d.rollback.get_or_insert_with(|| RollbackRecord {
            trigger: trigger.into(),
            sources: Vec::new(),
            requested_at_ms: now_ms,
            traffic_restored_at_ms: None,
            finished_at_ms: None,
            alarm_at_ms: None,
        });
        if let Some(source) = source.filter(|s| !record.sources.iter().any(|r| r == s)) {
            record.sources.push(source.into());
        }
        Ok(started)
    }

    /// The first alarm's state-change time on the rollback in flight; a later alarm keeps it.
    pub fn alarm_moment(&mut self, at_ms: u64) {
        if let Some(r) = self
            .deployment
            .as_mut()
            .filter(|d| d.status == Status::RollingBack)
            .and_then(|d| d.rollback.as_mut())
        {
            r.alarm_at_ms.get_or_insert(at_ms);
        }
    }

    /// An alarm fired while automated rollback is off: remembered on the active deployment only.
    pub fn note_alarm(&mut self, alarm: &str) {
        if let Some(d) = self.deployment.as_mut().filter(|d| !d.status.is_final()) {
            if !d.noted_alarms.iter().any(|a| a == alarm) {
                d.noted_alarms.push(alarm.into());
            }
        }
    }

    /// The listener was read back at 100 % live.
    pub fn traffic_restored(&mut self, now_ms: u64) {
        if let Some(r) = self.deployment.as_mut().and_then(|d| d.rollback.as_mut()) {
            r.traffic_restored_at_ms.get_or_insert(now_ms);
        }
    }

    /// Traffic is back on the live colour.
    pub fn finish_rollback(&mut self, now_ms: u64) -> Result<(), Failure> {
        let live = self.live_colour;
        let Some(d) = self.deployment.as_mut() else {
            return Err(Failure::new(
                ErrorType::InvalidInput,
                "no deployment to finish rolling back",
            ));
        };
        if d.status == Status::RolledBack {
            return Ok(());
        }
        move_to(d, Status::RolledBack)?;
        d.weights = Weights::all_on(live);
        d.updated_at_ms = now_ms;
        if let Some(r) = d.rollback.as_mut() {
            r.finished_at_ms = Some(now_ms);
        }
        Ok(())
    }
}

fn move_to(d: &mut Deployment, to: Status) -> Result<(), Failure> {
    d.status = d.status.transition(to).map_err(|e| {
        let kind = if d.status.is_aborting() {
            ErrorType::Aborted
        } else {
            ErrorType::Conflict
        };
        Failure::new(kind, e.to_string()).with_details(json!({ "deploymentId": d.id }))
    })?;
    Ok(())
}
