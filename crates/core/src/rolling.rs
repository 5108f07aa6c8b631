//! Rolling mode: the service as its owners run it today — one ECS service updated in place, no second
//! target group to shift between. Cutover cannot canary it, but it can roll it back: the service goes
//! back to the last-known-good task definition in the ledger.

use crate::fields::{FieldError, Reader};
use crate::target::{MetricRules, TargetConfig};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollingTarget {
    pub cluster: String,
    pub service: String,
    pub alarms: Vec<String>,
}

/// A target configuration of either mode, as stored in SSM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum AnyTarget {
    BlueGreen(Box<TargetConfig>),
    Rolling(RollingTarget),
}

impl AnyTarget {
    pub fn from_json(value: &Value) -> Result<AnyTarget, Vec<FieldError>> {
        AnyTarget::from_json_with(value, MetricRules::AWS)
    }

    pub fn from_json_with(value: &Value, rules: MetricRules) -> Result<AnyTarget, Vec<FieldError>> {
        if value.get("mode").and_then(Value::as_str) != Some("rolling") {
            return TargetConfig::from_json_with(value, rules)
                .map(|t| AnyTarget::BlueGreen(Box::new(t)));
        }
        let mut errors = Vec::new();
        let mut r = Reader::new(&mut errors, value.as_object());
        let cluster = r.string("cluster", true);
        let service = r.string("service", true);
        let alarms = r.alarms();
        match (cluster, service) {
            (Some(cluster), Some(service)) if errors.is_empty() => {
                Ok(AnyTarget::Rolling(RollingTarget {
                    cluster,
                    service,
                    alarms,
                }))
            }
            _ => Err(errors),
        }
    }

    pub fn alarms(&self) -> &[String] {
        match self {
            AnyTarget::BlueGreen(t) => &t.alarms,
            AnyTarget::Rolling(t) => &t.alarms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_rolling_target_needs_only_its_service() {
        let t = AnyTarget::from_json(&json!({
            "mode": "rolling", "cluster": "live-event", "service": "live-event-service",
            "alarms": ["live-5xx"]
        }))
        .unwrap();
        assert_eq!(t.alarms(), ["live-5xx".to_string()]);
        let AnyTarget::Rolling(r) = t else {
            panic!("rolling")
        };
        assert_eq!(r.service, "live-event-service");
    }

    #[test]
    fn bad_rolling_fields_are_named_and_blue_green_refuses_rolling() {
        let errors = AnyTarget::from_json(&json!({"mode": "rolling", "alarms": "x"})).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["cluster", "service", "alarms"]);
        let errors = TargetConfig::from_json(&json!({"mode": "rolling"})).unwrap_err();
        assert_eq!(errors[0].field, "mode");
    }
}
