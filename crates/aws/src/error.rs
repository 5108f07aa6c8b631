//! How SDK failures map onto Cutover's error taxonomy.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use cutover_core::{ErrorType, Failure};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AwsError {
    /// The resource named in the configuration does not exist.
    #[error("{what} not found: {id}")]
    NotFound { what: &'static str, id: String },
    /// The resource exists but is not in a shape Cutover can work with.
    #[error("{what} {id}: {problem}")]
    Unusable {
        what: &'static str,
        id: String,
        problem: String,
    },
    /// Throttled, timed out or a 5xx, after the SDK's own retries.
    #[error("{operation} failed transiently: {message}")]
    Transient {
        operation: &'static str,
        message: String,
    },
    /// IAM denied the call; AWS's message names the action and the resource.
    #[error("{operation} was denied by IAM: {message}")]
    AccessDenied {
        operation: &'static str,
        message: String,
    },
    /// Refused for a reason retrying will not change (validation, a resource in the wrong state).
    #[error("{operation} was refused ({code}): {message}")]
    Rejected {
        operation: &'static str,
        code: String,
        message: String,
    },
}

/// Error codes that mean "slow down" or "try again", across the query and JSON protocols: the SDK's
/// own throttling and transient list (aws-smithy-runtime's retry classifiers), which it retries
/// before Cutover sees them, so one that reaches Cutover is still transient. DynamoDB's
/// ProvisionedThroughputExceededException was missing here and turned a throttled ledger read into
/// `InvalidInput`, which the state machines do not retry (found by `make chaos`). The SDK's list also
/// has `LimitExceededException`, left out: for ECS and others it is a quota that waiting does not
/// lift.
const THROTTLING_CODES: [&str; 15] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Error codes IAM's denials arrive with, across the query and JSON protocols.
const ACCESS_DENIED_CODES: [&str; 4] = [
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
];

impl AwsError {
    /// Map an SDK error that the caller has not recognised as something more specific.
    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match &err {
            SdkError::ServiceError(se) => {
                let code = se.err().code().unwrap_or("Unknown").to_string();
                let message = se.err().message().unwrap_or_default().to_string();
                let server_fault = se.raw().status().is_server_error();
                if ACCESS_DENIED_CODES.contains(&code.as_str()) {
                    AwsError::AccessDenied { operation, message }
                } else if THROTTLING_CODES.contains(&code.as_str()) || server_fault {
                    AwsError::Transient {
                        operation,
                        message: format!("{code}: {message}"),
                    }
                } else {
                    AwsError::Rejected {
                        operation,
                        code,
                        message,
                    }
                }
            }
            SdkError::ConstructionFailure(_) => AwsError::Rejected {
                operation,
                code: "ConstructionFailure".into(),
                message: DisplayErrorContext(&err).to_string(),
            },
            _ => AwsError::Transient {
                operation,
                message: DisplayErrorContext(&err).to_string(),
            },
        }
    }

    pub fn error_type(&self) -> ErrorType {
        match self {
            AwsError::Transient { .. } => ErrorType::AwsTransient,
            AwsError::AccessDenied { .. } => ErrorType::AccessDenied,
            AwsError::NotFound { .. } | AwsError::Unusable { .. } | AwsError::Rejected { .. } => {
                ErrorType::InvalidInput
            }
        }
    }
}

impl From<AwsError> for Failure {
    fn from(e: AwsError) -> Failure {
        let details = match &e {
            AwsError::NotFound { what, id } => json!({ "resource": what, "id": id }),
            AwsError::Unusable { what, id, .. } => json!({ "resource": what, "id": id }),
            AwsError::Transient { operation, .. } | AwsError::AccessDenied { operation, .. } => {
                json!({ "operation": operation })
            }
            AwsError::Rejected {
                operation, code, ..
            } => json!({ "operation": operation, "code": code }),
        };
        Failure::new(e.error_type(), e.to_string()).with_details(details)
    }
}
