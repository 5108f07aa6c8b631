//! The switch that tells the application which table to use: an SSM parameter holding a value, or a
//! feature flag in an AppConfig feature-flag profile that the switch turns on.

use crate::fields::Reader;
use serde_json::{json, Value};
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct Switch {
    pub at: SwitchTarget,
    /// For a parameter, what it is set to. For a flag, `{"enabled":true}`: the flag's value object,
    /// whose other attributes the switch keeps (see `value_over`).
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchTarget {
    Parameter(String),
    Flag(FlagRef),
}

/// A flag of a hosted AppConfig feature-flag profile. Application, environment and profile may be
/// given by name or by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagRef {
    pub application: String,
    pub environment: String,
    pub profile: String,
    pub flag: String,
}

impl fmt::Display for SwitchTarget {
    /// A parameter shows as its name; a flag as `appconfig:app/env/profile#flag`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SwitchTarget::Parameter(name) => f.write_str(name),
            SwitchTarget::Flag(r) => write!(
                f,
                "appconfig:{}/{}/{}#{}",
                r.application, r.environment, r.profile, r.flag
            ),
        }
    }
}

impl Switch {
    /// What the switch is set to, given what it held before the migration. A flag keeps the
    /// attributes the application may read alongside it and only turns `enabled` on.
    pub fn value_over(&self, previous: Option<&str>) -> String {
        match &self.at {
            SwitchTarget::Parameter(_) => self.value.clone(),
            SwitchTarget::Flag(_) => {
                let mut v = previous
                    .and_then(|p| serde_json::from_str::<Value>(p).ok())
                    .filter(Value::is_object)
                    .unwrap_or_else(|| json!({}));
                v["enabled"] = Value::Bool(true);
                v.to_string()
            }
        }
    }
}

fn is_parameter_name(s: &str) -> bool {
    s.starts_with('/')
        && s.len() <= 1011
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
}

/// AppConfig names: 1-64 characters; flag keys: a letter, then letters, digits, `_` and `-`.
fn is_appconfig_name(s: &str) -> bool {
    s.len() <= 64 && s.chars().all(|c| c.is_ascii_graphic() || c == ' ')
}

fn is_flag_key(s: &str) -> bool {
    s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `switch`: `{"parameter", "value"}` or `{"flag": {"application", "environment", "profile", "name"}}`.
pub(crate) fn read_switch(r: &mut Reader<'_>) -> Option<Switch> {
    let mut s = r.child("switch", true);
    let has_flag = s.obj.is_some_and(|o| o.contains_key("flag"));
    let has_parameter = s.obj.is_some_and(|o| o.contains_key("parameter"));
    if has_flag && has_parameter {
        s.fail("flag", "give a parameter or a flag, not both");
        return None;
    }
    if !has_flag {
        let parameter = s.string("parameter", true).filter(|p| {
            let ok = is_parameter_name(p);
            if !ok {
                s.fail(
                    "parameter",
                    format!("\"{p}\" is not an SSM parameter name (/a/b, letters, digits, /_.-)"),
                );
            }
            ok
        });
        let value = s.string("value", true);
        return parameter.zip(value).map(|(p, value)| Switch {
            at: SwitchTarget::Parameter(p),
            value,
        });
    }
    if s.obj.is_some_and(|o| o.contains_key("value")) {
        s.fail(
            "value",
            "a flag switch turns the flag on and takes no value; put the table name in a flag attribute",
        );
    }
    let mut f = s.child("flag", true);
    fn name(f: &mut Reader<'_>, key: &str) -> Option<String> {
        f.string(key, true).filter(|v| {
            let ok = is_appconfig_name(v);
            if !ok {
                f.fail(key, format!("\"{v}\" is not an AppConfig name or id"));
            }
            ok
        })
    }
    let application = name(&mut f, "application");
    let environment = name(&mut f, "environment");
    let profile = name(&mut f, "profile");
    let flag = f.string("name", true).filter(|v| {
        let ok = is_flag_key(v);
        if !ok {
            f.fail(
                "name",
                format!("\"{v}\" is not a flag key (a letter, then letters, digits, _ and -)"),
            );
        }
        ok
    });
    let (Some(application), Some(environment), Some(profile), Some(flag)) =
        (application, environment, profile, flag)
    else {
        return None;
    };
    if f.errors.iter().any(|e| e.field.starts_with("switch.")) {
        return None;
    }
    Some(Switch {
        at: SwitchTarget::Flag(FlagRef {
            application,
            environment,
            profile,
            flag,
        }),
        value: json!({"enabled": true}).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag() -> Switch {
        Switch {
            at: SwitchTarget::Flag(FlagRef {
                application: "live-event".into(),
                environment: "prod".into(),
                profile: "tables".into(),
                flag: "ticketsV2".into(),
            }),
            value: r#"{"enabled":true}"#.into(),
        }
    }

    #[test]
    fn a_flag_is_turned_on_and_keeps_its_attributes() {
        let on: Value = serde_json::from_str(
            &flag().value_over(Some(r#"{"enabled":false,"table":"tickets_v2"}"#)),
        )
        .unwrap();
        assert_eq!(on, json!({"enabled": true, "table": "tickets_v2"}));
        assert_eq!(flag().value_over(None), r#"{"enabled":true}"#);
        assert_eq!(
            flag().at.to_string(),
            "appconfig:live-event/prod/tables#ticketsV2"
        );
    }

    #[test]
    fn a_parameter_takes_the_spec_value_whatever_it_held() {
        let s = Switch {
            at: SwitchTarget::Parameter("/live-event/table".into()),
            value: "tickets_v2".into(),
        };
        assert_eq!(s.value_over(Some("tickets")), "tickets_v2");
        assert_eq!(s.at.to_string(), "/live-event/table");
    }
}
