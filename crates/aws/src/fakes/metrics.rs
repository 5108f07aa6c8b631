use crate::{AwsError, Metrics, MetricsQuery, SeriesQuery};
use cutover_core::GroupSeries;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// CloudWatch's ALB metrics, per `TargetGroup` dimension value; counts the queries it answers.
#[derive(Default)]
pub struct FakeMetrics {
    pub(crate) calls: super::Calls,
    pub series: Mutex<HashMap<String, GroupSeries>>,
    pub queries: Mutex<Vec<MetricsQuery>>,
    /// An application metric's values per `TargetGroup` dimension value.
    pub app_series: Mutex<HashMap<String, BTreeMap<i64, f64>>>,
    pub series_queries: Mutex<Vec<SeriesQuery>>,
}

impl FakeMetrics {
    pub fn set(&self, target_group_arn: &str, series: GroupSeries) {
        let dim = cutover_core::target::target_group_dimension(target_group_arn)
            .expect("a target group ARN");
        self.series.lock().unwrap().insert(dim.to_string(), series);
    }

    pub fn set_app(&self, target_group_arn: &str, values: BTreeMap<i64, f64>) {
        let dim = cutover_core::target::target_group_dimension(target_group_arn)
            .expect("a target group ARN");
        self.app_series
            .lock()
            .unwrap()
            .insert(dim.to_string(), values);
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

    async fn metric_series(&self, q: &SeriesQuery) -> Result<Vec<BTreeMap<i64, f64>>, AwsError> {
        self.calls.note("Metrics::metric_series");
        self.series_queries.lock().unwrap().push(q.clone());
        let known = self.app_series.lock().unwrap();
        Ok(q.target_groups
            .iter()
            .map(|g| {
                known.get(g).map_or_else(BTreeMap::new, |s| {
                    s.range(q.start_s..q.end_s).map(|(k, v)| (*k, *v)).collect()
                })
            })
            .collect())
    }
}
