//! The target configuration: what Cutover deploys and how it judges it. Stored as JSON in SSM at
//! `/cutover/<app>/<env>/target`; every bad field is reported by name, all at once, so a person can fix
//! the parameter in one edit.

use crate::duration::MetricTiming;
use crate::fields::{FieldError, Reader};
use crate::release::FailoverRecord;
use crate::strategy::Strategy;
use crate::traffic::Colour;
use serde::Serialize;
use serde_json::Value;

pub mod hooks;
pub mod test_route;
pub use hooks::{Hook, HookStage, Hooks};
pub use test_route::HeaderRoute;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PerColour<T> {
    pub blue: T,
    pub green: T,
}

impl<T> PerColour<T> {
    pub fn get(&self, colour: Colour) -> &T {
        match colour {
            Colour::Blue => &self.blue,
            Colour::Green => &self.green,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JudgeSettings {
    /// Confidence of the Mann-Whitney test (Kayenta's default 0.98).
    pub confidence: f64,
    /// Allowed effect size as a fraction of the baseline (Kayenta's default 0.25).
    pub tolerance: f64,
    pub pass_score: f64,
    pub marginal_score: f64,
    /// Periods with data each side needs before a metric is judged. With fewer than 5 per side no
    /// Mann-Whitney result can reach significance at 0.98, so the judge could never fail anything.
    pub min_samples: u32,
}

impl Default for JudgeSettings {
    fn default() -> Self {
        JudgeSettings {
            confidence: 0.98,
            tolerance: 0.25,
            pass_score: 95.0,
            marginal_score: 75.0,
            min_samples: 5,
        }
    }
}

/// The longest verification the deploy state machine waits out: its `Verify` task retries
/// `HealthPending` every 10 s, 120 times (a test holds the two together).
pub const MAX_VERIFY_TIMEOUT_SECONDS: u64 = 1_200;

/// A delay longer than this would leave a 5-minute bake nothing to judge before its deadline.
pub const MAX_METRIC_DELAY_SECONDS: u64 = 600;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthPolicy {
    /// Highest acceptable share of 5XX responses, 0..=1.
    pub max_5xx_rate: f64,
    pub max_p95_ms: f64,
    /// Requests the candidate must have served before its numbers are judged.
    pub min_request_count: u64,
    /// Metric period: at least 60 for ALB's standard metrics ([`MetricRules`]); 1 in the local cloud,
    /// whose waits are compressed.
    pub period_seconds: u32,
    /// How long after a period ends its datapoints can still be arriving: the judge's windows end
    /// this long before now, so a period ALB has not delivered yet is not read as missing.
    pub metric_delay_seconds: u32,
    /// After a shift, how long a verification may stay pending before it counts as failed.
    pub verify_timeout_seconds: u32,
    /// Failed tasks of the candidate's ECS deployment tolerated while ECS replaces them.
    pub max_failed_tasks: u32,
    pub judge: JudgeSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetConfig {
    pub cluster: String,
    pub services: PerColour<String>,
    pub container_name: String,
    pub listener_arn: String,
    pub listener_rule_arn: Option<String>,
    /// A second listener that forwards to the candidate during a deployment ([`test_route`]).
    pub test_listener_arn: Option<String>,
    /// A rule on the production listener that sends requests with this header to the candidate.
    pub test_header: Option<HeaderRoute>,
    pub target_groups: PerColour<String>,
    /// The `LoadBalancer` dimension value, `app/<name>/<id>`.
    pub load_balancer: String,
    pub alarms: Vec<String>,
    pub health_policy: HealthPolicy,
    #[serde(skip)]
    pub default_strategy: Strategy,
    pub termination_wait_seconds: u32,
    /// After a rollback, leave the candidate's tasks running for a person to inspect.
    pub keep_candidate_on_rollback: bool,
    /// The team's own checks at fixed points of a deployment ([`hooks`]).
    pub hooks: Hooks,
    /// The Route 53 failover record this region is one half of: every deployment here first asks
    /// that the other half be healthy and not in a deployment of its own (docs/multi-region.md).
    pub failover: Option<FailoverRecord>,
}

/// The readers only a target configuration needs.
impl Reader<'_> {
    fn arn(&mut self, key: &str, required: bool, resource: &str) -> Option<String> {
        let s = self.string(key, required)?;
        if is_elb_arn(&s, resource) {
            Some(s)
        } else {
            self.fail(
                key,
                format!("must be an Elastic Load Balancing {resource} ARN, got \"{s}\""),
            );
            None
        }
    }

    pub(crate) fn alarms(&mut self) -> Vec<String> {
        match self.value("alarms", false) {
            None => Vec::new(),
            Some(Value::Array(items))
                if items
                    .iter()
                    .all(|a| a.as_str().is_some_and(|s| !s.is_empty())) =>
            {
                items
                    .iter()
                    .filter_map(|a| a.as_str().map(String::from))
                    .collect()
            }
            Some(other) => {
                self.fail(
                    "alarms",
                    format!("must be a list of alarm names, got {other}"),
                );
                Vec::new()
            }
        }
    }

    fn per_colour(&mut self, key: &str, arn_resource: Option<&str>) -> Option<PerColour<String>> {
        let mut r = self.child(key, true);
        let mut read = |c: &str| match arn_resource {
            Some(res) => r.arn(c, true, res),
            None => r.string(c, true),
        };
        let (blue, green) = (read("blue"), read("green"));
        let (blue, green) = (blue?, green?);
        if blue == green {
            r.fail("green", "must differ from blue");
            return None;
        }
        Some(PerColour { blue, green })
    }
}

/// `arn:<partition>:elasticloadbalancing:<region>:<account>:<resource>/...`
pub fn is_elb_arn(s: &str, resource: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "elasticloadbalancing"
        && parts[5]
            .strip_prefix(resource)
            .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
}

/// The `TargetGroup` metric dimension value of a target group ARN: `targetgroup/<name>/<id>`.
pub fn target_group_dimension(arn: &str) -> Option<&str> {
    is_elb_arn(arn, "targetgroup")
        .then(|| arn.splitn(6, ':').nth(5))
        .flatten()
}

/// What the metrics a target configuration names allow, where they are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricRules {
    /// The shortest period the load balancer's metrics have.
    pub min_period_seconds: u32,
}

impl MetricRules {
    /// ALB publishes `AWS/ApplicationELB` in 60-second intervals: a shorter period returns the same
    /// minute's datapoint under several timestamps, and the judge would count one minute as many
    /// samples.
    pub const AWS: MetricRules = MetricRules {
        min_period_seconds: 60,
    };
}

impl TargetConfig {
    /// A configuration as AWS would run it ([`MetricRules::AWS`]).
    pub fn from_json(value: &Value) -> Result<TargetConfig, Vec<FieldError>> {
        TargetConfig::from_json_with(value, MetricRules::AWS)
    }

    pub fn from_json_with(
        value: &Value,
        rules: MetricRules,
    ) -> Result<TargetConfig, Vec<FieldError>> {
        let mut errors = Vec::new();
        let obj = crate::fields::document(value)?;
        let mut r = Reader::new(&mut errors, Some(obj));
        match obj.get("mode").and_then(Value::as_str) {
            None | Some("blueGreen") => {}
            Some("rolling") => r.fail(
                "mode",
                "rolling: a service with one ECS service and no second target group is rolled back by \
                 Cutover, not deployed by it",
            ),
            Some(other) => r.fail("mode", format!("must be blueGreen or rolling, got \"{other}\"")),
        }
        let cluster = r.string("cluster", true);
        let services = r.per_colour("services", None);
        let container_name = r.string("containerName", true);
        let listener_arn = r.arn("listenerArn", true, "listener");
        let listener_rule_arn = r.arn("listenerRuleArn", false, "listener-rule");
        let test_listener_arn = r.arn("testListenerArn", false, "listener");
        let test_header = r.header_route("testHeader");
        if test_listener_arn.is_some() && test_listener_arn == listener_arn {
            r.fail(
                "testListenerArn",
                "must differ from listenerArn: it is the test route",
            );
        }
        let target_groups = r.per_colour("targetGroups", Some("targetgroup"));
        let load_balancer = r.string("loadBalancer", true);
        if let Some(lb) = &load_balancer {
            if lb.split('/').count() != 3 || !lb.starts_with("app/") {
                r.fail(
                    "loadBalancer",
                    format!("must be the dimension value app/<name>/<id>, got \"{lb}\""),
                );
            }
        }
        let alarms = r.alarms();
        let health_policy = {
            let mut h = r.child("healthPolicy", false);
            let max_5xx_rate = h.number("max5xxRate", 0.0, 1.0, 0.01);
            let max_p95_ms = h.number("maxP95Ms", 1.0, 600_000.0, 1000.0);
            let min_request_count = h.integer("minRequestCount", u64::MAX, 50);
            let period_seconds = h.integer("periodSeconds", 3_600, 60) as u32;
            if period_seconds == 0
                || (![1, 5, 10, 30].contains(&period_seconds) && !period_seconds.is_multiple_of(60))
            {
                h.fail(
                    "periodSeconds",
                    "must be 1, 5, 10, 30 or a multiple of 60 (CloudWatch periods)",
                );
            } else if period_seconds < rules.min_period_seconds {
                h.fail(
                    "periodSeconds",
                    format!(
                        "must be at least {}: AWS/ApplicationELB metrics have {}-second resolution",
                        rules.min_period_seconds, rules.min_period_seconds
                    ),
                );
            }
            let metric_delay_seconds =
                h.integer("metricDelaySeconds", MAX_METRIC_DELAY_SECONDS, 120) as u32;
            let verify_timeout_seconds =
                h.integer("verifyTimeoutSeconds", MAX_VERIFY_TIMEOUT_SECONDS, 900) as u32;
            // ECS's own circuit breaker stops a rollout at 3 failed tasks at the least.
            let max_failed_tasks = h.integer("maxFailedTasks", 200, 3) as u32;
            let d = JudgeSettings::default();
            let mut j = h.child("judge", false);
            let judge = JudgeSettings {
                confidence: j.number("confidence", 0.5, 0.9999, d.confidence),
                tolerance: j.number("tolerance", 0.0, 10.0, d.tolerance),
                pass_score: j.number("passScore", 0.0, 100.0, d.pass_score),
                marginal_score: j.number("marginalScore", 0.0, 100.0, d.marginal_score),
                min_samples: j.integer("minSamples", 1_000, u64::from(d.min_samples)) as u32,
            };
            if judge.min_samples < 5 {
                j.fail(
                    "minSamples",
                    "must be at least 5: fewer can never show a significant difference",
                );
            }
            if judge.marginal_score > judge.pass_score {
                j.fail("marginalScore", "must not exceed passScore");
            }
            let policy = HealthPolicy {
                max_5xx_rate,
                max_p95_ms,
                min_request_count,
                period_seconds,
                metric_delay_seconds,
                verify_timeout_seconds,
                max_failed_tasks,
                judge,
            };
            // Every plan ends with a step without a bake: its verification must outlast the data.
            let needed = MetricTiming::of(&policy).judged_after_shift();
            if u64::from(policy.verify_timeout_seconds) < needed {
                h.fail(
                    "verifyTimeoutSeconds",
                    format!(
                        "must be at least {needed}: after a shift the judge needs judge.minSamples \
                         whole periods of periodSeconds, plus metricDelaySeconds"
                    ),
                );
            }
            policy
        };
        let default_strategy = match r.value("defaultStrategy", false) {
            None => Some(Strategy::preset("Canary10Percent5Minutes").expect("known preset")),
            Some(v) => match Strategy::from_json(v) {
                Ok(s) => Some(s),
                Err(e) => {
                    r.fail("defaultStrategy", e.to_string());
                    None
                }
            },
        };
        let termination_wait_seconds = r.integer("terminationWaitSeconds", 86_400, 300) as u32;
        let keep_candidate_on_rollback = r.boolean("keepCandidateOnRollback", false);
        let hooks = r.hooks();
        let failover = r
            .value("failover", false)
            .is_some()
            .then(|| FailoverRecord::read(&mut r.child("failover", true)))
            .flatten();

        match (
            cluster,
            services,
            container_name,
            listener_arn,
            target_groups,
            load_balancer,
            default_strategy,
        ) {
            (
                Some(cluster),
                Some(services),
                Some(container_name),
                Some(listener_arn),
                Some(target_groups),
                Some(load_balancer),
                Some(default_strategy),
            ) if errors.is_empty() => Ok(TargetConfig {
                cluster,
                services,
                container_name,
                listener_arn,
                listener_rule_arn,
                test_listener_arn,
                test_header,
                target_groups,
                load_balancer,
                alarms,
                health_policy,
                default_strategy,
                termination_wait_seconds,
                keep_candidate_on_rollback,
                hooks,
                failover,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests;
