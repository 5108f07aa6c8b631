//! Target configurations from SSM Parameter Store (`/cutover/<app>/<env>/target`), validated on load
//! and cached across warm invocations for a short while.

use crate::{AwsError, TargetSource};
use aws_sdk_ssm::Client;
use cutover_core::{AnyTarget, ErrorType, Failure, MetricRules, Scope, TargetConfig};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Long enough to spare SSM on every step of a deployment, short enough that an edit lands soon.
pub const CACHE_TTL: Duration = Duration::from_secs(60);

const TARGET: &str = "arn:{partition}:ssm:{region}:{account}:parameter/cutover/{app}/{env}/target";

/// Target configurations, and the table switch when it is a parameter (`SwitchStore` for
/// parameters; `switch.rs` adds what flag switches need).
pub const PERMISSIONS: &[crate::iam::Needs] = {
    use crate::iam::allow;
    &[
        ("TargetSource::target", &[allow("ssm:GetParameter", TARGET)]),
        (
            "TargetSource::any_target",
            &[allow("ssm:GetParameter", TARGET)],
        ),
        (
            "TargetSource::with_alarm",
            &[allow(
                "ssm:GetParametersByPath",
                "arn:{partition}:ssm:{region}:{account}:parameter/cutover",
            )],
        ),
    ]
};

/// Under the stack's `SwitchParameterPrefix` (the prefix is the stack's, the name the spec's). Only
/// the switch adapters use them: a build of the CLI's features alone has none.
#[cfg(feature = "switch")]
const SWITCH: &str = "arn:{partition}:ssm:{region}:{account}:parameter{switch_prefix}{switch_name}";
#[cfg(feature = "switch")]
pub(crate) const SWITCH_GET: crate::iam::Permission = crate::iam::allow("ssm:GetParameter", SWITCH);
#[cfg(feature = "switch")]
pub(crate) const SWITCH_PUT: crate::iam::Permission = crate::iam::allow("ssm:PutParameter", SWITCH);
#[cfg(feature = "switch")]
pub(crate) const SWITCH_DELETE: crate::iam::Permission =
    crate::iam::allow("ssm:DeleteParameter", SWITCH);

pub struct SsmTargets {
    client: Client,
    rules: MetricRules,
    scope: Option<Scope>,
    cache: Mutex<HashMap<String, (Instant, AnyTarget)>>,
}

pub fn parameter_name(app: &str, env: &str) -> String {
    format!("/cutover/{app}/{env}/target")
}

impl SsmTargets {
    /// Configurations held to AWS's metric rules.
    pub fn new(client: Client) -> Self {
        SsmTargets::with_rules(client, MetricRules::AWS)
    }

