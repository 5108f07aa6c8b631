//! The alarms port over CloudWatch: the state of named alarms, metric or composite, in one call per
//! hundred names.

use crate::{Alarms, AwsError};
use aws_sdk_cloudwatch::types::AlarmType;
use aws_sdk_cloudwatch::Client;

pub const PERMISSIONS: &[crate::iam::Needs] = &[(
    "Alarms::states",
    &[crate::iam::allow("cloudwatch:DescribeAlarms", "*")],
)];

pub struct CloudWatchAlarms {
    client: Client,
}

impl CloudWatchAlarms {
    pub fn new(client: Client) -> Self {
        CloudWatchAlarms { client }
    }

    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        CloudWatchAlarms::new(Client::new(conf))
    }
}

impl Alarms for CloudWatchAlarms {
    async fn states(&self, names: &[String]) -> Result<Vec<(String, String)>, AwsError> {
        let mut found = Vec::with_capacity(names.len());
        // DescribeAlarms takes at most 100 names per call, and answers only metric alarms unless
        // AlarmTypes asks for composite ones too.
        for chunk in names.chunks(100) {
            let out = self
                .client
                .describe_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .alarm_types(AlarmType::CompositeAlarm)
                .alarm_types(AlarmType::MetricAlarm)
                .max_records(100)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeAlarms", e))?;
            found.extend(out.metric_alarms().iter().filter_map(|a| {
                Some((
                    a.alarm_name()?.to_string(),
                    a.state_value()?.as_str().to_string(),
                ))
            }));
            found.extend(out.composite_alarms().iter().filter_map(|a| {
                Some((
                    a.alarm_name()?.to_string(),
                    a.state_value()?.as_str().to_string(),
                ))
            }));
        }
        names
            .iter()
            .map(|n| {
                found
                    .iter()
                    .find(|(f, _)| f == n)
                    .cloned()
                    .ok_or_else(|| AwsError::NotFound {
                        what: "CloudWatch alarm",
                        id: n.clone(),
                    })
            })
            .collect()
    }
}
