//! prepare: the first step of a deployment.
//!
//! Refuses when deployments are frozen, another deployment owns the app/env, or (for one half of a
//! Route 53 failover record) the other half is unhealthy or deploying; otherwise claims the
//! ledger, registers a revision of the live task definition in which only the deployed container's
//! image changes, and starts the idle colour's service on it at the live service's size. Every step
//! is safe to retry: a retried prepare finds its own claim and its registered release in the ledger.

mod failover;
mod release;

use cutover_aws::told;
use cutover_aws::traffic::{read_weights, route_of};
use cutover_aws::{
    load_ledger, Cloud, FlagSource, LedgerStore, LoadBalancer, Services, TargetSource,
};
use cutover_core::drill::{self, DrillRecord};
use cutover_core::experiment::{ExperimentRecord, ExperimentSpec};
use cutover_core::fields::{invalid_field, text};
use cutover_core::{
    Colour, DeploymentRef, ErrorType, Failure, Ledger, PlanStep, Release, Strategy, TargetConfig,
    Weights,
};
use serde_json::{json, Value};

/// Every port method this function calls: its IAM policy in template.yaml is checked against
/// what these need (tests/iam.rs), and its tests fail on a call missing here.
pub const CALLS: &[&str] = &[
    "FlagSource::flags",
    "TargetSource::target",
    "LedgerStore::load",
    "LedgerStore::save",
    "LedgerStore::archive",
    "LoadBalancer::forward_route",
    "Services::service",
    "Services::register_with_image",
    "Services::update_service",
    "Telemetry::publish",
    "Partners::observations",
    "Partners::in_flight",
];

#[derive(Debug, Clone, PartialEq)]
pub struct PrepareRequest {
    pub app: String,
    pub env: String,
    pub image: String,
    pub deployment_id: String,
    pub strategy: Option<Strategy>,
    /// An A/B experiment instead of a rollout (`cutover experiment start`).
    pub experiment: Option<ExperimentSpec>,
    /// A rollback drill (`cutover drill`): the execution input's `drill`, checked against the plan.
    pub drill: Option<Value>,
    pub execution_arn: Option<String>,
}

impl PrepareRequest {
    /// The execution input, either as it is or wrapped as `{input, executionArn}` by the state machine.
    pub fn from_event(wrapped: &Value) -> Result<PrepareRequest, Failure> {
        let event = wrapped
            .get("input")
            .filter(|v| v.is_object())
            .unwrap_or(wrapped);
        let DeploymentRef {
            app,
            env,
            deployment_id,
        } = DeploymentRef::from_event(event)?;
        let image = text(event, "image")?;
        if image.is_empty() || image.len() > 255 || image.chars().any(char::is_whitespace) {
            return Err(invalid_field(
                "image",
                "must be an image reference without spaces, at most 255 characters",
            ));
        }
        let strategy = match event.get("strategy").filter(|v| !v.is_null()) {
            Some(v) => Some(Strategy::from_json(v).map_err(|e| invalid_field("strategy", e))?),
            None => None,
        };
        let experiment = match event.get("experiment").filter(|v| !v.is_null()) {
            Some(v) => Some(ExperimentSpec::from_json(v)?),
            None => None,
        };
        if experiment.is_some() && strategy.is_some() {
            return Err(invalid_field(
                "strategy",
                "an experiment holds its split for its duration: give strategy or experiment, not both",
            ));
        }
        let drill = event.get("drill").filter(|v| !v.is_null()).cloned();
        if drill.is_some() && experiment.is_some() {
            return Err(invalid_field(
                "drill",
                "a drill is a canary, not an experiment",
            ));
        }
        let execution_arn = wrapped
            .get("executionArn")
            .and_then(Value::as_str)
            .map(String::from);
        Ok(PrepareRequest {
            app,
            env,
            image,
            deployment_id,
            strategy,
            experiment,
            drill,
            execution_arn,
        })
    }
}

