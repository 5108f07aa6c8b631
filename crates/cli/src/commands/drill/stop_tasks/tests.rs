//! The stop-tasks drill's orchestration at the SDK edge (no emulator has FIS): it waits for the
//! canary's first traffic, marks the candidate's tasks, starts the experiment and waits for FIS to
//! begin it; a fault that cannot be injected rolls the drill back at once; an experiment that ended
//! without stopping a task is reported as not injected.

use super::*;
use crate::report::Format;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::operation::tag_resource::TagResourceOutput;
use aws_sdk_ecs::operation::untag_resource::UntagResourceOutput;
use aws_sdk_fis::operation::get_experiment::GetExperimentOutput;
use aws_sdk_fis::operation::start_experiment::StartExperimentOutput;
use aws_sdk_fis::types::{
    Experiment, ExperimentAction, ExperimentActionState, ExperimentActionStatus, ExperimentStatus,
};
use aws_sdk_lambda::operation::invoke::InvokeOutput;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use cutover_core::{Ledger, Weights};

const ID: &str = "drill-1";

fn task(n: u32) -> String {
    format!("arn:aws:ecs:eu-west-1:123456789012:task/live-event/{n:032x}")
}

/// The ledger item while drill `ID` runs, before and after its canary's first shift.
fn ledger_item(shifted: bool) -> GetItemOutput {
    let mut l = Ledger::new("live", "prod", Colour::Blue, None);
    l.acquire(ID, "live:1", None, 1_000).unwrap();
    if shifted {
        l.record_shift(ID, 0, Weights::with_candidate(Colour::Green, 10), 2_000)
            .unwrap();
    }
    GetItemOutput::builder()
        .set_item(Some(serde_dynamo::to_item(&l).unwrap()))
        .build()
}

fn plan(ecs: &[&Rule], fis: &[&Rule], lambda: &[&Rule]) -> Plan {
    Plan {
        template: "EXT1".into(),
        selection: Selection::Percent(50),
        cluster: "live-event".into(),
        service: "live-green".into(),
        rollback_function: "cutover-rollback".into(),
        injector: DrillInjector::new(
            mock_client!(aws_sdk_ecs, RuleMode::MatchAny, ecs),
            mock_client!(aws_sdk_fis, RuleMode::MatchAny, fis),
        ),
        lambda: mock_client!(aws_sdk_lambda, RuleMode::MatchAny, lambda),
    }
}

/// The candidate service (`live-green`) runs tasks 1 and 2, the cluster nothing else.
fn ecs_rules() -> [Rule; 3] {
    let tasks = || {
        ListTasksOutput::builder()
            .task_arns(task(1))
            .task_arns(task(2))
            .build()
    };
    [
        mock!(aws_sdk_ecs::Client::list_tasks)
            .match_requests(|r| r.service_name() == Some("live-green"))
            .then_output(tasks),
        mock!(aws_sdk_ecs::Client::list_tasks)
            .match_requests(|r| r.service_name().is_none())
            .then_output(tasks),
        mock!(aws_sdk_ecs::Client::tag_resource)
            .then_output(|| TagResourceOutput::builder().build()),
    ]
}

fn experiment(status: ExperimentStatus, stopped_tasks: bool) -> GetExperimentOutput {
    let action = if stopped_tasks {
        ExperimentActionStatus::Completed
    } else {
        ExperimentActionStatus::Pending
    };
    GetExperimentOutput::builder()
        .experiment(
            Experiment::builder()
                .id("EXP1")
                .state(
                    aws_sdk_fis::types::ExperimentState::builder()
                        .status(status)
                        .reason("from the mock")
                        .build(),
                )
                .actions(
                    "StopCandidateTasks",
                    ExperimentAction::builder()
                        .state(ExperimentActionState::builder().status(action).build())
                        .build(),
                )
                .build(),
        )
        .build()
}

fn started() -> Rule {
    mock!(aws_sdk_fis::Client::start_experiment)
        .match_requests(|r| {
            r.experiment_template_id() == Some("EXT1")
                && r.client_token() == Some(experiment_client_token("live", "prod", ID).as_str())
        })
        .then_output(|| {
            StartExperimentOutput::builder()
                .experiment(Experiment::builder().id("EXP1").build())
                .build()
        })
}

/// The rollback function, asked to end the drill because its fault was not injected.
fn rollback() -> Rule {
    mock!(aws_sdk_lambda::Client::invoke)
        .match_requests(|r| {
            r.function_name() == Some("cutover-rollback")
                && r.payload().is_some_and(|p| {
                    let body: serde_json::Value = serde_json::from_slice(p.as_ref()).unwrap();
                    body["app"] == "live"
                        && body["reason"]
                            .as_str()
                            .is_some_and(|s| s.contains("not injected"))
                })
        })
        .then_output(|| {
            InvokeOutput::builder()
                .payload(aws_sdk_lambda::primitives::Blob::new(
                    r#"{"rolledBack":true}"#,
                ))
                .build()
        })
}

