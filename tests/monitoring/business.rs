//! The simulator's business metric (issue 17, item 5): the live target group's requests and
//! conversions per version in LiveEvent/Business, at the seeded 25 % base rate.

use aws_sdk_cloudwatch::types::{Metric, MetricDataQuery, MetricStat};
use cutover_scenarios::{one_at_a_time, LocalCloud};
use std::time::{Duration, SystemTime};

const NAMESPACE: &str = "LiveEvent/Business";

#[tokio::test]
async fn the_live_version_converts_at_the_base_rate() {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let live = c.live_colour().await;
    let arn = c.seed["targetGroups"][live.as_str()].as_str().unwrap();
    let group = arn
        .split_once(":targetgroup/")
        .map(|(_, g)| format!("targetgroup/{g}"))
        .unwrap();
    // The simulator publishes every second; give it a window's worth.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let listed = c
        .cloudwatch
        .list_metrics()
        .namespace(NAMESPACE)
        .metric_name("Requests")
        .send()
        .await
        .expect("ListMetrics");
    let series: Vec<_> = listed
        .metrics()
        .iter()
        .filter(|m| {
            m.dimensions()
                .iter()
                .any(|d| d.name() == Some("TargetGroup") && d.value() == Some(group.as_str()))
        })
        .cloned()
        .collect();
    assert!(!series.is_empty(), "no Requests series for {group}");
    let end = SystemTime::now();
    let start = end - Duration::from_secs(10);
    let (mut requests, mut conversions) = (0.0, 0.0);
    for m in &series {
        for (name, total) in [
            ("Requests", &mut requests),
            ("Conversions", &mut conversions),
        ] {
            let metric = Metric::builder()
                .namespace(NAMESPACE)
                .metric_name(name)
                .set_dimensions(Some(m.dimensions().to_vec()))
                .build();
            let q = MetricDataQuery::builder()
                .id("m")
                .metric_stat(
                    MetricStat::builder()
                        .metric(metric)
                        .period(1)
                        .stat("Sum")
                        .build(),
                )
                .build();
            let out = c
                .cloudwatch
                .get_metric_data()
                .metric_data_queries(q)
                .start_time(start.into())
                .end_time(end.into())
                .send()
                .await
                .expect("GetMetricData");
            *total += out.metric_data_results()[0].values().iter().sum::<f64>();
        }
    }
    assert!(requests > 2_000.0, "requests {requests}");
    let rate = conversions / requests;
    // 25 % of ~5 000 requests: the standard error is 0.6 %; the band is over 5 of them.
    assert!(
        (0.22..=0.28).contains(&rate),
        "{conversions} / {requests} = {rate}"
    );
}
