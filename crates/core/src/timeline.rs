//! What `cutover report` shows of past deployments, from their ledger records alone: one
//! deployment's traffic split over time, its bake windows, verdicts and rollback moments, and a
//! service's history table. Which CloudWatch period the report's metric charts ask for is decided
//! here too, because CloudWatch keeps fine periods only for recent data.

use crate::judge::stats::median;
use crate::ledger::{Deployment, VerdictRecord};
use crate::status::Status;
use crate::traffic::Colour;

/// The candidate's share of traffic from `at_ms` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitPoint {
    pub at_ms: u64,
    pub candidate_percent: u8,
}

/// From a step's shift to its verdict (or to whatever ended the step first): the step's bake and
/// the verification that follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BakeWindow {
    pub step_index: u32,
    pub candidate_percent: u8,
    pub from_ms: u64,
    pub to_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackMoments {
    pub trigger: String,
    pub sources: Vec<String>,
    pub alarm_at_ms: Option<u64>,
    pub requested_at_ms: u64,
    pub traffic_restored_at_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub id: String,
    pub image: String,
    pub status: Status,
    pub candidate: Colour,
    pub started_at_ms: u64,
    pub ended_at_ms: u64,
    /// A step function: the share holds from one point to the next.
    pub split: Vec<SplitPoint>,
    pub bakes: Vec<BakeWindow>,
    pub verdicts: Vec<VerdictRecord>,
    pub rollback: Option<RollbackMoments>,
    /// A rollback drill's outcome and timings (`cutover drill`); its request counts come from
    /// CloudWatch, not the record, and are left at 0 here.
    pub drill: Option<crate::drill::DrillReport>,
    /// The team's lifecycle hooks that ran, in the order they started.
    pub hooks: Vec<crate::ledger::HookRecord>,
}

impl Timeline {
    pub fn of(d: &Deployment) -> Timeline {
        let share = |w: crate::traffic::Weights| w.of(d.candidate);
        let mut split = vec![SplitPoint {
            at_ms: d.started_at_ms,
            candidate_percent: 0,
        }];
        split.extend(d.shifts.iter().map(|s| SplitPoint {
            at_ms: s.at_ms,
            candidate_percent: share(s.weights),
        }));
        let rollback = d.rollback.as_ref().map(|r| RollbackMoments {
            trigger: r.trigger.clone(),
            sources: r.sources.clone(),
            alarm_at_ms: r.alarm_at_ms,
            requested_at_ms: r.requested_at_ms,
            traffic_restored_at_ms: r.traffic_restored_at_ms,
        });
        if let Some(at) = rollback.as_ref().and_then(|r| r.traffic_restored_at_ms) {
            split.push(SplitPoint {
                at_ms: at,
                candidate_percent: 0,
            });
        }
        // Records are written in order, but clocks of different functions are not: sort, keeping
        // the recorded order of equal times.
        split.sort_by_key(|p| p.at_ms);
        let last_event = split
            .iter()
            .map(|p| p.at_ms)
            .chain(d.verdicts.iter().map(|v| v.at_ms))
            .max()
            .unwrap_or(d.started_at_ms);
        let ended_at_ms = d.updated_at_ms.max(last_event);
        let stopped_at = rollback.as_ref().map(|r| r.requested_at_ms);
        let bakes = d
            .shifts
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let verdict = d
                    .verdicts
                    .iter()
                    .find(|v| v.step_index == Some(s.step_index) && v.at_ms >= s.at_ms)
                    .map(|v| v.at_ms);
                let next_shift = d.shifts.get(i + 1).map(|n| n.at_ms);
                let to = [verdict, next_shift, stopped_at.filter(|&t| t >= s.at_ms)]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(ended_at_ms);
                (to > s.at_ms).then_some(BakeWindow {
                    step_index: s.step_index,
                    candidate_percent: share(s.weights),
                    from_ms: s.at_ms,
                    to_ms: to,
                })
            })
            .collect();
        Timeline {
            id: d.id.clone(),
            image: d.image.clone(),
            status: d.status,
            candidate: d.candidate,
            started_at_ms: d.started_at_ms,
            ended_at_ms,
            split,
            bakes,
            verdicts: d.verdicts.clone(),
            rollback,
            drill: crate::drill::DrillReport::new(d, 0, 0).ok(),
            hooks: {
                let mut hooks = d.hooks.clone();
                hooks.sort_by_key(|h| h.started_at_ms);
                hooks
            },
        }
    }

    /// The candidate's share at `at_ms`: the last point at or before it.
    pub fn share_at(&self, at_ms: u64) -> u8 {
        self.split
            .iter()
            .take_while(|p| p.at_ms <= at_ms)
            .last()
            .map_or(0, |p| p.candidate_percent)
    }
}