/// `plan`'s injection for drill `ID`, the ledger read through `get`.
async fn inject(plan: &Plan, get: &Rule, ended: bool) -> Injection {
    let ledger = DynamoLedger::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [get]),
        "ledger",
    );
    plan.inject(
        &ledger,
        ("live", "prod", ID),
        &AtomicBool::new(ended),
        &Report::new(Format::Json),
    )
    .await
}

#[tokio::test]
async fn the_experiment_starts_once_the_canary_has_traffic_and_the_tag_comes_off_after() {
    let get = mock!(aws_sdk_dynamodb::Client::get_item)
        .sequence()
        .output(|| ledger_item(false))
        .output(|| ledger_item(true))
        .build();
    let start = started();
    let state = mock!(aws_sdk_fis::Client::get_experiment)
        .sequence()
        .output(|| experiment(ExperimentStatus::Running, true))
        .output(|| experiment(ExperimentStatus::Stopped, true))
        .build();
    let [service, cluster, tag] = ecs_rules();
    let untag = mock!(aws_sdk_ecs::Client::untag_resource)
        .then_output(|| UntagResourceOutput::builder().build());
    let plan = plan(&[&service, &cluster, &tag, &untag], &[&start, &state], &[]);
    let mut i = inject(&plan, &get, false).await;
    assert_eq!(i.error, None);
    assert_eq!(
        (i.experiment_id.as_deref(), i.status.as_str()),
        (Some("EXP1"), "running")
    );
    assert_eq!((i.tasks_marked, i.tasks_selected), (2, 1));
    assert_eq!(
        (get.num_calls(), tag.num_calls(), start.num_calls()),
        (2, 2, 1)
    );
    plan.finish(&mut i, &Report::new(Format::Json)).await;
    assert_eq!((i.status.as_str(), i.error.as_deref()), ("stopped", None));
    assert_eq!(untag.num_calls(), 2, "both tagged tasks still run");
}

#[tokio::test]
async fn a_fault_fis_will_not_start_rolls_the_drill_back_at_once() {
    let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| ledger_item(true));
    let quota = mock!(aws_sdk_fis::Client::start_experiment).then_http_response(|| {
        let mut r = aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(402).unwrap(),
            aws_smithy_types::body::SdkBody::from(r#"{"message":"active experiments quota"}"#),
        );
        r.headers_mut()
            .insert("x-amzn-errortype", "ServiceQuotaExceededException");
        r
    });
    let rollback = rollback();
    let [service, cluster, tag] = ecs_rules();
    let plan = plan(&[&service, &cluster, &tag], &[&quota], &[&rollback]);
    let i = inject(&plan, &get, false).await;
    let error = i.error.unwrap();
    assert!(error.contains("ServiceQuotaExceededException"), "{error}");
    assert_eq!(i.experiment_id, None);
    assert_eq!(rollback.num_calls(), 1);
}

/// FIS resolves the targets after StartExperiment has answered: an experiment that fails then
/// (no target found, a denied StopTask) stopped nothing, and the drill ends at once.
#[tokio::test]
async fn an_experiment_that_fails_to_begin_is_a_fault_not_injected() {
    let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| ledger_item(true));
    let start = started();
    let failed = mock!(aws_sdk_fis::Client::get_experiment)
        .then_output(|| experiment(ExperimentStatus::Failed, false));
    let rollback = rollback();
    let [service, cluster, tag] = ecs_rules();
    let plan = plan(
        &[&service, &cluster, &tag],
        &[&start, &failed],
        &[&rollback],
    );
    let i = inject(&plan, &get, false).await;
    let error = i.error.unwrap();
    assert!(error.contains("EXP1 failed: from the mock"), "{error}");
    assert_eq!(i.experiment_id.as_deref(), Some("EXP1"));
    assert_eq!(rollback.num_calls(), 1);
}

#[tokio::test]
async fn an_experiment_stopped_before_its_action_ran_is_reported_as_not_injected() {
    let state = mock!(aws_sdk_fis::Client::get_experiment)
        .then_output(|| experiment(ExperimentStatus::Stopped, false));
    let plan = plan(&[], &[&state], &[]);
    let mut i = Injection {
        experiment_id: Some("EXP1".into()),
        tasks_marked: 0,
        tasks_selected: 0,
        status: "running".into(),
        reason: None,
        error: None,
        targets: Vec::new(),
    };
    plan.finish(&mut i, &Report::new(Format::Json)).await;
    let error = i.error.unwrap();
    assert!(error.contains("without stopping a task"), "{error}");
}

#[tokio::test]
async fn a_drill_that_ends_before_any_traffic_starts_no_experiment() {
    let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| ledger_item(false));
    let start = started();
    let [service, cluster, tag] = ecs_rules();
    let plan = plan(&[&service, &cluster, &tag], &[&start], &[]);
    let i = inject(&plan, &get, true).await;
    assert!(i.error.unwrap().contains("ended before"));
    assert_eq!((start.num_calls(), service.num_calls()), (0, 0));
}

#[test]
fn a_selection_that_stops_none_of_the_tasks_is_refused() {
    assert!(check_selection(Selection::Percent(50), 1).is_err());
    assert!(check_selection(Selection::Percent(50), 2).is_ok());
    assert!(check_selection(Selection::Count(1), 1).is_ok());
}
