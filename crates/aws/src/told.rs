//! Ledger writes that tell of themselves: every transition a write makes is published as a
//! `Cutover Deployment State Change` event and counted in the outcome metrics, by the function that
//! made it. Telling is best effort and bounded in time: an event bus that is slow or refuses never
//! fails or delays the deployment (or its rollback) by more than [`PUBLISH_WITHIN`].

use crate::ports::{update_ledger_seen, Updated};
use crate::{Cloud, LedgerStore, Telemetry};
use cutover_core::release::{ReleaseRecord, ReleaseStatus};
use cutover_core::telemetry::changes::{DEPLOYMENT_DETAIL_TYPE, MIGRATION_DETAIL_TYPE};
use cutover_core::telemetry::{
    changes, metrics, outcome_metrics, release_change, release_metrics, Emf, MigrationChange,
    RELEASE_DETAIL_TYPE,
};
use cutover_core::{Colour, Failure, Ledger, Weights};
use std::time::Duration;

/// How long a function waits for EventBridge before going on without it.
pub const PUBLISH_WITHIN: Duration = Duration::from_secs(2);

/// [`update_ledger`](crate::update_ledger) through `cloud`'s ledger, tell of each transition the
/// write made, then archive the deployment once it is final.
pub async fn record<C, T, F>(
    cloud: &C,
    app: &str,
    env: &str,
    initial: Option<&Ledger>,
    change: F,
) -> Result<(T, Ledger), Failure>
where
    C: Cloud,
    F: FnMut(&mut Ledger) -> Result<T, Failure>,
{
    let Updated {
        value,
        before,
        after,
    } = update_ledger_seen(cloud.ledger(), app, env, initial, change).await?;
    // Told first: a retry after a failed archive finds no transition left to tell.
    tell(cloud.telemetry(), before.as_ref(), &after).await;
    // Every write that leaves the deployment final (not only the first) keeps it in the history: a
    // retry after an archive that failed archives it then, and the record is replaced, never doubled.
    if let Some(d) = after.deployment.as_ref().filter(|d| d.status.is_final()) {
        cloud.ledger().archive(app, env, d).await?;
    }
    Ok((value, after))
}

/// Publish and count the transitions between two records of one ledger.
pub async fn tell<T: Telemetry>(telemetry: &T, before: Option<&Ledger>, after: &Ledger) {
    for change in changes(before, after) {
        if let Some(emf) = outcome_metrics(&change) {
            telemetry.metric(&emf);
        }
        let detail = serde_json::to_value(&change).expect("a change serializes");
        publish(telemetry, DEPLOYMENT_DETAIL_TYPE, &detail).await;
    }
}

/// A migration phase's end: its metrics and its event.
pub async fn tell_migration<T: Telemetry>(telemetry: &T, c: &MigrationChange, at_ms: u64) {
    let mut emf = Emf::new(&c.app, &c.env, at_ms)
        .by("Phase", c.phase.as_str())
        .property("MigrationId", c.migration_id.as_str())
        .property("Outcome", c.outcome.as_str())
        .with(metrics::MIGRATION_PHASE_DURATION, c.duration_ms as f64);
    if let Some(rows) = c.rows_copied {
        emf = emf.with(metrics::MIGRATION_ROWS_COPIED, rows as f64);
    }
    if let Some(n) = c.mismatches {
        emf = emf.with(metrics::MIGRATION_VERIFY_MISMATCHES, n as f64);
    }
    telemetry.metric(&emf);
    let detail = serde_json::to_value(c).expect("a change serializes");
    publish(telemetry, MIGRATION_DETAIL_TYPE, &detail).await;
}

/// A release's status change (its claim, its end): the release metrics and a `Cutover Release State
/// Change` event; nothing when `from` is the status it has (a retried step).
pub async fn tell_release<T: Telemetry>(
    telemetry: &T,
    from: Option<ReleaseStatus>,
    release: &ReleaseRecord,
) {
    let Some(change) = release_change(from, release) else {
        return;
    };
    if let Some(emf) = release_metrics(&change) {
        telemetry.metric(&emf);
    }
    let detail = serde_json::to_value(&change).expect("a change serializes");
    publish(telemetry, RELEASE_DETAIL_TYPE, &detail).await;
}

/// Each colour's share after a listener write, as two lines (one per `Colour` value).
pub fn weights_metric<T: Telemetry>(telemetry: &T, app: &str, env: &str, w: Weights, at_ms: u64) {
    for colour in [Colour::Blue, Colour::Green] {
        telemetry.metric(
            &Emf::new(app, env, at_ms)
                .by("Colour", colour.to_string())
                .with(metrics::TRAFFIC_WEIGHT, f64::from(w.of(colour))),
        );
    }
}

async fn publish<T: Telemetry>(
    telemetry: &T,
    detail_type: &'static str,
    detail: &serde_json::Value,
) {
    match tokio::time::timeout(PUBLISH_WITHIN, telemetry.publish(detail_type, detail)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(detail_type, error = %e, "state-change event not published"),
        Err(_) => tracing::warn!(
            detail_type,
            within_ms = PUBLISH_WITHIN.as_millis() as u64,
            "state-change event not published in time; going on without it"
        ),
    }
}
