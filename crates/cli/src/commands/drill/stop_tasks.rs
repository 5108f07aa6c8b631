//! `cutover drill --fault stop-tasks`: the fault comes from the stack's FIS experiment, which stops
//! a share of the candidate's tasks once the canary has traffic (crates/aws/src/drill.rs). Checked
//! before the deployment starts: the template exists and only stops tagged tasks under an alarm,
//! its selection stops at least one task at the service's size, and no other task of the cluster
//! carries the drill tag (the template would stop those too).

use crate::context::Context;
use crate::report::Report;
use cutover_aws::drill::{DrillInjector, ExperimentState};
use cutover_aws::ledger::DynamoLedger;
use cutover_aws::{AwsError, LedgerStore};
use cutover_core::drill::{experiment_client_token, Injection, Selection, STOP_TASK_TARGET_QUOTA};
use cutover_core::{Colour, TargetConfig};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often the ledger, and then the experiment, are read.
const POLL: Duration = Duration::from_secs(1);
/// How long FIS may take to resolve the targets and begin.
const BEGIN_WITHIN: Duration = Duration::from_secs(60);

/// A stop-tasks drill that passed its checks: what it will start, and where.
pub struct Plan {
    template: String,
    selection: Selection,
    cluster: String,
    /// The service that will run the candidate (the colour that is not live).
    service: String,
    rollback_function: String,
    injector: DrillInjector,
    lambda: aws_sdk_lambda::Client,
}

/// Why the drill may not start (exit 4), or an error reaching AWS.
pub enum Refusal {
    Refused(String),
    Error(String),
}

impl From<AwsError> for Refusal {
    fn from(e: AwsError) -> Refusal {
        match e {
            AwsError::NotFound { .. } | AwsError::Unusable { .. } => {
                Refusal::Refused(e.to_string())
            }
            e => Refusal::Error(e.to_string()),
        }
    }
}

impl Plan {
    pub async fn check(
        ctx: &mut Context,
        template: Option<String>,
        target: &TargetConfig,
        live: Colour,
    ) -> Result<Plan, Refusal> {
        let template = match template {
            Some(t) => t,
            None => ctx
                .drill_experiment_template()
                .await
                .map_err(Refusal::Error)?
                .ok_or_else(|| {
                    Refusal::Refused(
                        "this stack has no FIS experiment template for drills: deploy it with \
                         DrillAlarmArn (the 5XX alarm that stops the experiment), or pass \
                         --experiment-template"
                            .into(),
                    )
                })?,
        };
        let injector = DrillInjector::from_conf(&ctx.conf);
        let selection = injector.check_template(&template).await?;
        use cutover_aws::Services;
        let live_service = cutover_aws::ecs::Ecs::from_conf(&ctx.conf)
            .service(&target.cluster, target.services.get(live))
            .await
            .map_err(|e| Refusal::Error(e.to_string()))?;
        // Prepare sizes the candidate like the live service.
        let tasks = u32::try_from(live_service.desired).unwrap_or(0);
        check_selection(selection, tasks).map_err(Refusal::Refused)?;
        let service = target.services.get(live.other()).clone();
        let elsewhere = injector.tagged_elsewhere(&target.cluster, &service).await?;
        if let Some(first) = elsewhere.first() {
            return Err(Refusal::Refused(format!(
                "{} running task(s) of cluster {} outside {service} carry the drill tag, which the \
                 experiment would stop too (another drill runs, or one died: remove the tag), e.g. \
                 {first}",
                elsewhere.len(),
                target.cluster
            )));
        }
        Ok(Plan {
            template,
            selection,
            cluster: target.cluster.clone(),
            service,
            rollback_function: ctx.rollback_function().await.map_err(Refusal::Error)?,
            injector,
            lambda: aws_sdk_lambda::Client::new(&ctx.conf),
        })
    }

