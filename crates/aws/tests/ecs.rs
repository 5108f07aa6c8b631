//! The ECS adapter against mocked responses, including what the local emulator never produces:
//! rollouts that stay in progress, failed tasks, failed rollouts.

use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput;
use aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionOutput;
use aws_sdk_ecs::types::{
    ContainerDefinition, Deployment, DeploymentRolloutState, NetworkMode, Service, TaskDefinition,
};
use aws_sdk_ecs::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use cutover_aws::ecs::Ecs;
use cutover_aws::{AwsError, Services};
use cutover_core::{Rollout, Verdict};

fn service(
    rollout: DeploymentRolloutState,
    running: i32,
    failed: i32,
    deployments: usize,
) -> DescribeServicesOutput {
    let mut svc = Service::builder()
        .service_name("live-green")
        .status("ACTIVE")
        .task_definition("td:2")
        .desired_count(2)
        .running_count(running)
        .pending_count(2 - running)
        .deployments(
            Deployment::builder()
                .status("PRIMARY")
                .task_definition("td:2")
                .rollout_state(rollout)
                .failed_tasks(failed)
                .build(),
        );
    for _ in 1..deployments {
        svc = svc.deployments(
            Deployment::builder()
                .status("ACTIVE")
                .task_definition("td:1")
                .build(),
        );
    }
    DescribeServicesOutput::builder()
        .services(svc.build())
        .build()
}

#[tokio::test]
async fn a_rollout_in_progress_is_pending() {
    let rule = mock!(Client::describe_services)
        .then_output(|| service(DeploymentRolloutState::InProgress, 1, 0, 2));
    let s = Ecs::new(mock_client!(aws_sdk_ecs, [&rule]))
        .service("live", "live-green")
        .await
        .unwrap();
    assert_eq!(s.rollout, Rollout::InProgress);
    assert!(matches!(s.stability("td:2"), Verdict::Pending(r) if r.len() == 3));
}

#[tokio::test]
async fn failed_tasks_and_failed_rollouts_are_unhealthy() {
    let failed_tasks = mock!(Client::describe_services)
        .then_output(|| service(DeploymentRolloutState::InProgress, 0, 3, 1));
    let s = Ecs::new(mock_client!(aws_sdk_ecs, [&failed_tasks]))
        .service("live", "live-green")
        .await
        .unwrap();
    assert_eq!(s.failed_tasks, 3);
    assert!(matches!(s.stability("td:2"), Verdict::Unhealthy(_)));
    let failed = mock!(Client::describe_services)
        .then_output(|| service(DeploymentRolloutState::Failed, 0, 0, 1));
    let s = Ecs::new(mock_client!(aws_sdk_ecs, [&failed]))
        .service("live", "live-green")
        .await
        .unwrap();
    assert!(
        matches!(s.stability("td:2"), Verdict::Unhealthy(r) if r[0].contains("rollout failed"))
    );
}

#[tokio::test]
async fn a_missing_service_is_not_found() {
    let rule =
        mock!(Client::describe_services).then_output(|| DescribeServicesOutput::builder().build());
    let err = Ecs::new(mock_client!(aws_sdk_ecs, [&rule]))
        .service("live", "nope")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AwsError::NotFound {
            what: "ECS service",
            id: "live/nope".into()
        }
    );
}