pub async fn handle(cloud: &impl Cloud, event: &Value, now_ms: u64) -> Result<Value, Failure> {
    let req = PrepareRequest::from_event(event)?;
    if cloud.flags().flags().await?.deployments_frozen {
        return Err(Failure::new(
            ErrorType::Frozen,
            "deployments are frozen (AppConfig flag deploymentsFrozen)",
        )
        .with_details(json!({ "app": req.app, "env": req.env })));
    }
    let target = cloud.targets().target(&req.app, &req.env).await?;
    let plan = match &req.experiment {
        Some(e) => {
            history_fits(&e.history_plan())?;
            e.plan()
        }
        None => req
            .strategy
            .as_ref()
            .unwrap_or(&target.default_strategy)
            .plan(),
    };
    history_fits(&plan)?;
    let drill = match &req.drill {
        Some(v) => Some(DrillRecord::from_json(
            v,
            plan.first().map_or(100, |s| s.weight),
        )?),
        None => None,
    };
    // Read before anything changes: the stickiness an experiment restores when it ends.
    let previous_stickiness = match &req.experiment {
        Some(_) => {
            cloud
                .lb()
                .forward_route(&route_of(&target))
                .await?
                .stickiness
        }
        None => None,
    };
    let stored = cloud.ledger().load(&req.app, &req.env).await?;
    // A retry of this deployment's own prepare was let through once: its claim stands.
    let retry = stored
        .as_ref()
        .and_then(|l| l.deployment.as_ref())
        .is_some_and(|d| d.id == req.deployment_id);
    if !retry {
        failover::gate(cloud, &target, &req.app, &req.env).await?;
    }
    let initial = match stored {
        Some(_) => None,
        None => Some(Ledger::new(
            &req.app,
            &req.env,
            live_colour_from_listener(cloud.lb(), &target).await?,
            None,
        )),
    };
    let (acquired, ledger) = told::record(cloud, &req.app, &req.env, initial.as_ref(), |l| {
        if drill.is_some() {
            check_drill_image(l, &req.image)?;
        }
        let acquired = l.acquire(
            &req.deployment_id,
            &req.image,
            req.execution_arn.as_deref(),
            now_ms,
        )?;
        if let Some(spec) = &req.experiment {
            l.start_experiment(
                &req.deployment_id,
                ExperimentRecord::new(spec.clone(), previous_stickiness.clone()),
            )?;
        }
        if let Some(record) = &drill {
            l.start_drill(&req.deployment_id, record.clone())?;
        }
        Ok(acquired)
    })
    .await?;
    let live = ledger.live_colour;
    let candidate = live.other();
    tracing::info!(app = req.app, env = req.env, id = req.deployment_id, ?acquired, %live, %candidate, "ledger claimed");

    let (release, desired) = match start_candidate(cloud, &req, &target, &ledger, now_ms).await {
        Ok(started) => started,
        Err(f) => {
            return Err(release::after_failure(cloud, &req, &target, candidate, f, now_ms).await)
        }
    };
    Ok(plan_answer(req, &target, &ledger, &plan, release, desired))
}

/// A drill deploys what is live, so that the injected fault is the only difference users can see.
fn check_drill_image(l: &Ledger, image: &str) -> Result<(), Failure> {
    let live = l.last_known_good.as_ref().map(|r| r.image.as_str());
    match live {
        Some(live) if live == image => Ok(()),
        Some(live) => Err(invalid_field(
            "image",
            format!("a drill deploys the live image ({live}), not {image}"),
        )),
        None => Err(invalid_field(
            "drill",
            "the ledger knows no live image yet: deploy once before drilling",
        )),
    }
}

