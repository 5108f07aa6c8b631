//! The release ports over the SDK: a client per region for the regional stacks (Step Functions,
//! DynamoDB, SSM), Route 53 (a global service), and the home region's table and parameters.

use super::{
    plan_parameter, stack_parameter, ExecutionState, HealthChecks, RegionalStack, Regions,
    Releases, Started,
};
use crate::iam::{allow, allow_if, Needs};
use crate::ledger::{
    get_item, item_key as key, newest, partition_key, put_item, put_on_version, to_item,
};
use crate::AwsError;
use aws_config::{Region, SdkConfig};
use cutover_core::release::ReleaseRecord;
use cutover_core::Ledger;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

const REQUESTED: &str = "aws:RequestedRegion";
const DEPLOY_MACHINE: &str =
    "arn:{partition}:states:{release_region}:{account}:stateMachine:{stack}-deploy";
const DEPLOY_EXECUTION: &str =
    "arn:{partition}:states:{release_region}:{account}:execution:{stack}-deploy:{execution}";
const HOME_TABLE: &str = "arn:{partition}:dynamodb:{region}:{account}:table/{ledger_table}";

pub const PERMISSIONS: &[Needs] = &[
    (
        "Regions::stack",
        &[allow_if(
            "ssm:GetParameter",
            "arn:{partition}:ssm:{release_region}:{account}:parameter/cutover-stack/{stack}",
            REQUESTED,
            "{release_region}",
        )],
    ),
    (
        "Regions::start",
        &[
            allow_if(
                "states:StartExecution",
                DEPLOY_MACHINE,
                REQUESTED,
                "{release_region}",
            ),
            allow_if(
                "states:DescribeExecution",
                DEPLOY_EXECUTION,
                REQUESTED,
                "{release_region}",
            ),
        ],
    ),
    (
        "Regions::execution",
        &[allow_if(
            "states:DescribeExecution",
            DEPLOY_EXECUTION,
            REQUESTED,
            "{release_region}",
        )],
    ),
    (
        "Regions::ledger",
        // CloudFormation names the regional table `<stack>-LedgerTable-<random>`.
        &[allow_if(
            "dynamodb:GetItem",
            "arn:{partition}:dynamodb:{release_region}:{account}:table/{stack}-LedgerTable-*",
            REQUESTED,
            "{release_region}",
        )],
    ),
    (
        "HealthChecks::observations",
        &[allow(
            "route53:GetHealthCheckStatus",
            "arn:{partition}:route53:::healthcheck/{health_check}",
        )],
    ),
    ("Releases::load", &[allow("dynamodb:GetItem", HOME_TABLE)]),
    ("Releases::save", &[allow("dynamodb:PutItem", HOME_TABLE)]),
    (
        "Releases::archive",
        &[allow("dynamodb:PutItem", HOME_TABLE)],
    ),
    ("Releases::archived", &[allow("dynamodb:Query", HOME_TABLE)]),
    (
        "Releases::execution_status",
        &[allow(
            "states:DescribeExecution",
            "arn:{partition}:states:{region}:{account}:execution:{stack}-release:{execution}",
        )],
    ),
    (
        "Releases::plan",
        &[allow(
            "ssm:GetParameter",
            "arn:{partition}:ssm:{region}:{account}:parameter/cutover/{app}/{env}/release",
        )],
    ),
];

pub const RELEASE_SORT_KEY: &str = "RELEASE";
/// Archived releases sort after it by start time, so a Query reads the newest first.
pub const RELEASE_ARCHIVE_PREFIX: &str = "RELEASE#";

/// The clients of one region.
#[derive(Clone)]
pub struct RegionClients {
    pub sfn: aws_sdk_sfn::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub ssm: aws_sdk_ssm::Client,
}

type Factory = Box<dyn Fn(&str) -> RegionClients + Send + Sync>;

pub struct AwsRegions {
    make: Factory,
    stack_name: String,
    clients: Mutex<HashMap<String, RegionClients>>,
}

impl AwsRegions {
    /// Clients of each region from the home configuration (credentials, endpoints) with that
    /// region: SigV4 signs for it and the SDK resolves its endpoints.
    pub fn new(conf: SdkConfig, stack_name: impl Into<String>) -> Self {
        AwsRegions::with_clients(stack_name, move |region| {
            let conf = conf
                .to_builder()
                .region(Region::new(region.to_string()))
                .build();
            RegionClients {
                sfn: aws_sdk_sfn::Client::new(&conf),
                dynamodb: aws_sdk_dynamodb::Client::new(&conf),
                ssm: aws_sdk_ssm::Client::new(&conf),
            }
        })
    }

