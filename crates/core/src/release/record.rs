//! A release's own ledger item: what each region of each wave did, and what the release does next.
//! Kept in the home region's ledger table beside the deployment ledger (sort key `RELEASE`), written
//! only on its `version`, so a retried step of the release machine finds its own work done.

use super::plan::{OnFailure, ReleasePlan};
use crate::Status;
use serde::{Deserialize, Serialize};

/// A reason kept in the record is clipped: the item must stay far below DynamoDB's 400 KB.
pub const MAX_REASON: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReleaseStatus {
    Running,
    /// Every wave promoted.
    Succeeded,
    /// A region failed or was refused; the next waves never started (`onFailure: stop`).
    Stopped,
    /// As `Stopped`, and every region the release had promoted was returned to its previous image.
    RolledBack,
    /// `rollbackAll` could not return every promoted region (each region's `revert` says why).
    Failed,
}

impl ReleaseStatus {
    pub fn is_final(self) -> bool {
        self != ReleaseStatus::Running
    }
}

/// How one regional deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegionOutcome {
    Promoted,
    RolledBack,
    /// Never started: the failover gate, another deployment, a freeze or bad input refused it.
    Refused,
    Failed,
}

/// One regional deploy execution that the release started (the deployment or its revert).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionalRun {
    pub deployment_id: String,
    pub image: String,
    pub execution_arn: Option<String>,
    pub started_at_ms: u64,
    pub ended_at_ms: Option<u64>,
    pub outcome: Option<RegionOutcome>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionRecord {
    pub region: String,
    pub wave: usize,
    /// The image the region ran before this release (its ledger's last known good), if it had one.
    pub previous_image: Option<String>,
    pub deploy: RegionalRun,
    /// `rollbackAll`: the deployment of `previous_image` that returned a promoted region.
    pub revert: Option<RegionalRun>,
}

