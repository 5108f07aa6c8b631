//! Deploy executions followed to their end, and the ECS services they leave.

use super::*;

/// What a finished execution ended as, and the listener splits seen while it ran.
pub struct Run {
    pub arn: String,
    pub status: String,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub observed: Vec<Weights>,
}

impl LocalCloud {
    /// Start a deploy execution named as `cutover deploy` names it and follow it to the end, sampling the
    /// listener every 50 ms. `during` runs once, when the listener first shows `trigger`.
    pub async fn deploy<F, Fut>(
        &self,
        id: &str,
        image: &str,
        strategy: Value,
        trigger: Option<Weights>,
        during: F,
    ) -> Run
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let (app, env) = (self.seeded("app"), self.seeded("env"));
        let input = serde_json::json!({ "app": app, "env": env, "image": image, "deploymentId": id, "strategy": strategy });
        let arn = self
            .sfn
            .start_execution()
            .state_machine_arn(self.output("DeployStateMachineArn"))
            .name(cutover_core::execution_name::deployment(&app, &env, id))
            .input(input.to_string())
            .send()
            .await
            .expect("StartExecution")
            .execution_arn;
        let mut observed: Vec<Weights> = Vec::new();
        let mut during = Some(during);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
        loop {
            let w = self.listener_weights().await;
            if observed.last() != Some(&w) {
                observed.push(w);
            }
            if trigger == Some(w) {
                if let Some(f) = during.take() {
                    f().await;
                }
            }
            let d = self
                .sfn
                .describe_execution()
                .execution_arn(&arn)
                .send()
                .await
                .expect("DescribeExecution");
            if d.status().as_str() != "RUNNING" {
                let w = self.listener_weights().await;
                if observed.last() != Some(&w) {
                    observed.push(w);
                }
                return Run {
                    arn: arn.clone(),
                    status: d.status().as_str().to_string(),
                    error: d.error().map(String::from),
                    cause: d.cause().map(String::from),
                    observed,
                };
            }
            assert!(
                std::time::Instant::now() < deadline,
                "execution {arn} still running after 240 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub async fn service(&self, name: &str) -> aws_sdk_ecs::types::Service {
        let out = self
            .ecs
            .describe_services()
            .cluster(self.seeded("cluster"))
            .services(name)
            .send()
            .await
            .expect("DescribeServices");
        out.services()[0].clone()
    }

    /// Every event of an execution's history, in order, across its pages.
    pub async fn history(&self, arn: &str) -> Vec<aws_sdk_sfn::types::HistoryEvent> {
        let (mut events, mut token) = (Vec::new(), None);
        loop {
            let out = self
                .sfn
                .get_execution_history()
                .execution_arn(arn)
                .max_results(1000)
                .set_next_token(token)
                .send()
                .await
                .expect("GetExecutionHistory");
            events.extend(out.events().iter().cloned());
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return events,
            }
        }
    }

    /// The output of each time `state` was left in the execution's history, in order.
    pub async fn state_outputs(&self, arn: &str, state: &str) -> Vec<Value> {
        self.history(arn)
            .await
            .iter()
            .filter_map(|e| e.state_exited_event_details())
            .filter(|d| d.name() == state)
            .map(|d| serde_json::from_str(d.output().unwrap_or("null")).unwrap())
            .collect()
    }
}
