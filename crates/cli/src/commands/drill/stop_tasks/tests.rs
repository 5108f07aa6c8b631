//! The stop-tasks drill's orchestration at the SDK edge (no emulator has FIS): it waits for the
//! canary's first traffic, marks the candidate's tasks and starts the experiment; a fault that
//! cannot be injected rolls the drill back at once.

use super::*;
use crate::report::Format;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::operation::tag_resource::TagResourceOutput;
use aws_sdk_fis::operation::start_experiment::StartExperimentOutput;
use aws_sdk_fis::types::Experiment;
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

fn ecs_rules() -> [Rule; 3] {
    [
        mock!(aws_sdk_ecs::Client::list_tasks).then_output(|| {
            ListTasksOutput::builder()
                .task_arns(task(1))
                .task_arns(task(2))
                .build()
        }),
        mock!(aws_sdk_ecs::Client::describe_tasks)
            .then_output(|| DescribeTasksOutput::builder().build()),
        mock!(aws_sdk_ecs::Client::tag_resource)
            .then_output(|| TagResourceOutput::builder().build()),
    ]
}

/// `plan`'s injection for drill `ID`, the ledger read through `get`.
async fn inject(plan: Plan, get: &Rule, ended: bool) -> Injection {
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
async fn the_experiment_starts_once_the_canary_has_traffic() {
    let get = mock!(aws_sdk_dynamodb::Client::get_item)
        .sequence()
        .output(|| ledger_item(false))
        .output(|| ledger_item(true))
        .build();
    let start = mock!(aws_sdk_fis::Client::start_experiment)
        .match_requests(|r| {
            r.experiment_template_id() == Some("EXT1")
                && r.client_token() == Some(experiment_client_token("live", "prod", ID).as_str())
        })
        .then_output(|| {
            StartExperimentOutput::builder()
                .experiment(Experiment::builder().id("EXP1").build())
                .build()
        });
    let [list, describe, tag] = ecs_rules();
    let i = inject(plan(&[&list, &describe, &tag], &[&start], &[]), &get, false).await;
    assert_eq!(i.error, None);
    assert_eq!(i.experiment_id.as_deref(), Some("EXP1"));
    assert_eq!((i.tasks_marked, i.tasks_selected), (2, 1));
    assert_eq!(
        (get.num_calls(), tag.num_calls(), start.num_calls()),
        (2, 2, 1)
    );
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
    let rollback = mock!(aws_sdk_lambda::Client::invoke)
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
        });
    let [list, describe, tag] = ecs_rules();
    let i = inject(
        plan(&[&list, &describe, &tag], &[&quota], &[&rollback]),
        &get,
        false,
    )
    .await;
    let error = i.error.unwrap();
    assert!(error.contains("ServiceQuotaExceededException"), "{error}");
    assert_eq!(i.experiment_id, None);
    assert_eq!(rollback.num_calls(), 1);
}

#[tokio::test]
async fn a_drill_that_ends_before_any_traffic_starts_no_experiment() {
    let get = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| ledger_item(false));
    let start = mock!(aws_sdk_fis::Client::start_experiment)
        .then_output(|| StartExperimentOutput::builder().build());
    let [list, describe, tag] = ecs_rules();
    let i = inject(plan(&[&list, &describe, &tag], &[&start], &[]), &get, true).await;
    assert!(i.error.unwrap().contains("ended before"));
    assert_eq!((start.num_calls(), list.num_calls()), (0, 0));
}
