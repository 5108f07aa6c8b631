//! The hooks port over Lambda `Invoke` (RequestResponse): the team's function answers within the
//! time the stage has left, or counts as not having answered yet.

use crate::ports::HookCall;
use crate::{AwsError, Hooks};
use aws_sdk_lambda::operation::invoke::InvokeError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_lambda::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use std::time::Duration;

/// Only functions named `cutover-hook-*` (the target configuration refuses others), qualified or not.
pub const PERMISSIONS: &[crate::iam::Needs] = &[
    ("Hooks::invoke", &[INVOKE]),
    // An asynchronous invocation is authorized as the same action.
    ("Hooks::notify", &[INVOKE]),
];

const INVOKE: crate::iam::Permission = crate::iam::allow(
    "lambda:InvokeFunction",
    "arn:{partition}:lambda:{region}:{account}:function:cutover-hook-{hook}",
);

/// Lambda's limit on an asynchronous invocation's payload (256 KB); Cutover's is far smaller.
const MAX_EVENT_PAYLOAD: usize = 256 * 1024;

/// What of a function's error reaches the ledger and the history.
const MAX_ERROR: usize = 512;

pub struct LambdaHooks {
    client: Client,
}

impl LambdaHooks {
    pub fn new(client: Client) -> Self {
        LambdaHooks { client }
    }

    /// A hook runs as long as its own deadline allows (`invoke`'s `within`), so the shared
    /// attempt and operation timeouts do not apply; connecting is still bounded.
    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(3100))
            .disable_operation_timeout()
            .disable_operation_attempt_timeout()
            .build();
        let conf = aws_sdk_lambda::config::Builder::from(conf)
            .timeout_config(timeouts)
            .build();
        LambdaHooks::new(Client::from_conf(conf))
    }
}

fn invoke_error(function: &str, e: SdkError<InvokeError, HttpResponse>) -> AwsError {
    if e.as_service_error()
        .is_some_and(|s| s.is_resource_not_found_exception())
    {
        AwsError::NotFound {
            what: "hook function",
            id: function.into(),
        }
    } else {
        AwsError::from_sdk("Invoke", e)
    }
}

fn clip(s: &str) -> String {
    s.chars().take(MAX_ERROR).collect()
}

impl Hooks for LambdaHooks {
    async fn invoke(
        &self,
        function: &str,
        payload: &serde_json::Value,
        within: Duration,
    ) -> Result<HookCall, AwsError> {
        let send = self
            .client
            .invoke()
            .function_name(function)
            .payload(Blob::new(payload.to_string()))
            .send();
        // Dropping the request at the deadline: the function may run on, its answer unread.
        let Ok(out) = tokio::time::timeout(within, send).await else {
            return Ok(HookCall::NoAnswer);
        };
        let out = match out {
            Ok(out) => out,
            Err(SdkError::TimeoutError(_)) => return Ok(HookCall::NoAnswer),
            Err(e) => return Err(invoke_error(function, e)),
        };
        let body = out.payload().map(|b| b.as_ref()).unwrap_or_default();
        if let Some(kind) = out.function_error() {
            // `{errorType, errorMessage}` from the runtime; only the type and the message, clipped.
            let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let message = v["errorMessage"].as_str().unwrap_or_default();
            let error_type = v["errorType"].as_str().unwrap_or(kind);
            return Ok(HookCall::FunctionError(clip(&format!(
                "{error_type}: {message}"
            ))));
        }
        match serde_json::from_slice(body) {
            Ok(v) => Ok(HookCall::Answered(v)),
            Err(_) => Ok(HookCall::FunctionError(
                "the hook returned what is not JSON".into(),
            )),
        }
    }

    async fn notify(&self, function: &str, payload: &serde_json::Value) -> Result<(), AwsError> {
        let body = payload.to_string();
        if body.len() > MAX_EVENT_PAYLOAD {
            return Err(AwsError::Unusable {
                what: "hook payload",
                id: function.into(),
                problem: format!("{} bytes, over Lambda's 256 KB for an event", body.len()),
            });
        }
        self.client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| invoke_error(function, e))
    }
}
