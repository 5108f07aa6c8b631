//! A release's state changes: the event the home region's bus gets when a release starts and when it
//! ends, and the release metrics. Each region's deployments already tell of themselves in their own
//! region (`changes`); this is the one cross-region view, told by the release function in the home
//! region, so a subscriber there hears of every region's outcome without a rule in each region.

use super::changes::bounded;
use super::metrics::{self, Emf};
use crate::release::{RegionOutcome, ReleaseRecord, ReleaseStatus};
use serde::Serialize;

pub const RELEASE_DETAIL_TYPE: &str = "Cutover Release State Change";

/// One region of a release as its state-change event tells it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionSummary {
    pub region: String,
    /// 1-based, as the CLI prints waves.
    pub wave: usize,
    /// `None` while its deployment runs.
    pub outcome: Option<RegionOutcome>,
    /// `rollbackAll`'s deployment of the region's previous image, once one began.
    pub revert: Option<RegionOutcome>,
}

/// The `detail` of a `Cutover Release State Change` event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseChange {
    pub app: String,
    pub env: String,
    pub release_id: String,
    pub image: String,
    /// `None` for the claim that created the release.
    pub from: Option<ReleaseStatus>,
    pub to: ReleaseStatus,
    /// The wave reached, 1-based, of `wave_count`.
    pub wave: usize,
    pub wave_count: usize,
    /// The regions the release began, in the order it began them; the others never started.
    pub regions: Vec<RegionSummary>,
    pub not_started: Vec<String>,
    pub reason: Option<String>,
    pub at_ms: u64,
    /// Start to end, for the final statuses.
    pub duration_ms: Option<u64>,
}

/// The change a write made to the release, from the status it had (`None`: it did not exist, or the
/// item held another release); `None` when the status did not move (a retried step).
pub fn release_change(from: Option<ReleaseStatus>, r: &ReleaseRecord) -> Option<ReleaseChange> {
    if from == Some(r.status) {
        return None;
    }
    let at_ms = r.ended_at_ms.unwrap_or(r.started_at_ms);
    Some(ReleaseChange {
        app: r.app.clone(),
        env: r.env.clone(),
        release_id: r.id.clone(),
        image: r.image.clone(),
        from,
        to: r.status,
        wave: r.wave + 1,
        wave_count: r.plan.waves.len(),
        regions: r
            .regions
            .iter()
            .map(|g| RegionSummary {
                region: g.region.clone(),
                wave: g.wave + 1,
                outcome: g.deploy.outcome,
                revert: g.revert.as_ref().and_then(|v| v.outcome),
            })
            .collect(),
        not_started: r
            .plan
            .regions()
            .filter(|name| r.region(name).is_none())
            .map(String::from)
            .collect(),
        reason: r
            .reason
            .as_deref()
            .map(|s| bounded(s, super::changes::REASON_BYTES)),
        at_ms,
        duration_ms: r
            .status
            .is_final()
            .then(|| at_ms.saturating_sub(r.started_at_ms)),
    })
}

