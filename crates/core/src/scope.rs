//! What one Cutover stack may change: the listener (and rule) and the cluster its template's
//! parameters name, which its IAM policies are scoped to. A target configuration naming anything else
//! would be denied by IAM half-way (the candidate started, then the listener write refused); it is
//! refused when it is loaded instead, naming the field and the parameter.

use crate::fields::FieldError;
use crate::rolling::AnyTarget;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub listener_arn: String,
    pub listener_rule_arn: Option<String>,
    pub cluster: String,
}

impl Scope {
    /// Every field of `target` outside this stack's resources.
    pub fn check(&self, target: &AnyTarget) -> Vec<FieldError> {
        let mut out = Vec::new();
        let mut outside = |field: &str, value: &str, parameter: &str, allowed: &str| {
            out.push(FieldError {
                field: field.into(),
                problem: format!(
                    "{value} is not this stack's ({parameter} is {allowed}): its functions may not \
                     change it"
                ),
            });
        };
        let cluster = match target {
            AnyTarget::BlueGreen(t) => {
                if t.listener_arn != self.listener_arn {
                    outside(
                        "listenerArn",
                        &t.listener_arn,
                        "ListenerArn",
                        &self.listener_arn,
                    );
                }
                if let Some(rule) = &t.listener_rule_arn {
                    let allowed = self.listener_rule_arn.as_deref().unwrap_or("empty");
                    if Some(rule) != self.listener_rule_arn.as_ref() {
                        outside("listenerRuleArn", rule, "ListenerRuleArn", allowed);
                    }
                }
                &t.cluster
            }
            AnyTarget::Rolling(t) => &t.cluster,
        };
        if *cluster != self.cluster {
            outside("cluster", cluster, "ClusterName", &self.cluster);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rolling::RollingTarget;

    #[test]
    fn a_target_outside_the_stacks_listener_rule_or_cluster_is_named() {
        let scope = Scope {
            listener_arn: "arn:l1".into(),
            listener_rule_arn: None,
            cluster: "live-event".into(),
        };
        let rolling = |cluster: &str| {
            AnyTarget::Rolling(RollingTarget {
                cluster: cluster.into(),
                service: "s".into(),
                alarms: vec![],
            })
        };
        assert!(scope.check(&rolling("live-event")).is_empty());
        let errors = scope.check(&rolling("payments"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "cluster");
        assert!(
            errors[0].problem.contains("ClusterName is live-event"),
            "{errors:?}"
        );
    }
}
