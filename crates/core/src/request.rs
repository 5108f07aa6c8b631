//! The fields every function's event carries, read with errors that name the field.

use crate::error::Failure;
use crate::flags::check_name;
use serde_json::Value;

use crate::fields::text;

/// Which deployment of which service an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRef {
    pub app: String,
    pub env: String,
    pub deployment_id: String,
}

impl DeploymentRef {
    pub fn from_event(event: &Value) -> Result<DeploymentRef, Failure> {
        let (app, env, deployment_id) = (
            text(event, "app")?,
            text(event, "env")?,
            text(event, "deploymentId")?,
        );
        check_name("app", &app)?;
        check_name("env", &env)?;
        check_name("deploymentId", &deployment_id)?;
        Ok(DeploymentRef {
            app,
            env,
            deployment_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorType;
    use serde_json::json;

    #[test]
    fn each_missing_or_bad_field_is_named() {
        let ok = json!({"app": "live", "env": "prod", "deploymentId": "abc"});
        assert_eq!(DeploymentRef::from_event(&ok).unwrap().deployment_id, "abc");
        for (event, field) in [
            (json!({"env": "prod", "deploymentId": "a"}), "app"),
            (json!({"app": "live", "env": 3, "deploymentId": "a"}), "env"),
            (
                json!({"app": "live", "env": "prod", "deploymentId": "a b"}),
                "deploymentId",
            ),
        ] {
            let err = DeploymentRef::from_event(&event).unwrap_err();
            assert_eq!(err.error_type, ErrorType::InvalidInput);
            assert!(err.reason.starts_with(field), "{field}: {}", err.reason);
        }
    }
}
