//! Hearing Cutover's state-change events as a subscriber would: a rule on a region's default bus
//! that sends one detail type to a fresh queue, read until what a test waits for has arrived.

use super::{unique, LocalCloud};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub struct Subscriber {
    queue_url: String,
}

impl Subscriber {
    /// A rule on `c`'s default bus for `source: cutover` events of `detail_type`, into a new queue.
    pub async fn subscribe(c: &LocalCloud, detail_type: &str) -> Subscriber {
        let conf = c.conf_on_ministack();
        let sqs = aws_sdk_sqs::Client::new(&conf);
        let events = aws_sdk_eventbridge::Client::new(&conf);
        let name = unique("cutover-changes");
        let queue_url = sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .expect("CreateQueue")
            .queue_url
            .unwrap();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("GetQueueAttributes");
        let arn =
            attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
        let pattern = json!({"source": ["cutover"], "detail-type": [detail_type]});
        events
            .put_rule()
            .name(&name)
            .event_pattern(pattern.to_string())
            .send()
            .await
            .expect("PutRule");
        events
            .put_targets()
            .rule(&name)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(arn)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("PutTargets");
        Subscriber { queue_url }
    }

    /// Every event received until `done` says the test has what it waits for, or 60 s.
    pub async fn received(&self, c: &LocalCloud, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let sqs = aws_sdk_sqs::Client::new(&c.conf_on_ministack());
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline && !done(&got) {
            let out = sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("ReceiveMessage");
            for m in out.messages() {
                got.push(
                    serde_json::from_str::<Value>(m.body().unwrap()).expect("an event is JSON"),
                );
            }
        }
        got
    }
}
