//! `cutover promote`: skip the rest of the current step's bake.

use crate::args::{ServiceArgs, SharedArgs};
use crate::context::Context;
use crate::outcome::Outcome;
use crate::report::Format;
use cutover_aws::ledger::DynamoLedger;
use cutover_aws::LedgerStore;
use serde_json::json;

pub fn run(service: ServiceArgs, shared: SharedArgs) -> Result<Outcome, String> {
    service.check()?;
    super::with_context(shared, |mut ctx, format| async move {
        promote(&mut ctx, &service.app, &service.env, format).await
    })
}

/// End the current step's bake now. Safe by construction: the step's verification (alarms, targets,
/// thresholds, the judge) still runs before any further shift. Refused when nothing is baking.
async fn promote(
    ctx: &mut Context,
    app: &str,
    env: &str,
    format: Format,
) -> Result<Outcome, String> {
    let table = ctx.ledger_table().await?;
    let ledger = DynamoLedger::from_conf(&ctx.conf, table);
    let now = super::deploy::now_ms();
    // A service that never had a deployment has no ledger item: nothing bakes, same as an idle one.
    if ledger
        .load(app, env)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        eprintln!("cutover: no active deployment of {app}/{env} to promote");
        return Ok(Outcome::Refused);
    }
    match cutover_aws::update_ledger(&ledger, app, env, None, |l| l.skip_bake(now)).await {
        Ok(((id, step), _)) => {
            if format == Format::Json {
                println!(
                    "{}",
                    json!({ "deploymentId": id, "step": step, "bakeSkipped": true })
                );
            } else {
                println!("{app}/{env}: the rest of step {}'s bake is skipped for {id}; its verification runs next", step + 1);
            }
            Ok(Outcome::Done)
        }
        Err(f) if f.error_type == cutover_core::ErrorType::Conflict => {
            eprintln!("cutover: {}", f.reason);
            Ok(Outcome::Refused)
        }
        Err(f) => Err(f.reason),
    }
}
