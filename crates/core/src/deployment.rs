//! The deployment ledger's record and every change a function may make to it (DESIGN.md §2).
//!
//! All rules live here, pure: the store only loads a record and writes it back on the condition that
//! its `version` has not moved. A writer that loses that race reloads and re-applies its change, so
//! the rules below are always judged against the latest record — which is how a rollback wins over an
//! in-flight promotion.

use crate::error::{ErrorType, Failure};
use crate::ledger::Status;
use crate::traffic::{Colour, Weights};
use serde::{Deserialize, Serialize};
use serde_json::json;

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

    /// Claim the app/env for deployment `id`, targeting the idle colour.
    pub fn acquire(
        &mut self,
        id: &str,
        image: &str,
        execution_arn: Option<&str>,
        now_ms: u64,
    ) -> Result<Acquired, Failure> {
        if let Some(d) = &self.deployment {
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
    /// source to the one record. Nothing active to roll back: false, and nothing changes.
    pub fn claim_rollback(
        &mut self,
        reason: &str,
        trigger: &str,
        source: &str,
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
        });
        if !record.sources.iter().any(|s| s == source) {
            record.sources.push(source.into());
        }
        Ok(started)
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_bake_can_be_skipped_only_while_a_step_bakes() {
        let mut l = Ledger::new("a", "e", Colour::Blue, None);
        assert_eq!(l.skip_bake(1).unwrap_err().error_type, ErrorType::Conflict);
        l.acquire("d1", "img", None, 1).unwrap();
        assert_eq!(
            l.skip_bake(2).unwrap_err().error_type,
            ErrorType::Conflict,
            "preparing"
        );
        l.record_shift("d1", 0, Weights::with_candidate(Colour::Green, 10), 3)
            .unwrap();
        assert_eq!(l.skip_bake(4).unwrap(), ("d1".to_string(), 0));
        l.record_verifying("d1", 5).unwrap();
        assert!(l.skip_bake(6).unwrap_err().reason.contains("is Verifying"));
    }

    use super::*;

    fn release(n: u32) -> Release {
        Release {
            task_definition_arn: format!("arn:aws:ecs:us-east-1:1:task-definition/live:{n}"),
            image: format!("img:{n}"),
        }
    }

    fn ledger() -> Ledger {
        Ledger::new("live", "prod", Colour::Blue, Some(release(1)))
    }

    #[test]
    fn a_canary_runs_to_promotion_and_swaps_colours() {
        let mut l = ledger();
        assert_eq!(l.acquire("c1", "img:2", None, 1).unwrap(), Acquired::New);
        assert_eq!(
            l.acquire("c1", "img:2", None, 2).unwrap(),
            Acquired::AlreadyOwned
        );
        l.set_release("c1", release(2), 3).unwrap();
        for (i, w) in [10u8, 100].into_iter().enumerate() {
            l.record_shift("c1", i as u32, Weights::with_candidate(Colour::Green, w), 4)
                .unwrap();
            l.record_shift("c1", i as u32, Weights::with_candidate(Colour::Green, w), 4)
                .unwrap();
            l.record_verifying("c1", 5).unwrap();
        }
        l.promote("c1", 6).unwrap();
        l.promote("c1", 7).unwrap();
        assert_eq!(l.live_colour, Colour::Green);
        assert_eq!(l.last_known_good, Some(release(2)));
        let d = l.deployment.as_ref().unwrap();
        assert_eq!(d.status, Status::Promoted);
        assert_eq!(
            d.shifts
                .iter()
                .map(|s| s.weights.green())
                .collect::<Vec<_>>(),
            [10, 100]
        );
        // The next deployment goes to the other colour.
        l.acquire("c2", "img:3", None, 8).unwrap();
        assert_eq!(l.deployment.as_ref().unwrap().candidate, Colour::Blue);
    }

    #[test]
    fn a_second_deployment_conflicts_while_one_is_active() {
        let mut l = ledger();
        l.acquire("c1", "img:2", None, 1).unwrap();
        let before = l.clone();
        let err = l.acquire("c2", "img:3", None, 2).unwrap_err();
        assert_eq!(err.error_type, ErrorType::Conflict);
        assert_eq!(l, before);
    }

    #[test]
    fn once_rolling_back_nothing_moves_traffic_forward() {
        let mut l = ledger();
        l.acquire("c1", "img:2", None, 1).unwrap();
        l.set_release("c1", release(2), 1).unwrap();
        l.record_shift("c1", 0, Weights::with_candidate(Colour::Green, 10), 2)
            .unwrap();
        assert!(l.begin_rollback("alarm live-5xx", 3).unwrap());
        assert!(
            !l.begin_rollback("second alarm", 4).unwrap(),
            "a second rollback is a no-op"
        );
        for err in [
            l.record_shift("c1", 1, Weights::with_candidate(Colour::Green, 100), 5)
                .unwrap_err(),
            l.record_verifying("c1", 5).unwrap_err(),
            l.promote("c1", 5).unwrap_err(),
        ] {
            assert_eq!(err.error_type, ErrorType::Aborted);
        }
        l.finish_rollback(6).unwrap();
        l.finish_rollback(7).unwrap();
        let d = l.deployment.as_ref().unwrap();
        assert_eq!(
            (d.status, d.weights),
            (Status::RolledBack, Weights::all_on(Colour::Blue))
        );
        assert_eq!(d.reason.as_deref(), Some("alarm live-5xx"));
        assert_eq!(l.live_colour, Colour::Blue);
    }

    #[test]
    fn promotion_needs_full_traffic_and_a_release() {
        let mut l = ledger();
        l.acquire("c1", "img:2", None, 1).unwrap();
        l.record_shift("c1", 0, Weights::with_candidate(Colour::Green, 10), 2)
            .unwrap();
        l.record_verifying("c1", 2).unwrap();
        assert_eq!(
            l.promote("c1", 3).unwrap_err().error_type,
            ErrorType::Conflict
        );
    }

    #[test]
    fn the_record_round_trips_through_json() {
        let mut l = ledger();
        l.acquire("c1", "img:2", Some("arn:exec"), 1).unwrap();
        l.record_shift("c1", 0, Weights::with_candidate(Colour::Green, 10), 2)
            .unwrap();
        let back: Ledger = serde_json::from_value(serde_json::to_value(&l).unwrap()).unwrap();
        assert_eq!(back, l);
    }
}
