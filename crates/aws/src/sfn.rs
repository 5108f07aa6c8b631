//! The executions port over Step Functions: stopping a deploy execution that a rollback overtook.

use crate::{AwsError, Executions};
use aws_sdk_sfn::Client;

pub const PERMISSIONS: &[crate::iam::Needs] = &[(
    "Executions::stop",
    &[crate::iam::allow(
        "states:StopExecution",
        "arn:{partition}:states:{region}:{account}:execution:{stack}-deploy:{execution}",
    )],
)];

pub struct StepFunctions {
    client: Client,
}

impl StepFunctions {
    pub fn new(client: Client) -> Self {
        StepFunctions { client }
    }

    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        StepFunctions::new(Client::new(conf))
    }
}

/// Step Functions caps `error` at 256 characters and `cause` at 32 768.
fn clip(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl Executions for StepFunctions {
    async fn stop(&self, execution_arn: &str, error: &str, cause: &str) -> Result<(), AwsError> {
        match self
            .client
            .stop_execution()
            .execution_arn(execution_arn)
            .error(clip(error, 256))
            .cause(clip(cause, 32_768))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Gone already (ended and expired, or never started): nothing left to stop.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_does_not_exist()) =>
            {
                tracing::info!(execution_arn, "execution does not exist; nothing to stop");
                Ok(())
            }
            // Ended meanwhile (it may be the execution's own Catch that finished the rollback).
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_validation_exception()
                        && s.meta()
                            .message()
                            .is_some_and(|m| m.contains("not running"))
                }) =>
            {
                tracing::info!(execution_arn, "execution already ended; nothing to stop");
                Ok(())
            }
            Err(e) => Err(AwsError::from_sdk("StopExecution", e)),
        }
    }
}
