//! A migration's switch as a flag of a hosted AppConfig feature-flag profile. The flag is changed in
//! the document the environment serves now (the last completed deployment, not the newest draft), as
//! a new hosted version deployed with a strategy that has no bake: AppConfig refuses a deployment
//! while another bakes, and a revert must be able to follow a switch at once.

use crate::AwsError;
use aws_sdk_appconfig::primitives::Blob;
use aws_sdk_appconfig::types::DeploymentState;
use aws_sdk_appconfig::Client;
use cutover_core::migration::FlagRef;
use serde_json::{json, Value};
use std::time::Duration;

/// How long a deployment may take to complete before the phase gives up (and is retried).
const SETTLE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(500);

pub struct AppConfigFlagSwitch {
    client: Client,
    strategy: Option<String>,
    /// Cutover's own flags application (`deploymentsFrozen`, `autoRollback`): never a switch.
    protected: Option<String>,
}

/// The ids behind a `FlagRef` and what the environment serves from its profile.
struct Served {
    app: String,
    env: String,
    profile: String,
    /// The served document; `None` when the profile was never deployed to the environment.
    doc: Option<Value>,
}

fn unusable(r: &FlagRef, problem: impl Into<String>) -> AwsError {
    AwsError::Unusable {
        what: "AppConfig flag",
        id: cutover_core::migration::SwitchTarget::Flag(r.clone()).to_string(),
        problem: problem.into(),
    }
}

impl AppConfigFlagSwitch {
    /// `strategy`: the id of a deployment strategy without bake (the template's
    /// `FlagsDeploymentStrategy`); without one, flags can be read but not changed.
    pub fn new(client: Client, strategy: Option<String>) -> Self {
        AppConfigFlagSwitch {
            client,
            strategy,
            protected: None,
        }
    }

    /// Refuse every flag of `application` (an id): a migration that could write Cutover's own
    /// flags could unfreeze deployments or turn automatic rollback off.
    pub fn protecting(self, application: Option<String>) -> Self {
        AppConfigFlagSwitch {
            protected: application,
            ..self
        }
    }

    /// The flag's value object, e.g. `{"enabled":false,"table":"tickets"}`; `None` when absent.
    pub async fn get(&self, r: &FlagRef) -> Result<Option<String>, AwsError> {
        let served = self.served(r).await?;
        Ok(served
            .doc
            .as_ref()
            .and_then(|d| d.get("values")?.get(&r.flag))
            .map(Value::to_string))
    }

