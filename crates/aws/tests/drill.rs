//! The stop-tasks drill at the SDK edge (no emulator has FIS): the requests that mark the
//! candidate's tasks and run the experiment, AWS's error shapes, and the template's FIS role held
//! against what the action needs.

use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::operation::tag_resource::TagResourceOutput;
use aws_sdk_ecs::operation::untag_resource::UntagResourceOutput;
use aws_sdk_ecs::types::{Tag, Task};
use aws_sdk_fis::operation::get_experiment::GetExperimentOutput;
use aws_sdk_fis::operation::get_experiment_template::GetExperimentTemplateOutput;
use aws_sdk_fis::operation::start_experiment::StartExperimentOutput;
use aws_sdk_fis::operation::stop_experiment::StopExperimentOutput;
use aws_sdk_fis::types::{
    Experiment, ExperimentAction, ExperimentActionState, ExperimentActionStatus, ExperimentState,
    ExperimentStatus, ExperimentTemplate, ExperimentTemplateAction,
    ExperimentTemplateStopCondition, ExperimentTemplateTarget,
};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use cutover_aws::drill::{DrillInjector, ACTION, EXPERIMENT_ROLE, TAG_KEY, TAG_VALUE};
use cutover_aws::AwsError;

const CLUSTER: &str = "live-event";
fn task(n: u32) -> String {
    format!("arn:aws:ecs:eu-west-1:123456789012:task/live-event/{n:032x}")
}

/// AWS's restJson1 error: the code in `x-amzn-errortype`, the message in the body.
fn fis_error(status: u16, code: &'static str) -> aws_smithy_runtime_api::http::Response {
    let mut r = aws_smithy_runtime_api::http::Response::new(
        StatusCode::try_from(status).unwrap(),
        SdkBody::from(r#"{"message":"from the mock"}"#),
    );
    r.headers_mut().insert("x-amzn-errortype", code);
    r.headers_mut().insert("content-type", "application/json");
    r
}

fn injector(ecs: &[&aws_smithy_mocks::Rule], fis: &[&aws_smithy_mocks::Rule]) -> DrillInjector {
    DrillInjector::new(
        mock_client!(aws_sdk_ecs, RuleMode::MatchAny, ecs),
        mock_client!(aws_sdk_fis, RuleMode::MatchAny, fis),
    )
}

fn list(service: Option<&'static str>, tasks: &'static [u32]) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_ecs::Client::list_tasks)
        .match_requests(move |r| {
            r.service_name() == service
                && r.cluster() == Some(CLUSTER)
                && r.desired_status() == Some(&aws_sdk_ecs::types::DesiredStatus::Running)
        })
        .then_output(move || {
            ListTasksOutput::builder()
                .set_task_arns(Some(tasks.iter().map(|n| task(*n)).collect()))
                .build()
        })
}

/// DescribeTasks of the cluster's other tasks 3 and 4; `stray` carries the drill tag.
fn others(stray: bool) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_ecs::Client::describe_tasks)
        .match_requests(|r| {
            r.tasks() == [task(3), task(4)] && r.include() == [aws_sdk_ecs::types::TaskField::Tags]
        })
        .then_output(move || {
            let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
            let third = Task::builder().task_arn(task(3));
            let third = if stray {
                third.tags(tag(TAG_KEY, TAG_VALUE))
            } else {
                third
            };
            DescribeTasksOutput::builder()
                .tasks(third.build())
                .tasks(
                    Task::builder()
                        .task_arn(task(4))
                        .tags(tag("team", "live"))
                        .build(),
                )
                .build()
        })
}

#[tokio::test]
async fn marking_tags_the_candidates_running_tasks() {
    let (candidate, cluster, describe) = (
        list(Some("live-green"), &[1, 2]),
        list(None, &[1, 2, 3, 4]),
        others(false),
    );
    let tag = mock!(aws_sdk_ecs::Client::tag_resource)
        .match_requests(|r| {
            [task(1), task(2)]
                .iter()
                .any(|t| r.resource_arn() == Some(t))
                && r.tags().len() == 1
                && r.tags()[0].key() == Some(TAG_KEY)
                && r.tags()[0].value() == Some(TAG_VALUE)
        })
        .then_output(|| TagResourceOutput::builder().build());
    let marked = injector(&[&candidate, &cluster, &describe, &tag], &[])
        .mark(CLUSTER, "live-green")
        .await
        .unwrap();
    assert_eq!(marked, vec![task(1), task(2)]);
    assert_eq!((tag.num_calls(), describe.num_calls()), (2, 1));
}

