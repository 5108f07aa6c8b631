use crate::{AwsError, Telemetry};
use cutover_core::telemetry::{check_line, Emf};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// What a handler told: every EMF line (each checked against AWS's EMF specification as it is
/// written) and every event. `refuse` makes publishing fail, `stall` makes it hang, the way an
/// unreachable or throttled bus would.
#[derive(Default)]
pub struct FakeTelemetry {
    pub(crate) calls: super::Calls,
    pub lines: Mutex<Vec<String>>,
    pub events: Mutex<Vec<(String, Value)>>,
    pub refuse: AtomicBool,
    pub stall: AtomicBool,
}

impl FakeTelemetry {
    /// The values of metric `name` in the lines written so far, with the line's dimension `by`.
    pub fn values(&self, name: &str, by: Option<&str>) -> Vec<(f64, Option<String>)> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).expect("EMF is JSON"))
            .filter_map(|v| {
                let value = v.get(name)?.as_f64()?;
                let dim = by.and_then(|b| v.get(b)?.as_str().map(String::from));
                Some((value, dim))
            })
            .collect()
    }

    /// The `(from, to)` statuses of the deployment state-change events, in order.
    pub fn transitions(&self) -> Vec<(Option<String>, String)> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, _)| t == cutover_core::telemetry::changes::DEPLOYMENT_DETAIL_TYPE)
            .map(|(_, d)| {
                (
                    d["from"].as_str().map(String::from),
                    d["to"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

impl Telemetry for FakeTelemetry {
    fn metric(&self, emf: &Emf) {
        let line = emf.line();
        if let Err(e) = check_line(&line) {
            panic!("not valid EMF ({e}): {line}");
        }
        self.lines.lock().unwrap().push(line);
    }

    async fn publish(&self, detail_type: &'static str, detail: &Value) -> Result<(), AwsError> {
        self.calls.note("Telemetry::publish");
        if self.stall.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        if self.refuse.load(Ordering::SeqCst) {
            return Err(AwsError::Transient {
                operation: "PutEvents",
                message: "ThrottlingException: Rate exceeded".into(),
            });
        }
        self.events
            .lock()
            .unwrap()
            .push((detail_type.into(), detail.clone()));
        Ok(())
    }
}
