//! The metrics port over CloudWatch: every series one verification needs, for every target group, in
//! one `GetMetricData` request (paginated by `NextToken`).

use crate::{AwsError, Metrics, MetricsQuery, SeriesQuery};
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy,
};
use aws_sdk_cloudwatch::Client;
use aws_smithy_types::DateTime;
use cutover_core::GroupSeries;
use std::collections::BTreeMap;

/// GetMetricData supports no resource-level permissions.
pub const PERMISSIONS: &[crate::iam::Needs] = &[
    (
        "Metrics::group_series",
        &[crate::iam::allow("cloudwatch:GetMetricData", "*")],
    ),
    (
        "Metrics::metric_series",
        &[crate::iam::allow("cloudwatch:GetMetricData", "*")],
    ),
];

pub struct CloudWatchMetrics {
    client: Client,
}

impl CloudWatchMetrics {
    pub fn new(client: Client) -> Self {
        CloudWatchMetrics { client }
    }

    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        CloudWatchMetrics::new(Client::new(conf))
    }

    /// Every result of one GetMetricData request over `[start_s, end_s)`, oldest first, following
    /// `NextToken` to the last page.
    async fn results(
        &self,
        queries: Vec<MetricDataQuery>,
        start_s: i64,
        end_s: i64,
    ) -> Result<Vec<MetricDataResult>, AwsError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(DateTime::from_secs(start_s))
                .end_time(DateTime::from_secs(end_s))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetMetricData", e))?;
            all.extend(out.metric_data_results().iter().cloned());
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(all),
            }
        }
    }
}

/// (query id suffix, ALB metric, statistic, scale to Cutover's unit). ALB reports latency in seconds.
/// A connection the load balancer could not make to a target reaches the user as a 5XX the target
/// never counted (`TargetConnectionErrorCount`, per target group): it is added to the candidate's
/// errors.
const SERIES: [(&str, &str, &str, f64); 6] = [
    ("requests", "RequestCount", "Sum", 1.0),
    ("errors", "HTTPCode_Target_5XX_Count", "Sum", 1.0),
    ("connerrors", "TargetConnectionErrorCount", "Sum", 1.0),
    ("p95", "TargetResponseTime", "p95", 1000.0),
    ("p99", "TargetResponseTime", "p99", 1000.0),
    ("mean", "TargetResponseTime", "Average", 1000.0),
];

fn queries(q: &MetricsQuery) -> Vec<MetricDataQuery> {
    let mut out = Vec::new();
    for (i, group) in q.target_groups.iter().enumerate() {
        for (id, metric, stat, _) in SERIES {
            let dims = [("LoadBalancer", &q.load_balancer), ("TargetGroup", group)]
                .map(|(n, v)| Dimension::builder().name(n).value(v.as_str()).build());
            let metric = Metric::builder()
                .namespace("AWS/ApplicationELB")
                .metric_name(metric)
                .set_dimensions(Some(dims.to_vec()))
                .build();
            let stat = MetricStat::builder()
                .metric(metric)
                .period(q.period_s as i32)
                .stat(stat)
                .build();
            out.push(
                MetricDataQuery::builder()
                    .id(format!("g{i}_{id}"))
                    .metric_stat(stat)
                    .return_data(true)
                    .build(),
            );
        }
    }
    out
}

fn slot<'a>(series: &'a mut GroupSeries, id: &str) -> Option<&'a mut BTreeMap<i64, f64>> {
    Some(match id {
        "requests" => &mut series.requests,
        "errors" | "connerrors" => &mut series.errors_5xx,
        "p95" => &mut series.p95_ms,
        "p99" => &mut series.p99_ms,
        "mean" => &mut series.mean_ms,
        _ => return None,
    })
}

impl Metrics for CloudWatchMetrics {
    async fn group_series(&self, q: &MetricsQuery) -> Result<Vec<GroupSeries>, AwsError> {
        let mut groups = vec![GroupSeries::default(); q.target_groups.len()];
        for r in self.results(queries(q), q.start_s, q.end_s).await? {
            let Some((group, id)) = r.id().and_then(|id| id.strip_prefix('g')?.split_once('_'))
            else {
                continue;
            };
            let Some(series) = group.parse::<usize>().ok().and_then(|g| groups.get_mut(g)) else {
                continue;
            };
            let scale = SERIES.iter().find(|s| s.0 == id).map_or(1.0, |s| s.3);
            let Some(slot) = slot(series, id) else {
                continue;
            };
            for (t, v) in r.timestamps().iter().zip(r.values()) {
                // Two series add into errors: a sum, not the last one read.
                *slot.entry(t.secs()).or_insert(0.0) += v * scale;
            }
        }
        Ok(groups)
    }

    async fn metric_series(&self, q: &SeriesQuery) -> Result<Vec<BTreeMap<i64, f64>>, AwsError> {
        let queries: Vec<MetricDataQuery> = q
            .target_groups
            .iter()
            .enumerate()
            .map(|(i, group)| {
                let dims = q
                    .metric
                    .dimensions
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .chain([(cutover_core::experiment::VARIANT_DIMENSION, group.as_str())])
                    .map(|(n, v)| Dimension::builder().name(n).value(v).build())
                    .collect();
                let metric = Metric::builder()
                    .namespace(&q.metric.namespace)
                    .metric_name(&q.metric.name)
                    .set_dimensions(Some(dims))
                    .build();
                let stat = MetricStat::builder()
                    .metric(metric)
                    .period(q.period_s as i32)
                    .stat(&q.metric.stat)
                    .build();
                MetricDataQuery::builder()
                    .id(format!("v{i}"))
                    .metric_stat(stat)
                    .return_data(true)
                    .build()
            })
            .collect();
        let mut out = vec![BTreeMap::new(); q.target_groups.len()];
        for r in self.results(queries, q.start_s, q.end_s).await? {
            let Some(slot) = r
                .id()
                .and_then(|id| id.strip_prefix('v')?.parse::<usize>().ok())
                .and_then(|i| out.get_mut(i))
            else {
                continue;
            };
            for (t, v) in r.timestamps().iter().zip(r.values()) {
                slot.insert(t.secs(), *v);
            }
        }
        Ok(out)
    }
}
