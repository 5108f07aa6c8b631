//! Ports (one small trait per capability) and their AWS SDK adapters.
//!
//! Functions depend on the traits so their logic is tested over fakes; the adapters are tested with
//! `aws-smithy-mocks`, which checks the exact requests and the error mapping. Each SDK crate sits
//! behind a cargo feature so a Lambda links only the clients it calls.

#[cfg(feature = "elbv2")]
pub mod elbv2;
pub mod error;
pub mod ports;

pub use error::AwsError;
pub use ports::LoadBalancer;

/// The SDK configuration from the standard environment (region, credentials, `AWS_ENDPOINT_URL*`).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