    /// Once deployment `id` gives the candidate traffic: tag its tasks and start the experiment,
    /// then wait until FIS has begun it. Gives up when `ended` is set first. A fault that cannot be
    /// injected rolls the drill back at once (nothing to wait for) and is reported as an error.
    pub async fn inject(
        &self,
        ledger: &DynamoLedger,
        (app, env, id): (&str, &str, &str),
        ended: &AtomicBool,
        report: &Report,
    ) -> Injection {
        let mut injection = Injection {
            experiment_id: None,
            tasks_marked: 0,
            tasks_selected: 0,
            status: "not started".into(),
            reason: None,
            error: None,
            targets: Vec::new(),
        };
        loop {
            if ended.load(Ordering::SeqCst) {
                injection.error = Some("the deployment ended before the canary had traffic".into());
                return injection;
            }
            // A read that fails is read again at the next poll; the follow reports lasting ones.
            let exposed = ledger.load(app, env).await.ok().flatten().and_then(|l| {
                l.deployment
                    .filter(|d| d.id == id && !d.status.is_final())
                    .map(|d| d.shifts.iter().any(|s| s.weights.of(d.candidate) > 0))
            });
            if exposed == Some(true) {
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        match self.start((app, env, id), &mut injection, report).await {
            Ok(()) => report.event(
                "fault",
                &format!(
                    "FIS experiment {} {}: {} of the candidate's {} tasks to stop",
                    injection.experiment_id.as_deref().unwrap_or("?"),
                    injection.status,
                    injection.tasks_selected,
                    injection.tasks_marked
                ),
                json!({ "injection": injection }),
            ),
            Err(e) => {
                report.event(
                    "fault",
                    &format!("the fault was not injected: {e}; rolling the drill back"),
                    json!({ "error": e }),
                );
                let why = format!("drill: the fault was not injected: {e}");
                if let Err(r) = super::super::rollback::invoke(
                    &self.lambda,
                    &self.rollback_function,
                    app,
                    env,
                    &why,
                )
                .await
                {
                    report.event("fault", &r, json!({ "error": r }));
                }
                injection.error = Some(e);
            }
        }
        injection
    }

    async fn start(
        &self,
        (app, env, id): (&str, &str, &str),
        injection: &mut Injection,
        report: &Report,
    ) -> Result<(), String> {
        let tasks = self
            .injector
            .mark(&self.cluster, &self.service)
            .await
            .map_err(|e| e.to_string())?;
        injection.tasks_marked = tasks.len() as u32;
        injection.targets = tasks;
        injection.tasks_selected = self.selection.of(injection.tasks_marked);
        check_selection(self.selection, injection.tasks_marked)?;
        if injection.tasks_selected > STOP_TASK_TARGET_QUOTA {
            report.event(
                "fault",
                &format!(
                    "warning: {} tasks to stop is past FIS's default quota of {STOP_TASK_TARGET_QUOTA} \
                     targets for aws:ecs:stop-task (Service Quotas L-48D12416)",
                    injection.tasks_selected
                ),
                json!({ "tasksSelected": injection.tasks_selected }),
            );
        }
        let token = experiment_client_token(app, env, id);
        let started = match self.injector.start(&self.template, &token, id).await {
            // The same token finds the experiment a lost answer started, rather than a second one.
            Err(AwsError::Transient { .. }) => {
                self.injector.start(&self.template, &token, id).await
            }
            other => other,
        };
        let experiment = started.map_err(|e| e.to_string())?;
        injection.experiment_id = Some(experiment.clone());
        let state = self
            .injector
            .wait_begun(&experiment, POLL, BEGIN_WITHIN)
            .await
            .map_err(|e| format!("FIS experiment {experiment}: {e}"))?;
        record(injection, &state);
        if state.has_failed() {
            return Err(format!(
                "FIS experiment {experiment} {}: {}",
                state.status,
                state.reason.as_deref().unwrap_or("no reason given")
            ));
        }
        Ok(())
    }

    /// After the drill: stop the experiment if FIS still runs it, take the tag off the tasks this
    /// drill tagged that survived, and record FIS's last word. An experiment that ended without
    /// stopping a task is a fault not injected.
    pub async fn finish(&self, injection: &mut Injection, report: &Report) {
        if let Some(experiment) = injection.experiment_id.clone() {
            match self.injector.stop(&experiment).await {
                Ok(state) => {
                    record(injection, &state);
                    if injection.error.is_none() && !state.action_completed {
                        injection.error = Some(format!(
                            "FIS experiment {experiment} ended {} without stopping a task ({})",
                            state.status,
                            state.reason.as_deref().unwrap_or("no reason given")
                        ));
                    }
                }
                Err(e) => injection.reason = Some(format!("its state is unknown: {e}")),
            }
        }
        if !injection.targets.is_empty() {
            if let Err(e) = self
                .injector
                .unmark(&self.cluster, &injection.targets)
                .await
            {
                let line =
                    format!("the drill tag may still be on some of the candidate's tasks: {e}");
                report.event("fault", &line, json!({ "error": e.to_string() }));
            }
        }
    }
}

fn record(injection: &mut Injection, state: &ExperimentState) {
    injection.status = state.status.clone();
    injection.reason = state.reason.clone();
}

/// The template's selection stops at least one of `tasks`: `PERCENT(50)` of one task is none.
fn check_selection(selection: Selection, tasks: u32) -> Result<(), String> {
    if selection.of(tasks) == 0 {
        return Err(format!(
            "the template's selection ({selection:?}) stops none of the candidate's {tasks} \
             task(s): raise DrillStopTaskPercent or the service's desired count"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