    /// Serve `value` (a JSON object) as the flag's value, defining the flag if the profile lacks it.
    pub async fn put(&self, r: &FlagRef, value: &str) -> Result<(), AwsError> {
        let value: Value = serde_json::from_str(value)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| unusable(r, format!("{value} is not a flag value object")))?;
        self.change(r, |doc| {
            doc["flags"][&r.flag] = doc["flags"]
                .get(&r.flag)
                .cloned()
                .unwrap_or_else(|| json!({ "name": r.flag }));
            doc["values"][&r.flag] = value.clone();
        })
        .await
    }

    /// Remove the flag (its definition and value): what "did not exist" looks like.
    pub async fn delete(&self, r: &FlagRef) -> Result<(), AwsError> {
        self.change(r, |doc| {
            for part in ["flags", "values"] {
                if let Some(m) = doc.get_mut(part).and_then(Value::as_object_mut) {
                    m.remove(&r.flag);
                }
            }
        })
        .await
    }

    /// Apply `edit` to the served document; deploy it only when it changed, so a retry that finds
    /// its change already served does nothing.
    async fn change(&self, r: &FlagRef, edit: impl Fn(&mut Value)) -> Result<(), AwsError> {
        let strategy = self.strategy.as_deref().ok_or_else(|| {
            unusable(
                r,
                "no AppConfig deployment strategy is configured (FLAG_DEPLOYMENT_STRATEGY)",
            )
        })?;
        let served = self.served(r).await?;
        let before = served
            .doc
            .clone()
            .unwrap_or_else(|| json!({"version": "1", "flags": {}, "values": {}}));
        let mut doc = before.clone();
        for part in ["flags", "values"] {
            if !doc.get(part).is_some_and(Value::is_object) {
                doc[part] = json!({});
            }
        }
        edit(&mut doc);
        if served.doc.is_some() && doc == before {
            return Ok(());
        }
        let version = self
            .client
            .create_hosted_configuration_version()
            .application_id(&served.app)
            .configuration_profile_id(&served.profile)
            .content_type("application/json")
            .content(Blob::new(doc.to_string()))
            .description(format!("cutover: flag {}", r.flag))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateHostedConfigurationVersion", e))?
            .version_number;
        let number = self
            .client
            .start_deployment()
            .application_id(&served.app)
            .environment_id(&served.env)
            .configuration_profile_id(&served.profile)
            .configuration_version(version.to_string())
            .deployment_strategy_id(strategy)
            .description(format!("cutover: flag {}", r.flag))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("StartDeployment", e))?
            .deployment_number;
        tracing::info!(flag = %r.flag, version, deployment = number, "flag deployment started");
        match self.wait(&served.app, &served.env, number).await? {
            DeploymentState::Complete => Ok(()),
            other => Err(unusable(
                r,
                format!("deployment {number} of version {version} ended {other:?}, not complete"),
            )),
        }
    }

    /// The final state of deployment `number`, waiting while it deploys or bakes.
    async fn wait(&self, app: &str, env: &str, number: i32) -> Result<DeploymentState, AwsError> {
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            let out = self
                .client
                .get_deployment()
                .application_id(app)
                .environment_id(env)
                .deployment_number(number)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetDeployment", e))?;
            match out.state() {
                Some(DeploymentState::Deploying | DeploymentState::Baking) | None => {}
                Some(DeploymentState::Validating | DeploymentState::RollingBack) => {}
                Some(done) => return Ok(done.clone()),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(AwsError::Transient {
                    operation: "GetDeployment",
                    message: format!("deployment {number} still in progress after {SETTLE:?}"),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Resolve names to ids and read the document of the newest completed deployment of the
    /// profile, after waiting for one in progress in the environment.
    async fn served(&self, r: &FlagRef) -> Result<Served, AwsError> {
        let app = self.application_id(r).await?;
        let env = self.environment_id(r, &app).await?;
        let (profile, profile_name) = self.profile_id(r, &app).await?;
        let items = loop {
            let mut items = self
                .client
                .list_deployments()
                .application_id(&app)
                .environment_id(&env)
                .max_results(50)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ListDeployments", e))?
                .items
                .unwrap_or_default();
            items.sort_by_key(|d| std::cmp::Reverse(d.deployment_number()));
            let busy = items.iter().find(|d| {
                matches!(
                    d.state(),
                    Some(
                        DeploymentState::Deploying
                            | DeploymentState::Baking
                            | DeploymentState::Validating
                            | DeploymentState::RollingBack
                    )
                )
            });
            match busy {
                Some(d) => {
                    self.wait(&app, &env, d.deployment_number()).await?;
                }
                None => break items,
            }
        };
        let ours = items.iter().find(|d| {
            d.state() == Some(&DeploymentState::Complete)
                && d.configuration_profile_id().map_or_else(
                    || d.configuration_name() == Some(profile_name.as_str()),
                    |id| id == profile,
                )
        });
        let doc = match ours.and_then(|d| d.configuration_version()) {
            None => None,
            Some(version) => {
                let number: i32 = version
                    .parse()
                    .map_err(|_| unusable(r, format!("served version {version} is not hosted")))?;
                let out = self
                    .client
                    .get_hosted_configuration_version()
                    .application_id(&app)
                    .configuration_profile_id(&profile)
                    .version_number(number)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("GetHostedConfigurationVersion", e))?;
                let bytes = out.content.map(Blob::into_inner).unwrap_or_default();
                let doc: Value = serde_json::from_slice(&bytes)
                    .ok()
                    .filter(Value::is_object)
                    .ok_or_else(|| unusable(r, format!("version {number} is not a JSON object")))?;
                Some(doc)
            }
        };
        Ok(Served {
            app,
            env,
            profile,
            doc,
        })
    }

    async fn application_id(&self, r: &FlagRef) -> Result<String, AwsError> {
        let out = self
            .client
            .list_applications()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("ListApplications", e))?;
        let id = out
            .iter()
            .find(|a| a.id() == Some(&r.application) || a.name() == Some(&r.application))
            .and_then(|a| a.id().map(String::from))
            .ok_or_else(|| AwsError::NotFound {
                what: "AppConfig application",
                id: r.application.clone(),
            })?;
        if self.protected.as_deref() == Some(id.as_str()) {
            return Err(unusable(
                r,
                "is Cutover's own flags application: a migration may not switch it",
            ));
        }
        Ok(id)
    }

    async fn environment_id(&self, r: &FlagRef, app: &str) -> Result<String, AwsError> {
        let out = self
            .client
            .list_environments()
            .application_id(app)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("ListEnvironments", e))?;
        out.iter()
            .find(|e| e.id() == Some(&r.environment) || e.name() == Some(&r.environment))
            .and_then(|e| e.id().map(String::from))
            .ok_or_else(|| AwsError::NotFound {
                what: "AppConfig environment",
                id: format!("{}/{}", r.application, r.environment),
            })
    }

    /// The profile's id and name (deployment summaries may carry either).
    async fn profile_id(&self, r: &FlagRef, app: &str) -> Result<(String, String), AwsError> {
        let out = self
            .client
            .list_configuration_profiles()
            .application_id(app)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("ListConfigurationProfiles", e))?;
        let p = out
            .iter()
            .find(|p| p.id() == Some(&r.profile) || p.name() == Some(&r.profile))
            .ok_or_else(|| AwsError::NotFound {
                what: "AppConfig configuration profile",
                id: format!("{}/{}", r.application, r.profile),
            })?;
        if p.r#type() != Some("AWS.AppConfig.FeatureFlags") {
            return Err(unusable(
                r,
                format!("profile {} is not a feature-flag profile", r.profile),
            ));
        }
        Ok((
            p.id().unwrap_or_default().to_string(),
            p.name().unwrap_or_default().to_string(),
        ))
    }
}
