//! The ledger changes an experiment makes: its record at prepare, its verdict, a person's conclusion.

use super::{Conclusion, Decision, ExperimentRecord, ExperimentResult};
use crate::error::{ErrorType, Failure};
use crate::ledger::Ledger;
use crate::status::Status;
use serde_json::json;

fn not_an_experiment(id: &str) -> Failure {
    Failure::new(
        ErrorType::InvalidInput,
        format!("deployment {id} is not an experiment"),
    )
    .with_details(json!({ "deploymentId": id }))
}

impl Ledger {
    /// Attach the experiment to the deployment `id` before any traffic moves. A retried prepare finds
    /// it there and keeps the first record (it holds the stickiness read before anything changed).
    pub fn start_experiment(&mut self, id: &str, record: ExperimentRecord) -> Result<(), Failure> {
        let d = self.active(id)?;
        match &d.experiment {
            Some(e) if e.spec == record.spec => Ok(()),
            Some(_) => Err(Failure::new(
                ErrorType::Conflict,
                format!("deployment {id} already runs another experiment"),
            )),
            None if !d.shifts.is_empty() => Err(Failure::new(
                ErrorType::Conflict,
                format!(
                    "deployment {id} has moved traffic already: too late to make it an experiment"
                ),
            )),
            None => {
                d.experiment = Some(record);
                Ok(())
            }
        }
    }

    /// The verdict, once: a retried judgement keeps the first (the data it saw is what was decided on).
    pub fn record_experiment_verdict(
        &mut self,
        id: &str,
        result: ExperimentResult,
        now_ms: u64,
    ) -> Result<ExperimentRecord, Failure> {
        let d = self.active(id)?;
        let e = d.experiment.as_mut().ok_or_else(|| not_an_experiment(id))?;
        if e.result.is_none() {
            e.result = Some(result);
            e.judged_at_ms = Some(now_ms);
            d.updated_at_ms = now_ms;
        }
        Ok(e.clone())
    }

    pub fn record_experiment_decision(
        &mut self,
        id: &str,
        decision: Decision,
        now_ms: u64,
    ) -> Result<(), Failure> {
        let d = self.active(id)?;
        let e = d.experiment.as_mut().ok_or_else(|| not_an_experiment(id))?;
        if e.decision != Some(decision) {
            e.decision = Some(decision);
            d.updated_at_ms = now_ms;
        }
        Ok(())
    }

    /// `cutover experiment conclude`: promote the winner (or keep the control). While the experiment
    /// still runs its duration this also ends that wait: the guards' verification runs, then the
    /// verdict on the data so far. Returns the deployment id.
    pub fn conclude_experiment(
        &mut self,
        promote_winner: bool,
        now_ms: u64,
    ) -> Result<String, Failure> {
        let Some(d) = self.deployment.as_mut().filter(|d| !d.status.is_final()) else {
            return Err(Failure::new(
                ErrorType::Conflict,
                "no active experiment to conclude",
            ));
        };
        if d.status.is_aborting() {
            return Err(Failure::new(
                ErrorType::Conflict,
                format!("experiment {} is {}", d.id, d.status),
            ));
        }
        let id = d.id.clone();
        let e = d
            .experiment
            .as_mut()
            .ok_or_else(|| not_an_experiment(&id))?;
        match &e.conclusion {
            Some(c) if c.promote_winner != promote_winner => {
                return Err(Failure::new(
                    ErrorType::Conflict,
                    format!("experiment {id} was concluded already, the other way"),
                ))
            }
            Some(_) => return Ok(id),
            None => {}
        }
        e.conclusion = Some(Conclusion {
            promote_winner,
            at_ms: now_ms,
        });
        if d.status == Status::Shifting {
            d.skip_bake = d.step_index;
        }
        d.updated_at_ms = now_ms;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{compare, ExperimentSpec};
    use crate::ledger::Ledger;
    use crate::traffic::{Colour, Weights};
    use crate::ErrorType;
    use serde_json::json;

    fn experiment_ledger() -> Ledger {
        let mut l = Ledger::new("a", "e", Colour::Blue, None);
        l.acquire("d1", "img:conv+10", None, 1).unwrap();
        let spec = ExperimentSpec::from_json(
            &json!({"split": 50, "durationSeconds": 600, "metric": "N:M:Average"}),
        )
        .unwrap();
        let record = super::ExperimentRecord::new(spec, None);
        l.start_experiment("d1", record.clone()).unwrap();
        l.start_experiment("d1", record).unwrap();
        l
    }

    #[test]
    fn the_first_verdict_stands() {
        let mut l = experiment_ledger();
        let first = compare(&[1.0; 5], &[2.0; 5], true, 0.95, 5);
        let second = compare(&[1.0; 5], &[1.0; 5], true, 0.95, 5);
        l.record_experiment_verdict("d1", first.clone(), 5).unwrap();
        let kept = l.record_experiment_verdict("d1", second, 6).unwrap();
        assert_eq!(kept.result, Some(first));
        assert_eq!(kept.judged_at_ms, Some(5));
    }

    #[test]
    fn concluding_ends_the_duration_and_cannot_be_reversed() {
        let mut l = experiment_ledger();
        l.record_shift("d1", 0, Weights::with_candidate(Colour::Green, 50), 2)
            .unwrap();
        assert_eq!(l.conclude_experiment(true, 3).unwrap(), "d1");
        let d = l.deployment.as_ref().unwrap();
        assert_eq!(d.skip_bake, Some(0));
        assert!(
            d.experiment
                .as_ref()
                .unwrap()
                .conclusion
                .as_ref()
                .unwrap()
                .promote_winner
        );
        assert!(l.conclude_experiment(true, 4).is_ok());
        assert_eq!(
            l.conclude_experiment(false, 4).unwrap_err().error_type,
            ErrorType::Conflict
        );
    }

    #[test]
    fn a_plain_deployment_is_not_concluded() {
        let mut l = Ledger::new("a", "e", Colour::Blue, None);
        l.acquire("d1", "img", None, 1).unwrap();
        assert_eq!(
            l.conclude_experiment(true, 2).unwrap_err().error_type,
            ErrorType::InvalidInput
        );
        assert_eq!(
            l.record_experiment_verdict("d1", compare(&[], &[], true, 0.95, 5), 2)
                .unwrap_err()
                .error_type,
            ErrorType::InvalidInput
        );
    }
}
