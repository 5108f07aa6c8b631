use crate::AwsError;
use cutover_core::migration::SwitchTarget;
use std::collections::HashMap;
use std::sync::Mutex;

/// Switch values in memory, for the table switch; counts writes so tests can see a retry's effect.
#[derive(Default)]
pub struct FakeSwitches {
    pub(crate) calls: super::Calls,
    pub values: Mutex<HashMap<String, String>>,
    pub writes: std::sync::atomic::AtomicUsize,
}

impl FakeSwitches {
    pub fn value(&self, name: &str) -> Option<String> {
        self.values.lock().unwrap().get(name).cloned()
    }
}

/// Keyed by the target's display form: a parameter's name, or `appconfig:app/env/profile#flag`.
impl crate::SwitchStore for FakeSwitches {
    async fn get(&self, at: &SwitchTarget) -> Result<Option<String>, AwsError> {
        self.calls.note("SwitchStore::get");
        Ok(self.value(&at.to_string()))
    }

    async fn put(&self, at: &SwitchTarget, value: &str) -> Result<(), AwsError> {
        self.calls.note("SwitchStore::put");
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.values
            .lock()
            .unwrap()
            .insert(at.to_string(), value.into());
        Ok(())
    }

    async fn delete(&self, at: &SwitchTarget) -> Result<(), AwsError> {
        self.calls.note("SwitchStore::delete");
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.values.lock().unwrap().remove(&at.to_string());
        Ok(())
    }
}