/// The candidate colour's service on the new release, at the live service's size. Returns the
/// release and that size.
async fn start_candidate(
    cloud: &impl Cloud,
    req: &PrepareRequest,
    target: &TargetConfig,
    ledger: &Ledger,
    now_ms: u64,
) -> Result<(Release, i32), Failure> {
    let (live, candidate) = (ledger.live_colour, ledger.live_colour.other());
    let live_service = cloud
        .services()
        .service(&target.cluster, target.services.get(live))
        .await?;
    let existing = ledger.deployment.as_ref().and_then(|d| d.release.clone());
    let release = match existing {
        Some(r) => r,
        None => {
            let environment: Vec<(String, String)> = ledger
                .deployment
                .as_ref()
                .and_then(|d| d.drill.as_ref())
                .and_then(|d| d.fault.injected_by_application())
                .map(|fault| (drill::FAULT_ENV.to_string(), fault.to_string()))
                .into_iter()
                .collect();
            let r = cloud
                .services()
                .register_with_image(
                    &live_service.task_definition_arn,
                    &target.container_name,
                    &req.image,
                    &environment,
                )
                .await?;
            told::record(cloud, &req.app, &req.env, None, |l| {
                l.set_release(&req.deployment_id, r.clone(), now_ms)
            })
            .await?;
            r
        }
    };
    // A rollback may have claimed the ledger since this prepare did: the candidate must not start
    // after the rollback scaled it down.
    load_ledger(cloud.ledger(), &req.app, &req.env)
        .await?
        .active(&req.deployment_id)?;
    cloud
        .services()
        .update_service(
            &target.cluster,
            target.services.get(candidate),
            Some(&release.task_definition_arn),
            live_service.desired,
        )
        .await?;
    Ok((release, live_service.desired))
}

fn plan_answer(
    req: PrepareRequest,
    target: &TargetConfig,
    ledger: &Ledger,
    plan: &[PlanStep],
    release: Release,
    desired: i32,
) -> Value {
    let live = ledger.live_colour;
    let candidate = live.other();
    let plan: Vec<Value> = plan
        .iter()
        .enumerate()
        .map(|(i, s)| json!({ "stepIndex": i, "weight": s.weight, "bakeSeconds": s.bake_seconds }))
        .collect();
    let mut answer = json!({
        "app": req.app,
        "env": req.env,
        "deploymentId": req.deployment_id,
        "image": req.image,
        "live": live,
        "candidate": candidate,
        "taskDefinitionArn": release.task_definition_arn,
        "desiredCount": desired,
        "plan": plan,
        "terminationWaitSeconds": target.termination_wait_seconds,
    });
    // Present only for an experiment: the state machine's IsExperiment choice tests for it.
    if let Some(e) = &req.experiment {
        answer["experiment"] = json!(e);
    }
    answer
}

/// A plan whose execution could outgrow Step Functions' history would fail outside any Catch, with
/// traffic split: refused before anything is claimed.
fn history_fits(plan: &[PlanStep]) -> Result<(), Failure> {
    let events = cutover_core::history::deployment_events(plan);
    if events > cutover_core::history::PLAN_BUDGET {
        return Err(invalid_field(
            "strategy",
            format!(
                "its execution could record {events} history events; Step Functions keeps {} and Cutover plans for at most {}: use fewer or shorter steps",
                cutover_core::history::HISTORY_LIMIT,
                cutover_core::history::PLAN_BUDGET
            ),
        ));
    }
    Ok(())
}

/// Before the first deployment the ledger does not know which colour is live: the listener does,
/// provided it sends everything to one colour.
async fn live_colour_from_listener<L: LoadBalancer>(
    lb: &L,
    target: &TargetConfig,
) -> Result<Colour, Failure> {
    let weights = read_weights(lb, target).await?;
    Colour::BOTH
        .into_iter()
        .find(|c| weights == Weights::all_on(*c))
        .ok_or_else(|| {
            Failure::new(
                ErrorType::Conflict,
                format!("the listener is split {weights}; finish or roll back that change first"),
            )
            .with_details(json!({ "listener": target.listener_arn, "weights": weights }))
        })
}
