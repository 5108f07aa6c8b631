//! Rollback drills (`cutover drill`, docs/chaos.md): a canary of the live image with a fault the
//! application is told to inject, which Cutover must detect and roll back. A drill never promotes:
//! the candidate's share is held at the canary's weight, and a drill still healthy when its canary
//! ends is rolled back as undetected.

use crate::error::{ErrorType, Failure};
use crate::fields::invalid_field;
use crate::ledger::Deployment;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The environment variable the drill's candidate revision carries: the application (or a sidecar,
/// or locally the traffic simulator) injects the fault it names. Nothing else in the revision
/// differs from the live one.
pub const FAULT_ENV: &str = "CUTOVER_DRILL_FAULT";

/// The start of the rollback reason a drill that was not detected ends with.
pub const UNDETECTED: &str = "drill: the injected fault was not detected during the canary";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DrillFault {
    /// A share of the candidate's requests answer 5XX.
    Errors,
    /// The candidate answers slowly.
    Latency,
    /// A share of the candidate's tasks is stopped from outside (an AWS FIS experiment that
    /// `cutover drill` starts once the canary has traffic); the application injects nothing.
    StopTasks,
}

impl DrillFault {
    pub const ALL: [DrillFault; 3] = [
        DrillFault::Errors,
        DrillFault::Latency,
        DrillFault::StopTasks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DrillFault::Errors => "errors",
            DrillFault::Latency => "latency",
            DrillFault::StopTasks => "stop-tasks",
        }
    }

    /// The value of [`FAULT_ENV`] the candidate's revision carries, when the application injects the
    /// fault itself. A stopped task is no fault of the revision: that one is identical to the live.
    pub fn injected_by_application(self) -> Option<&'static str> {
        match self {
            DrillFault::Errors | DrillFault::Latency => Some(self.as_str()),
            DrillFault::StopTasks => None,
        }
    }

    pub fn parse(text: &str) -> Option<DrillFault> {
        DrillFault::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// What the ledger keeps of a drill: the fault and the most traffic its candidate may get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillRecord {
    pub fault: DrillFault,
    pub ceiling_percent: u8,
}

impl DrillRecord {
    /// The execution input's `drill` (`{"fault": "errors"}`); the ceiling is the first step's weight
    /// of the deployment's plan, which must be a canary (below 100 %).
    pub fn from_json(v: &Value, first_weight: u8) -> Result<DrillRecord, Failure> {
        let fault = v
            .get("fault")
            .and_then(Value::as_str)
            .and_then(DrillFault::parse)
            .ok_or_else(|| {
                invalid_field(
                    "drill.fault",
                    "must be \"errors\", \"latency\" or \"stop-tasks\"",
                )
            })?;
        if first_weight == 0 || first_weight >= 100 {
            return Err(invalid_field(
                "drill",
                "a drill needs a canary: its first step must send 1 to 99 % to the candidate",
            ));
        }
        Ok(DrillRecord {
            fault,
            ceiling_percent: first_weight,
        })
    }

    /// Refuse a shift that would give the candidate more than the canary: the drill ends there.
    pub fn check_shift(&self, candidate_percent: u8) -> Result<(), Failure> {
        if candidate_percent > self.ceiling_percent {
            return Err(Failure::new(
                ErrorType::HealthFailed,
                format!(
                    "{UNDETECTED} ({} at {} %): rolling back without promoting",
                    self.fault.as_str(),
                    self.ceiling_percent
                ),
            ));
        }
        Ok(())
    }
}

impl crate::Ledger {
    /// Mark deployment `id` a drill; a retry with the same record changes nothing.
    pub fn start_drill(&mut self, id: &str, record: DrillRecord) -> Result<(), Failure> {
        let d = self.active(id)?;
        match &d.drill {
            Some(r) if *r == record => Ok(()),
            Some(_) => Err(Failure::new(
                ErrorType::Conflict,
                format!("deployment {id} already runs another drill"),
            )),
            None if !d.shifts.is_empty() || d.experiment.is_some() => Err(Failure::new(
                ErrorType::Conflict,
                format!("deployment {id} is under way: too late to make it a drill"),
            )),
            None => {
                d.drill = Some(record);
                Ok(())
            }
        }
    }
}

/// What a drill measured, from its deployment record and the candidate's request counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillReport {
    pub deployment_id: String,
    pub fault: DrillFault,
    pub weight_percent: u8,
    /// Something asked for the rollback before the canary ended (an alarm, the judge, a check).
    pub detected: bool,
    /// `alarm`, `step` or `manual`.
    pub trigger: Option<String>,
    /// From the first request the candidate could get to the rollback request.
    pub detection_ms: Option<u64>,
    /// From the rollback request to production traffic back on the live colour.
    pub rollback_ms: Option<u64>,
    /// Requests the candidate served while exposed, and how many failed (5XX).
    pub requests: u64,
    pub failed: u64,
    /// A fault injected from outside the application (`stop-tasks`): what happened to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injection: Option<Injection>,
}

