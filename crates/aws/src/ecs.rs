//! The services port over Amazon ECS: read a service's rollout, clone a task definition with a new
//! image, point a service at a task definition and scale it.

use crate::{AwsError, Services};
use aws_sdk_ecs::types::DeploymentRolloutState;
use aws_sdk_ecs::Client;
use cutover_core::{Release, Rollout, ServiceState};

const SERVICE: &str = "arn:{partition}:ecs:{region}:{account}:service/{cluster}/{service}";

/// Describing and registering task definitions supports no resource-level permissions; passing the
/// task's roles is limited to ECS tasks, and tags copied onto the new revision need `TagResource`
/// under `ecs:CreateAction`.
pub const PERMISSIONS: &[crate::iam::Needs] = {
    use crate::iam::{allow, allow_if};
    &[
        (
            "Services::service",
            &[allow("ecs:DescribeServices", SERVICE)],
        ),
        (
            "Services::register_with_image",
            &[
                allow("ecs:DescribeTaskDefinition", "*"),
                allow("ecs:RegisterTaskDefinition", "*"),
                allow_if(
                    "iam:PassRole",
                    "{task_role}",
                    "iam:PassedToService",
                    "ecs-tasks.amazonaws.com",
                ),
                allow_if(
                    "ecs:TagResource",
                    "arn:{partition}:ecs:{region}:{account}:task-definition/{task_family}:*",
                    "ecs:CreateAction",
                    "RegisterTaskDefinition",
                ),
            ],
        ),
        (
            "Services::update_service",
            &[allow("ecs:UpdateService", SERVICE)],
        ),
    ]
};

pub struct Ecs {
    client: Client,
}

impl Ecs {
    pub fn new(client: Client) -> Self {
        Ecs { client }
    }

    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        Ecs::new(Client::new(conf))
    }
}

impl Services for Ecs {
    async fn service(&self, cluster: &str, name: &str) -> Result<ServiceState, AwsError> {
        let out = self
            .client
            .describe_services()
            .cluster(cluster)
            .services(name)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_cluster_not_found_exception())
                {
                    AwsError::NotFound {
                        what: "ECS cluster",
                        id: cluster.into(),
                    }
                } else {
                    AwsError::from_sdk("DescribeServices", e)
                }
            })?;
        let svc = out
            .services()
            .iter()
            .find(|s| s.service_name() == Some(name) && s.status() != Some("INACTIVE"))
            .ok_or_else(|| AwsError::NotFound {
                what: "ECS service",
                id: format!("{cluster}/{name}"),
            })?;
        let primary = svc
            .deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"));
        let rollout = match primary.and_then(|d| d.rollout_state()) {
            Some(DeploymentRolloutState::Failed) => Rollout::Failed,
            Some(DeploymentRolloutState::InProgress) => Rollout::InProgress,
            // No rollout state: services not on the rolling-update controller report none; judge by counts.
            _ => Rollout::Completed,
        };
        Ok(ServiceState {
            name: name.into(),
            task_definition_arn: svc.task_definition().unwrap_or_default().into(),
            desired: svc.desired_count(),
            running: svc.running_count(),
            pending: svc.pending_count(),
            rollout,
            failed_tasks: primary.map_or(0, |d| d.failed_tasks()),
            deployments: svc.deployments().len(),
        })
    }

    async fn register_with_image(
        &self,
        from: &str,
        container: &str,
        image: &str,
        environment: &[(String, String)],
    ) -> Result<Release, AwsError> {
        let out = self
            .client
            .describe_task_definition()
            .task_definition(from)
            // Tags are returned only when asked for; the new revision keeps them (cost allocation,
            // ABAC policies that key on them).
            .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_client_exception())
                {
                    AwsError::NotFound {
                        what: "task definition",
                        id: from.into(),
                    }
                } else {
                    AwsError::from_sdk("DescribeTaskDefinition", e)
                }
            })?;
        let tags = out.tags.filter(|t| !t.is_empty());
        let td = out.task_definition.ok_or_else(|| AwsError::NotFound {
            what: "task definition",
            id: from.into(),
        })?;
        let mut containers = td.container_definitions.clone().unwrap_or_default();
        let target = containers
            .iter_mut()
            .find(|c| c.name() == Some(container))
            .ok_or_else(|| AwsError::Unusable {
                what: "task definition",
                id: from.into(),
                problem: format!("has no container named \"{container}\""),
            })?;
        target.image = Some(image.into());
        if !environment.is_empty() {
            let mut vars = target.environment.take().unwrap_or_default();
            vars.retain(|v| {
                !environment
                    .iter()
                    .any(|(k, _)| v.name() == Some(k.as_str()))
            });
            vars.extend(environment.iter().map(|(k, v)| {
                aws_sdk_ecs::types::KeyValuePair::builder()
                    .name(k)
                    .value(v)
                    .build()
            }));
            target.environment = Some(vars);
        }
        // Every other field is carried over as it was, so only the image differs from the live revision.
        let registered = self
            .client
            .register_task_definition()
            .set_family(td.family)
            .set_tags(tags)
            .set_task_role_arn(td.task_role_arn)
            .set_execution_role_arn(td.execution_role_arn)
            .set_network_mode(td.network_mode)
            .set_container_definitions(Some(containers))
            .set_volumes(td.volumes)
            .set_placement_constraints(td.placement_constraints)
            .set_requires_compatibilities(td.requires_compatibilities)
            .set_cpu(td.cpu)
            .set_memory(td.memory)
            .set_pid_mode(td.pid_mode)
            .set_ipc_mode(td.ipc_mode)
            .set_proxy_configuration(td.proxy_configuration)
            .set_ephemeral_storage(td.ephemeral_storage)
            .set_runtime_platform(td.runtime_platform)
            .set_enable_fault_injection(td.enable_fault_injection)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("RegisterTaskDefinition", e))?;
        let arn = registered
            .task_definition()
            .and_then(|t| t.task_definition_arn())
            .ok_or_else(|| AwsError::Unusable {
                what: "task definition",
                id: from.into(),
                problem: "registered without an ARN".into(),
            })?;
        Ok(Release {
            task_definition_arn: arn.into(),
            image: image.into(),
        })
    }

    async fn update_service(
        &self,
        cluster: &str,
        name: &str,
        task_definition: Option<&str>,
        desired: i32,
    ) -> Result<(), AwsError> {
        self.client
            .update_service()
            .cluster(cluster)
            .service(name)
            .set_task_definition(task_definition.map(String::from))
            .desired_count(desired)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_service_not_found_exception())
                {
                    AwsError::NotFound {
                        what: "ECS service",
                        id: format!("{cluster}/{name}"),
                    }
                } else {
                    AwsError::from_sdk("UpdateService", e)
                }
            })?;
        tracing::info!(
            cluster,
            service = name,
            task_definition,
            desired,
            "ECS service updated"
        );
        Ok(())
    }
}