#[tokio::test]
async fn a_new_revision_changes_only_the_named_containers_image() {
    let describe = mock!(Client::describe_task_definition).then_output(|| {
        DescribeTaskDefinitionOutput::builder()
            .task_definition(
                TaskDefinition::builder()
                    .family("live")
                    .network_mode(NetworkMode::Awsvpc)
                    .cpu("256")
                    .memory("512")
                    .execution_role_arn("arn:aws:iam::1:role/exec")
                    .container_definitions(
                        ContainerDefinition::builder()
                            .name("app")
                            .image("img:1")
                            .memory(256)
                            .build(),
                    )
                    .container_definitions(
                        ContainerDefinition::builder()
                            .name("sidecar")
                            .image("envoy:1")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let register = mock!(Client::register_task_definition)
        .match_requests(|r| {
            let images: Vec<_> = r
                .container_definitions()
                .iter()
                .map(|c| (c.name().unwrap(), c.image().unwrap()))
                .collect();
            images == vec![("app", "img:2"), ("sidecar", "envoy:1")]
                && r.family() == Some("live")
                && r.cpu() == Some("256")
                && r.execution_role_arn() == Some("arn:aws:iam::1:role/exec")
                && r.container_definitions()[0].memory() == Some(256)
        })
        .then_output(|| registered("arn:aws:ecs:us-east-1:1:task-definition/live:2"));
    let ecs = Ecs::new(mock_client!(
        aws_sdk_ecs,
        RuleMode::MatchAny,
        [&describe, &register]
    ));
    let r = ecs
        .register_with_image("td:1", "app", "img:2", &[])
        .await
        .unwrap();
    assert_eq!(
        r.task_definition_arn,
        "arn:aws:ecs:us-east-1:1:task-definition/live:2"
    );
    assert_eq!(
        register.num_calls(),
        1,
        "the RegisterTaskDefinition request did not match"
    );
    let err = ecs
        .register_with_image("td:1", "web", "img:2", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::Unusable { .. }), "{err:?}");
}

#[tokio::test]
async fn the_live_revisions_tags_are_asked_for_and_kept_on_the_new_one() {
    use aws_sdk_ecs::types::{Tag, TaskDefinitionField};
    let tag = || Tag::builder().key("team").value("live-event").build();
    // DescribeTaskDefinition returns tags only with include=[TAGS], beside the task definition.
    let describe = mock!(Client::describe_task_definition)
        .match_requests(|r| r.include() == [TaskDefinitionField::Tags])
        .then_output(move || {
            DescribeTaskDefinitionOutput::builder()
                .task_definition(
                    TaskDefinition::builder()
                        .family("live")
                        .container_definitions(
                            ContainerDefinition::builder()
                                .name("app")
                                .image("img:1")
                                .build(),
                        )
                        .build(),
                )
                .tags(tag())
                .build()
        });
    let register = mock!(Client::register_task_definition)
        .match_requests(move |r| r.tags() == [tag()])
        .then_output(|| registered("arn:aws:ecs:us-east-1:1:task-definition/live:3"));
    let ecs = Ecs::new(mock_client!(
        aws_sdk_ecs,
        RuleMode::MatchAny,
        [&describe, &register]
    ));
    ecs.register_with_image("td:2", "app", "img:3", &[])
        .await
        .unwrap();
    assert_eq!(
        (describe.num_calls(), register.num_calls()),
        (1, 1),
        "a request lacked include=[TAGS] or the tags"
    );
}

#[tokio::test]
async fn access_denied_is_its_own_error_naming_the_call() {
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    // What AWS answers a role without the action: HTTP 400, AccessDeniedException, and a message
    // that names the action and the resource.
    let describe = mock!(Client::describe_task_definition).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            StatusCode::try_from(400).unwrap(),
            SdkBody::from(
                r#"{"__type":"AccessDeniedException","message":"User: arn:aws:sts::1:assumed-role/prepare/fn is not authorized to perform: ecs:DescribeTaskDefinition on resource: *"}"#,
            ),
        )
    });
    let ecs = Ecs::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&describe]));
    let err = ecs
        .register_with_image("td:1", "app", "img:2", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AwsError::AccessDenied {
                operation: "DescribeTaskDefinition",
                ..
            }
        ),
        "{err:?}"
    );
    let failure = cutover_core::Failure::from(err);
    assert_eq!(failure.error_type, cutover_core::ErrorType::AccessDenied);
    assert!(
        failure.reason.contains("ecs:DescribeTaskDefinition"),
        "{}",
        failure.reason
    );
}

/// RegisterTaskDefinition's answer: the new revision's ARN.
fn registered(arn: &str) -> RegisterTaskDefinitionOutput {
    RegisterTaskDefinitionOutput::builder()
        .task_definition(TaskDefinition::builder().task_definition_arn(arn).build())
        .build()
}

/// A drill's revision is the live one plus the fault variable on the deployed container: an existing
/// variable of that name is replaced, the others and the sidecar are kept.
#[tokio::test]
async fn a_drill_revision_adds_the_fault_variable_to_the_deployed_container_only() {
    use aws_sdk_ecs::types::KeyValuePair;
    let var = |k: &str, v: &str| KeyValuePair::builder().name(k).value(v).build();
    let describe = mock!(Client::describe_task_definition).then_output(move || {
        DescribeTaskDefinitionOutput::builder()
            .task_definition(
                TaskDefinition::builder()
                    .family("live")
                    .container_definitions(
                        ContainerDefinition::builder()
                            .name("app")
                            .image("img:1")
                            .environment(var("MODE", "prod"))
                            .environment(var("CUTOVER_DRILL_FAULT", "latency"))
                            .build(),
                    )
                    .container_definitions(ContainerDefinition::builder().name("sidecar").build())
                    .build(),
            )
            .build()
    });
    let register = mock!(Client::register_task_definition)
        .match_requests(|r| {
            let env = |i: usize| -> Vec<(String, String)> {
                r.container_definitions()[i]
                    .environment()
                    .iter()
                    .map(|v| (v.name().unwrap().into(), v.value().unwrap().into()))
                    .collect()
            };
            env(0)
                == vec![
                    ("MODE".into(), "prod".into()),
                    ("CUTOVER_DRILL_FAULT".into(), "errors".into()),
                ]
                && env(1).is_empty()
                && r.container_definitions()[0].image() == Some("img:1")
        })
        .then_output(|| registered("arn:aws:ecs:us-east-1:1:task-definition/live:3"));
    let ecs = Ecs::new(mock_client!(
        aws_sdk_ecs,
        RuleMode::MatchAny,
        [&describe, &register]
    ));
    let fault = [("CUTOVER_DRILL_FAULT".to_string(), "errors".to_string())];
    ecs.register_with_image("td:2", "app", "img:1", &fault)
        .await
        .unwrap();
    assert_eq!(register.num_calls(), 1, "the registration did not match");
}
