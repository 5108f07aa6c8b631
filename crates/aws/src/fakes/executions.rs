use crate::{AwsError, Executions};
use std::sync::Mutex;

type Hook = Box<dyn Fn() + Send>;

/// Step Functions executions: which were stopped, with what error and cause.
#[derive(Default)]
pub struct FakeExecutions {
    pub(crate) calls: super::Calls,
    pub stopped: Mutex<Vec<(String, String, String)>>,
    after_stop: Mutex<Option<Hook>>,
}

impl FakeExecutions {
    /// Run `hook` right after every stop lands (a crash test panics here: the function killed
    /// after stopping the execution).
    pub fn after_each_stop(&self, hook: impl Fn() + Send + 'static) {
        *self.after_stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(hook));
    }
}

impl Executions for FakeExecutions {
    async fn stop(&self, arn: &str, error: &str, cause: &str) -> Result<(), AwsError> {
        self.calls.note("Executions::stop");
        self.stopped
            .lock()
            .unwrap()
            .push((arn.into(), error.into(), cause.into()));
        if let Some(hook) = self
            .after_stop
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            hook();
        }
        Ok(())
    }
}