    /// With the clients `make` gives for a region (the SDK-edge tests give mocks).
    pub fn with_clients(
        stack_name: impl Into<String>,
        make: impl Fn(&str) -> RegionClients + Send + Sync + 'static,
    ) -> Self {
        AwsRegions {
            make: Box::new(make),
            stack_name: stack_name.into(),
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn clients(&self, region: &str) -> RegionClients {
        let mut cache = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry(region.to_string())
            .or_insert_with(|| (self.make)(region))
            .clone()
    }
}

/// A parameter's value, `None` when it does not exist.
async fn parameter(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<Option<String>, AwsError> {
    match ssm.get_parameter().name(name).send().await {
        Ok(out) => Ok(out.parameter.and_then(|p| p.value)),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_parameter_not_found()) =>
        {
            Ok(None)
        }
        Err(e) => Err(AwsError::from_sdk("GetParameter", e)),
    }
}

async fn describe(client: &aws_sdk_sfn::Client, arn: &str) -> Result<ExecutionState, AwsError> {
    match client.describe_execution().execution_arn(arn).send().await {
        Ok(out) => Ok(ExecutionState {
            status: out.status.as_str().to_string(),
            error: out.error,
            input: out.input,
        }),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_execution_does_not_exist()) =>
        {
            Err(AwsError::NotFound {
                what: "execution",
                id: arn.to_string(),
            })
        }
        Err(e) => Err(AwsError::from_sdk("DescribeExecution", e)),
    }
}

impl Regions for AwsRegions {
    async fn stack(&self, region: &str) -> Result<Option<RegionalStack>, AwsError> {
        let name = stack_parameter(&self.stack_name);
        let Some(value) = parameter(&self.clients(region).ssm, &name).await? else {
            return Ok(None);
        };
        let mut stack: RegionalStack =
            serde_json::from_str(&value).map_err(|e| AwsError::Unusable {
                what: "regional stack parameter",
                id: format!("{region}:{name}"),
                problem: e.to_string(),
            })?;
        stack.region = region.to_string();
        Ok(Some(stack))
    }

    async fn start(
        &self,
        stack: &RegionalStack,
        name: &str,
        input: &str,
    ) -> Result<Started, AwsError> {
        let sfn = self.clients(&stack.region).sfn;
        match sfn
            .start_execution()
            .state_machine_arn(&stack.deploy_state_machine_arn)
            .name(name)
            .input(input)
            .send()
            .await
        {
            // A repeated start with the same name and input answers with the running execution.
            Ok(out) => Ok(Started::New {
                arn: out.execution_arn,
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_already_exists()) =>
            {
                let arn = format!(
                    "{}:{name}",
                    stack
                        .deploy_state_machine_arn
                        .replacen(":stateMachine:", ":execution:", 1)
                );
                let input = describe(&sfn, &arn).await?.input.unwrap_or_default();
                Ok(Started::Existing { arn, input })
            }
            // The account's open executions are at their quota: others ending makes room.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_limit_exceeded()) =>
            {
                Err(AwsError::Transient {
                    operation: "StartExecution",
                    message: format!(
                        "in {}: {}",
                        stack.region,
                        e.as_service_error()
                            .map_or(String::new(), ToString::to_string)
                    ),
                })
            }
            Err(e) => Err(AwsError::from_sdk("StartExecution", e)),
        }
    }

    async fn execution(&self, region: &str, arn: &str) -> Result<ExecutionState, AwsError> {
        describe(&self.clients(region).sfn, arn).await
    }

    async fn ledger(
        &self,
        stack: &RegionalStack,
        app: &str,
        env: &str,
    ) -> Result<Option<Ledger>, AwsError> {
        let dynamodb = self.clients(&stack.region).dynamodb;
        let id = format!("{}:{app}#{env}", stack.region);
        let key = key(app, env, crate::ledger::LEDGER_SORT_KEY);
        get_item(
            &dynamodb,
            &stack.ledger_table,
            key,
            "regional ledger item",
            id,
        )
        .await
    }
}

pub struct Route53HealthChecks {
    client: aws_sdk_route53::Client,
}

impl Route53HealthChecks {
    pub fn new(client: aws_sdk_route53::Client) -> Self {
        Route53HealthChecks { client }
    }
}

impl HealthChecks for Route53HealthChecks {
    async fn observations(&self, health_check_id: &str) -> Result<Vec<String>, AwsError> {
        match self
            .client
            .get_health_check_status()
            .health_check_id(health_check_id)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .health_check_observations
                .into_iter()
                .filter_map(|o| o.status_report?.status)
                .collect()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_health_check()) =>
            {
                Err(AwsError::NotFound {
                    what: "Route 53 health check",
                    id: health_check_id.to_string(),
                })
            }
            Err(e) => Err(AwsError::from_sdk("GetHealthCheckStatus", e)),
        }
    }
}

pub struct DynamoReleases {
    dynamodb: aws_sdk_dynamodb::Client,
    ssm: aws_sdk_ssm::Client,
    sfn: aws_sdk_sfn::Client,
    table: String,
}