/// What `cutover drill --fault stop-tasks` did with the stack's FIS experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Injection {
    pub experiment_id: Option<String>,
    /// The candidate's running tasks tagged as the experiment's targets.
    pub tasks_marked: u32,
    /// How many of them the template's selection stops.
    pub tasks_selected: u32,
    /// FIS's last word on the experiment (`stopped`, `completed`, `failed`, …) and its reason.
    pub status: String,
    pub reason: Option<String>,
    /// Why the fault was not injected, when it was not.
    pub error: Option<String>,
    /// The tasks tagged as targets, to untag when the drill ends (not reported).
    #[serde(skip)]
    pub targets: Vec<String>,
}

/// How an FIS target picks among the resources it found (`ALL`, `COUNT(n)`, `PERCENT(n)`, which
/// rounds down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    All,
    Count(u32),
    Percent(u32),
}

impl Selection {
    pub fn parse(text: &str) -> Option<Selection> {
        let arg = |prefix: &str| {
            text.strip_prefix(prefix)?
                .strip_suffix(')')?
                .parse::<u32>()
                .ok()
        };
        match text {
            "ALL" => Some(Selection::All),
            _ => arg("COUNT(").map(Selection::Count).or_else(|| {
                arg("PERCENT(")
                    .filter(|p| *p <= 100)
                    .map(Selection::Percent)
            }),
        }
    }

    /// How many of `found` resources FIS picks.
    pub fn of(self, found: u32) -> u32 {
        match self {
            Selection::All => found,
            Selection::Count(n) => n.min(found),
            Selection::Percent(p) => (u64::from(found) * u64::from(p) / 100) as u32,
        }
    }
}

/// FIS's default quota on the tasks one `aws:ecs:stop-task` action may target (adjustable in
/// Service Quotas, L-48D12416). Past it `cutover drill` warns; an experiment FIS then fails is
/// reported as a fault not injected.
pub const STOP_TASK_TARGET_QUOTA: u32 = 5;

/// The idempotency token of a drill's experiment: a retry of the same drill starts nothing new,
/// and two services' drills with the same id never share one (FIS allows up to 1 024 characters).
pub fn experiment_client_token(app: &str, env: &str, id: &str) -> String {
    format!(
        "cutover-drill-{:016x}",
        crate::execution_name::fnv1a(&[app, env, id])
    )
}

impl Injection {
    fn line(&self) -> String {
        let experiment = self.experiment_id.as_deref().unwrap_or("-");
        match &self.error {
            Some(e) => format!("FIS experiment {experiment}: fault NOT injected: {e}"),
            None => format!(
                "FIS experiment {experiment}: {}{}; {} candidate tasks tagged, {} selected to stop",
                self.status,
                self.reason
                    .as_deref()
                    .map_or(String::new(), |r| format!(" ({r})")),
                self.tasks_marked,
                self.tasks_selected
            ),
        }
    }
}

/// The window a drill's users were exposed in: from the first shift giving the candidate traffic
/// to the moment traffic was restored (or the record's last update). `None` before any shift.
pub fn exposure(d: &Deployment) -> Option<(u64, u64)> {
    let from = d
        .shifts
        .iter()
        .find(|s| s.weights.of(d.candidate) > 0)?
        .at_ms;
    let to = d
        .rollback
        .as_ref()
        .and_then(|r| r.traffic_restored_at_ms)
        .unwrap_or(d.updated_at_ms);
    Some((from, to.max(from)))
}

impl DrillReport {
    pub fn new(d: &Deployment, requests: u64, failed: u64) -> Result<DrillReport, String> {
        let drill = d
            .drill
            .as_ref()
            .ok_or_else(|| format!("deployment {} is not a drill", d.id))?;
        let exposed = exposure(d).map(|(from, _)| from);
        let rollback = d.rollback.as_ref();
        let detected = rollback.is_some_and(|r| !r.sources.iter().any(|s| s.contains(UNDETECTED)));
        let requested = rollback.map(|r| r.requested_at_ms);
        Ok(DrillReport {
            deployment_id: d.id.clone(),
            fault: drill.fault,
            weight_percent: drill.ceiling_percent,
            detected,
            trigger: rollback.map(|r| r.trigger.clone()),
            detection_ms: exposed
                .zip(requested)
                .map(|(from, at)| at.saturating_sub(from)),
            rollback_ms: rollback.and_then(|r| {
                r.traffic_restored_at_ms
                    .map(|t| t.saturating_sub(r.requested_at_ms))
            }),
            requests,
            failed,
            injection: None,
        })
    }

