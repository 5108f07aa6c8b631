//! The AppConfig flag switch against mocked responses: it reads what the environment serves (the
//! newest completed deployment, not a rolled-back one), changes only its flag, and deploys nothing
//! when nothing changes or when it has no strategy to deploy with.

use aws_sdk_appconfig::operation::create_hosted_configuration_version::CreateHostedConfigurationVersionOutput;
use aws_sdk_appconfig::operation::get_deployment::GetDeploymentOutput;
use aws_sdk_appconfig::operation::get_hosted_configuration_version::GetHostedConfigurationVersionOutput;
use aws_sdk_appconfig::operation::list_applications::ListApplicationsOutput;
use aws_sdk_appconfig::operation::list_configuration_profiles::ListConfigurationProfilesOutput;
use aws_sdk_appconfig::operation::list_deployments::ListDeploymentsOutput;
use aws_sdk_appconfig::operation::list_environments::ListEnvironmentsOutput;
use aws_sdk_appconfig::operation::start_deployment::StartDeploymentOutput;
use aws_sdk_appconfig::primitives::Blob;
use aws_sdk_appconfig::types::{
    Application, ConfigurationProfileSummary, DeploymentState, DeploymentSummary, Environment,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use cutover_aws::flag_switch::AppConfigFlagSwitch;
use cutover_aws::AwsError;
use cutover_core::migration::FlagRef;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

fn flag(name: &str) -> FlagRef {
    FlagRef {
        application: "live-event".into(),
        environment: "prod".into(),
        profile: "tables".into(),
        flag: name.into(),
    }
}

fn served_doc() -> Value {
    json!({"version": "1",
        "flags": {"ticketsV2": {"name": "ticketsV2"}, "darkMode": {"name": "darkMode"}},
        "values": {"ticketsV2": {"enabled": false, "table": "tickets_v2"}, "darkMode": {"enabled": true}}})
}

/// Lookups for app1/env1/prof1, with version 7 completed and a later version 8 rolled back.
fn lookups() -> Vec<Rule> {
    vec![
        mock!(aws_sdk_appconfig::Client::list_applications).then_output(|| {
            ListApplicationsOutput::builder()
                .items(Application::builder().id("other").name("other").build())
                .items(Application::builder().id("app1").name("live-event").build())
                .build()
        }),
        mock!(aws_sdk_appconfig::Client::list_environments)
            .match_requests(|r| r.application_id() == Some("app1"))
            .then_output(|| {
                ListEnvironmentsOutput::builder()
                    .items(Environment::builder().id("env1").name("prod").build())
                    .build()
            }),
        mock!(aws_sdk_appconfig::Client::list_configuration_profiles).then_output(|| {
            ListConfigurationProfilesOutput::builder()
                .items(
                    ConfigurationProfileSummary::builder()
                        .id("prof1")
                        .name("tables")
                        .r#type("AWS.AppConfig.FeatureFlags")
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_appconfig::Client::list_deployments).then_output(|| {
            let d = |n, state, version: &str| {
                DeploymentSummary::builder()
                    .deployment_number(n)
                    .state(state)
                    .configuration_name("tables")
                    .configuration_version(version)
                    .build()
            };
            ListDeploymentsOutput::builder()
                .items(d(3, DeploymentState::Complete, "7"))
                .items(d(4, DeploymentState::RolledBack, "8"))
                .build()
        }),
        mock!(aws_sdk_appconfig::Client::get_hosted_configuration_version)
            .match_requests(|r| r.version_number() == Some(7))
            .then_output(|| {
                GetHostedConfigurationVersionOutput::builder()
                    .content(Blob::new(served_doc().to_string()))
                    .build()
            }),
    ]
}

#[tokio::test]
async fn a_flag_is_changed_in_the_served_document_and_deployed() {
    let written = Arc::new(Mutex::new(None::<Value>));
    let w = written.clone();
    let create = mock!(aws_sdk_appconfig::Client::create_hosted_configuration_version)
        .match_requests(move |r| {
            let doc = r
                .content()
                .map(|b| serde_json::from_slice(b.as_ref()).unwrap());
            *w.lock().unwrap() = doc;
            r.application_id() == Some("app1") && r.configuration_profile_id() == Some("prof1")
        })
        .then_output(|| {
            CreateHostedConfigurationVersionOutput::builder()
                .version_number(9)
                .build()
        });
    let start = mock!(aws_sdk_appconfig::Client::start_deployment)
        .match_requests(|r| {
            r.configuration_version() == Some("9") && r.deployment_strategy_id() == Some("nobake")
        })
        .then_output(|| {
            StartDeploymentOutput::builder()
                .deployment_number(5)
                .build()
        });
    let done = mock!(aws_sdk_appconfig::Client::get_deployment)
        .match_requests(|r| r.deployment_number() == Some(5))
        .then_output(|| {
            GetDeploymentOutput::builder()
                .state(DeploymentState::Complete)
                .build()
        });
    let mut rules = lookups();
    rules.extend([create.clone(), start.clone(), done]);
    let client = mock_client!(aws_sdk_appconfig, RuleMode::MatchAny, &rules);
    let switch = AppConfigFlagSwitch::new(client, Some("nobake".into()));

    let before = switch.get(&flag("ticketsV2")).await.unwrap();
    assert_eq!(
        before.as_deref(),
        Some(r#"{"enabled":false,"table":"tickets_v2"}"#)
    );
    assert_eq!(switch.get(&flag("absent")).await.unwrap(), None);

    // Removing a flag the served document does not have deploys nothing.
    switch.delete(&flag("absent")).await.unwrap();
    assert_eq!(create.num_calls(), 0);

    switch
        .put(
            &flag("ticketsV2"),
            r#"{"enabled":true,"table":"tickets_v2"}"#,
        )
        .await
        .unwrap();
    assert_eq!((create.num_calls(), start.num_calls()), (1, 1));
    let mut expected = served_doc();
    expected["values"]["ticketsV2"]["enabled"] = json!(true);
    assert_eq!(written.lock().unwrap().clone(), Some(expected));

    // A flag that did not exist before the switch is removed on revert: definition and value.
    switch.delete(&flag("darkMode")).await.unwrap();
    assert_eq!(create.num_calls(), 2);
    let mut expected = served_doc();
    expected["flags"]
        .as_object_mut()
        .unwrap()
        .remove("darkMode");
    expected["values"]
        .as_object_mut()
        .unwrap()
        .remove("darkMode");
    assert_eq!(written.lock().unwrap().clone(), Some(expected));
}

#[tokio::test]
async fn without_a_strategy_a_flag_is_read_but_never_written() {
    let rules = lookups();
    let client = mock_client!(aws_sdk_appconfig, RuleMode::MatchAny, &rules);
    let switch = AppConfigFlagSwitch::new(client, None);
    let err = switch
        .put(&flag("ticketsV2"), r#"{"enabled":true}"#)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AwsError::Unusable { problem, .. } if problem.contains("FLAG_DEPLOYMENT_STRATEGY")),
        "{err}"
    );
    // Nothing was even looked up: the refusal comes before any call.
    assert!(rules.iter().all(|r| r.num_calls() == 0));
}

#[tokio::test]
async fn cutovers_own_flags_are_never_a_switch() {
    // "app1" stands for Cutover's own flags application (the function's APPCONFIG_APPLICATION).
    let rules = lookups();
    let client = mock_client!(aws_sdk_appconfig, RuleMode::MatchAny, &rules);
    let switch =
        AppConfigFlagSwitch::new(client, Some("nobake".into())).protecting(Some("app1".into()));
    let err = switch
        .put(&flag("ticketsV2"), r#"{"enabled":true}"#)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AwsError::Unusable { problem, .. } if problem.contains("Cutover's own flags")),
        "{err}"
    );
    assert_eq!(err.error_type(), cutover_core::ErrorType::InvalidInput);
    // Refused after the name lookup, before anything was read from or written to the application.
    let calls: usize = rules.iter().map(|r| r.num_calls()).sum();
    assert_eq!(calls, 1, "only ListApplications");
    let err = switch.get(&flag("ticketsV2")).await.unwrap_err();
    assert!(err.to_string().contains("Cutover's own flags"), "{err}");
}
