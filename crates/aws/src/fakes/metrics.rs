use crate::{AwsError, Metrics, MetricsQuery};
use cutover_core::GroupSeries;
use std::collections::HashMap;
use std::sync::Mutex;

/// CloudWatch's ALB metrics, per `TargetGroup` dimension value; counts the queries it answers.
#[derive(Default)]
pub struct FakeMetrics {
    pub(crate) calls: super::Calls,
    pub series: Mutex<HashMap<String, GroupSeries>>,
    pub queries: Mutex<Vec<MetricsQuery>>,
}

impl FakeMetrics {
    pub fn set(&self, target_group_arn: &str, series: GroupSeries) {
        let dim = cutover_core::target::target_group_dimension(target_group_arn)
            .expect("a target group ARN");
        self.series.lock().unwrap().insert(dim.to_string(), series);
    }
}

impl Metrics for FakeMetrics {
    async fn group_series(&self, q: &MetricsQuery) -> Result<Vec<GroupSeries>, AwsError> {
        self.calls.note("Metrics::group_series");
        self.queries.lock().unwrap().push(q.clone());
        let known = self.series.lock().unwrap();
        Ok(q.target_groups
            .iter()
            .map(|g| {
                known
                    .get(g)
                    .map_or_else(GroupSeries::default, |s| s.within(q.start_s, q.end_s))
            })
            .collect())
    }
}
