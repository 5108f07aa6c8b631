//! The test route as the load balancer holds it: Cutover's tagged rules on the production listener
//! and the test listener's split.

use super::LocalCloud;
use cutover_core::traffic::Weights;

impl LocalCloud {
    /// The target groups each rule tagged as this service's test route forwards to.
    pub async fn test_rules(&self) -> Vec<Vec<String>> {
        let service = format!("{}/{}", self.seeded("app"), self.seeded("env"));
        let rules = self
            .elbv2
            .describe_rules()
            .listener_arn(self.seeded("listenerArn"))
            .send()
            .await
            .expect("DescribeRules");
        let mut out = Vec::new();
        for r in rules
            .rules()
            .iter()
            .filter(|r| r.is_default() != Some(true))
        {
            let arn = r.rule_arn().unwrap();
            let tags = self
                .elbv2
                .describe_tags()
                .resource_arns(arn)
                .send()
                .await
                .expect("DescribeTags");
            let ours = tags
                .tag_descriptions()
                .iter()
                .flat_map(|d| d.tags())
                .any(|t| {
                    t.key() == Some("cutover:test-route") && t.value() == Some(service.as_str())
                });
            if ours {
                let to = r
                    .actions()
                    .iter()
                    .filter_map(|a| a.forward_config())
                    .flat_map(|f| f.target_groups())
                    .filter(|t| t.weight().unwrap_or(1) > 0)
                    .filter_map(|t| t.target_group_arn().map(String::from))
                    .collect();
                out.push(to);
            }
        }
        out
    }

    /// The test listener's split.
    pub async fn test_listener_weights(&self) -> Weights {
        self.weights_on(&self.seeded("testListenerArn")).await
    }
}
