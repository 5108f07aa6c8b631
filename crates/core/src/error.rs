//! The error taxonomy that crosses into Step Functions. The `errorType` strings are a contract with the
//! state machines' Retry/Catch clauses (docs/architecture.md, "Error types"): never rename one
//! without changing those.

use serde::Serialize;
use serde_json::{json, Value};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ErrorType {
    /// Data is not there yet; the state machine retries with backoff.
    HealthPending,
    /// The candidate is unhealthy; the state machine rolls back.
    HealthFailed,
    /// The ledger says the deployment is rolling back or rolled back: stop, touch nothing.
    Aborted,
    /// Another deployment is active, or the load balancer is not in the state the ledger expects.
    Conflict,
    /// The AppConfig freeze flag is on.
    Frozen,
    /// Bad event, bad configuration or a missing resource: retrying cannot help.
    InvalidInput,
    /// The SDK's own retries were exhausted on a throttle, timeout or 5xx; retry later.
    AwsTransient,
    /// IAM denied a call: the function's policy lacks the action. Retrying cannot help; the reason
    /// names the call and carries AWS's message (which names the action and resource).
    AccessDenied,
    /// A lifecycle hook answered Failed, or did not succeed within its timeout: roll back.
    HookFailed,
}

impl ErrorType {
    pub const ALL: [ErrorType; 9] = [
        ErrorType::HealthPending,
        ErrorType::HealthFailed,
        ErrorType::Aborted,
        ErrorType::Conflict,
        ErrorType::Frozen,
        ErrorType::InvalidInput,
        ErrorType::AwsTransient,
        ErrorType::AccessDenied,
        ErrorType::HookFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::HealthPending => "HealthPending",
            ErrorType::HealthFailed => "HealthFailed",
            ErrorType::Aborted => "Aborted",
            ErrorType::Conflict => "Conflict",
            ErrorType::Frozen => "Frozen",
            ErrorType::InvalidInput => "InvalidInput",
            ErrorType::AwsTransient => "AwsTransient",
            ErrorType::AccessDenied => "AccessDenied",
            ErrorType::HookFailed => "HookFailed",
        }
    }

    /// Whether a Step Functions Retry should try the same task again.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorType::HealthPending | ErrorType::AwsTransient)
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure as a function reports it: the `errorType` plus a reason a person can read in the console.
/// `details` carries structured context (fields, observed weights) and is rendered into the message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error_type}: {reason}")]
pub struct Failure {
    pub error_type: ErrorType,
    pub reason: String,
    pub details: Value,
}

impl Failure {
    pub fn new(error_type: ErrorType, reason: impl Into<String>) -> Self {
        Failure {
            error_type,
            reason: reason.into(),
            details: Value::Null,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// The JSON that becomes the Lambda `errorMessage` and so the Step Functions `Cause`.
    pub fn message_json(&self) -> String {
        let mut v = json!({ "errorType": self.error_type.as_str(), "reason": self.reason });
        if !self.details.is_null() {
            v["details"] = self.details.clone();
        }
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_strings_are_the_contract() {
        let names: Vec<_> = ErrorType::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            names,
            [
                "HealthPending",
                "HealthFailed",
                "Aborted",
                "Conflict",
                "Frozen",
                "InvalidInput",
                "AwsTransient",
                "AccessDenied",
                "HookFailed"
            ]
        );
        for e in ErrorType::ALL {
            assert_eq!(
                serde_json::to_value(e).unwrap(),
                Value::String(e.as_str().into())
            );
        }
    }

    #[test]
    fn only_pending_and_transient_are_retryable() {
        let retryable: Vec<_> = ErrorType::ALL
            .into_iter()
            .filter(|e| e.is_retryable())
            .collect();
        assert_eq!(
            retryable,
            [ErrorType::HealthPending, ErrorType::AwsTransient]
        );
    }

    #[test]
    fn message_is_json_with_type_reason_and_details() {
        let f = Failure::new(ErrorType::InvalidInput, "weights must sum to 100")
            .with_details(json!({"blue": 60, "green": 60}));
        let v: Value = serde_json::from_str(&f.message_json()).unwrap();
        assert_eq!(v["errorType"], "InvalidInput");
        assert_eq!(v["reason"], "weights must sum to 100");
        assert_eq!(v["details"]["green"], 60);
        let bare: Value =
            serde_json::from_str(&Failure::new(ErrorType::Conflict, "x").message_json()).unwrap();
        assert!(bare.get("details").is_none());
    }
}
