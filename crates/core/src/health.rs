//! Health verdicts (docs/architecture.md, "Health verdicts") and the rules that produce them from
//! what the cloud reports.
//!
//! `Pending` means the data is not there yet and asking again later may help; `Unhealthy` means the
//! candidate must be rolled back. Missing data past the deadline is never `Healthy`.

use crate::error::{ErrorType, Failure};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "reasons")]
pub enum Verdict {
    Healthy,
    Pending(Vec<String>),
    Unhealthy(Vec<String>),
}

impl Verdict {
    /// Combine checks: any Unhealthy wins, then any Pending; reasons of the deciding kind are kept.
    pub fn all(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        let (mut pending, mut unhealthy) = (Vec::new(), Vec::new());
        for v in verdicts {
            match v {
                Verdict::Healthy => {}
                Verdict::Pending(r) => pending.extend(r),
                Verdict::Unhealthy(r) => unhealthy.extend(r),
            }
        }
        match (unhealthy.is_empty(), pending.is_empty()) {
            (false, _) => Verdict::Unhealthy(unhealthy),
            (true, false) => Verdict::Pending(pending),
            (true, true) => Verdict::Healthy,
        }
    }

    /// Past the deadline, waiting longer is not an answer: pending becomes unhealthy.
    pub fn at_deadline(self) -> Verdict {
        match self {
            Verdict::Pending(mut r) => {
                r.push("still pending at the verification deadline".into());
                Verdict::Unhealthy(r)
            }
            v => v,
        }
    }

