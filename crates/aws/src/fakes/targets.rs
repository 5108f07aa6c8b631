//! Target configurations by `app#env`.

use crate::TargetSource;
use cutover_core::{AnyTarget, ErrorType, Failure, TargetConfig};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct FakeTargets(
    pub Mutex<HashMap<String, AnyTarget>>,
    pub(crate) super::Calls,
);

impl FakeTargets {
    pub fn insert(&self, key: &str, target: AnyTarget) {
        self.0.lock().unwrap().insert(key.into(), target);
    }

    /// Change the blue-green target of `app#env` in place.
    pub fn edit(&self, key: &str, change: impl FnOnce(&mut TargetConfig)) {
        match self.0.lock().unwrap().get_mut(key) {
            Some(AnyTarget::BlueGreen(t)) => change(t),
            _ => panic!("no blue-green target {key}"),
        }
    }
}

impl TargetSource for FakeTargets {
    async fn with_alarm(&self, alarm: &str) -> Result<Vec<(String, String)>, Failure> {
        self.1.note("TargetSource::with_alarm");
        let known = self.0.lock().unwrap();
        let mut found: Vec<(String, String)> = known
            .iter()
            .filter(|(_, t)| t.alarms().iter().any(|a| a == alarm))
            .filter_map(|(k, _)| {
                k.split_once('#')
                    .map(|(a, e)| (a.to_string(), e.to_string()))
            })
            .collect();
        found.sort();
        Ok(found)
    }

    async fn target(&self, app: &str, env: &str) -> Result<TargetConfig, Failure> {
        self.1.note("TargetSource::target");
        match self.lookup(app, env)? {
            AnyTarget::BlueGreen(t) => Ok(*t),
            AnyTarget::Rolling(_) => Err(Failure::new(
                ErrorType::InvalidInput,
                format!("{app}/{env} is a rolling-mode service"),
            )),
        }
    }

    async fn any_target(&self, app: &str, env: &str) -> Result<AnyTarget, Failure> {
        self.1.note("TargetSource::any_target");
        self.lookup(app, env)
    }
}

impl FakeTargets {
    fn lookup(&self, app: &str, env: &str) -> Result<AnyTarget, Failure> {
        let known = self.0.lock().unwrap().get(&format!("{app}#{env}")).cloned();
        known.ok_or_else(|| {
            Failure::new(
                ErrorType::InvalidInput,
                format!("unknown service {app}/{env}"),
            )
        })
    }
}
