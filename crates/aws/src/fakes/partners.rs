use super::Calls;
use crate::{AwsError, Partners};
use cutover_core::Status;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A failover partner in memory: this function's region, what Route 53's checkers say of each
/// health check (one not set does not exist), and a deployment in flight per region.
pub struct FakePartners {
    pub(crate) calls: Calls,
    region: String,
    health: Mutex<BTreeMap<String, Vec<String>>>,
    busy: Mutex<BTreeMap<String, (String, Status)>>,
}

impl Default for FakePartners {
    fn default() -> Self {
        FakePartners {
            calls: Calls::default(),
            region: "us-east-1".into(),
            health: Mutex::default(),
            busy: Mutex::default(),
        }
    }
}

impl FakePartners {
    /// `ok` checkers report success on `health_check_id`, `failing` report failure.
    pub fn set_health(&self, health_check_id: &str, ok: usize, failing: usize) {
        let mut v = vec!["Success: HTTP Status Code 200, OK".to_string(); ok];
        v.extend(vec!["Failure: Connection timed out.".to_string(); failing]);
        self.health
            .lock()
            .unwrap()
            .insert(health_check_id.into(), v);
    }

    pub fn set_in_flight(&self, region: &str, id: &str, status: Status) {
        self.busy
            .lock()
            .unwrap()
            .insert(region.into(), (id.into(), status));
    }
}

impl Partners for FakePartners {
    fn region(&self) -> &str {
        &self.region
    }

    async fn observations(&self, health_check_id: &str) -> Result<Vec<String>, AwsError> {
        self.calls.note("Partners::observations");
        self.health
            .lock()
            .unwrap()
            .get(health_check_id)
            .cloned()
            .ok_or(AwsError::NotFound {
                what: "Route 53 health check",
                id: health_check_id.into(),
            })
    }

    async fn in_flight(
        &self,
        region: &str,
        _app: &str,
        _env: &str,
    ) -> Result<Option<(String, Status)>, AwsError> {
        self.calls.note("Partners::in_flight");
        Ok(self.busy.lock().unwrap().get(region).cloned())
    }
}
