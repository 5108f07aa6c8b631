//! The capabilities Cutover needs from the cloud, in domain terms.

use crate::AwsError;
use cutover_core::target::HeaderRoute;
use cutover_core::traffic::{ForwardRoute, RouteRef};
use cutover_core::{
    AnyTarget, Deployment, ErrorType, Failure, Flags, GroupSeries, Ledger, Release, ServiceState,
    TargetConfig, TargetHealth,
};
use std::future::Future;

/// The production listener (or listener rule) that splits traffic between blue and green.
pub trait LoadBalancer {
    /// The forward action's target groups and weights as the load balancer reports them now.
    fn forward_route(
        &self,
        at: &RouteRef,
    ) -> impl Future<Output = Result<ForwardRoute, AwsError>> + Send;

    /// Replace the forward action's target groups and weights. Everything else on the listener or
    /// rule (stickiness, other actions, their order) is written back as it was read.
    fn set_forward_route(
        &self,
        at: &RouteRef,
        route: &ForwardRoute,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// The health of every target registered in a target group.
    fn target_health(
        &self,
        target_group_arn: &str,
    ) -> impl Future<Output = Result<Vec<TargetHealth>, AwsError>> + Send;

    /// Point the test listener's forward action at `route` (as `set_forward_route` does for the
    /// production listener; a port method of its own so only what opens or closes the test route
    /// may write it).
    fn set_test_listener(
        &self,
        listener_arn: &str,
        route: &ForwardRoute,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// The rules of a listener that carry the tag `key`, with all their tags.
    fn tagged_rules(
        &self,
        listener_arn: &str,
        key: &str,
    ) -> impl Future<Output = Result<Vec<TaggedRule>, AwsError>> + Send;

    /// A rule forwarding requests that carry `header` to one target group, created with `tags`;
    /// its ARN.
    fn create_header_rule(
        &self,
        listener_arn: &str,
        header: &HeaderRoute,
        target_group_arn: &str,
        tags: &[(String, String)],
    ) -> impl Future<Output = Result<String, AwsError>> + Send;

    /// Delete a rule; one that is gone already is not an error.
    fn delete_rule(&self, rule_arn: &str) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// How long the load balancer keeps sending in-flight requests to a target it stopped routing
    /// to: the target group's `deregistration_delay.timeout_seconds`.
    fn deregistration_delay(
        &self,
        target_group_arn: &str,
    ) -> impl Future<Output = Result<u32, AwsError>> + Send;
}

/// A listener rule and its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedRule {
    pub arn: String,
    pub tags: std::collections::BTreeMap<String, String>,
}

/// Where the deployment ledger is kept.
pub trait LedgerStore {
    /// The current record, read consistently; `None` before the first deployment.
    fn load(
        &self,
        app: &str,
        env: &str,
    ) -> impl Future<Output = Result<Option<Ledger>, AwsError>> + Send;

    /// Write `ledger` as version `ledger.version + 1`, only if the stored version is still
    /// `ledger.version` (or, for version 0, if there is no record yet). `Ok(false)`: someone else wrote
    /// first; reload and decide again.
    fn save(&self, ledger: &Ledger) -> impl Future<Output = Result<bool, AwsError>> + Send;

