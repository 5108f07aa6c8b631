//! rollback: put all production traffic back on the live colour and record why.
//!
//! Accepts the deploy state machine's Catch output `{app, env, deploymentId, error: {Error, Cause}}`
//! and a manual request `{app, env, reason}`. The conditional ledger write to `RollingBack` comes
//! first and decides every race: from then on no shift moves traffic toward the candidate. Each step
//! is idempotent, so a retried or duplicated rollback finishes the same rollback and starts no other.

use cutover_aws::traffic::{read_weights, write_weights};
use cutover_aws::{update_ledger, LedgerStore, LoadBalancer, Services, TargetSource};
use cutover_core::request::text;
use cutover_core::{check_name, ErrorType, Failure, Status, Weights};
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub app: String,
    pub env: String,
    /// Only this deployment may be rolled back (a Catch from an old execution must not touch a new one).
    pub deployment_id: Option<String>,
    pub reason: String,
}

impl Request {
    pub fn from_event(event: &Value) -> Result<Request, Failure> {
        let (app, env) = (text(event, "app")?, text(event, "env")?);
        check_name("app", &app)?;
        check_name("env", &env)?;
        let deployment_id = event
            .get("deploymentId")
            .and_then(Value::as_str)
            .map(String::from);
        if let Some(id) = &deployment_id {
            check_name("deploymentId", id)?;
        }
        let reason = match (
            event.get("reason").and_then(Value::as_str),
            event.get("error"),
        ) {
            (Some(r), _) => r.to_string(),
            (None, Some(err)) => {
                let kind = err
                    .get("Error")
                    .and_then(Value::as_str)
                    .unwrap_or("States.Unknown");
                let cause = err.get("Cause").and_then(Value::as_str).unwrap_or_default();
                // A function's Cause is its JSON errorMessage; keep its readable reason when there is one.
                let readable = serde_json::from_str::<Value>(cause)
                    .ok()
                    .and_then(|c| {
                        c.get("errorMessage")
                            .and_then(Value::as_str)
                            .and_then(|m| serde_json::from_str::<Value>(m).ok())
                    })
                    .and_then(|m| m.get("reason").and_then(Value::as_str).map(String::from))
                    .unwrap_or_else(|| cause.to_string());
                format!("{kind}: {readable}")
            }
            (None, None) => {
                return Err(Failure::new(
                    ErrorType::InvalidInput,
                    "reason: is required (or error, from a Catch)",
                ))
            }
        };
        Ok(Request {
            app,
            env,
            deployment_id,
            reason,
        })
    }
}

pub async fn handle<L, D, T, S>(
    lb: &L,
    ledger: &D,
    targets: &T,
    services: &S,
    event: &Value,
    now_ms: u64,
) -> Result<Value, Failure>
where
    L: LoadBalancer,
    D: LedgerStore,
    T: TargetSource,
    S: Services,
{
    let req = Request::from_event(event)?;
    let (app, env) = (req.app.as_str(), req.env.as_str());
    let target = targets.target(app, env).await?;
    let (started, record) = update_ledger(ledger, app, env, None, |l| {
        match (&l.deployment, &req.deployment_id) {
            (Some(d), Some(id)) if &d.id != id => Ok(false),
            _ => l.begin_rollback(&req.reason, now_ms),
        }
    })
    .await?;
    let Some(d) = record
        .deployment
        .clone()
        .filter(|d| d.status == Status::RollingBack)
    else {
        let status = record.deployment.as_ref().map(|d| d.status);
        tracing::info!(
            app,
            env,
            ?status,
            reason = req.reason,
            "nothing to roll back"
        );
        return Ok(json!({ "rolledBack": false, "status": status }));
    };
    let live = record.live_colour;
    let before = read_weights(lb, &target).await?;
    if before != Weights::all_on(live) {
        write_weights(lb, &target, Weights::all_on(live)).await?;
    }
    services
        .update_service(&target.cluster, target.services.get(d.candidate), None, 0)
        .await?;
    let (_, record) = update_ledger(ledger, app, env, None, |l| l.finish_rollback(now_ms)).await?;
    tracing::warn!(app, env, id = d.id, reason = d.reason, from = %before, %live, started, "rolled back");
    Ok(json!({
        "rolledBack": true,
        "deploymentId": d.id,
        "live": live,
        "previousWeights": before,
        "reason": d.reason,
        "status": record.deployment.map(|d| d.status),
    }))
}
