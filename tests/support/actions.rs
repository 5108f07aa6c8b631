//! Driving the deployed functions directly, as alarms and people do: claim, shift, roll back.

use crate::{Invocation, LocalCloud};
use serde_json::{json, Value};

impl LocalCloud {
    /// Claim the ledger for deployment `id` through the deployed prepare function.
    pub async fn prepare(&self, id: &str) -> Invocation {
        let (app, env) = (self.seeded("app"), self.seeded("env"));
        let image = format!("public.ecr.aws/live-event/service:{id}");
        let event = json!({"app": app, "env": env, "image": image, "deploymentId": id});
        self.invoke(&self.output("PrepareFunctionName"), &event)
            .await
    }

    pub async fn shift(&self, id: &str, step: u32, weight: u8) -> Invocation {
        let (app, env) = (self.seeded("app"), self.seeded("env"));
        let event = json!({"app": app, "env": env, "deploymentId": id, "stepIndex": step, "weight": weight});
        self.invoke(&self.output("ShiftTrafficFunctionName"), &event)
            .await
    }

    pub async fn rollback(&self, event: &Value) -> Invocation {
        self.invoke(&self.output("RollbackFunctionName"), event)
            .await
    }

    /// The SNS delivery of alarm `name` going to `state`, shaped as the committed sample, from an
    /// alarm of the local cloud's own account (the function ignores another account's alarms).
    pub fn sns_alarm(&self, name: &str, state: &str) -> Value {
        let mut v: Value =
            serde_json::from_str(include_str!("../../events/rollback-alarm-sns.json")).unwrap();
        let mut alarm: Value =
            serde_json::from_str(v["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
        let topic = self.output("RollbackTopicArn");
        let account = topic.split(':').nth(4).expect("a topic ARN").to_string();
        let region = topic.split(':').nth(3).expect("a topic ARN").to_string();
        alarm["AlarmName"] = json!(name);
        alarm["NewStateValue"] = json!(state);
        alarm["AWSAccountId"] = json!(account);
        alarm["AlarmArn"] = json!(format!(
            "arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
        ));
        v["Records"][0]["Sns"]["Message"] = json!(alarm.to_string());
        v
    }

    /// Publish one load-balancer 5XX datapoint above the seeded alarm's threshold, stamped 50 s ago so
    /// it leaves the alarm's 60 s window within seconds and the next test starts clean.
    pub async fn breach_5xx_alarm(&self) {
        use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
        let at = std::time::SystemTime::now() - std::time::Duration::from_secs(50);
        self.cloudwatch
            .put_metric_data()
            .namespace("AWS/ApplicationELB")
            .metric_data(
                MetricDatum::builder()
                    .metric_name("HTTPCode_ELB_5XX_Count")
                    .dimensions(
                        Dimension::builder()
                            .name("LoadBalancer")
                            .value(self.seeded("loadBalancer"))
                            .build(),
                    )
                    .value(500.0)
                    .timestamp(at.into())
                    .build(),
            )
            .send()
            .await
            .expect("PutMetricData");
    }

    /// Wait out the breaching datapoint and put the alarm back to OK (no OK action is configured).
    pub async fn settle_5xx_alarm(&self) {
        tokio::time::sleep(std::time::Duration::from_secs(12)).await;
        self.cloudwatch
            .set_alarm_state()
            .alarm_name(self.seeded("alarmName"))
            .state_value(aws_sdk_cloudwatch::types::StateValue::Ok)
            .state_reason("scenario over")
            .send()
            .await
            .expect("SetAlarmState");
    }
}