impl DynamoReleases {
    /// In the configuration's region (the home one), on the ledger table `table`.
    pub fn from_conf(conf: &SdkConfig, table: impl Into<String>) -> Self {
        DynamoReleases::new(
            aws_sdk_dynamodb::Client::new(conf),
            aws_sdk_ssm::Client::new(conf),
            aws_sdk_sfn::Client::new(conf),
            table,
        )
    }

    pub fn new(
        dynamodb: aws_sdk_dynamodb::Client,
        ssm: aws_sdk_ssm::Client,
        sfn: aws_sdk_sfn::Client,
        table: impl Into<String>,
    ) -> Self {
        DynamoReleases {
            dynamodb,
            ssm,
            sfn,
            table: table.into(),
        }
    }
}

impl Releases for DynamoReleases {
    async fn load(&self, app: &str, env: &str) -> Result<Option<ReleaseRecord>, AwsError> {
        let key = key(app, env, RELEASE_SORT_KEY);
        get_item(
            &self.dynamodb,
            &self.table,
            key,
            "release item",
            partition_key(app, env),
        )
        .await
    }

    async fn save(&self, release: &ReleaseRecord) -> Result<bool, AwsError> {
        let next = ReleaseRecord {
            version: release.version + 1,
            ..release.clone()
        };
        let mut item = to_item(&next, "release item", &release.id)?;
        item.extend(key(&release.app, &release.env, RELEASE_SORT_KEY));
        put_on_version(&self.dynamodb, &self.table, item, release.version).await
    }

    async fn archive(&self, release: &ReleaseRecord) -> Result<(), AwsError> {
        let mut item = to_item(release, "archived release", &release.id)?;
        // Zero-padded so the string order is the time order.
        let sort = format!(
            "{RELEASE_ARCHIVE_PREFIX}{:013}#{}",
            release.started_at_ms, release.id
        );
        item.extend(key(&release.app, &release.env, &sort));
        put_item(&self.dynamodb, &self.table, item).await
    }

    async fn archived(
        &self,
        app: &str,
        env: &str,
        limit: usize,
    ) -> Result<Vec<ReleaseRecord>, AwsError> {
        let pk = partition_key(app, env);
        let what = "archived release";
        newest(
            &self.dynamodb,
            &self.table,
            pk,
            RELEASE_ARCHIVE_PREFIX,
            limit,
            what,
        )
        .await
    }

    async fn execution_status(&self, arn: &str) -> Result<Option<String>, AwsError> {
        match describe(&self.sfn, arn).await {
            Ok(state) => Ok(Some(state.status)),
            Err(AwsError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn plan(&self, app: &str, env: &str) -> Result<Option<Value>, AwsError> {
        let name = plan_parameter(app, env);
        let Some(text) = parameter(&self.ssm, &name).await? else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| AwsError::Unusable {
                what: "release plan parameter",
                id: name,
                problem: format!("not JSON: {e}"),
            })
    }
}

/// The release function's [`ReleaseCloud`] on AWS.
#[cfg(feature = "events")]
pub struct AwsReleaseCloud {
    pub regions: AwsRegions,
    pub health_checks: Route53HealthChecks,
    pub releases: DynamoReleases,
    pub known: Vec<String>,
    pub telemetry: crate::telemetry::EventBridgeTelemetry,
}

#[cfg(feature = "events")]
impl AwsReleaseCloud {
    /// From the function's environment: `LEDGER_TABLE`, `RELEASE_REGIONS` (comma-separated) and
    /// `REGIONAL_STACK_NAME` (the stack's name in every region). A missing one is named.
    pub async fn from_env() -> Result<Self, String> {
        let var = |k: &str| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or(format!(
                    "environment variable {k} is required and is missing or empty"
                ))
        };
        let (table, regions, stack) = (
            var("LEDGER_TABLE")?,
            var("RELEASE_REGIONS")?,
            var("REGIONAL_STACK_NAME")?,
        );
        let conf = crate::sdk_config().await;
        Ok(AwsReleaseCloud {
            regions: AwsRegions::new(conf.clone(), stack),
            health_checks: Route53HealthChecks::new(aws_sdk_route53::Client::new(&conf)),
            releases: DynamoReleases::from_conf(&conf, table),
            telemetry: crate::telemetry::EventBridgeTelemetry::from_conf(&conf),
            known: regions
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(String::from)
                .collect(),
        })
    }
}

#[cfg(feature = "events")]
impl super::ReleaseCloud for AwsReleaseCloud {
    type Regions = AwsRegions;
    type HealthChecks = Route53HealthChecks;
    type Releases = DynamoReleases;
    type Telemetry = crate::telemetry::EventBridgeTelemetry;
    fn regions(&self) -> &AwsRegions {
        &self.regions
    }
    fn health_checks(&self) -> &Route53HealthChecks {
        &self.health_checks
    }
    fn releases(&self) -> &DynamoReleases {
        &self.releases
    }
    fn known_regions(&self) -> &[String] {
        &self.known
    }
    fn telemetry(&self) -> &crate::telemetry::EventBridgeTelemetry {
        &self.telemetry
    }
}
