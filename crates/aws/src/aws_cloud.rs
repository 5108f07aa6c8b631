//! [`Cloud`] for AWS: one SDK configuration, one adapter per port, and every environment variable a
//! function reads, checked once at start-up so a misconfigured function fails at init naming the
//! variable instead of failing its first invocation with an empty table name.

use crate::alarms::CloudWatchAlarms;
use crate::config::SsmTargets;
use crate::ecs::Ecs;
use crate::elbv2::Elbv2;
use crate::failover::AwsPartners;
use crate::flags::AppConfigFlags;
use crate::hooks::LambdaHooks;
use crate::ledger::DynamoLedger;
use crate::metrics::CloudWatchMetrics;
use crate::secrets::Passwords;
use crate::sfn::StepFunctions;
use crate::switch::Switches;
use crate::telemetry::EventBridgeTelemetry;
use cutover_core::{MetricRules, Scope};

/// What the template's environment gives every function (see template.yaml, `Globals`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub ledger_table: String,
    pub appconfig_application: String,
    pub appconfig_environment: String,
    pub appconfig_profile: String,
    /// The no-bake AppConfig strategy flag switches deploy with; only the migrate function has one.
    pub flag_deployment_strategy: Option<String>,
    /// The rollback's listener watch after restoring traffic (ms); the function's default when absent.
    pub reassert_ms: Option<u64>,
    /// AWS's, unless `METRIC_PERIOD_FLOOR_SECONDS` (the local cloud's template condition) lowers the
    /// shortest metric period.
    pub metric_rules: MetricRules,
    /// The listener, rule and cluster the stack's policies allow (`CUTOVER_LISTENER_ARN`,
    /// `CUTOVER_LISTENER_RULE_ARN`, `CUTOVER_CLUSTER`); none when the template does not say.
    pub scope: Option<Scope>,
    /// This function's account (`CUTOVER_ACCOUNT_ID`, from the template) and region (`AWS_REGION`,
    /// set by Lambda); the rollback ignores alarms from elsewhere.
    pub home: Option<(String, String)>,
    /// The stack's name (`REGIONAL_STACK_NAME`), the same in every region: a failover partner's
    /// ledger is found through its `/cutover-stack/<name>` parameter.
    pub stack_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvironmentError {
    #[error("environment variable {0} is required and is missing or empty")]
    Missing(&'static str),
    #[error("environment variable {name} must be {expected}, got {value:?}")]
    Invalid {
        name: &'static str,
        expected: &'static str,
        value: String,
    },
}

impl Environment {
    pub fn from_env() -> Result<Environment, EnvironmentError> {
        Environment::from_lookup(|k| std::env::var(k).ok())
    }

    /// `lookup` stands in for the process environment, so the rules are testable without it.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Environment, EnvironmentError> {
        let optional = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let required = |name: &'static str| optional(name).ok_or(EnvironmentError::Missing(name));
        let reassert_ms = match optional("REASSERT_MS") {
            None => None,
            Some(v) => Some(v.parse().map_err(|_| EnvironmentError::Invalid {
                name: "REASSERT_MS",
                expected: "a whole number of milliseconds",
                value: v,
            })?),
        };
        let metric_rules = metric_rules(&lookup)?;
        let scope = match (
            optional("CUTOVER_LISTENER_ARN"),
            optional("CUTOVER_CLUSTER"),
        ) {
            (Some(listener_arn), Some(cluster)) => Some(Scope {
                listener_arn,
                listener_rule_arn: optional("CUTOVER_LISTENER_RULE_ARN"),
                cluster,
            }),
            _ => None,
        };
        let home = optional("CUTOVER_ACCOUNT_ID").zip(optional("AWS_REGION"));
        Ok(Environment {
            metric_rules,
            scope,
            home,
            stack_name: optional("REGIONAL_STACK_NAME"),
            ledger_table: required("LEDGER_TABLE")?,
            appconfig_application: required("APPCONFIG_APPLICATION")?,
            appconfig_environment: required("APPCONFIG_ENVIRONMENT")?,
            appconfig_profile: required("APPCONFIG_PROFILE")?,
            flag_deployment_strategy: optional("FLAG_DEPLOYMENT_STRATEGY"),
            reassert_ms,
        })
    }
}

/// `METRIC_PERIOD_FLOOR_SECONDS` (1 to 60) over AWS's rules; the CLI reads it too, so that it
/// accepts the configurations the functions it talks to accept.
pub fn metric_rules(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<MetricRules, EnvironmentError> {
    const NAME: &str = "METRIC_PERIOD_FLOOR_SECONDS";
    match lookup(NAME).filter(|v| !v.is_empty()) {
        None => Ok(MetricRules::AWS),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=MetricRules::AWS.min_period_seconds).contains(&n) => Ok(MetricRules {
                min_period_seconds: n,
            }),
            _ => Err(EnvironmentError::Invalid {
                name: NAME,
                expected: "a whole number of seconds from 1 to 60",
                value: v,
            }),
        },
    }
}

