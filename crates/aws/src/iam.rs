//! What each port method needs from IAM, as AWS authorizes the SDK calls behind it: the action, the
//! resource ARN the call is checked against, and any condition key AWS sets on it. Each adapter keeps
//! its list beside its calls (`PERMISSIONS` in the adapter's module); [`check`](crate::iam::check)
//! (test support) holds a function's calls against its policy in template.yaml, so a call added
//! without its permission, or a permission no call needs, fails a test.
//!
//! Resources use `{placeholders}` for what a deployment decides (see [`SAMPLE`]), and `*` where the
//! action has no resource-level permissions (AWS's Service Authorization Reference).

#[cfg(feature = "fakes")]
mod check;
#[cfg(feature = "fakes")]
pub use check::check;
#[cfg(all(feature = "fakes", feature = "all"))]
pub use check::check_template_file;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub action: &'static str,
    pub resource: &'static str,
    /// A condition key AWS evaluates on this call and its value: a policy statement with a
    /// `Condition` grants the call only if it allows this value.
    pub condition: Option<(&'static str, &'static str)>,
}

pub const fn allow(action: &'static str, resource: &'static str) -> Permission {
    Permission {
        action,
        resource,
        condition: None,
    }
}

pub const fn allow_if(
    action: &'static str,
    resource: &'static str,
    key: &'static str,
    value: &'static str,
) -> Permission {
    Permission {
        action,
        resource,
        condition: Some((key, value)),
    }
}

/// A port method (`"Port::method"`) and every permission its calls can need.
pub type Needs = (&'static str, &'static [Permission]);

/// The values the checks put in for placeholders: a realistic deployment in one account and region,
/// matching the parameters [`check`] gives the template.
pub const SAMPLE: &[(&str, &str)] = &[
    ("partition", "aws"),
    ("region", "eu-west-1"),
    ("account", "123456789012"),
    ("listener", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/live-event-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"),
    ("rule", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/live-event-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"),
    ("test_listener", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/live-event-alb/50dc6c495c0c9188/0467ef3c8400ae65"),
    // A test rule Cutover created: its id is the load balancer's to choose.
    ("test_rule", "live-event-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/1a2b3c4d5e6f7a8b"),
    ("ledger_table", "cutover-LedgerTable-1Q2W3E4R5T6Y"),
    ("cluster", "live-event"),
    ("service", "live-event-service-green"),
    ("app", "live-event-service"),
    ("env", "prod"),
    ("task_family", "live-event-service"),
    ("task_role", "arn:aws:iam::123456789012:role/live-event-task"),
    ("flags_application", "abc1234"),
    ("flags_environment", "def5678"),
    ("flags_profile", "ghi9012"),
    ("flags_strategy", "jkl3456"),
    ("stack", "cutover"),
    ("execution", "live-event-service-prod-3f9c2a"),
    ("secret_name", "live-event/db-AbCdEf"),
    ("database_secret", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0a1b2c3d-AbCdEf"),
    ("password_name", "live-event"),
    ("switch_prefix", "/live-event/"),
    ("switch_name", "prod/tickets-table"),
    ("switch_application", "app0001"),
    ("switch_environment", "env0001"),
    ("switch_profile", "prf0001"),
    ("deployment", "7"),
    ("version", "7"),
    ("hook", "smoke"),
    // Another region of a release, and a Route 53 health check its plan names.
    ("release_region", "us-west-2"),
    ("health_check", "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"),
];

/// Placeholders a call fills in from data at run time (an app, a service of the cluster, an
/// execution, a secret): a grant may cover any value of them. Every other placeholder is fixed by
/// the stack (its account, listener, cluster, tables, roles), and a grant must name exactly it.
pub const OPEN: &[&str] = &[
    "app",
    "test_rule",
    "env",
    "service",
    "task_family",
    "execution",
    "secret_name",
    "password_name",
    "switch_name",
    "switch_application",
    "switch_environment",
    "switch_profile",
    "deployment",
    "version",
    "hook",
    "release_region",
    "health_check",
];

/// `resource` as the widest pattern its calls need: open placeholders as `*`, the others resolved.
pub fn widest(resource: &str) -> String {
    let open = OPEN.iter().fold(resource.to_string(), |r, k| {
        r.replace(&format!("{{{k}}}"), "*")
    });
    resolve(&open)
}

/// `resource` with every `{placeholder}` replaced by its [`SAMPLE`] value.
pub fn resolve(resource: &str) -> String {
    SAMPLE.iter().fold(resource.to_string(), |r, (k, v)| {
        r.replace(&format!("{{{k}}}"), v)
    })
}

/// Every adapter's list: what a port method needs wherever it is implemented.
#[cfg(feature = "all")]
pub fn all() -> Vec<Needs> {
    [
        crate::elbv2::PERMISSIONS,
        crate::ledger::PERMISSIONS,
        crate::config::PERMISSIONS,
        crate::flags::PERMISSIONS,
        crate::ecs::PERMISSIONS,
        crate::sfn::PERMISSIONS,
        crate::alarms::PERMISSIONS,
        crate::metrics::PERMISSIONS,
        crate::switch::PERMISSIONS,
        crate::secrets::PERMISSIONS,
        crate::telemetry::PERMISSIONS,
        crate::hooks::PERMISSIONS,
        crate::release::aws::PERMISSIONS,
        crate::failover::PERMISSIONS,
    ]
    .concat()
}