/// The template stops every tagged task of the cluster: another service's tagged task (another
/// drill's target, or a dead drill's) is neither untagged nor joined.
#[tokio::test]
async fn a_task_tagged_outside_the_candidate_refuses_the_marking() {
    let (candidate, cluster, describe) = (
        list(Some("live-green"), &[1, 2]),
        list(None, &[1, 2, 3, 4]),
        others(true),
    );
    let tag = mock!(aws_sdk_ecs::Client::tag_resource)
        .then_output(|| TagResourceOutput::builder().build());
    let untag = mock!(aws_sdk_ecs::Client::untag_resource)
        .then_output(|| UntagResourceOutput::builder().build());
    let inj = injector(&[&candidate, &cluster, &describe, &tag, &untag], &[]);
    assert_eq!(
        inj.tagged_elsewhere(CLUSTER, "live-green").await.unwrap(),
        vec![task(3)]
    );
    let err = inj.mark(CLUSTER, "live-green").await.unwrap_err();
    assert!(
        matches!(&err, AwsError::Unusable { problem, .. } if problem.contains(&task(3))),
        "{err:?}"
    );
    assert_eq!((tag.num_calls(), untag.num_calls()), (0, 0));
}

#[tokio::test]
async fn a_tag_that_fails_half_way_takes_the_written_ones_off_again() {
    let (candidate, cluster) = (list(Some("live-green"), &[1, 2]), list(None, &[1, 2]));
    const DENIED: &str = r#"{"__type":"AccessDeniedException","message":"not authorized to perform: ecs:TagResource"}"#;
    let tag = mock!(aws_sdk_ecs::Client::tag_resource)
        .sequence()
        .output(|| TagResourceOutput::builder().build())
        .http_status(400, Some(DENIED.into()))
        .build();
    let untag = mock!(aws_sdk_ecs::Client::untag_resource)
        .match_requests(|r| r.resource_arn() == Some(task(1).as_str()))
        .then_output(|| UntagResourceOutput::builder().build());
    let err = injector(&[&candidate, &cluster, &tag, &untag], &[])
        .mark(CLUSTER, "live-green")
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::AccessDenied { .. }), "{err:?}");
    assert_eq!((tag.num_calls(), untag.num_calls()), (2, 1));
}

#[tokio::test]
async fn an_old_format_task_arn_that_cannot_be_tagged_is_rejected() {
    let list = mock!(aws_sdk_ecs::Client::list_tasks)
        .then_output(|| ListTasksOutput::builder().task_arns(task(1)).build());
    const LONG_ARN: &str = r#"{"__type":"InvalidParameterException","message":"Long arn format must be used for tagging operations"}"#;
    let tag = mock!(aws_sdk_ecs::Client::tag_resource)
        .sequence()
        .http_status(400, Some(LONG_ARN.into()))
        .build();
    let err = injector(&[&list, &tag], &[])
        .mark(CLUSTER, "live-green")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AwsError::Rejected { operation: "TagResource", code, .. } if code == "InvalidParameterException"),
        "{err:?}"
    );
}

fn template(action: &str, tag: Option<(&str, &str)>, stop: bool) -> GetExperimentTemplateOutput {
    let mut target = ExperimentTemplateTarget::builder()
        .resource_type("aws:ecs:task")
        .selection_mode("PERCENT(50)");
    if let Some((k, v)) = tag {
        target = target.resource_tags(k, v);
    }
    let mut t = ExperimentTemplate::builder()
        .id("EXT1a2b3c4d5e6f7")
        .actions(
            "StopCandidateTasks",
            ExperimentTemplateAction::builder()
                .action_id(action)
                .targets("Tasks", "CandidateTasks")
                .build(),
        )
        .targets("CandidateTasks", target.build());
    if stop {
        t = t.stop_conditions(
            ExperimentTemplateStopCondition::builder()
                .source("aws:cloudwatch:alarm")
                .value("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:live-5xx")
                .build(),
        );
    }
    GetExperimentTemplateOutput::builder()
        .experiment_template(t.build())
        .build()
}

