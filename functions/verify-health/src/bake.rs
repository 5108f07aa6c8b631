//! `phase: "bake"`: the bake loop's clock. The state machine waits in slices of at most `SLICE_SECONDS`
//! and asks here between slices how much is left. The remaining time travels in the execution's state,
//! not in a wall clock, so a compressed Wait (the local cloud) compresses the bake alike. A person's
//! `cutover promote` sets the ledger's `skipBake` for the step; the next answer is then 0 left, and the
//! step goes on to its verification as usual.

use cutover_aws::{load_ledger, LedgerStore};
use cutover_core::{invalid_field, DeploymentRef, Failure};
use serde_json::{json, Value};

pub const SLICE_SECONDS: u64 = 30;

fn seconds(event: &Value, field: &str) -> Result<u64, Failure> {
    event
        .get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid_field(field, "must be a whole number of seconds"))
}

pub async fn answer<D: LedgerStore>(ledger: &D, event: &Value) -> Result<Value, Failure> {
    let at = DeploymentRef::from_event(event)?;
    // A step index past u32 must be refused, not wrapped onto step 0's bake.
    let step = u32::try_from(seconds(event, "stepIndex")?)
        .map_err(|_| invalid_field("stepIndex", "must be a step of the plan"))?;
    let remaining = seconds(event, "remainingSeconds")?;
    let waited = seconds(event, "waitedSeconds")?;
    let mut record = load_ledger(ledger, &at.app, &at.env).await?;
    // A rolled-back deployment stops baking: Aborted, which ends the step.
    let d = record.active(&at.deployment_id)?;
    let skipped = d.skip_bake == Some(step);
    let left = if skipped {
        0
    } else {
        remaining.saturating_sub(waited)
    };
    if skipped && remaining > waited {
        tracing::warn!(
            app = at.app,
            env = at.env,
            id = at.deployment_id,
            step,
            left_on_paper = remaining - waited,
            "bake skipped by a person; verifying now"
        );
    }
    Ok(json!({
        "remainingSeconds": left,
        "waitSeconds": left.min(SLICE_SECONDS),
        "skipped": skipped,
    }))
}
