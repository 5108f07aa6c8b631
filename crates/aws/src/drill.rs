//! `cutover drill --fault stop-tasks` on AWS: the stack's FIS experiment template
//! (`DrillExperimentTemplate`) stops a share of the ECS tasks that carry Cutover's drill tag. Once
//! the canary has traffic the CLI tags the candidate's running tasks (refusing while any other task
//! of the cluster carries the tag), starts the experiment, and when the drill has ended stops it and
//! removes the tag from the tasks it tagged that still run (docs/chaos.md).
//!
//! These calls are the CLI's, made with the caller's credentials: [`PERMISSIONS`] is what a person
//! or CI role that runs drills needs; [`EXPERIMENT_ROLE`] is what FIS needs from the template's role.

use crate::AwsError;
use aws_sdk_ecs::types::{Tag, TaskField};
use aws_sdk_fis::types::ExperimentStatus;
use cutover_core::drill::Selection;

/// The tag the template's target selects tasks by.
pub const TAG_KEY: &str = "cutover:drill";
pub const TAG_VALUE: &str = "stop-tasks";
/// The one FIS action the drill's template may run.
pub const ACTION: &str = "aws:ecs:stop-task";
/// DescribeTasks takes at most 100 tasks a call.
const DESCRIBE_BATCH: usize = 100;

const TASK: &str = "arn:{partition}:ecs:{region}:{account}:task/{cluster}/*";
const CLUSTER_ARN: &str = "arn:{partition}:ecs:{region}:{account}:cluster/{cluster}";
const TEMPLATE: &str =
    "arn:{partition}:fis:{region}:{account}:experiment-template/{experiment_template}";
const EXPERIMENT: &str = "arn:{partition}:fis:{region}:{account}:experiment/*";

const LIST_TASKS: crate::iam::Permission = crate::iam::allow_if(
    "ecs:ListTasks",
    "arn:{partition}:ecs:{region}:{account}:container-instance/{cluster}/*",
    "ecs:cluster",
    CLUSTER_ARN,
);

/// ListTasks is authorized on the cluster's container instances with `ecs:cluster`; tags are
/// written to task ARNs (which need the long ARN format); starting an experiment is authorized on
/// both the template and the new experiment, and tagging it at start on the experiment.
pub const PERMISSIONS: &[crate::iam::Needs] = {
    use crate::iam::{allow, allow_if};
    &[
        (
            "DrillInjector::check_template",
            &[allow("fis:GetExperimentTemplate", TEMPLATE)],
        ),
        (
            "DrillInjector::tagged_elsewhere",
            &[
                LIST_TASKS,
                allow_if("ecs:DescribeTasks", TASK, "ecs:cluster", CLUSTER_ARN),
            ],
        ),
        (
            "DrillInjector::mark",
            &[
                LIST_TASKS,
                allow_if("ecs:DescribeTasks", TASK, "ecs:cluster", CLUSTER_ARN),
                allow("ecs:TagResource", TASK),
                allow("ecs:UntagResource", TASK),
            ],
        ),
        (
            "DrillInjector::unmark",
            &[LIST_TASKS, allow("ecs:UntagResource", TASK)],
        ),
        (
            "DrillInjector::start",
            &[
                allow("fis:StartExperiment", TEMPLATE),
                allow("fis:StartExperiment", EXPERIMENT),
                allow("fis:TagResource", EXPERIMENT),
            ],
        ),
        (
            "DrillInjector::state",
            &[allow("fis:GetExperiment", EXPERIMENT)],
        ),
        (
            "DrillInjector::stop",
            &[allow("fis:StopExperiment", EXPERIMENT)],
        ),
    ]
};