/// A service's history table over some deployments.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub promoted: usize,
    pub rolled_back: usize,
    pub failed: usize,
    pub in_flight: usize,
    /// promoted ÷ (promoted + rolled back + failed) × 100, the dashboard's "Deployment Success
    /// Rate"; none before any deployment ended.
    pub success_rate_percent: Option<f64>,
    /// Of the deployments that ended, start to last ledger write.
    pub median_duration_ms: Option<u64>,
    /// Rollback requested to traffic read back at 100 % live.
    pub time_to_rollback_p50_ms: Option<u64>,
    pub time_to_rollback_max_ms: Option<u64>,
}

impl Summary {
    pub fn of(deployments: &[Deployment]) -> Summary {
        let count = |s: Status| deployments.iter().filter(|d| d.status == s).count();
        let (promoted, rolled_back, failed) = (
            count(Status::Promoted),
            count(Status::RolledBack),
            count(Status::Failed),
        );
        let ended = promoted + rolled_back + failed;
        let durations: Vec<f64> = deployments
            .iter()
            .filter(|d| d.status.is_final())
            .map(|d| d.updated_at_ms.saturating_sub(d.started_at_ms) as f64)
            .collect();
        let rollbacks: Vec<f64> = deployments
            .iter()
            .filter_map(|d| d.rollback.as_ref())
            .filter_map(
                |r| Some(r.traffic_restored_at_ms?.saturating_sub(r.requested_at_ms) as f64),
            )
            .collect();
        Summary {
            promoted,
            rolled_back,
            failed,
            in_flight: deployments.len() - ended,
            success_rate_percent: (ended > 0).then(|| promoted as f64 * 100.0 / ended as f64),
            median_duration_ms: median(&durations).map(|m| m.round() as u64),
            time_to_rollback_p50_ms: median(&rollbacks).map(|m| m.round() as u64),
            time_to_rollback_max_ms: rollbacks.iter().copied().reduce(f64::max).map(|m| m as u64),
        }
    }
}

/// The most points a report asks for per series: a day of minutes, and 12 series of it stay far
/// under GetMetricData's 100 800 datapoints per call.
pub const MAX_POINTS_PER_SERIES: u64 = 1_440;

/// The period to ask CloudWatch for over `[start_s, end_s)` at `now_s`, at least `min_period_s`
/// (the target's own). CloudWatch returns nothing for a period it no longer keeps: sub-minute
/// periods only for data under 3 hours old, then multiples of 60 s up to 15 days, of 300 s up to
/// 63 days, of 3 600 s up to 455 days, and nothing older (GetMetricData, MetricStat.Period).
pub fn report_period(start_s: i64, end_s: i64, now_s: i64, min_period_s: u32) -> Option<u32> {
    const HOUR: i64 = 3_600;
    const DAY: i64 = 86_400;
    let band: u64 = match now_s.saturating_sub(start_s) {
        a if a <= 3 * HOUR => 1,
        a if a <= 15 * DAY => 60,
        a if a <= 63 * DAY => 300,
        a if a <= 455 * DAY => 3_600,
        _ => return None,
    };
    let mut period = u64::from(min_period_s.max(1)).div_ceil(band) * band;
    let span = end_s.saturating_sub(start_s).max(1) as u64;
    if span.div_ceil(period) > MAX_POINTS_PER_SERIES {
        let unit = band.max(60);
        period = span.div_ceil(MAX_POINTS_PER_SERIES).div_ceil(unit) * unit;
    }
    u32::try_from(period).ok()
}

#[cfg(test)]
mod tests;