/// Started on the claim; at the end one of succeeded / stopped / rolled back / failed (the others
/// as zeros, so a success rate over them always has data) and the duration by outcome.
pub fn release_metrics(c: &ReleaseChange) -> Option<Emf> {
    let emf = Emf::new(&c.app, &c.env, c.at_ms).property("ReleaseId", c.release_id.as_str());
    let outcome = match (c.from, c.to) {
        (None, ReleaseStatus::Running) => return Some(emf.with(metrics::RELEASES_STARTED, 1.0)),
        (_, ReleaseStatus::Running) => return None,
        (_, ReleaseStatus::Succeeded) => metrics::RELEASES_SUCCEEDED,
        (_, ReleaseStatus::Stopped) => metrics::RELEASES_STOPPED,
        (_, ReleaseStatus::RolledBack) => metrics::RELEASES_ROLLED_BACK,
        (_, ReleaseStatus::Failed) => metrics::RELEASES_FAILED,
    };
    let emf = [
        metrics::RELEASES_SUCCEEDED,
        metrics::RELEASES_STOPPED,
        metrics::RELEASES_ROLLED_BACK,
        metrics::RELEASES_FAILED,
    ]
    .into_iter()
    .fold(emf, |emf, m| {
        emf.with(m, if m.name == outcome.name { 1.0 } else { 0.0 })
    });
    Some(
        emf.by("Outcome", format!("{:?}", c.to))
            .with(metrics::RELEASE_DURATION, c.duration_ms.unwrap_or(0) as f64),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::ReleasePlan;
    use serde_json::json;

    fn record() -> ReleaseRecord {
        let known = ["us-east-1".to_string(), "us-west-2".to_string()];
        let plan = ReleasePlan::from_json(
            &json!({"waves": [["us-east-1"], ["us-west-2"]], "bakeSeconds": 60}),
            &known,
        )
        .unwrap();
        ReleaseRecord::new("svc", "prod", "rel-1", "r:1.4.0", plan, 1_000)
    }

    fn line(emf: &Emf) -> serde_json::Value {
        let line = emf.line();
        crate::telemetry::check_line(&line).unwrap();
        serde_json::from_str(&line).unwrap()
    }

    #[test]
    fn the_claim_is_a_start_and_counts_one_release_started() {
        let r = record();
        let c = release_change(None, &r).unwrap();
        assert_eq!(
            (c.from, c.to, c.wave, c.wave_count),
            (None, ReleaseStatus::Running, 1, 2)
        );
        assert_eq!(c.not_started, ["us-east-1", "us-west-2"]);
        assert_eq!(c.duration_ms, None);
        let v = line(&release_metrics(&c).unwrap());
        assert_eq!(v["ReleasesStarted"], 1.0);
        assert_eq!(v["ReleaseId"], "rel-1");
        assert!(v.get("ReleasesSucceeded").is_none());
    }

    #[test]
    fn the_end_names_each_region_and_counts_its_outcome_beside_zeros() {
        let mut r = record();
        r.begin_region("us-east-1", Some("r:1.3.0".into()), 2_000);
        r.run_mut("us-east-1", false).unwrap().outcome = Some(RegionOutcome::RolledBack);
        r.finish(
            ReleaseStatus::Stopped,
            Some("us-east-1 rolled back"),
            61_000,
        );
        let c = release_change(Some(ReleaseStatus::Running), &r).unwrap();
        assert_eq!(c.to, ReleaseStatus::Stopped);
        assert_eq!(
            c.regions,
            [RegionSummary {
                region: "us-east-1".into(),
                wave: 1,
                outcome: Some(RegionOutcome::RolledBack),
                revert: None
            }]
        );
        assert_eq!(c.not_started, ["us-west-2"]);
        assert_eq!((c.at_ms, c.duration_ms), (61_000, Some(60_000)));
        let detail = serde_json::to_value(&c).unwrap();
        assert_eq!(detail["regions"][0]["outcome"], "RolledBack");
        assert_eq!(detail["releaseId"], "rel-1");
        let v = line(&release_metrics(&c).unwrap());
        let counts: Vec<f64> = [
            "ReleasesSucceeded",
            "ReleasesStopped",
            "ReleasesRolledBack",
            "ReleasesFailed",
        ]
        .iter()
        .map(|m| v[m].as_f64().unwrap())
        .collect();
        assert_eq!(counts, [0.0, 1.0, 0.0, 0.0]);
        assert_eq!(
            (v["Outcome"].as_str(), v["ReleaseDurationMs"].as_f64()),
            (Some("Stopped"), Some(60_000.0))
        );
    }

    #[test]
    fn a_step_that_did_not_move_the_status_tells_nothing() {
        let r = record();
        assert_eq!(release_change(Some(ReleaseStatus::Running), &r), None);
        let mut done = record();
        done.finish(ReleaseStatus::Succeeded, None, 5_000);
        assert_eq!(release_change(Some(ReleaseStatus::Succeeded), &done), None);
    }
}