    /// The report's lines, as `cutover drill` prints them.
    pub fn lines(&self) -> Vec<String> {
        let secs = |ms: Option<u64>| {
            ms.map_or("-".to_string(), |ms| format!("{:.1} s", ms as f64 / 1000.0))
        };
        let share = if self.requests == 0 {
            0.0
        } else {
            self.failed as f64 * 100.0 / self.requests as f64
        };
        let mut lines = vec![
            format!(
                "drill {}: {} at {} %: {}",
                self.deployment_id,
                self.fault.as_str(),
                self.weight_percent,
                if self.detected {
                    format!(
                        "detected ({}) and rolled back",
                        self.trigger.as_deref().unwrap_or("?")
                    )
                } else {
                    "NOT detected: rolled back at the end of the canary".to_string()
                }
            ),
            format!(
                "detection time {}, time to rollback {}",
                secs(self.detection_ms),
                secs(self.rollback_ms)
            ),
            format!(
                "users: {} requests on the candidate, {} failed ({share:.2} %)",
                self.requests, self.failed
            ),
        ];
        if let Some(i) = &self.injection {
            lines.push(i.line());
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_drill_needs_a_known_fault_and_a_canary() {
        let r = DrillRecord::from_json(&json!({"fault": "errors"}), 10).unwrap();
        assert_eq!((r.fault, r.ceiling_percent), (DrillFault::Errors, 10));
        for (v, w) in [
            (json!({"fault": "stop"}), 10),
            (json!({}), 10),
            (json!({"fault": "latency"}), 100),
            (json!({"fault": "latency"}), 0),
        ] {
            let e = DrillRecord::from_json(&v, w).unwrap_err();
            assert_eq!(e.error_type, ErrorType::InvalidInput, "{v} {w}");
        }
    }

    #[test]
    fn fis_selection_modes_round_down_and_bad_ones_are_refused() {
        assert_eq!(Selection::parse("PERCENT(50)").unwrap().of(3), 1);
        assert_eq!(Selection::parse("PERCENT(50)").unwrap().of(1), 0);
        assert_eq!(Selection::parse("COUNT(2)").unwrap().of(1), 1);
        assert_eq!(Selection::parse("ALL").unwrap().of(7), 7);
        assert_eq!(Selection::parse("PERCENT(100)").unwrap().of(4), 4);
        for bad in [
            "PERCENT(101)",
            "percent(5)",
            "COUNT()",
            "COUNT(-1)",
            "SOME",
            "",
        ] {
            assert_eq!(Selection::parse(bad), None, "{bad}");
        }
        let token = experiment_client_token("live", "prod", "drill-1");
        assert_ne!(token, experiment_client_token("live", "prod1", "drill-1"));
        assert_ne!(token, experiment_client_token("live", "prod", "drill-2"));
        assert!(token.len() <= 64 && !token.contains(char::is_whitespace));
    }

    #[test]
    fn a_stop_tasks_drill_adds_nothing_to_the_revision() {
        assert_eq!(DrillFault::StopTasks.injected_by_application(), None);
        assert_eq!(DrillFault::Errors.injected_by_application(), Some("errors"));
        let r = DrillRecord::from_json(&json!({"fault": "stop-tasks"}), 10).unwrap();
        assert_eq!(r.fault, DrillFault::StopTasks);
    }

    #[test]
    fn a_shift_past_the_canary_ends_the_drill_undetected() {
        let r = DrillRecord::from_json(&json!({"fault": "latency"}), 20).unwrap();
        assert!(r.check_shift(20).is_ok());
        assert!(r.check_shift(0).is_ok());
        let e = r.check_shift(100).unwrap_err();
        assert_eq!(e.error_type, ErrorType::HealthFailed);
        assert!(e.reason.starts_with(UNDETECTED), "{}", e.reason);
    }

    #[test]
    fn the_report_times_detection_from_the_first_exposure_and_rollback_to_the_restore() {
        use crate::{Colour, Ledger, RollbackRecord, Weights};
        let mut l = Ledger::new("live", "prod", Colour::Blue, None);
        l.acquire("d1", "img:1", None, 1_000).unwrap();
        let record = DrillRecord::from_json(&json!({"fault": "errors"}), 10).unwrap();
        l.start_drill("d1", record.clone()).unwrap();
        l.start_drill("d1", record).unwrap();
        l.record_shift("d1", 0, Weights::with_candidate(Colour::Green, 10), 2_000)
            .unwrap();
        let err = l
            .record_shift("d1", 1, Weights::all_on(Colour::Green), 3_000)
            .unwrap_err();
        assert!(err.reason.starts_with(UNDETECTED), "{}", err.reason);
        let d = l.deployment.as_mut().unwrap();
        d.rollback = Some(RollbackRecord {
            trigger: "step".into(),
            sources: vec!["HealthFailed: 5XX rate 8 %".into()],
            requested_at_ms: 9_500,
            traffic_restored_at_ms: Some(9_800),
            finished_at_ms: None,
            alarm_at_ms: None,
        });
        let r = DrillReport::new(d, 1_000, 80).unwrap();
        assert!(r.detected);
        assert_eq!((r.detection_ms, r.rollback_ms), (Some(7_500), Some(300)));
        assert_eq!(exposure(d), Some((2_000, 9_800)));
        d.rollback.as_mut().unwrap().sources = vec![format!("{UNDETECTED} (errors at 10 %)")];
        assert!(!DrillReport::new(d, 1_000, 80).unwrap().detected);
        assert!(r.lines()[1].contains("detection time 7.5 s, time to rollback 0.3 s"));
    }
}
