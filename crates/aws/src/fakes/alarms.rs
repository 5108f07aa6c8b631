use crate::{Alarms, AwsError};
use std::collections::HashMap;
use std::sync::Mutex;

/// Alarm states by name; unknown names are an error, as in CloudWatch's absence of a result.
#[derive(Default)]
pub struct FakeAlarms(pub Mutex<HashMap<String, String>>, pub(crate) super::Calls);

impl FakeAlarms {
    pub fn set(&self, name: &str, state: &str) {
        self.0.lock().unwrap().insert(name.into(), state.into());
    }
}

impl Alarms for FakeAlarms {
    async fn states(&self, names: &[String]) -> Result<Vec<(String, String)>, AwsError> {
        self.1.note("Alarms::states");
        let known = self.0.lock().unwrap();
        names
            .iter()
            .map(|n| {
                known
                    .get(n)
                    .map(|s| (n.clone(), s.clone()))
                    .ok_or_else(|| AwsError::NotFound {
                        what: "alarm",
                        id: n.clone(),
                    })
            })
            .collect()
    }
}
