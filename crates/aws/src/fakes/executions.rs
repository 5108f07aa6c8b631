use crate::{AwsError, Executions};
use std::sync::Mutex;

/// Step Functions executions: which were stopped, with what error and cause.
#[derive(Default)]
pub struct FakeExecutions {
    pub(crate) calls: super::Calls,
    pub stopped: Mutex<Vec<(String, String, String)>>,
}

impl Executions for FakeExecutions {
    async fn stop(&self, arn: &str, error: &str, cause: &str) -> Result<(), AwsError> {
        self.calls.note("Executions::stop");
        self.stopped
            .lock()
            .unwrap()
            .push((arn.into(), error.into(), cause.into()));
        Ok(())
    }
}
