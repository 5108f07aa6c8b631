//! How long a plan takes, step by step, from the metrics' point of view. A step's verification can
//! pass only once the judge has `minSamples` whole periods of the candidate at that weight that
//! CloudWatch has delivered, so on AWS (60-second periods arriving about two minutes late) a short
//! bake is stretched by its verification, and a step without a bake (every plan's last) still takes
//! minutes. `cutover plan` prints these figures; the target configuration refuses a verification
//! timeout that could never see enough data.

use crate::strategy::PlanStep;
use crate::target::HealthPolicy;

/// `Verify` asks again every 10 s while the answer is `HealthPending` (deploy.asl.json).
pub const VERIFY_POLL_SECONDS: u64 = 10;

/// What decides when a step's data is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricTiming {
    pub period_s: u64,
    pub delay_s: u64,
    pub min_samples: u64,
}

impl MetricTiming {
    /// A target configuration's defaults on AWS: 60-second periods, 120 s delay, 5 samples.
    pub const AWS_DEFAULTS: MetricTiming = MetricTiming {
        period_s: 60,
        delay_s: 120,
        min_samples: 5,
    };

    pub fn of(policy: &HealthPolicy) -> MetricTiming {
        MetricTiming {
            period_s: u64::from(policy.period_seconds),
            delay_s: u64::from(policy.metric_delay_seconds),
            min_samples: u64::from(policy.judge.min_samples),
        }
    }

    /// Seconds from a shift until the judge has its samples, at worst: the shift's own period is
    /// partial and left out, then `min_samples` whole ones, then the delay before the last arrives.
    pub fn judged_after_shift(&self) -> u64 {
        (1 + self.min_samples) * self.period_s + self.delay_s
    }

    /// Seconds a step takes from its shift to a passing verification, at worst: the bake, or the
    /// first `Verify` poll after the data is complete if that comes later.
    pub fn step_seconds(&self, step: &PlanStep) -> u64 {
        let bake = u64::from(step.bake_seconds);
        let short = self.judged_after_shift().saturating_sub(bake);
        bake + short.div_ceil(VERIFY_POLL_SECONDS) * VERIFY_POLL_SECONDS
    }

    /// From the first shift to the last step's passing verification.
    pub fn plan_seconds(&self, plan: &[PlanStep]) -> u64 {
        plan.iter().map(|s| self.step_seconds(s)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::Strategy;

    fn minutes(preset: &str) -> f64 {
        let plan = Strategy::preset(preset).unwrap().plan();
        MetricTiming::AWS_DEFAULTS.plan_seconds(&plan) as f64 / 60.0
    }

    #[test]
    fn on_aws_each_step_waits_for_six_periods_and_the_delay() {
        assert_eq!(MetricTiming::AWS_DEFAULTS.judged_after_shift(), 480);
        // The 5-minute canary's step is stretched to 8 minutes; its final step takes 8 as well.
        assert_eq!(minutes("Canary10Percent5Minutes"), 16.0);
        assert_eq!(minutes("Canary10Percent15Minutes"), 23.0);
        assert_eq!(minutes("AllAtOnce"), 8.0);
        // Ten steps of a 1-minute bake are ten verifications of 8 minutes each.
        assert_eq!(minutes("Linear10PercentEvery1Minute"), 80.0);
        assert_eq!(minutes("Linear10PercentEvery3Minutes"), 80.0);
    }

    #[test]
    fn a_bake_longer_than_the_data_needs_is_the_step() {
        let t = MetricTiming::AWS_DEFAULTS;
        let step = |bake_seconds| PlanStep {
            weight: 10,
            bake_seconds,
        };
        assert_eq!(t.step_seconds(&step(3_600)), 3_600);
        assert_eq!(
            t.step_seconds(&step(475)),
            485,
            "the next poll after the data"
        );
    }
}