#[tokio::test]
async fn only_a_template_that_stops_tagged_tasks_under_an_alarm_is_accepted() {
    let good = mock!(aws_sdk_fis::Client::get_experiment_template)
        .match_requests(|r| r.id() == Some("EXT1a2b3c4d5e6f7"))
        .then_output(|| template(ACTION, Some((TAG_KEY, TAG_VALUE)), true));
    let selection = injector(&[], &[&good])
        .check_template("EXT1a2b3c4d5e6f7")
        .await
        .unwrap();
    assert_eq!(selection, cutover_core::drill::Selection::Percent(50));
    for (out, problem) in [
        (
            template(
                "aws:ecs:drain-container-instances",
                Some((TAG_KEY, TAG_VALUE)),
                true,
            ),
            "actions",
        ),
        (template(ACTION, None, true), "tag"),
        (template(ACTION, Some(("team", "live")), true), "tag"),
        (
            template(ACTION, Some((TAG_KEY, TAG_VALUE)), false),
            "stop condition",
        ),
    ] {
        let rule =
            mock!(aws_sdk_fis::Client::get_experiment_template).then_output(move || out.clone());
        let err = injector(&[], &[&rule])
            .check_template("EXT1a2b3c4d5e6f7")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AwsError::Unusable { problem: p, .. } if p.contains(problem)),
            "{problem}: {err:?}"
        );
    }
    let missing = mock!(aws_sdk_fis::Client::get_experiment_template)
        .then_http_response(|| fis_error(404, "ResourceNotFoundException"));
    let err = injector(&[], &[&missing])
        .check_template("EXTgone")
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn starting_sends_the_token_and_the_deployment_tag_and_maps_fis_errors() {
    let start = mock!(aws_sdk_fis::Client::start_experiment)
        .match_requests(|r| {
            r.experiment_template_id() == Some("EXT1")
                && r.client_token() == Some("drill-0123456789abcdef")
                && r.tags()
                    .and_then(|t| t.get("cutover:deployment"))
                    .map(String::as_str)
                    == Some("drill-7")
        })
        .then_output(|| {
            StartExperimentOutput::builder()
                .experiment(Experiment::builder().id("EXP7").build())
                .build()
        });
    let id = injector(&[], &[&start])
        .start("EXT1", "drill-0123456789abcdef", "drill-7")
        .await
        .unwrap();
    assert_eq!(id, "EXP7");
    for (status, code, expect) in [
        (404, "ResourceNotFoundException", "NotFound"),
        (402, "ServiceQuotaExceededException", "Rejected"),
        (409, "ConflictException", "Rejected"),
        (400, "ValidationException", "Rejected"),
    ] {
        let rule = mock!(aws_sdk_fis::Client::start_experiment)
            .then_http_response(move || fis_error(status, code));
        let err = injector(&[], &[&rule])
            .start("EXT1", "t", "drill-7")
            .await
            .unwrap_err();
        let kind = match &err {
            AwsError::NotFound { .. } => "NotFound",
            AwsError::Rejected { code: c, .. } if c == code => "Rejected",
            _ => "other",
        };
        assert_eq!(kind, expect, "{code}: {err:?}");
    }
}

