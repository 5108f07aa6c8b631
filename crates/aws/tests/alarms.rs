//! The alarms adapter at the SDK edge: composite alarms are asked for and read, as metric alarms are.

use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::types::{AlarmType, CompositeAlarm, MetricAlarm, StateValue};
use aws_sdk_cloudwatch::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use cutover_aws::alarms::CloudWatchAlarms;
use cutover_aws::{Alarms, AwsError};

#[tokio::test]
async fn a_composite_alarm_reads_like_a_metric_alarm() {
    // Without AlarmTypes, DescribeAlarms answers metric alarms only: the composite would read as
    // missing and fail every verification of a target that lists it.
    let describe = mock!(Client::describe_alarms)
        .match_requests(|r| {
            r.alarm_types().contains(&AlarmType::CompositeAlarm)
                && r.alarm_types().contains(&AlarmType::MetricAlarm)
                && r.alarm_names() == ["live-5xx", "live-slo"]
        })
        .then_output(|| {
            DescribeAlarmsOutput::builder()
                .metric_alarms(
                    MetricAlarm::builder()
                        .alarm_name("live-5xx")
                        .state_value(StateValue::Ok)
                        .build(),
                )
                .composite_alarms(
                    CompositeAlarm::builder()
                        .alarm_name("live-slo")
                        .state_value(StateValue::Alarm)
                        .build(),
                )
                .build()
        });
    let alarms = CloudWatchAlarms::new(mock_client!(
        aws_sdk_cloudwatch,
        RuleMode::MatchAny,
        [&describe]
    ));
    let names = ["live-5xx".to_string(), "live-slo".to_string()];
    assert_eq!(
        alarms.states(&names).await.unwrap(),
        vec![
            ("live-5xx".to_string(), "OK".to_string()),
            ("live-slo".to_string(), "ALARM".to_string())
        ]
    );
    assert_eq!(
        describe.num_calls(),
        1,
        "the request did not ask for both alarm types"
    );
}

#[tokio::test]
async fn a_name_cloudwatch_does_not_know_is_an_error() {
    let describe =
        mock!(Client::describe_alarms).then_output(|| DescribeAlarmsOutput::builder().build());
    let alarms = CloudWatchAlarms::new(mock_client!(
        aws_sdk_cloudwatch,
        RuleMode::MatchAny,
        [&describe]
    ));
    let err = alarms.states(&["gone".to_string()]).await.unwrap_err();
    assert_eq!(
        err,
        AwsError::NotFound {
            what: "CloudWatch alarm",
            id: "gone".into()
        }
    );
}