    /// `rules` other than AWS's are for the local cloud, whose CloudWatch keeps 1-second periods.
    pub fn with_rules(client: Client, rules: MetricRules) -> Self {
        SsmTargets {
            client,
            rules,
            scope: None,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Refuse a configuration outside the stack's listener and cluster when it is loaded.
    pub fn within(self, scope: Option<Scope>) -> Self {
        SsmTargets { scope, ..self }
    }

    pub fn from_conf(conf: &aws_config::SdkConfig, rules: MetricRules) -> Self {
        SsmTargets::with_rules(Client::new(conf), rules)
    }
}

/// `(app, env)` of a parameter named `/cutover/<app>/<env>/target`.
fn app_env(name: &str) -> Option<(String, String)> {
    match name.split('/').collect::<Vec<_>>().as_slice() {
        ["", "cutover", app, env, "target"] => Some((app.to_string(), env.to_string())),
        _ => None,
    }
}

impl TargetSource for SsmTargets {
    async fn with_alarm(&self, alarm: &str) -> Result<Vec<(String, String)>, Failure> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .get_parameters_by_path()
                .path("/cutover/")
                .recursive(true)
                // IAM authorizes this call on the path, not on what it returns: decrypted, it would
                // hand this function every SecureString under /cutover, database passwords included.
                .with_decryption(false)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetParametersByPath", e))?;
            for p in out.parameters() {
                let (Some(name), Some(text)) = (p.name(), p.value()) else {
                    continue;
                };
                let Some((app, env)) = app_env(name) else {
                    continue;
                };
                let parsed = serde_json::from_str(text)
                    .map_err(|e| e.to_string())
                    .and_then(|v| {
                        AnyTarget::from_json_with(&v, self.rules).map_err(|e| format!("{e:?}"))
                    });
                match parsed {
                    Ok(t) if t.alarms().iter().any(|a| a == alarm) => found.push((app, env)),
                    Ok(_) => {}
                    Err(problem) => tracing::warn!(
                        parameter = name,
                        problem,
                        "skipping a target configuration that does not parse"
                    ),
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(found),
            }
        }
    }

    async fn target(&self, app: &str, env: &str) -> Result<TargetConfig, Failure> {
        match self.any_target(app, env).await? {
            AnyTarget::BlueGreen(t) => Ok(*t),
            AnyTarget::Rolling(_) => Err(Failure::new(
                ErrorType::InvalidInput,
                format!(
                    "{app}/{env} is a rolling-mode service: Cutover rolls it back but cannot shift its traffic"
                ),
            )
            .with_details(json!({ "app": app, "env": env, "field": "mode" }))),
        }
    }

    async fn any_target(&self, app: &str, env: &str) -> Result<AnyTarget, Failure> {
        let name = parameter_name(app, env);
        if let Some((at, t)) = self.cache.lock().await.get(&name) {
            if at.elapsed() < CACHE_TTL {
                return Ok(t.clone());
            }
        }
        let out = self
            .client
            .get_parameter()
            .name(&name)
            // A target configuration is no secret (a String parameter); nothing here decrypts.
            .with_decryption(false)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found())
                {
                    Failure::new(
                        ErrorType::InvalidInput,
                        format!("unknown service {app}/{env}: no parameter {name}"),
                    )
                    .with_details(json!({ "app": app, "env": env, "parameter": name }))
                } else {
                    AwsError::from_sdk("GetParameter", e).into()
                }
            })?;
        let text = out.parameter().and_then(|p| p.value()).unwrap_or_default();
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Failure::new(ErrorType::InvalidInput, format!("{name} is not JSON: {e}"))
                .with_details(json!({ "parameter": name }))
        })?;
        let target = AnyTarget::from_json_with(&value, self.rules).and_then(|t| {
            let outside = self.scope.as_ref().map(|s| s.check(&t)).unwrap_or_default();
            if outside.is_empty() {
                Ok(t)
            } else {
                Err(outside)
            }
        });
        let target = target.map_err(|errors| {
            let first = errors.first().map(|e| e.to_string()).unwrap_or_default();
            Failure::new(
                ErrorType::InvalidInput,
                format!("{name} has {} bad field(s): {first}", errors.len()),
            )
            .with_details(json!({ "parameter": name, "fields": errors }))
        })?;
        self.cache
            .lock()
            .await
            .insert(name, (Instant::now(), target.clone()));
        Ok(target)
    }
}

/// The application's table switch as an SSM String parameter.
pub struct SsmSwitch {
    client: Client,
}

impl SsmSwitch {
    pub fn new(client: Client) -> Self {
        SsmSwitch { client }
    }

    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        SsmSwitch::new(Client::new(conf))
    }
}

/// The parameter operations of the switch; `switch::Switches` routes a parameter target here.
impl SsmSwitch {
    pub async fn get(&self, name: &str) -> Result<Option<String>, AwsError> {
        match self.client.get_parameter().name(name).send().await {
            Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(String::from)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found()) =>
            {
                Ok(None)
            }
            Err(e) => Err(AwsError::from_sdk("GetParameter", e)),
        }
    }

    pub async fn put(&self, name: &str, value: &str) -> Result<(), AwsError> {
        self.client
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("PutParameter", e))?;
        Ok(())
    }

    pub async fn delete(&self, name: &str) -> Result<(), AwsError> {
        match self.client.delete_parameter().name(name).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::from_sdk("DeleteParameter", e)),
        }
    }
}
