//! A regional deployment's failover partner: when the target configuration names the Route 53
//! failover record this region is one half of, prepare asks Route 53 about the other half and reads
//! that region's ledger before it claims anything (docs/multi-region.md, "Failover safety").

use crate::AwsError;
use cutover_core::Status;
use std::future::Future;

/// The other half of a failover pair, as a deployment in this region sees it.
pub trait Partners {
    /// The region this function runs in.
    fn region(&self) -> &str;

    /// The status each Route 53 checker last observed of `health_check_id`; `NotFound` when the
    /// check does not exist.
    fn observations(
        &self,
        health_check_id: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;

    /// The deployment of `app`/`env` in flight in `region` (its id and status), if any; `None` too
    /// when no Cutover stack of this name is published there.
    fn in_flight(
        &self,
        region: &str,
        app: &str,
        env: &str,
    ) -> impl Future<Output = Result<Option<(String, Status)>, AwsError>> + Send;
}

#[cfg(feature = "release")]
pub use aws::{AwsPartners, PERMISSIONS};

#[cfg(feature = "release")]
mod aws {
    use super::Partners;
    use crate::iam::{allow, Needs};
    use crate::release::aws::{AwsRegions, Route53HealthChecks};
    use crate::release::{HealthChecks, Regions};
    use crate::AwsError;
    use aws_config::SdkConfig;
    use cutover_core::Status;

    pub const PERMISSIONS: &[Needs] = &[
        (
            "Partners::observations",
            &[allow(
                "route53:GetHealthCheckStatus",
                "arn:{partition}:route53:::healthcheck/{health_check}",
            )],
        ),
        (
            "Partners::in_flight",
            // The partner region is the target configuration's to name; the stack's name is fixed.
            &[
                allow(
                    "ssm:GetParameter",
                    "arn:{partition}:ssm:{release_region}:{account}:parameter/cutover-stack/{stack}",
                ),
                allow(
                    "dynamodb:GetItem",
                    "arn:{partition}:dynamodb:{release_region}:{account}:table/{stack}-LedgerTable-*",
                ),
            ],
        ),
    ];

    pub struct AwsPartners {
        region: String,
        health: Route53HealthChecks,
        regions: Option<AwsRegions>,
    }

    impl AwsPartners {
        /// In `conf`'s region; the partner's stack is found under `stack_name` (the same stack in
        /// every region), and without one no partner ledger can be read.
        pub fn new(conf: &SdkConfig, stack_name: Option<String>) -> Self {
            AwsPartners {
                region: conf.region().map(ToString::to_string).unwrap_or_default(),
                health: Route53HealthChecks::new(aws_sdk_route53::Client::new(conf)),
                regions: stack_name.map(|s| AwsRegions::new(conf.clone(), s)),
            }
        }
    }

    impl AwsPartners {
        /// From its parts (the SDK-edge tests give mocked clients).
        pub fn with(
            region: impl Into<String>,
            health: Route53HealthChecks,
            regions: Option<AwsRegions>,
        ) -> Self {
            AwsPartners {
                region: region.into(),
                health,
                regions,
            }
        }
    }

    impl Partners for AwsPartners {
        fn region(&self) -> &str {
            &self.region
        }

        async fn observations(&self, health_check_id: &str) -> Result<Vec<String>, AwsError> {
            self.health.observations(health_check_id).await
        }

        async fn in_flight(
            &self,
            region: &str,
            app: &str,
            env: &str,
        ) -> Result<Option<(String, Status)>, AwsError> {
            let Some(regions) = &self.regions else {
                return Err(AwsError::Unusable {
                    what: "function environment",
                    id: "REGIONAL_STACK_NAME".into(),
                    problem: "is not set, so the failover partner's ledger cannot be found".into(),
                });
            };
            let Some(stack) = regions.stack(region).await? else {
                return Ok(None);
            };
            Ok(regions
                .ledger(&stack, app, env)
                .await?
                .and_then(|l| l.deployment)
                .filter(|d| !d.status.is_final())
                .map(|d| (d.id, d.status)))
        }
    }
}
