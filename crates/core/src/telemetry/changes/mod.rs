//! State-change events: one per ledger transition, computed from the record before and after a
//! write, so every function that moves a deployment tells of it the same way and none can forget.

use super::metrics::{self, Emf};
use crate::ledger::{Deployment, Ledger};
use crate::status::Status;
use crate::traffic::Weights;
use serde::Serialize;

pub const SOURCE: &str = "cutover";
pub const DEPLOYMENT_DETAIL_TYPE: &str = "Cutover Deployment State Change";
pub const MIGRATION_DETAIL_TYPE: &str = "Cutover Migration Phase Change";
/// What Cutover puts in a reason it publishes: a reason is bounded where it is recorded (1 KB), and an
/// event carries a few of them, far under PutEvents' 256 KB per entry.
pub(crate) const REASON_BYTES: usize = 1024;

/// The `detail` of a `Cutover Deployment State Change` event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentChange {
    pub app: String,
    pub env: String,
    pub deployment_id: String,
    /// None for the claim that created the deployment.
    pub from: Option<Status>,
    pub to: Status,
    pub weights: Weights,
    pub image: String,
    pub reason: Option<String>,
    /// The rollback's trigger (`alarm`, `step`, `manual`) once there is one.
    pub trigger: Option<String>,
    pub at_ms: u64,
    /// Claim to this change, for the final statuses.
    pub duration_ms: Option<u64>,
}

/// The `detail` of a `Cutover Migration Phase Change` event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrationChange {
    pub app: String,
    pub env: String,
    pub migration_id: String,
    pub phase: String,
    /// `Succeeded` or `Failed`.
    pub outcome: String,
    pub duration_ms: u64,
    pub rows_copied: Option<u64>,
    pub mismatches: Option<u64>,
    pub error_type: Option<String>,
}

/// The transitions one write made, in order. A write that moves through a status in passing (promote
/// writes `Promoting` and `Promoted` at once) tells of both steps, so a subscriber sees the documented
/// status machine and nothing else.
pub fn changes(before: Option<&Ledger>, after: &Ledger) -> Vec<DeploymentChange> {
    let Some(d) = after.deployment.as_ref() else {
        return Vec::new();
    };
    let from = before
        .and_then(|l| l.deployment.as_ref())
        .filter(|b| b.id == d.id)
        .map(|b| b.status);
    if from == Some(d.status) {
        return Vec::new();
    }
    let path = match from {
        Some(Status::Verifying) if d.status == Status::Promoted => {
            vec![
                (Some(Status::Verifying), Status::Promoting),
                (Some(Status::Promoting), Status::Promoted),
            ]
        }
        _ => vec![(from, d.status)],
    };
    path.into_iter()
        .map(|(from, to)| change(after, d, from, to))
        .collect()
}

fn change(l: &Ledger, d: &Deployment, from: Option<Status>, to: Status) -> DeploymentChange {
    DeploymentChange {
        app: l.app.clone(),
        env: l.env.clone(),
        deployment_id: d.id.clone(),
        from,
        to,
        weights: d.weights,
        image: d.image.clone(),
        reason: d.reason.as_deref().map(|r| bounded(r, REASON_BYTES)),
        trigger: d.rollback.as_ref().map(|r| r.trigger.clone()),
        at_ms: d.updated_at_ms,
        duration_ms: to
            .is_final()
            .then(|| d.updated_at_ms.saturating_sub(d.started_at_ms)),
    }
}

/// The counts and duration a change adds to the deployment metrics: started on the claim, one of
/// promoted / rolled back / failed with the duration at the end, nothing in between.
pub fn outcome_metrics(c: &DeploymentChange) -> Option<Emf> {
    let emf = Emf::new(&c.app, &c.env, c.at_ms).property("DeploymentId", c.deployment_id.as_str());
    let outcome = match (c.from, c.to) {
        (None, Status::Preparing) => return Some(emf.with(metrics::DEPLOYMENTS_STARTED, 1.0)),
        (_, Status::Promoted) => metrics::DEPLOYMENTS_PROMOTED,
        (_, Status::RolledBack) => metrics::DEPLOYMENTS_ROLLED_BACK,
        (_, Status::Failed) => metrics::DEPLOYMENTS_FAILED,
        _ => return None,
    };
    let emf = match &c.trigger {
        Some(t) => emf.by("Trigger", t.as_str()),
        None => emf,
    };
    // All three outcomes on every final line, zeros included: a series with no data point makes the
    // dashboard's success-rate math return nothing at all instead of 100 or 0.
    let emf = [
        metrics::DEPLOYMENTS_PROMOTED,
        metrics::DEPLOYMENTS_ROLLED_BACK,
        metrics::DEPLOYMENTS_FAILED,
    ]
    .into_iter()
    .fold(emf, |emf, m| {
        let n = if m.name == outcome.name { 1.0 } else { 0.0 };
        emf.with(m, n)
    });
    Some(emf.by("Outcome", format!("{:?}", c.to)).with(
        metrics::DEPLOYMENT_DURATION,
        c.duration_ms.unwrap_or(0) as f64,
    ))
}

pub(crate) fn bounded(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests;
