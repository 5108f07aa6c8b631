//! Reading JSON fields with errors that name the field: `Reader` collects every problem of a
//! configuration document at once, so a person fixes it in one edit; `text` and `invalid_field` are
//! for events, where the first bad field fails the call.

use crate::error::{ErrorType, Failure};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::fmt;

/// A configuration document's top level, which must be an object; the one error otherwise.
pub fn document(value: &Value) -> Result<&Map<String, Value>, Vec<FieldError>> {
    value.as_object().ok_or_else(|| {
        vec![FieldError {
            field: "$".into(),
            problem: "must be a JSON object".into(),
        }]
    })
}

/// One bad field: its JSON path and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// A bad field of an event: `InvalidInput`, the reason `<field>: <problem>`, the field in the
/// details.
pub fn invalid_field(field: &str, problem: impl fmt::Display) -> Failure {
    Failure::new(ErrorType::InvalidInput, format!("{field}: {problem}"))
        .with_details(json!({ "field": field }))
}

/// A required string field.
pub fn text(event: &Value, field: &str) -> Result<String, Failure> {
    event
        .get(field)
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| invalid_field(field, "is required and must be a string"))
}

/// Reads fields out of a JSON object, remembering every problem instead of stopping at the first.
pub struct Reader<'a> {
    pub(crate) errors: &'a mut Vec<FieldError>,
    pub(crate) obj: Option<&'a Map<String, Value>>,
    pub(crate) prefix: String,
}

impl<'a> Reader<'a> {
    /// A reader of a whole document; `obj` is `None` when it is not an object, and then only what the
    /// caller reports is wrong.
    pub fn new(errors: &'a mut Vec<FieldError>, obj: Option<&'a Map<String, Value>>) -> Reader<'a> {
        Reader {
            errors,
            obj,
            prefix: String::new(),
        }
    }

    pub fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    pub fn fail(&mut self, key: &str, problem: impl Into<String>) {
        let field = self.path(key);
        self.errors.push(FieldError {
            field,
            problem: problem.into(),
        });
    }

    pub fn value(&mut self, key: &str, required: bool) -> Option<&'a Value> {
        match self.obj.and_then(|o| o.get(key)).filter(|v| !v.is_null()) {
            Some(v) => Some(v),
            None => {
                if required && self.obj.is_some() {
                    self.fail(key, "is required");
                }
                None
            }
        }
    }

    pub fn string(&mut self, key: &str, required: bool) -> Option<String> {
        let v = self.value(key, required)?;
        match v.as_str().map(str::trim) {
            Some(s) if !s.is_empty() => Some(s.to_string()),
            _ => {
                self.fail(key, format!("must be a non-empty string, got {v}"));
                None
            }
        }
    }

    pub fn number(&mut self, key: &str, min: f64, max: f64, default: f64) -> f64 {
        let Some(v) = self.value(key, false) else {
            return default;
        };
        match v.as_f64() {
            Some(n) if (min..=max).contains(&n) => n,
            _ => {
                self.fail(
                    key,
                    format!("must be a number from {min} to {max}, got {v}"),
                );
                default
            }
        }
    }

    pub fn integer(&mut self, key: &str, max: u64, default: u64) -> u64 {
        let Some(v) = self.value(key, false) else {
            return default;
        };
        match v.as_u64() {
            Some(n) if n <= max => n,
            _ => {
                self.fail(key, format!("must be an integer from 0 to {max}, got {v}"));
                default
            }
        }
    }

    pub fn boolean(&mut self, key: &str, default: bool) -> bool {
        match self.value(key, false) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.fail(key, format!("must be true or false, got {other}"));
                default
            }
        }
    }

    /// A reader of element `i` of the list at `key` (the caller checked it is a list), fields
    /// named `key[i].field`.
    pub fn child_at(&mut self, key: &str, i: usize) -> Reader<'_> {
        let prefix = format!("{}[{i}]", self.path(key));
        let item = self.obj.and_then(|o| o.get(key)).and_then(|v| v.get(i));
        let obj = match item {
            Some(Value::Object(o)) => Some(o),
            other => {
                let shown = other.map_or("nothing".to_string(), Value::to_string);
                self.errors.push(FieldError {
                    field: prefix.clone(),
                    problem: format!("must be an object, got {shown}"),
                });
                None
            }
        };
        Reader {
            errors: self.errors,
            obj,
            prefix,
        }
    }

    pub fn child(&mut self, key: &str, required: bool) -> Reader<'_> {
        let prefix = self.path(key);
        let obj = match self.value(key, required) {
            Some(Value::Object(o)) => Some(o),
            Some(other) => {
                self.fail(key, format!("must be an object, got {other}"));
                None
            }
            None => None,
        };
        Reader {
            errors: self.errors,
            obj,
            prefix,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_field_names_itself_in_reason_and_details() {
        let f = invalid_field("deploymentId", "must be plain");
        assert_eq!(f.error_type, ErrorType::InvalidInput);
        assert_eq!(f.reason, "deploymentId: must be plain");
        assert_eq!(f.details, json!({ "field": "deploymentId" }));
        let missing = text(&json!({ "app": 3 }), "app").unwrap_err();
        assert_eq!(missing.reason, "app: is required and must be a string");
        assert_eq!(missing.details, json!({ "field": "app" }));
    }
}