/// What FIS itself needs, through the template's role, to run `aws:ecs:stop-task` on tasks chosen by
/// tag (AWS's actions reference; the managed policy AWSFaultInjectionSimulatorECSAccess grants the
/// same, on every task). StopTask supports the task's tags as a condition: the role can stop only
/// tasks that carry the drill tag. The stop condition's alarm FIS reads through its service-linked
/// role.
pub const EXPERIMENT_ROLE: &[crate::iam::Needs] = {
    use crate::iam::{allow, allow_if};
    &[(
        "FIS::aws:ecs:stop-task",
        &[
            allow("tag:GetResources", "*"),
            allow("ecs:ListTasks", "*"),
            allow("ecs:DescribeTasks", TASK),
            allow_if(
                "ecs:StopTask",
                TASK,
                "aws:ResourceTag/cutover:drill",
                "stop-tasks",
            ),
        ],
    )]
};

/// An experiment's state as FIS reports it (`running`, `completed`, `stopped`, `failed`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExperimentState {
    pub status: String,
    pub reason: Option<String>,
    /// An action of the experiment completed: FIS stopped the tasks it selected.
    pub action_completed: bool,
}

impl ExperimentState {
    /// FIS has not begun it yet (it resolves the targets first).
    pub fn is_starting(&self) -> bool {
        matches!(self.status.as_str(), "pending" | "initiating")
    }

    /// FIS gave up on it (no target found, a denied call): no task was stopped by it.
    pub fn has_failed(&self) -> bool {
        matches!(self.status.as_str(), "failed" | "cancelled")
    }

    /// FIS is done with it: nothing to stop.
    pub fn is_final(&self) -> bool {
        matches!(
            self.status.as_str(),
            "completed" | "stopped" | "failed" | "cancelled"
        )
    }
}

pub struct DrillInjector {
    ecs: aws_sdk_ecs::Client,
    fis: aws_sdk_fis::Client,
}

