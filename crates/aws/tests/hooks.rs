//! The hooks adapter at the SDK edge: Invoke's request, an answer, a function error (the
//! `X-Amz-Function-Error` header with the runtime's `{errorType, errorMessage}`), a missing function,
//! throttling.

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::error::ResourceNotFoundException;
use aws_sdk_lambda::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use cutover_aws::hooks::LambdaHooks;
use cutover_aws::{AwsError, HookCall, Hooks};
use cutover_core::ErrorType;
use serde_json::json;
use std::time::Duration;

fn client(rules: &[&Rule]) -> Client {
    mock_client!(aws_sdk_lambda, RuleMode::MatchAny, rules, |c| c
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1))
        ))
}

async fn invoke(rule: &Rule) -> Result<HookCall, AwsError> {
    LambdaHooks::new(client(&[rule]))
        .invoke(
            "cutover-hook-smoke",
            &json!({"stage": "beforeAllowTraffic", "attempt": 1}),
            Duration::from_secs(5),
        )
        .await
}

#[tokio::test]
async fn sends_the_payload_and_reads_the_answer() {
    let r = mock!(Client::invoke)
        .match_requests(|r| {
            let body: serde_json::Value =
                serde_json::from_slice(r.payload().unwrap().as_ref()).unwrap();
            r.function_name() == Some("cutover-hook-smoke")
                && body["stage"] == "beforeAllowTraffic"
                && r.invocation_type().is_none()
        })
        .then_output(|| {
            InvokeOutput::builder()
                .status_code(200)
                .payload(Blob::new(
                    r#"{"hookStatus":"IN_PROGRESS","callBackDelay":60}"#,
                ))
                .build()
        });
    assert_eq!(
        invoke(&r).await.unwrap(),
        HookCall::Answered(json!({"hookStatus": "IN_PROGRESS", "callBackDelay": 60}))
    );
}

#[tokio::test]
async fn a_function_error_is_its_type_and_message_and_not_json_is_an_error_too() {
    let r = mock!(Client::invoke).then_output(|| {
        InvokeOutput::builder()
            .status_code(200)
            .function_error("Unhandled")
            .payload(Blob::new(
                r#"{"errorType":"Runtime.ExitError","errorMessage":"exited with 1","trace":["x"]}"#,
            ))
            .build()
    });
    assert_eq!(
        invoke(&r).await.unwrap(),
        HookCall::FunctionError("Runtime.ExitError: exited with 1".into())
    );
    let text = mock!(Client::invoke).then_output(|| {
        InvokeOutput::builder()
            .status_code(200)
            .payload(Blob::new("ok"))
            .build()
    });
    assert!(matches!(
        invoke(&text).await.unwrap(),
        HookCall::FunctionError(_)
    ));
}

#[tokio::test]
async fn a_missing_function_is_not_found_and_throttling_is_transient() {
    let gone = mock!(Client::invoke).then_error(|| {
        InvokeError::ResourceNotFoundException(ResourceNotFoundException::builder().build())
    });
    let err = invoke(&gone).await.unwrap_err();
    assert!(matches!(err, AwsError::NotFound { .. }), "{err:?}");
    let throttled = mock!(Client::invoke)
        .sequence()
        .http_status(
            429,
            Some(r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#.into()),
        )
        .repeatedly()
        .build();
    assert_eq!(
        invoke(&throttled).await.unwrap_err().error_type(),
        ErrorType::AwsTransient
    );
}

#[tokio::test]
async fn notify_queues_an_event_invocation() {
    let r = mock!(Client::invoke)
        .match_requests(|r| {
            r.invocation_type() == Some(&aws_sdk_lambda::types::InvocationType::Event)
                && r.function_name() == Some("cutover-hook-cleanup")
        })
        .then_output(|| InvokeOutput::builder().status_code(202).build());
    LambdaHooks::new(client(&[&r]))
        .notify("cutover-hook-cleanup", &json!({"stage": "afterRollback"}))
        .await
        .unwrap();
    assert_eq!(r.num_calls(), 1);
}
