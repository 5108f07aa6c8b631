//! Ports (one small trait per capability) and their AWS SDK adapters.
//!
//! Functions depend on the traits so their logic is tested over fakes; the adapters are tested with
//! `aws-smithy-mocks`, which checks the exact requests and the error mapping. Each SDK crate sits
//! behind a cargo feature so a Lambda links only the clients it calls.

#[cfg(feature = "alarms")]
pub mod alarms;
#[cfg(feature = "all")]
pub mod aws_cloud;
pub mod cloud;
#[cfg(feature = "config")]
pub mod config;
#[cfg(feature = "drill")]
pub mod drill;
#[cfg(feature = "ecs")]
pub mod ecs;
#[cfg(feature = "elbv2")]
pub mod elbv2;
pub mod error;
pub mod failover;
#[cfg(feature = "fakes")]
pub mod fakes;
#[cfg(feature = "switch")]
pub mod flag_switch;
#[cfg(feature = "flags")]
pub mod flags;
#[cfg(feature = "hooks")]
pub mod hooks;
pub mod iam;
#[cfg(feature = "ledger")]
pub mod ledger;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod ports;
pub mod release;
#[cfg(feature = "secrets")]
pub mod secrets;
#[cfg(feature = "executions")]
pub mod sfn;
#[cfg(feature = "switch")]
pub mod switch;
#[cfg(feature = "events")]
pub mod telemetry;
pub mod test_route;
pub mod told;
pub mod traffic;

#[cfg(feature = "all")]
pub use aws_cloud::{AwsCloud, Environment, EnvironmentError};
pub use cloud::Cloud;
pub use error::AwsError;
pub use failover::Partners;
pub use ports::{
    load_ledger, update_ledger, update_ledger_seen, Alarms, Executions, FlagSource, HookCall,
    Hooks, LedgerStore, LoadBalancer, Metrics, MetricsQuery, SecretSource, SeriesQuery, Services,
    SwitchStore, TargetSource, Telemetry, Updated,
};

/// A call attempt that has not answered in this long is abandoned and retried (the SDK's standard
/// retry, 3 attempts): without it a stalled connection holds the call until the Lambda's own
/// 30-second timeout kills the whole invocation. Every call Cutover makes answers in well under a
/// second when AWS is healthy; hook invocations, which may legitimately run long, opt out.
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// All attempts of one call together, below the functions' 30-second timeout so that the
/// function reports the failure (`AwsTransient`, retried by the state machine) instead of dying.
pub const OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The SDK configuration from the standard environment (region, credentials, `AWS_ENDPOINT_URL*`),
/// with the attempt and operation timeouts above.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await
}