impl DrillInjector {
    pub fn new(ecs: aws_sdk_ecs::Client, fis: aws_sdk_fis::Client) -> Self {
        DrillInjector { ecs, fis }
    }

    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        DrillInjector::new(
            aws_sdk_ecs::Client::new(conf),
            aws_sdk_fis::Client::new(conf),
        )
    }

    /// The template exists and does what a drill expects: only `aws:ecs:stop-task`, on a target
    /// chosen by the drill tag, with a stop condition. Checked before the drill's deployment starts.
    /// Returns how its target picks among the tagged tasks.
    pub async fn check_template(&self, id: &str) -> Result<Selection, AwsError> {
        let out = self
            .fis
            .get_experiment_template()
            .id(id)
            .send()
            .await
            .map_err(|e| template_error("GetExperimentTemplate", id, e))?;
        let unusable = |problem: &str| AwsError::Unusable {
            what: "FIS experiment template",
            id: id.into(),
            problem: problem.into(),
        };
        let t = out
            .experiment_template()
            .ok_or_else(|| unusable("GetExperimentTemplate returned no template"))?;
        let actions = t.actions().map(|a| a.values().collect::<Vec<_>>());
        if !actions
            .is_some_and(|a| !a.is_empty() && a.iter().all(|a| a.action_id() == Some(ACTION)))
        {
            return Err(unusable(&format!("its actions must all be {ACTION}")));
        }
        let targets: Vec<_> = t
            .targets()
            .map(|m| m.values().collect())
            .unwrap_or_default();
        let [target] = targets.as_slice() else {
            return Err(unusable("it must have exactly one target"));
        };
        let tagged = target
            .resource_tags()
            .and_then(|tags| tags.get(TAG_KEY))
            .is_some_and(|v| v == TAG_VALUE);
        if !tagged {
            return Err(unusable(&format!(
                "its target must select tasks by the tag {TAG_KEY}={TAG_VALUE}"
            )));
        }
        let selection = target
            .selection_mode()
            .and_then(Selection::parse)
            .ok_or_else(|| {
                unusable("its target's selection mode is not ALL, COUNT(n) or PERCENT(n)")
            })?;
        let stops = t
            .stop_conditions()
            .iter()
            .any(|c| c.source() == Some("aws:cloudwatch:alarm"));
        if !stops {
            return Err(unusable("it has no CloudWatch alarm as stop condition"));
        }
        Ok(selection)
    }

    /// Running tasks of `cluster` outside `service` that carry the drill tag: another drill's
    /// targets (the template picks every tagged task of the cluster), or a dead drill's leftovers.
    /// Neither is Cutover's to untag; a drill refuses to start while there are any.
    pub async fn tagged_elsewhere(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Vec<String>, AwsError> {
        let own = self.running_tasks(cluster, Some(service)).await?;
        self.tagged_outside(cluster, &own).await
    }

    /// Running tasks of `cluster` other than `own` that carry the drill tag.
    async fn tagged_outside(&self, cluster: &str, own: &[String]) -> Result<Vec<String>, AwsError> {
        let others: Vec<String> = self
            .running_tasks(cluster, None)
            .await?
            .into_iter()
            .filter(|t| !own.contains(t))
            .collect();
        let mut tagged = Vec::new();
        for batch in others.chunks(DESCRIBE_BATCH) {
            let out = self
                .ecs
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(batch.to_vec()))
                .include(TaskField::Tags)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeTasks", e))?;
            tagged.extend(
                out.tasks()
                    .iter()
                    .filter(|task| {
                        task.tags()
                            .iter()
                            .any(|t| t.key() == Some(TAG_KEY) && t.value() == Some(TAG_VALUE))
                    })
                    .filter_map(|task| task.task_arn().map(String::from)),
            );
        }
        Ok(tagged)
    }

    /// Tag the running tasks of `service` as the drill's targets, refusing while tasks elsewhere in
    /// the cluster carry the tag. All or nothing: a tag that fails takes the ones written off again.
    /// Returns the tagged tasks' ARNs.
    pub async fn mark(&self, cluster: &str, service: &str) -> Result<Vec<String>, AwsError> {
        let targets = self.running_tasks(cluster, Some(service)).await?;
        let elsewhere = self.tagged_outside(cluster, &targets).await?;
        if let Some(first) = elsewhere.first() {
            return Err(AwsError::Unusable {
                what: "ECS cluster",
                id: cluster.into(),
                problem: format!(
                    "{} running task(s) outside {service} already carry {TAG_KEY}={TAG_VALUE} \
                     (another drill runs, or one died: remove the tag), e.g. {first}",
                    elsewhere.len()
                ),
            });
        }
        let tag = Tag::builder().key(TAG_KEY).value(TAG_VALUE).build();
        for (i, arn) in targets.iter().enumerate() {
            let tagged = self
                .ecs
                .tag_resource()
                .resource_arn(arn)
                .tags(tag.clone())
                .send()
                .await;
            if let Err(e) = tagged {
                for done in &targets[..i] {
                    // Best effort: the error that stopped the marking is the one to report.
                    let _ = self.untag(done).await;
                }
                return Err(AwsError::from_sdk("TagResource", e));
            }
        }
        Ok(targets)
    }

    /// Take the drill tag off `tasks` that still run (a stopped task loses its tags with it), and
    /// off no other task. Returns how many were untagged.
    pub async fn unmark(&self, cluster: &str, tasks: &[String]) -> Result<usize, AwsError> {
        let running = self.running_tasks(cluster, None).await?;
        let mut untagged = 0;
        for arn in tasks.iter().filter(|t| running.contains(t)) {
            self.untag(arn).await?;
            untagged += 1;
        }
        Ok(untagged)
    }

    async fn running_tasks(
        &self,
        cluster: &str,
        service: Option<&str>,
    ) -> Result<Vec<String>, AwsError> {
        let mut arns = Vec::new();
        let mut pages = self
            .ecs
            .list_tasks()
            .cluster(cluster)
            .set_service_name(service.map(String::from))
            .desired_status(aws_sdk_ecs::types::DesiredStatus::Running)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                if e.as_service_error().is_some_and(|s| {
                    s.is_cluster_not_found_exception() || s.is_service_not_found_exception()
                }) {
                    AwsError::NotFound {
                        what: "ECS service",
                        id: format!("{cluster}/{}", service.unwrap_or("*")),
                    }
                } else {
                    AwsError::from_sdk("ListTasks", e)
                }
            })?;
            arns.extend(page.task_arns().iter().cloned());
        }
        Ok(arns)
    }

    async fn untag(&self, arn: &str) -> Result<(), AwsError> {
        self.ecs
            .untag_resource()
            .resource_arn(arn)
            .tag_keys(TAG_KEY)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("UntagResource", e))
    }

    /// Start the template's experiment. `client_token` makes a retry start nothing new; the
    /// experiment carries the deployment's id as a tag.
    pub async fn start(
        &self,
        template: &str,
        client_token: &str,
        deployment_id: &str,
    ) -> Result<String, AwsError> {
        let out = self
            .fis
            .start_experiment()
            .experiment_template_id(template)
            .client_token(client_token)
            .tags("cutover:deployment", deployment_id)
            .send()
            .await
            .map_err(|e| template_error("StartExperiment", template, e))?;
        out.experiment()
            .and_then(|x| x.id())
            .map(String::from)
            .ok_or_else(|| AwsError::Unusable {
                what: "FIS experiment",
                id: template.into(),
                problem: "StartExperiment returned no experiment id".into(),
            })
    }

    pub async fn state(&self, experiment: &str) -> Result<ExperimentState, AwsError> {
        let out = self
            .fis
            .get_experiment()
            .id(experiment)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetExperiment", e))?;
        let state = out.experiment().and_then(|x| x.state());
        let action_completed = out
            .experiment()
            .and_then(|x| x.actions())
            .is_some_and(|actions| {
                actions.values().any(|a| {
                    a.state().and_then(|s| s.status())
                        == Some(&aws_sdk_fis::types::ExperimentActionStatus::Completed)
                })
            });
        Ok(ExperimentState {
            status: state
                .and_then(|s| s.status())
                .map_or("unknown", ExperimentStatus::as_str)
                .to_string(),
            reason: state.and_then(|s| s.reason()).map(String::from),
            action_completed,
        })
    }

    /// The experiment's state once FIS has resolved its targets and begun (or given up), polling
    /// every `every` for at most `within`.
    pub async fn wait_begun(
        &self,
        experiment: &str,
        every: std::time::Duration,
        within: std::time::Duration,
    ) -> Result<ExperimentState, AwsError> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let state = self.state(experiment).await?;
            if !state.is_starting() || tokio::time::Instant::now() >= deadline {
                return Ok(state);
            }
            tokio::time::sleep(every).await;
        }
    }

    /// Stop the experiment if FIS still runs it; one that has ended is left as it is.
    pub async fn stop(&self, experiment: &str) -> Result<ExperimentState, AwsError> {
        let state = self.state(experiment).await?;
        if state.is_final() {
            return Ok(state);
        }
        match self.fis.stop_experiment().id(experiment).send().await {
            Ok(_) => self.state(experiment).await,
            // Ended between the two calls: FIS refuses to stop what is no longer running.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_validation_exception()) =>
            {
                self.state(experiment).await
            }
            Err(e) => Err(AwsError::from_sdk("StopExperiment", e)),
        }
    }
}

/// FIS answers 404 `ResourceNotFoundException` for a template id it does not know.
fn template_error<E>(
    operation: &'static str,
    template: &str,
    e: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> AwsError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    if e.as_service_error().and_then(|s| s.code()) == Some("ResourceNotFoundException") {
        AwsError::NotFound {
            what: "FIS experiment template",
            id: template.into(),
        }
    } else {
        AwsError::from_sdk(operation, e)
    }
}
