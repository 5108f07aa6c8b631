//! Feature flags Cutover reads from AppConfig (a feature-flag profile) and naming rules for app/env.

use crate::error::Failure;
use crate::fields::invalid_field;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flags {
    /// On: no deployment may start (`Frozen`).
    pub deployments_frozen: bool,
    /// Off: alarms are recorded but do not roll back.
    pub auto_rollback: bool,
}

impl Default for Flags {
    /// The safe reading when a flag is absent: not frozen, and rollback on.
    fn default() -> Self {
        Flags {
            deployments_frozen: false,
            auto_rollback: true,
        }
    }
}

impl Flags {
    /// AppConfig's feature-flag document: `{"deploymentsFrozen": {"enabled": true}, ...}`.
    /// A flag that is missing or not a boolean keeps its default.
    pub fn from_json(doc: &Value) -> Flags {
        // AppConfigData serves the values alone; the stored document (and some emulators) nests them.
        let doc = doc.get("values").filter(|v| v.is_object()).unwrap_or(doc);
        let d = Flags::default();
        let flag = |name: &str, default: bool| {
            doc.get(name)
                .and_then(|f| f.get("enabled"))
                .and_then(Value::as_bool)
                .unwrap_or(default)
        };
        Flags {
            deployments_frozen: flag("deploymentsFrozen", d.deployments_frozen),
            auto_rollback: flag("autoRollback", d.auto_rollback),
        }
    }
}

/// App and env names become SSM paths, DynamoDB keys and execution names: keep them plain.
pub fn check_name(field: &str, value: &str) -> Result<(), Failure> {
    let ok = !value.is_empty()
        && value.len() <= 40
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(invalid_field(
            field,
            format!("must be 1-40 letters, digits, '-' or '_', starting with a letter or digit; got \"{value}\""),
        )
        .with_details(json!({ "field": field, "value": value })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorType;

    #[test]
    fn flags_read_enabled_and_default_safely() {
        let f = Flags::from_json(
            &json!({"deploymentsFrozen": {"enabled": true}, "autoRollback": {"enabled": false}}),
        );
        assert_eq!(
            f,
            Flags {
                deployments_frozen: true,
                auto_rollback: false
            }
        );
        assert_eq!(Flags::from_json(&json!({})), Flags::default());
        let stored = json!({"version": "1", "flags": {}, "values": {"deploymentsFrozen": {"enabled": true}}});
        assert!(Flags::from_json(&stored).deployments_frozen);
        assert!(Flags::from_json(&json!({"autoRollback": {"enabled": "no"}})).auto_rollback);
    }

    #[test]
    fn names_are_plain() {
        assert!(check_name("app", "live-event-service").is_ok());
        for bad in ["", "-x", "a/b", "a#b", "x y", &"a".repeat(41)] {
            assert_eq!(
                check_name("app", bad).unwrap_err().error_type,
                ErrorType::InvalidInput,
                "{bad}"
            );
        }
    }
}