pub struct AwsCloud {
    env: Environment,
    lb: Elbv2,
    ledger: DynamoLedger,
    targets: SsmTargets,
    flags: AppConfigFlags,
    services: Ecs,
    executions: StepFunctions,
    alarms: CloudWatchAlarms,
    metrics: CloudWatchMetrics,
    switches: Switches,
    secrets: Passwords,
    telemetry: EventBridgeTelemetry,
    hooks: LambdaHooks,
    partners: AwsPartners,
}

impl AwsCloud {
    /// The SDK configuration from the standard environment (region, credentials, `AWS_ENDPOINT_URL*`)
    /// and Cutover's own variables.
    pub async fn from_env() -> Result<AwsCloud, EnvironmentError> {
        let env = Environment::from_env()?;
        Ok(AwsCloud::new(&crate::sdk_config().await, env))
    }

    /// SDK clients are cheap handles on one shared configuration: building all of them costs nothing
    /// a function that uses two of them would notice.
    pub fn new(conf: &aws_config::SdkConfig, env: Environment) -> AwsCloud {
        AwsCloud {
            lb: Elbv2::from_conf(conf),
            ledger: DynamoLedger::from_conf(conf, env.ledger_table.clone()),
            targets: SsmTargets::from_conf(conf, env.metric_rules).within(env.scope.clone()),
            flags: AppConfigFlags::from_conf(
                conf,
                &env.appconfig_application,
                &env.appconfig_environment,
                &env.appconfig_profile,
            ),
            services: Ecs::from_conf(conf),
            executions: StepFunctions::from_conf(conf),
            alarms: CloudWatchAlarms::from_conf(conf),
            metrics: CloudWatchMetrics::from_conf(conf),
            switches: Switches::from_conf(
                conf,
                env.flag_deployment_strategy.clone(),
                Some(env.appconfig_application.clone()),
            ),
            secrets: Passwords::from_conf(conf),
            telemetry: EventBridgeTelemetry::from_conf(conf),
            hooks: LambdaHooks::from_conf(conf),
            partners: AwsPartners::new(conf, env.stack_name.clone()),
            env,
        }
    }

    pub fn env(&self) -> &Environment {
        &self.env
    }
}

crate::cloud_of_fields!(AwsCloud {
    Elbv2,
    DynamoLedger,
    SsmTargets,
    AppConfigFlags,
    Ecs,
    StepFunctions,
    CloudWatchAlarms,
    CloudWatchMetrics,
    Switches,
    Passwords,
    EventBridgeTelemetry,
    LambdaHooks,
    AwsPartners,
});

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    const ALL: [(&str, &str); 4] = [
        ("LEDGER_TABLE", "t"),
        ("APPCONFIG_APPLICATION", "a"),
        ("APPCONFIG_ENVIRONMENT", "e"),
        ("APPCONFIG_PROFILE", "p"),
    ];

    #[test]
    fn every_required_variable_is_named_when_missing_or_empty() {
        assert!(Environment::from_lookup(lookup(&ALL)).is_ok());
        for i in 0..ALL.len() {
            let mut vars = ALL.to_vec();
            let (name, _) = vars.remove(i);
            assert_eq!(
                Environment::from_lookup(lookup(&vars)),
                Err(EnvironmentError::Missing(name))
            );
            vars.push((name, ""));
            assert_eq!(
                Environment::from_lookup(lookup(&vars)),
                Err(EnvironmentError::Missing(name))
            );
        }
    }

    #[test]
    fn optional_variables_are_read_and_checked() {
        let mut vars = ALL.to_vec();
        vars.extend([("FLAG_DEPLOYMENT_STRATEGY", "s1"), ("REASSERT_MS", "300")]);
        let env = Environment::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(env.home, None);
        let mut with_home = vars.clone();
        with_home.extend([
            ("CUTOVER_ACCOUNT_ID", "123456789012"),
            ("AWS_REGION", "eu-west-1"),
        ]);
        let home = Environment::from_lookup(lookup(&with_home)).unwrap().home;
        assert_eq!(home, Some(("123456789012".into(), "eu-west-1".into())));
        assert_eq!(env.flag_deployment_strategy.as_deref(), Some("s1"));
        assert_eq!(env.reassert_ms, Some(300));
        vars.push(("REASSERT_MS", "3s"));
        let vars: Vec<_> = vars.into_iter().rev().collect();
        let err = Environment::from_lookup(lookup(&vars)).unwrap_err();
        assert!(err.to_string().contains("REASSERT_MS"), "{err}");
    }

    #[test]
    fn metric_rules_are_aws_unless_the_floor_is_lowered_within_60() {
        let env = Environment::from_lookup(lookup(&ALL)).unwrap();
        assert_eq!(env.metric_rules, MetricRules::AWS);
        let mut vars = ALL.to_vec();
        vars.push(("METRIC_PERIOD_FLOOR_SECONDS", "1"));
        let env = Environment::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(env.metric_rules.min_period_seconds, 1);
        for bad in ["0", "61", "1m"] {
            let vars = [("METRIC_PERIOD_FLOOR_SECONDS", bad)];
            let err = metric_rules(lookup(&vars)).unwrap_err();
            assert!(
                err.to_string().contains("METRIC_PERIOD_FLOOR_SECONDS"),
                "{err}"
            );
        }
    }
}