    /// Keep a finished deployment in the service's history, beside the ledger. Idempotent: the same
    /// deployment again replaces its own record, so a retried final write leaves exactly one.
    fn archive(
        &self,
        app: &str,
        env: &str,
        deployment: &Deployment,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// The newest `limit` archived deployments, newest first (what `cutover report` reads).
    fn archived(
        &self,
        app: &str,
        env: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Deployment>, AwsError>> + Send;
}

/// How many times a change is re-applied to a freshly loaded ledger before giving up.
pub const LEDGER_ATTEMPTS: usize = 8;

/// Load the ledger (or start it with `initial`), apply `change`, and write it back conditionally,
/// re-applying the change to the latest record whenever another writer got there first. A change that
/// leaves the record as it was is not written. Returns the change's value and the record as stored.
pub async fn update_ledger<S, T, F>(
    store: &S,
    app: &str,
    env: &str,
    initial: Option<&Ledger>,
    change: F,
) -> Result<(T, Ledger), Failure>
where
    S: LedgerStore,
    F: FnMut(&mut Ledger) -> Result<T, Failure>,
{
    let u = update_ledger_seen(store, app, env, initial, change).await?;
    Ok((u.value, u.after))
}

/// What [`update_ledger_seen`] wrote: the change's value, the record it was applied to (the initial
/// one for a new item) and the record as stored. The same record twice: nothing was written.
pub struct Updated<T> {
    pub value: T,
    pub before: Option<Ledger>,
    pub after: Ledger,
}

/// [`update_ledger`], also returning the record the successful attempt changed, so a caller can tell
/// of the transition it made (`crate::told`).
pub async fn update_ledger_seen<S, T, F>(
    store: &S,
    app: &str,
    env: &str,
    initial: Option<&Ledger>,
    mut change: F,
) -> Result<Updated<T>, Failure>
where
    S: LedgerStore,
    F: FnMut(&mut Ledger) -> Result<T, Failure>,
{
    for attempt in 1..=LEDGER_ATTEMPTS {
        let loaded = match (store.load(app, env).await?, initial) {
            (Some(l), _) => l,
            (None, Some(init)) => init.clone(),
            (None, None) => {
                return Err(Failure::new(
                    ErrorType::InvalidInput,
                    format!("no ledger for {app}/{env}"),
                )
                .with_details(serde_json::json!({ "app": app, "env": env })))
            }
        };
        let mut ledger = loaded.clone();
        let value = change(&mut ledger)?;
        if ledger == loaded && loaded.version > 0 {
            return Ok(Updated {
                value,
                before: Some(loaded),
                after: ledger,
            });
        }
        if store.save(&ledger).await? {
            ledger.version += 1;
            return Ok(Updated {
                value,
                before: Some(loaded),
                after: ledger,
            });
        }
        tracing::info!(
            app,
            env,
            attempt,
            "ledger changed under us; re-applying to the latest record"
        );
    }
    Err(Failure::new(
        ErrorType::AwsTransient,
        format!("ledger for {app}/{env} kept changing; gave up after {LEDGER_ATTEMPTS} attempts"),
    ))
}

/// The ECS services behind the two colours.
pub trait Services {
    fn service(
        &self,
        cluster: &str,
        name: &str,
    ) -> impl Future<Output = Result<ServiceState, AwsError>> + Send;

    /// Register a new revision of task definition `from` in which only `container`'s image differs,
    /// and, for a drill, the `environment` variables given (set on `container`, replacing any of the
    /// same name).
    fn register_with_image(
        &self,
        from: &str,
        container: &str,
        image: &str,
        environment: &[(String, String)],
    ) -> impl Future<Output = Result<Release, AwsError>> + Send;

    /// Point `name` at `task_definition` (when given) and set its desired count.
    fn update_service(
        &self,
        cluster: &str,
        name: &str,
        task_definition: Option<&str>,
        desired: i32,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// The validated target configuration of an app/env.
pub trait TargetSource {
    fn target(
        &self,
        app: &str,
        env: &str,
    ) -> impl Future<Output = Result<TargetConfig, Failure>> + Send;

    /// The target configuration in either mode (only a rollback deals with rolling services).
    fn any_target(
        &self,
        app: &str,
        env: &str,
    ) -> impl Future<Output = Result<AnyTarget, Failure>> + Send;

    /// Every `(app, env)` whose target configuration lists `alarm`. A configuration that does not
    /// parse is skipped (and logged): one broken service must not block another's rollback.
    fn with_alarm(
        &self,
        alarm: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, Failure>> + Send;
}

/// Step Functions executions of the deploy state machine.
pub trait Executions {
    /// Stop a running execution. An execution that already ended is not an error.
    fn stop(
        &self,
        execution_arn: &str,
        error: &str,
        cause: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// Cutover's feature flags.
pub trait FlagSource {
    fn flags(&self) -> impl Future<Output = Result<Flags, AwsError>> + Send;
}

/// CloudWatch alarms by name.
pub trait Alarms {
    /// `(name, state)` for each name; a name CloudWatch does not know is an error, not an OK.
    fn states(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<(String, String)>, AwsError>> + Send;
}

/// What one verification asks CloudWatch for: ALB metrics of some target groups over a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsQuery {
    /// The `LoadBalancer` dimension value, `app/<name>/<id>`.
    pub load_balancer: String,
    /// `TargetGroup` dimension values, `targetgroup/<name>/<id>`.
    pub target_groups: Vec<String>,
    pub start_s: i64,
    pub end_s: i64,
    pub period_s: u32,
}

/// One metric of the application's, per target group: an experiment's primary metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesQuery {
    pub metric: cutover_core::experiment::MetricRef,
    /// `TargetGroup` dimension values, `targetgroup/<name>/<id>`.
    pub target_groups: Vec<String>,
    pub start_s: i64,
    pub end_s: i64,
    pub period_s: u32,
}

pub trait Metrics {
    /// One series set per target group, in the query's order; periods without data are absent.
    fn group_series(
        &self,
        q: &MetricsQuery,
    ) -> impl Future<Output = Result<Vec<GroupSeries>, AwsError>> + Send;

    /// The metric's value per period start (epoch seconds), one map per target group in the
    /// query's order; periods without data are absent.
    fn metric_series(
        &self,
        q: &SeriesQuery,
    ) -> impl Future<Output = Result<Vec<std::collections::BTreeMap<i64, f64>>, AwsError>> + Send;
}

/// The ledger of a service that must already have one (every step after prepare).
pub async fn load_ledger<S: LedgerStore>(
    store: &S,
    app: &str,
    env: &str,
) -> Result<Ledger, Failure> {
    store.load(app, env).await?.ok_or_else(|| {
        Failure::new(
            ErrorType::InvalidInput,
            format!("no deployment ledger for {app}/{env}"),
        )
        .with_details(serde_json::json!({ "app": app, "env": env }))
    })
}

/// The SSM parameter an application reads to pick which table it uses.
pub trait SwitchStore {
    /// The current value; `None` when the parameter (or flag) does not exist.
    fn get(
        &self,
        at: &cutover_core::migration::SwitchTarget,
    ) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
    fn put(
        &self,
        at: &cutover_core::migration::SwitchTarget,
        value: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Remove it (restoring "did not exist"); absent already is fine.
    fn delete(
        &self,
        at: &cutover_core::migration::SwitchTarget,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// Where a database password is kept: a Secrets Manager secret or an SSM SecureString, with the
/// database an RDS-shaped secret says it belongs to.
pub trait SecretSource {
    fn password(
        &self,
        at: &cutover_core::migration::PasswordRef,
    ) -> impl Future<Output = Result<cutover_core::migration::Credentials, AwsError>> + Send;
}

/// Where Cutover tells of what it did: metrics as EMF lines in the function's log, and state-change
/// events on the account's default EventBridge bus.
pub trait Telemetry {
    /// Write one EMF line to the log (CloudWatch Logs extracts the metrics).
    fn metric(&self, emf: &cutover_core::telemetry::Emf);

    /// Put one event (`source: cutover`) with `detail` on the default bus.
    fn publish(
        &self,
        detail_type: &'static str,
        detail: &serde_json::Value,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// What came of invoking a lifecycle hook.
#[derive(Debug, Clone, PartialEq)]
pub enum HookCall {
    /// The function returned this JSON.
    Answered(serde_json::Value),
    /// The function raised, or returned what is not JSON: its `errorType` and message, clipped.
    FunctionError(String),
    /// No answer within the time given; the function may still be running.
    NoAnswer,
}

/// The team's lifecycle hook functions.
pub trait Hooks {
    /// Invoke `function` synchronously with `payload`, waiting at most `within`.
    fn invoke(
        &self,
        function: &str,
        payload: &serde_json::Value,
        within: std::time::Duration,
    ) -> impl Future<Output = Result<HookCall, AwsError>> + Send;

    /// Invoke `function` asynchronously (Lambda queues the event and retries a failed run itself);
    /// nothing of its answer comes back.
    fn notify(
        &self,
        function: &str,
        payload: &serde_json::Value,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}
