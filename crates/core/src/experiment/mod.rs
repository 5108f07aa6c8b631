//! A/B experiments (docs/experiments.md): the candidate (B) holds a fixed share of production next to
//! the control (A) for a set duration, with target-group stickiness so a user stays on one variant;
//! the canary's guards (alarms, thresholds, the judge on 5XX and latency) still roll it back; at the
//! end `compare` judges the primary metric and `decide` says what happens to the traffic.

pub mod compare;
mod ledger;
pub mod metric;
pub mod power;

pub use compare::{compare, ExperimentResult, Variant};
pub use metric::{MetricRef, StatKind, VARIANT_DIMENSION};
pub use power::PowerEstimate;

use crate::fields::invalid_field;
use crate::strategy::{PlanStep, MAX_BAKE_SECONDS};
use crate::traffic::Stickiness;
use crate::Failure;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// ALB's target-group stickiness range: 1 s to 7 days.
pub const MAX_STICKINESS_SECONDS: u32 = 7 * 24 * 3600;
/// An experiment is one bake: a day at most (`MAX_BAKE_SECONDS`).
pub const MAX_DURATION_SECONDS: u32 = MAX_BAKE_SECONDS;
/// How long a winner waits for `cutover experiment conclude` by default before the control is kept.
pub const DEFAULT_CONCLUDE_WITHIN_SECONDS: u32 = 24 * 3600;
/// Periods per variant the judge compares at most: it looks at every pair of periods (Hodges–Lehmann
/// and its interval), 1440² differences in a Lambda's memory; longer experiments use longer periods.
pub const MAX_PERIODS: u64 = 1440;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentSpec {
    /// The candidate's share of production traffic, in percent.
    pub split: u8,
    pub duration_seconds: u32,
    pub metric: MetricRef,
    pub higher_is_better: bool,
    pub auto_promote: bool,
    pub stickiness_seconds: u32,
    pub conclude_within_seconds: u32,
    /// Of the two-sided test and the effect's interval; 0.95 unless told.
    pub confidence: f64,
}

pub const DEFAULT_CONFIDENCE: f64 = 0.95;

fn whole(v: &Value, field: &str, min: u64, max: u64) -> Result<u32, Failure> {
    v.as_u64()
        .filter(|n| (min..=max).contains(n))
        .map(|n| n as u32)
        .ok_or_else(|| {
            invalid_field(
                field,
                format!("must be a whole number from {min} to {max}, got {v}"),
            )
        })
}

fn flag(obj: &serde_json::Map<String, Value>, field: &str) -> Result<bool, Failure> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(invalid_field(
            &format!("experiment.{field}"),
            format!("must be true or false, got {other}"),
        )),
    }
}

impl ExperimentSpec {
    /// The `experiment` object of a deployment's input.
    pub fn from_json(value: &Value) -> Result<ExperimentSpec, Failure> {
        let obj = value
            .as_object()
            .ok_or_else(|| invalid_field("experiment", "must be an object"))?;
        const KNOWN: [&str; 8] = [
            "split",
            "durationSeconds",
            "metric",
            "higherIsBetter",
            "autoPromote",
            "stickinessSeconds",
            "concludeWithinSeconds",
            "confidence",
        ];
        if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(invalid_field(
                &format!("experiment.{k}"),
                format!("is not one of {}", KNOWN.join(", ")),
            ));
        }
        let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
        let split = whole(
            get("split").ok_or_else(|| invalid_field("experiment.split", "is required"))?,
            "experiment.split",
            1,
            99,
        )? as u8;
        let duration_seconds = whole(
            get("durationSeconds")
                .ok_or_else(|| invalid_field("experiment.durationSeconds", "is required"))?,
            "experiment.durationSeconds",
            60,
            MAX_DURATION_SECONDS.into(),
        )?;
        let metric = get("metric")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                invalid_field(
                    "experiment.metric",
                    "is required: NAMESPACE:NAME:STAT[:DIM=VALUE,…]",
                )
            })
            .and_then(|m| MetricRef::parse(m).map_err(|e| invalid_field("experiment.metric", e)))?;
        if metric.kind() == StatKind::Total && split != 50 {
            return Err(invalid_field(
                "experiment.metric",
                format!("a {} grows with a variant's share, so it compares variants only at split 50; use a per-request statistic (Average, pNN) at split {split}", metric.stat),
            ));
        }
        let stickiness_seconds = match get("stickinessSeconds") {
            Some(v) => whole(
                v,
                "experiment.stickinessSeconds",
                1,
                MAX_STICKINESS_SECONDS.into(),
            )?,
            None => duration_seconds.min(MAX_STICKINESS_SECONDS),
        };
        let conclude_within_seconds = match get("concludeWithinSeconds") {
            Some(v) => whole(
                v,
                "experiment.concludeWithinSeconds",
                0,
                MAX_BAKE_SECONDS.into(),
            )?,
            None => DEFAULT_CONCLUDE_WITHIN_SECONDS,
        };
        let confidence = match get("confidence") {
            None => DEFAULT_CONFIDENCE,
            Some(v) => v
                .as_f64()
                .filter(|c| (0.5..=0.9999).contains(c))
                .ok_or_else(|| {
                    invalid_field(
                        "experiment.confidence",
                        format!("must be a number from 0.5 to 0.9999, got {v}"),
                    )
                })?,
        };
        Ok(ExperimentSpec {
            confidence,
            split,
            duration_seconds,
            metric,
            higher_is_better: flag(obj, "higherIsBetter")?,
            auto_promote: flag(obj, "autoPromote")?,
            stickiness_seconds,
            conclude_within_seconds,
        })
    }

    /// The deployment's plan: the split for the whole duration. Promotion (100 %) comes after the
    /// verdict, not as a step of its own.
    pub fn plan(&self) -> Vec<PlanStep> {
        vec![PlanStep {
            weight: self.split,
            bake_seconds: self.duration_seconds,
        }]
    }

    /// The steps the execution's history must have room for: the split, then the wait for a
    /// person's conclusion, which loops like a bake of that length.
    pub fn history_plan(&self) -> Vec<PlanStep> {
        let mut plan = self.plan();
        plan.push(PlanStep {
            weight: 100,
            bake_seconds: self.conclude_within_seconds,
        });
        plan
    }

    pub fn stickiness(&self) -> Stickiness {
        Stickiness {
            enabled: true,
            duration_seconds: Some(self.stickiness_seconds),
        }
    }
}

