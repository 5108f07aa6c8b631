//! The CloudWatch metrics adapter: one GetMetricData request for every series of every target group,
//! pages followed, latency converted to milliseconds.

use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::types::{MetricDataResult, ScanBy};
use aws_sdk_cloudwatch::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::DateTime;
use cutover_aws::metrics::CloudWatchMetrics;
use cutover_aws::{Metrics, MetricsQuery, SeriesQuery};

fn result(id: &str, points: &[(i64, f64)]) -> MetricDataResult {
    MetricDataResult::builder()
        .id(id)
        .set_timestamps(Some(
            points.iter().map(|p| DateTime::from_secs(p.0)).collect(),
        ))
        .set_values(Some(points.iter().map(|p| p.1).collect()))
        .build()
}

fn query() -> MetricsQuery {
    MetricsQuery {
        load_balancer: "app/live/1".into(),
        target_groups: vec!["targetgroup/blue/1".into(), "targetgroup/green/2".into()],
        start_s: 1_000,
        end_s: 1_060,
        period_s: 1,
    }
}

#[tokio::test]
async fn one_request_carries_every_series_and_pages_are_followed() {
    let first = mock!(Client::get_metric_data)
        .match_requests(|r| {
            let q = r.metric_data_queries();
            let green_p95 = q.iter().find(|q| q.id() == Some("g1_p95")).unwrap();
            let stat = green_p95.metric_stat().unwrap();
            let dims: Vec<_> = stat
                .metric()
                .unwrap()
                .dimensions()
                .iter()
                .map(|d| (d.name().unwrap(), d.value().unwrap()))
                .collect();
            let conn = q.iter().find(|q| q.id() == Some("g1_connerrors")).unwrap();
            let conn = conn.metric_stat().unwrap();
            q.len() == 12
                && conn.metric().unwrap().metric_name() == Some("TargetConnectionErrorCount")
                && conn.stat() == Some("Sum")
                && r.next_token().is_none()
                && r.scan_by() == Some(&ScanBy::TimestampAscending)
                && r.start_time() == Some(&DateTime::from_secs(1_000))
                && stat.stat() == Some("p95")
                && stat.period() == Some(1)
                && stat.metric().unwrap().metric_name() == Some("TargetResponseTime")
                && dims
                    == vec![
                        ("LoadBalancer", "app/live/1"),
                        ("TargetGroup", "targetgroup/green/2"),
                    ]
        })
        .then_output(|| {
            GetMetricDataOutput::builder()
                .metric_data_results(result("g0_requests", &[(1_000, 450.0), (1_001, 440.0)]))
                .metric_data_results(result("g1_p95", &[(1_000, 0.12)]))
                .next_token("page-2")
                .build()
        });
    let second = mock!(Client::get_metric_data)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            GetMetricDataOutput::builder()
                .metric_data_results(result("g1_p95", &[(1_001, 0.9)]))
                .metric_data_results(result("g1_errors", &[(1_001, 4.0)]))
                .metric_data_results(result("g1_connerrors", &[(1_001, 2.0), (1_002, 1.0)]))
                .build()
        });
    let m = CloudWatchMetrics::new(mock_client!(
        aws_sdk_cloudwatch,
        RuleMode::Sequential,
        [&first, &second]
    ));
    let groups = m.group_series(&query()).await.unwrap();
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].total_requests(), 890.0);
    assert_eq!(
        groups[1].p95_ms.values().copied().collect::<Vec<_>>(),
        vec![120.0, 900.0]
    );
    // Connection errors reach users as 5XX the targets never counted: they add to the errors.
    assert_eq!(groups[1].errors_5xx.get(&1_001), Some(&6.0));
    assert_eq!(groups[1].errors_5xx.get(&1_002), Some(&1.0));
    assert!(groups[0].p95_ms.is_empty());
}

#[tokio::test]
async fn a_refused_call_is_an_error_naming_the_operation() {
    let denied = mock!(Client::get_metric_data).then_error(|| {
        aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataError::unhandled(
            "AccessDenied",
        )
    });
    let m = CloudWatchMetrics::new(mock_client!(aws_sdk_cloudwatch, [&denied]));
    let err = m.group_series(&query()).await.unwrap_err();
    assert!(err.to_string().contains("GetMetricData"), "{err}");
}

#[tokio::test]
async fn an_application_metric_is_asked_per_target_group_with_its_own_dimensions() {
    let metric = cutover_core::experiment::MetricRef::parse(
        "LiveEvent/Business:Conversion:Average:Service=live",
    )
    .unwrap();
    let get = mock!(Client::get_metric_data)
        .match_requests(|r| {
            let q = r.metric_data_queries();
            let dims = |i: usize| -> Vec<(String, String)> {
                q[i].metric_stat()
                    .unwrap()
                    .metric()
                    .unwrap()
                    .dimensions()
                    .iter()
                    .map(|d| (d.name().unwrap().into(), d.value().unwrap().into()))
                    .collect()
            };
            let s = q[1].metric_stat().unwrap();
            q.len() == 2
                && q[0].id() == Some("v0")
                && s.stat() == Some("Average")
                && s.period() == Some(5)
                && s.metric().unwrap().namespace() == Some("LiveEvent/Business")
                && s.metric().unwrap().metric_name() == Some("Conversion")
                && dims(1)
                    == vec![
                        ("Service".into(), "live".into()),
                        ("TargetGroup".into(), "targetgroup/green/2".into()),
                    ]
        })
        .then_output(|| {
            GetMetricDataOutput::builder()
                .metric_data_results(result("v0", &[(1_000, 0.25), (1_005, 0.26)]))
                .metric_data_results(result("v1", &[(1_000, 0.27)]))
                .build()
        });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&get]);
    let out = CloudWatchMetrics::new(client)
        .metric_series(&SeriesQuery {
            metric,
            target_groups: vec!["targetgroup/blue/1".into(), "targetgroup/green/2".into()],
            start_s: 1_000,
            end_s: 1_060,
            period_s: 5,
        })
        .await
        .unwrap();
    assert_eq!(
        get.num_calls(),
        1,
        "the GetMetricData request did not match"
    );
    assert_eq!(out[0].get(&1_005), Some(&0.26));
    assert_eq!(out[1].len(), 1);
}