impl RegionRecord {
    /// The run a region's phase is about: its revert (once begun) or its deployment.
    pub fn run(&self, revert: bool) -> Option<&RegionalRun> {
        if revert {
            self.revert.as_ref()
        } else {
            Some(&self.deploy)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseRecord {
    pub app: String,
    pub env: String,
    pub id: String,
    pub image: String,
    /// The strategy every region deploys with (`None`: each region's target configuration's).
    #[serde(default)]
    pub strategy: Option<serde_json::Value>,
    pub execution_arn: Option<String>,
    pub plan: ReleasePlan,
    pub status: ReleaseStatus,
    /// The wave being deployed (or the last one, once the release ended).
    pub wave: usize,
    pub regions: Vec<RegionRecord>,
    pub started_at_ms: u64,
    pub ended_at_ms: Option<u64>,
    pub reason: Option<String>,
    pub version: u64,
}

/// What the release machine does once every region of a wave has ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "next")]
pub enum Next {
    /// Bake, then deploy wave `wave`.
    Bake {
        wave: usize,
        seconds: u64,
    },
    Done,
    Stop {
        reason: String,
    },
    /// Return these regions (promoted by this release) to their previous image, then stop.
    RollbackAll {
        reason: String,
        regions: Vec<String>,
    },
}

pub fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_REASON) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

impl ReleaseRecord {
    pub fn new(app: &str, env: &str, id: &str, image: &str, plan: ReleasePlan, now: u64) -> Self {
        ReleaseRecord {
            app: app.into(),
            env: env.into(),
            id: id.into(),
            image: image.into(),
            strategy: None,
            execution_arn: None,
            plan,
            status: ReleaseStatus::Running,
            wave: 0,
            regions: Vec::new(),
            started_at_ms: now,
            ended_at_ms: None,
            reason: None,
            version: 0,
        }
    }

    pub fn region(&self, region: &str) -> Option<&RegionRecord> {
        self.regions.iter().find(|r| r.region == region)
    }

    fn region_mut(&mut self, region: &str) -> Option<&mut RegionRecord> {
        self.regions.iter_mut().find(|r| r.region == region)
    }

    /// The run a region's current phase is about: its revert once one started, else its deployment.
    pub fn run_mut(&mut self, region: &str, revert: bool) -> Option<&mut RegionalRun> {
        let r = self.region_mut(region)?;
        if revert {
            r.revert.as_mut()
        } else {
            Some(&mut r.deploy)
        }
    }

    /// Record that the release begins `region` (idempotent: a retried start keeps the first).
    pub fn begin_region(&mut self, region: &str, previous_image: Option<String>, now: u64) {
        if self.region(region).is_some() {
            return;
        }
        let wave = self
            .plan
            .waves
            .iter()
            .position(|w| w.iter().any(|r| r == region))
            .unwrap_or(self.wave);
        self.regions.push(RegionRecord {
            region: region.into(),
            wave,
            previous_image,
            deploy: RegionalRun {
                deployment_id: self.id.clone(),
                image: self.image.clone(),
                execution_arn: None,
                started_at_ms: now,
                ended_at_ms: None,
                outcome: None,
                reason: None,
            },
            revert: None,
        });
    }

    /// Record the revert of a promoted region (idempotent). `Err`: it cannot be reverted.
    pub fn begin_revert(&mut self, region: &str, now: u64) -> Result<&RegionalRun, String> {
        let id = format!("{}-revert", self.id);
        let r = self
            .region_mut(region)
            .ok_or_else(|| format!("{region} was not deployed by this release"))?;
        if r.deploy.outcome != Some(RegionOutcome::Promoted) {
            return Err(format!("{region} was not promoted by this release"));
        }
        let Some(previous) = r.previous_image.clone() else {
            return Err(format!(
                "{region} had no earlier image in its ledger to return to"
            ));
        };
        Ok(r.revert.get_or_insert(RegionalRun {
            deployment_id: id,
            image: previous,
            execution_arn: None,
            started_at_ms: now,
            ended_at_ms: None,
            outcome: None,
            reason: None,
        }))
    }

    /// Record how a region's run ended (the first ending stands).
    pub fn end_run(
        &mut self,
        region: &str,
        revert: bool,
        outcome: RegionOutcome,
        reason: Option<&str>,
        now: u64,
    ) {
        if let Some(run) = self.run_mut(region, revert) {
            if run.outcome.is_none() {
                run.outcome = Some(outcome);
                run.reason = reason.map(clip);
                run.ended_at_ms = Some(now);
            }
        }
    }

    /// Once every region of wave `wave` has ended: what comes next.
    pub fn after_wave(&self, wave: usize) -> Next {
        let regions = self.plan.waves.get(wave).cloned().unwrap_or_default();
        let ended: Vec<(&str, Option<RegionOutcome>, Option<&str>)> = regions
            .iter()
            .map(|r| {
                let run = self.region(r).map(|x| &x.deploy);
                (
                    r.as_str(),
                    run.and_then(|x| x.outcome),
                    run.and_then(|x| x.reason.as_deref()),
                )
            })
            .collect();
        let failed: Vec<String> = ended
            .iter()
            .filter(|(_, o, _)| *o != Some(RegionOutcome::Promoted))
            .map(|(r, o, why)| {
                let o = o.map_or("not ended".to_string(), |o| format!("{o:?}"));
                match why {
                    Some(why) => format!("{r}: {o} ({why})"),
                    None => format!("{r}: {o}"),
                }
            })
            .collect();
        if failed.is_empty() {
            return if wave + 1 >= self.plan.waves.len() {
                Next::Done
            } else {
                Next::Bake {
                    wave: wave + 1,
                    seconds: self.plan.bake_seconds,
                }
            };
        }
        let reason = clip(&format!(
            "wave {} of {} failed: {}",
            wave + 1,
            self.plan.waves.len(),
            failed.join("; ")
        ));
        let promoted: Vec<String> = self
            .regions
            .iter()
            .filter(|r| r.deploy.outcome == Some(RegionOutcome::Promoted))
            .map(|r| r.region.clone())
            .collect();
        match self.plan.on_failure {
            OnFailure::RollbackAll if !promoted.is_empty() => Next::RollbackAll {
                reason,
                regions: promoted,
            },
            _ => Next::Stop { reason },
        }
    }

    /// The release's end once the machine reaches it (the first ending stands).
    pub fn finish(&mut self, status: ReleaseStatus, reason: Option<&str>, now: u64) {
        if self.status.is_final() {
            return;
        }
        self.status = status;
        self.reason = reason.map(clip);
        self.ended_at_ms = Some(now);
    }

    /// One line: the release, its status and wave, and each region's outcome (`us-east-1 Promoted,
    /// us-west-2 running, …`), what `cutover status` and `history` print.
    pub fn summary(&self) -> String {
        let regions: Vec<String> = self
            .plan
            .regions()
            .map(|name| {
                let state = match self.region(name) {
                    None => "not started".to_string(),
                    Some(r) => {
                        let deploy = r
                            .deploy
                            .outcome
                            .map_or("running".into(), |o| format!("{o:?}"));
                        match &r.revert {
                            Some(v) => format!(
                                "{deploy}, reverted to {}: {}",
                                v.image,
                                v.outcome.map_or("running".into(), |o| format!("{o:?}"))
                            ),
                            None => deploy,
                        }
                    }
                };
                format!("{name} {state}")
            })
            .collect();
        format!(
            "release {} of {} {:?} (wave {}/{}): {}",
            self.id,
            self.image,
            self.status,
            self.wave + 1,
            self.plan.waves.len(),
            regions.join(", ")
        )
    }

    /// After the reverts: RolledBack when every region this release promoted was returned (its
    /// revert promoted), else Failed.
    pub fn revert_status(&self) -> ReleaseStatus {
        let all = self
            .regions
            .iter()
            .filter(|r| r.deploy.outcome == Some(RegionOutcome::Promoted))
            .all(|r| {
                r.revert
                    .as_ref()
                    .is_some_and(|v| v.outcome == Some(RegionOutcome::Promoted))
            });
        if all {
            ReleaseStatus::RolledBack
        } else {
            ReleaseStatus::Failed
        }
    }
}

/// How a regional deploy execution ended, from its Step Functions status and error and what that
/// region's ledger says of deployment `id`; `None` while it still runs (or while its rollback, which
/// stops the execution first, is still finishing).
pub fn regional_outcome(
    execution_status: &str,
    error: Option<&str>,
    ledger: Option<(&str, Status)>,
    id: &str,
) -> Option<(RegionOutcome, Option<String>)> {
    let ours = ledger.filter(|(d, _)| *d == id).map(|(_, s)| s);
    if execution_status == "RUNNING" || ours == Some(Status::RollingBack) {
        return None;
    }
    let error = error.map(String::from);
    Some(match (execution_status, ours) {
        (_, Some(Status::Promoted)) => (RegionOutcome::Promoted, None),
        (_, Some(Status::RolledBack)) => (RegionOutcome::RolledBack, error),
        // Prepare refuses before it claims the ledger: the deployment there is someone else's.
        (_, None)
            if matches!(
                error.as_deref(),
                Some("Conflict" | "Frozen" | "InvalidInput")
            ) =>
        {
            (RegionOutcome::Refused, error)
        }
        (s, other) => (
            RegionOutcome::Failed,
            Some(format!(
                "execution {s}{}, ledger {}",
                error.map_or(String::new(), |e| format!(" ({e})")),
                other.map_or("without this deployment".to_string(), |s| s.to_string())
            )),
        ),
    })
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
