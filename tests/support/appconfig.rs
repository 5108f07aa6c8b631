//! A feature-flag profile in the local AppConfig for the migrations whose switch is a flag, and what
//! AppConfigData serves the application from it.

use crate::LocalCloud;
use serde_json::Value;

/// A feature-flag profile of its own in the local AppConfig, deployed once with `ticketsV2` off
/// (carrying the table name as an attribute) next to a flag the migration must not touch.
pub async fn flag_profile(c: &LocalCloud, app_name: &str) -> (String, String) {
    let ac = &c.appconfig;
    let app = ac.create_application().name(app_name).send().await.unwrap();
    let app = app.id.unwrap();
    let env = ac
        .create_environment()
        .application_id(&app)
        .name("prod")
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let profile = ac
        .create_configuration_profile()
        .application_id(&app)
        .name("tables")
        .location_uri("hosted")
        .r#type("AWS.AppConfig.FeatureFlags")
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let doc = serde_json::json!({"version": "1",
        "flags": {"ticketsV2": {"name": "ticketsV2", "attributes": {"table": {"constraints": {"type": "string"}}}},
                  "darkMode": {"name": "darkMode"}},
        "values": {"ticketsV2": {"enabled": false, "table": "tickets_v2"}, "darkMode": {"enabled": true}}});
    let version = ac
        .create_hosted_configuration_version()
        .application_id(&app)
        .configuration_profile_id(&profile)
        .content_type("application/json")
        .content(aws_sdk_appconfig::primitives::Blob::new(doc.to_string()))
        .send()
        .await
        .unwrap()
        .version_number;
    ac.start_deployment()
        .application_id(&app)
        .environment_id(&env)
        .configuration_profile_id(&profile)
        .deployment_strategy_id(c.output("FlagsDeploymentStrategyId"))
        .configuration_version(version.to_string())
        .send()
        .await
        .unwrap();
    (app, env)
}

/// The flag values AppConfigData serves the application now.
pub async fn served_flags(c: &LocalCloud, app_name: &str) -> Value {
    let data = aws_sdk_appconfigdata::Client::new(&c.conf_on_ministack());
    let token = data
        .start_configuration_session()
        .application_identifier(app_name)
        .environment_identifier("prod")
        .configuration_profile_identifier("tables")
        .send()
        .await
        .unwrap()
        .initial_configuration_token
        .unwrap();
    let out = data
        .get_latest_configuration()
        .configuration_token(token)
        .send()
        .await
        .unwrap();
    let doc: Value = serde_json::from_slice(
        &out.configuration
            .map(|b| b.into_inner())
            .unwrap_or_default(),
    )
    .unwrap();
    doc.get("values").cloned().unwrap_or(doc)
}

/// How many deployments the environment has had.
pub async fn deployments(c: &LocalCloud, app: &str, env: &str) -> usize {
    let out = c
        .appconfig
        .list_deployments()
        .application_id(app)
        .environment_id(env)
        .send()
        .await
        .unwrap();
    out.items().len()
}