fn experiment(status: ExperimentStatus, reason: &str) -> GetExperimentOutput {
    GetExperimentOutput::builder()
        .experiment(
            Experiment::builder()
                .id("EXP7")
                .state(
                    ExperimentState::builder()
                        .status(status)
                        .reason(reason)
                        .build(),
                )
                .actions(
                    "StopCandidateTasks",
                    ExperimentAction::builder()
                        .state(
                            ExperimentActionState::builder()
                                .status(ExperimentActionStatus::Completed)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build()
}

#[tokio::test]
async fn stopping_leaves_an_ended_experiment_and_stops_a_running_one() {
    // Ended already (its stop condition fired): nothing is sent.
    let ended = mock!(aws_sdk_fis::Client::get_experiment)
        .then_output(|| experiment(ExperimentStatus::Stopped, "Stop condition activated"));
    let stop = mock!(aws_sdk_fis::Client::stop_experiment)
        .then_output(|| StopExperimentOutput::builder().build());
    let state = injector(&[], &[&ended, &stop]).stop("EXP7").await.unwrap();
    assert_eq!(state.status, "stopped");
    assert_eq!(state.reason.as_deref(), Some("Stop condition activated"));
    assert!(state.action_completed);
    assert_eq!(stop.num_calls(), 0);

    let get = mock!(aws_sdk_fis::Client::get_experiment)
        .sequence()
        .output(|| experiment(ExperimentStatus::Running, "Experiment is running."))
        .output(|| experiment(ExperimentStatus::Stopping, "Stopping"))
        .build();
    let stop = mock!(aws_sdk_fis::Client::stop_experiment)
        .match_requests(|r| r.id() == Some("EXP7"))
        .then_output(|| StopExperimentOutput::builder().build());
    let state = injector(&[], &[&get, &stop]).stop("EXP7").await.unwrap();
    assert_eq!((state.status.as_str(), stop.num_calls()), ("stopping", 1));

    // Ended between the read and the stop: FIS refuses, and the state it ended in is reported.
    let get = mock!(aws_sdk_fis::Client::get_experiment)
        .sequence()
        .output(|| experiment(ExperimentStatus::Running, "Experiment is running."))
        .output(|| experiment(ExperimentStatus::Completed, "Experiment completed."))
        .build();
    let refused = mock!(aws_sdk_fis::Client::stop_experiment)
        .then_http_response(|| fis_error(400, "ValidationException"));
    let state = injector(&[], &[&get, &refused]).stop("EXP7").await.unwrap();
    assert_eq!(state.status, "completed");
}

#[tokio::test]
async fn unmarking_untags_only_this_drills_tasks_that_still_run() {
    let cluster = list(None, &[2, 3, 9]);
    let untag = mock!(aws_sdk_ecs::Client::untag_resource)
        .match_requests(|r| r.resource_arn() == Some(task(2).as_str()))
        .then_output(|| UntagResourceOutput::builder().build());
    let n = injector(&[&cluster, &untag], &[])
        .unmark(CLUSTER, &[task(1), task(2)])
        .await
        .unwrap();
    assert_eq!((n, untag.num_calls()), (1, 1));
}

#[tokio::test]
async fn waiting_for_the_experiment_to_begin_reads_until_fis_has_resolved_its_targets() {
    let get = mock!(aws_sdk_fis::Client::get_experiment)
        .sequence()
        .output(|| experiment(ExperimentStatus::Pending, "pending"))
        .output(|| experiment(ExperimentStatus::Initiating, "resolving targets"))
        .output(|| {
            experiment(
                ExperimentStatus::Failed,
                "Target resolution returned empty set.",
            )
        })
        .build();
    let ms = std::time::Duration::from_millis;
    let state = injector(&[], &[&get])
        .wait_begun("EXP7", ms(1), ms(5_000))
        .await
        .unwrap();
    assert!(state.has_failed(), "{state:?}");
    assert_eq!(
        state.reason.as_deref(),
        Some("Target resolution returned empty set.")
    );
    assert_eq!(get.num_calls(), 3);
}

/// The template's FIS role grants exactly what `aws:ecs:stop-task` on tagged tasks needs, scoped to
/// the cluster, and its experiment template selects by the tag the CLI writes.
#[test]
fn the_drill_role_and_template_match_what_the_cli_and_fis_do() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
        .unwrap();
    let problems = cutover_aws::iam::check(
        &text,
        "DrillExperimentRole",
        &["FIS::aws:ecs:stop-task"],
        EXPERIMENT_ROLE,
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let t: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    // The check above accepts a grant wider than a call needs: the tag condition is what keeps
    // FIS off every other task of the cluster.
    let role = &t["Resources"]["DrillExperimentRole"]["Properties"]["Policies"][0];
    let stop = role["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["Action"].as_str() == Some("ecs:StopTask"))
        .expect("a StopTask statement");
    assert_eq!(
        stop["Condition"]["StringEquals"][format!("aws:ResourceTag/{TAG_KEY}").as_str()].as_str(),
        Some(TAG_VALUE)
    );
    let props = &t["Resources"]["DrillExperimentTemplate"]["Properties"];
    let target = &props["Targets"]["CandidateTasks"];
    assert_eq!(target["ResourceType"].as_str(), Some("aws:ecs:task"));
    assert_eq!(target["ResourceTags"][TAG_KEY].as_str(), Some(TAG_VALUE));
    let actions = props["Actions"].as_mapping().unwrap();
    assert!(actions
        .values()
        .all(|a| a["ActionId"].as_str() == Some(ACTION)));
    assert_eq!(
        props["StopConditions"][0]["Source"].as_str(),
        Some("aws:cloudwatch:alarm")
    );
}
