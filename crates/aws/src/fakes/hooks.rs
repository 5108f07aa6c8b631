//! Hook functions that answer from a script: each invocation takes the next answer.

use crate::ports::HookCall;
use crate::{AwsError, Hooks};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Default)]
pub struct FakeHooks {
    pub(crate) calls: super::Calls,
    /// The answers still to give, in order; none left is an error (a test that invoked more often
    /// than it meant to).
    pub script: Mutex<VecDeque<Result<HookCall, AwsError>>>,
    /// Every invocation: the function, the payload and the time it was given.
    pub invoked: Mutex<Vec<(String, serde_json::Value, Duration)>>,
    /// Every asynchronous invocation: the function and the payload.
    pub notified: Mutex<Vec<(String, serde_json::Value)>>,
}

impl FakeHooks {
    pub fn answer(&self, call: HookCall) {
        self.script.lock().unwrap().push_back(Ok(call));
    }

    pub fn invocations(&self) -> Vec<(String, serde_json::Value, Duration)> {
        self.invoked.lock().unwrap().clone()
    }
}

impl Hooks for FakeHooks {
    async fn invoke(
        &self,
        function: &str,
        payload: &serde_json::Value,
        within: Duration,
    ) -> Result<HookCall, AwsError> {
        self.calls.note("Hooks::invoke");
        self.invoked
            .lock()
            .unwrap()
            .push((function.into(), payload.clone(), within));
        self.script
            .lock()
            .unwrap()
            .pop_front()
            .expect("the test scripted no answer for this invocation")
    }

    async fn notify(&self, function: &str, payload: &serde_json::Value) -> Result<(), AwsError> {
        self.calls.note("Hooks::notify");
        self.notified
            .lock()
            .unwrap()
            .push((function.into(), payload.clone()));
        Ok(())
    }
}