    /// The function result for Step Functions: Ok for healthy, `HealthPending` / `HealthFailed` otherwise.
    pub fn into_result(self) -> Result<(), Failure> {
        match self {
            Verdict::Healthy => Ok(()),
            Verdict::Pending(r) => Err(Failure::new(ErrorType::HealthPending, r.join("; "))
                .with_details(json!({ "reasons": r }))),
            Verdict::Unhealthy(r) => Err(Failure::new(ErrorType::HealthFailed, r.join("; "))
                .with_details(json!({ "reasons": r }))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rollout {
    Completed,
    InProgress,
    Failed,
}

/// An ECS service as Cutover judges it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceState {
    pub name: String,
    pub task_definition_arn: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    /// The PRIMARY deployment's rollout state and failed-task count.
    pub rollout: Rollout,
    pub failed_tasks: i32,
    /// How many ECS deployments the service has (more than one: an old one is still draining).
    pub deployments: usize,
}

impl ServiceState {
    /// Stable means running the expected task definition, all desired tasks running, one deployment;
    /// no failed task is tolerated.
    pub fn stability(&self, expected_task_definition: &str) -> Verdict {
        self.stability_within(expected_task_definition, 0)
    }

    /// As ECS itself judges a rollout: `FAILED` is unhealthy, `IN_PROGRESS` is pending, and failed
    /// tasks (which ECS replaces) are unhealthy only past `max_failed_tasks`.
    pub fn stability_within(
        &self,
        expected_task_definition: &str,
        max_failed_tasks: u32,
    ) -> Verdict {
        let n = &self.name;
        if self.rollout == Rollout::Failed {
            return Verdict::Unhealthy(vec![format!("{n}: ECS rollout failed")]);
        }
        let failed = u32::try_from(self.failed_tasks).unwrap_or(0);
        if failed > max_failed_tasks {
            return Verdict::Unhealthy(vec![format!(
                "{n}: {failed} task(s) failed to start (the policy tolerates {max_failed_tasks})"
            )]);
        }
        if self.task_definition_arn != expected_task_definition {
            return Verdict::Unhealthy(vec![format!(
                "{n}: runs {} instead of {expected_task_definition}",
                self.task_definition_arn
            )]);
        }
        let mut pending = Vec::new();
        if self.rollout == Rollout::InProgress {
            pending.push(format!("{n}: ECS rollout in progress"));
            if failed > 0 {
                pending.push(format!(
                    "{n}: {failed} task(s) failed; ECS is replacing them"
                ));
            }
        }
        if self.running < self.desired {
            pending.push(format!(
                "{n}: {}/{} tasks running ({} pending)",
                self.running, self.desired, self.pending
            ));
        }
        if self.deployments > 1 {
            pending.push(format!(
                "{n}: {} deployments still active",
                self.deployments
            ));
        }
        if pending.is_empty() {
            Verdict::Healthy
        } else {
            Verdict::Pending(pending)
        }
    }
}

/// One registered target as the load balancer reports it (`healthy`, `initial`, `unhealthy`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetHealth {
    pub id: String,
    pub state: String,
}

/// Targets still registering are pending; unhealthy ones are too until the grace period has passed.
/// A group with no target at all past the grace is unhealthy: the load balancer answers 503 for
/// the candidate's whole share (its tasks died and ECS deregistered them).
pub fn targets_verdict(group: &str, targets: &[TargetHealth], past_grace: bool) -> Verdict {
    if targets.is_empty() && past_grace {
        return Verdict::Unhealthy(vec![format!(
            "{group}: no targets registered after the grace period"
        )]);
    }
    if targets.is_empty() {
        return Verdict::Pending(vec![format!("{group}: no targets registered yet")]);
    }
    let not: Vec<String> = targets
        .iter()
        .filter(|t| t.state != "healthy")
        .map(|t| format!("{}={}", t.id, t.state))
        .collect();
    let unhealthy = targets
        .iter()
        .any(|t| matches!(t.state.as_str(), "unhealthy" | "unavailable"));
    match (not.is_empty(), unhealthy && past_grace) {
        (true, _) => Verdict::Healthy,
        (false, true) => Verdict::Unhealthy(vec![format!(
            "{group}: targets not healthy after the grace period: {}",
            not.join(", ")
        )]),
        (false, false) => Verdict::Pending(vec![format!(
            "{group}: targets not healthy yet: {}",
            not.join(", ")
        )]),
    }
}

/// Any named alarm in ALARM fails the candidate; INSUFFICIENT_DATA does not (new metrics start there).
pub fn alarms_verdict(states: &[(String, String)]) -> Verdict {
    let firing: Vec<String> = states
        .iter()
        .filter(|(_, s)| s == "ALARM")
        .map(|(n, _)| format!("alarm {n} is ALARM"))
        .collect();
    if firing.is_empty() {
        Verdict::Healthy
    } else {
        Verdict::Unhealthy(firing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_register_then_must_be_healthy() {
        let t = |state: &str| TargetHealth {
            id: "10.0.0.1".into(),
            state: state.into(),
        };
        assert!(matches!(
            targets_verdict("green", &[], false),
            Verdict::Pending(_)
        ));
        assert!(matches!(
            targets_verdict("green", &[], true),
            Verdict::Unhealthy(_)
        ));
        assert!(matches!(
            targets_verdict("green", &[t("initial")], true),
            Verdict::Pending(_)
        ));
        assert!(matches!(
            targets_verdict("green", &[t("unhealthy")], false),
            Verdict::Pending(_)
        ));
        assert!(matches!(
            targets_verdict("green", &[t("unhealthy")], true),
            Verdict::Unhealthy(_)
        ));
        assert_eq!(
            targets_verdict("green", &[t("healthy")], true),
            Verdict::Healthy
        );
    }

    #[test]
    fn an_alarm_in_alarm_is_unhealthy_and_named() {
        let s = |n: &str, v: &str| (n.to_string(), v.to_string());
        assert_eq!(
            alarms_verdict(&[s("a", "OK"), s("b", "INSUFFICIENT_DATA")]),
            Verdict::Healthy
        );
        assert_eq!(
            alarms_verdict(&[s("a", "OK"), s("b", "ALARM")]),
            Verdict::Unhealthy(vec!["alarm b is ALARM".into()])
        );
    }

    fn svc() -> ServiceState {
        ServiceState {
            name: "live-green".into(),
            task_definition_arn: "td:2".into(),
            desired: 2,
            running: 2,
            pending: 0,
            rollout: Rollout::Completed,
            failed_tasks: 0,
            deployments: 1,
        }
    }

    #[test]
    fn a_settled_service_is_stable() {
        assert_eq!(svc().stability("td:2"), Verdict::Healthy);
    }

    #[test]
    fn a_rollout_in_progress_is_pending_and_failures_are_unhealthy() {
        let s = ServiceState {
            rollout: Rollout::InProgress,
            running: 1,
            pending: 1,
            deployments: 2,
            ..svc()
        };
        let Verdict::Pending(r) = s.stability("td:2") else {
            panic!()
        };
        assert_eq!(r.len(), 3, "{r:?}");
        assert!(matches!(
            ServiceState {
                failed_tasks: 1,
                ..svc()
            }
            .stability("td:2"),
            Verdict::Unhealthy(_)
        ));
        assert!(matches!(
            ServiceState {
                rollout: Rollout::Failed,
                ..svc()
            }
            .stability("td:2"),
            Verdict::Unhealthy(_)
        ));
        assert!(matches!(svc().stability("td:3"), Verdict::Unhealthy(_)));
    }

    #[test]
    fn failed_tasks_ecs_replaces_are_pending_until_the_policy_threshold() {
        let replacing = ServiceState {
            rollout: Rollout::InProgress,
            failed_tasks: 1,
            ..svc()
        };
        let Verdict::Pending(r) = replacing.stability_within("td:2", 3) else {
            panic!("one failed task during a rollout is ECS's business")
        };
        assert!(r.iter().any(|l| l.contains("1 task(s) failed")), "{r:?}");
        let settled = ServiceState {
            failed_tasks: 1,
            ..svc()
        };
        assert_eq!(settled.stability_within("td:2", 3), Verdict::Healthy);
        let too_many = ServiceState {
            rollout: Rollout::InProgress,
            failed_tasks: 4,
            ..svc()
        };
        assert!(
            matches!(too_many.stability_within("td:2", 3), Verdict::Unhealthy(r) if r[0].contains("tolerates 3"))
        );
    }

    #[test]
    fn verdicts_combine_worst_first_and_pending_expires() {
        let p = Verdict::Pending(vec!["a".into()]);
        let u = Verdict::Unhealthy(vec!["b".into()]);
        assert_eq!(Verdict::all([Verdict::Healthy, p.clone(), u.clone()]), u);
        assert_eq!(Verdict::all([Verdict::Healthy, p.clone()]), p);
        assert_eq!(
            Verdict::all([Verdict::Healthy, Verdict::Healthy]),
            Verdict::Healthy
        );
        assert!(matches!(p.at_deadline(), Verdict::Unhealthy(_)));
        assert_eq!(Verdict::Healthy.at_deadline(), Verdict::Healthy);
        assert_eq!(
            u.into_result().unwrap_err().error_type,
            ErrorType::HealthFailed
        );
    }
}