/// The period the judge compares at: the health policy's, unless that would make more than
/// [`MAX_PERIODS`] per variant, or ask CloudWatch for sub-minute data older than the 3 hours it keeps
/// high-resolution data at that resolution.
pub fn period_for(duration_seconds: u32, policy_period: u32) -> u32 {
    let needed = u64::from(duration_seconds).div_ceil(MAX_PERIODS) as u32;
    let mut p = policy_period.max(needed).max(1);
    // The verdict reads the data after the duration plus the verification and the metric delay: a
    // quarter of an hour's margin keeps the oldest period inside CloudWatch's 3 hours.
    if duration_seconds + 900 > 3 * 3600 {
        p = p.max(60);
    }
    match p {
        1 | 5 | 10 | 30 => p,
        2..=4 => 5,
        6..=9 => 10,
        11..=29 => 30,
        31..=60 => 60,
        _ => p.div_ceil(60) * 60,
    }
}

/// The whole periods the verdict will see of a split held `duration_seconds`: the split's own
/// period is partial and left out, and the last `metric_delay_seconds` are still on their way.
pub fn judged_periods(
    duration_seconds: u32,
    period_seconds: u32,
    metric_delay_seconds: u32,
) -> u64 {
    let usable = u64::from(duration_seconds.saturating_sub(metric_delay_seconds));
    (usable / u64::from(period_seconds.max(1))).saturating_sub(1)
}

/// What a person said with `cutover experiment conclude`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conclusion {
    /// `false`: keep the control whatever the verdict (`--keep-control`).
    pub promote_winner: bool,
    pub at_ms: u64,
}

/// Where the traffic goes once the experiment has a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Decision {
    /// The candidate won and is promoted (auto-promote, or a person concluded).
    Promote,
    /// The candidate won; a person must run `cutover experiment conclude`.
    Await,
    /// No winner, the control won, or nobody concluded in time: all traffic back on the control.
    KeepControl,
}

/// The experiment as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentRecord {
    pub spec: ExperimentSpec,
    /// The listener's stickiness before the experiment, restored when it ends either way.
    #[serde(default)]
    pub previous_stickiness: Option<Stickiness>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ExperimentResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judged_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<Conclusion>,
}

impl ExperimentRecord {
    /// An experiment about to start: no verdict, decision or conclusion yet.
    pub fn new(spec: ExperimentSpec, previous_stickiness: Option<Stickiness>) -> ExperimentRecord {
        ExperimentRecord {
            spec,
            previous_stickiness,
            result: None,
            judged_at_ms: None,
            decision: None,
            conclusion: None,
        }
    }

    /// The decision for the recorded verdict; `waited_out`: the wait for a conclusion is over.
    pub fn decide(&self, waited_out: bool) -> Decision {
        let won = self
            .result
            .as_ref()
            .is_some_and(|r| r.winner == Some(Variant::Candidate));
        match (won, self.spec.auto_promote, &self.conclusion) {
            (false, _, _) => Decision::KeepControl,
            // A person's --keep-control stands over --auto-promote.
            (true, _, Some(c)) if !c.promote_winner => Decision::KeepControl,
            (true, true, _) => Decision::Promote,
            (true, false, Some(c)) if c.promote_winner => Decision::Promote,
            (true, false, Some(_)) => Decision::KeepControl,
            (true, false, None) if waited_out => Decision::KeepControl,
            (true, false, None) => Decision::Await,
        }
    }

    /// The stickiness to write with a split that ends the experiment: what the listener had.
    pub fn restored_stickiness(&self) -> Stickiness {
        self.previous_stickiness.clone().unwrap_or(Stickiness {
            enabled: false,
            duration_seconds: None,
        })
    }

    /// One line for `cutover status` and the history.
    pub fn describe(&self) -> String {
        let s = &self.spec;
        let head = format!(
            "experiment: {} % on the candidate for {} s, {} ({}), stickiness {} s",
            s.split,
            s.duration_seconds,
            s.metric,
            if s.higher_is_better {
                "higher is better"
            } else {
                "lower is better"
            },
            s.stickiness_seconds
        );
        match (&self.result, self.decision) {
            (Some(r), Some(d)) => format!("{head}; {}; decision {d:?}", r.summary),
            (Some(r), None) => format!("{head}; {}", r.summary),
            _ => head,
        }
    }
}

#[cfg(test)]
mod tests;
