//! The glue between a handler `(cloud, Value) → Result<Value, Failure>` and the Lambda runtime.
//!
//! A `Failure` leaves the function as `errorType` = its `ErrorType` string (what the state machines'
//! Retry/Catch match) and `errorMessage` = its JSON reason (what Step Functions shows as `Cause`).

use cutover_aws::AwsCloud;
use cutover_core::Failure;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use std::future::Future;

/// `Failure` is foreign to this crate's users and `Diagnostic` to core: this wrapper joins them.
#[derive(Debug)]
pub struct LambdaFailure(pub Failure);

impl From<LambdaFailure> for Diagnostic {
    fn from(f: LambdaFailure) -> Diagnostic {
        Diagnostic {
            error_type: f.0.error_type.as_str().to_string(),
            error_message: f.0.message_json(),
        }
    }
}

/// Wall-clock milliseconds since the epoch, for ledger timestamps.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Build the AWS cloud from the environment once, then run `handler` for every invocation until the
/// runtime stops, logging each outcome. A missing or bad environment variable fails the function's
/// init with the variable's name, before any invocation.
pub async fn serve<F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(&'static AwsCloud, Value) -> Fut,
    Fut: Future<Output = Result<Value, Failure>>,
{
    serve_with(
        || async { AwsCloud::from_env().await.map_err(|e| e.to_string()) },
        handler,
    )
    .await
}

/// [`serve`] over another seam than [`AwsCloud`] (the release function's), built by `build`.
pub async fn serve_with<C, B, BFut, F, Fut>(
    build: B,
    handler: F,
) -> Result<(), lambda_runtime::Error>
where
    C: 'static,
    B: FnOnce() -> BFut,
    BFut: Future<Output = Result<C, String>>,
    F: Fn(&'static C, Value) -> Fut,
    Fut: Future<Output = Result<Value, Failure>>,
{
    lambda_runtime::tracing::init_default_subscriber();
    let cloud = build().await.inspect_err(|e| {
        tracing::error!(error = %e, "cannot start: the function's environment is incomplete");
    })?;
    // The cloud lives as long as the process; leaking it lets each invocation's future borrow it.
    let cloud: &'static C = Box::leak(Box::new(cloud));
    run(move |event| handler(cloud, event)).await
}

async fn run<F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Value) -> Fut,
    Fut: Future<Output = Result<Value, Failure>>,
{
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let request_id = event.context.request_id.clone();
        match handler(event.payload).await {
            Ok(out) => Ok(out),
            Err(f) => {
                tracing::error!(
                    request_id,
                    error_type = f.error_type.as_str(),
                    cause = f.message_json(),
                    "invocation failed"
                );
                Err(LambdaFailure(f))
            }
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_core::ErrorType;

    #[test]
    fn failure_becomes_error_type_and_json_message() {
        let d: Diagnostic =
            LambdaFailure(Failure::new(ErrorType::Conflict, "listener moved")).into();
        assert_eq!(d.error_type, "Conflict");
        let v: Value = serde_json::from_str(&d.error_message).unwrap();
        assert_eq!(v["reason"], "listener moved");
    }
}
