//! In-memory ports for the functions' tests: they keep state the way the cloud would, so a handler's
//! test asserts what it changed, not which calls it made.

use crate::{
    Alarms, AwsError, Executions, FlagSource, LedgerStore, LoadBalancer, Metrics, MetricsQuery,
    Services, TargetSource,
};
use cutover_core::migration::SwitchTarget;
use cutover_core::traffic::{ForwardRoute, RouteRef};
use cutover_core::{
    AnyTarget, ErrorType, Failure, Flags, GroupSeries, Ledger, Release, Rollout, ServiceState,
    TargetConfig, TargetHealth,
};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct FakeLb {
    pub routes: Mutex<HashMap<String, ForwardRoute>>,
    pub writes: Mutex<usize>,
    /// Target health per target group; a group not listed has no targets.
    pub health: Mutex<HashMap<String, Vec<TargetHealth>>>,
}

impl FakeLb {
    pub fn with(arn: &str, route: ForwardRoute) -> FakeLb {
        let lb = FakeLb::default();
        lb.routes.lock().unwrap().insert(arn.into(), route);
        lb
    }

    pub fn route(&self, arn: &str) -> ForwardRoute {
        self.routes.lock().unwrap()[arn].clone()
    }
}

impl LoadBalancer for FakeLb {
    async fn forward_route(&self, at: &RouteRef) -> Result<ForwardRoute, AwsError> {
        self.routes
            .lock()
            .unwrap()
            .get(at.arn())
            .cloned()
            .ok_or_else(|| AwsError::NotFound {
                what: "listener",
                id: at.arn().into(),
            })
    }

    async fn set_forward_route(&self, at: &RouteRef, route: &ForwardRoute) -> Result<(), AwsError> {
        *self.writes.lock().unwrap() += 1;
        self.routes
            .lock()
            .unwrap()
            .insert(at.arn().into(), route.clone());
        Ok(())
    }

    async fn target_health(&self, target_group_arn: &str) -> Result<Vec<TargetHealth>, AwsError> {
        Ok(self
            .health
            .lock()
            .unwrap()
            .get(target_group_arn)
            .cloned()
            .unwrap_or_default())
    }
}

/// Alarm states by name; unknown names are an error, as in CloudWatch's absence of a result.
#[derive(Default)]
pub struct FakeAlarms(pub Mutex<HashMap<String, String>>);

impl FakeAlarms {
    pub fn set(&self, name: &str, state: &str) {
        self.0.lock().unwrap().insert(name.into(), state.into());
    }
}

impl Alarms for FakeAlarms {
    async fn states(&self, names: &[String]) -> Result<Vec<(String, String)>, AwsError> {
        let known = self.0.lock().unwrap();
        names
            .iter()
            .map(|n| {
                known
                    .get(n)
                    .map(|s| (n.clone(), s.clone()))
                    .ok_or_else(|| AwsError::NotFound {
                        what: "alarm",
                        id: n.clone(),
                    })
            })
            .collect()
    }
}

/// CloudWatch's ALB metrics, per `TargetGroup` dimension value; counts the queries it answers.
#[derive(Default)]
pub struct FakeMetrics {
    pub series: Mutex<HashMap<String, GroupSeries>>,
    pub queries: Mutex<Vec<MetricsQuery>>,
}

impl FakeMetrics {
    pub fn set(&self, target_group_arn: &str, series: GroupSeries) {
        let dim = cutover_core::target::target_group_dimension(target_group_arn)
            .expect("a target group ARN");
        self.series.lock().unwrap().insert(dim.to_string(), series);
    }
}

impl Metrics for FakeMetrics {
    async fn group_series(&self, q: &MetricsQuery) -> Result<Vec<GroupSeries>, AwsError> {
        self.queries.lock().unwrap().push(q.clone());
        let known = self.series.lock().unwrap();
        Ok(q.target_groups
            .iter()
            .map(|g| {
                known
                    .get(g)
                    .map_or_else(GroupSeries::default, |s| s.within(q.start_s, q.end_s))
            })
            .collect())
    }
}

/// Step Functions executions: which were stopped, with what error and cause.
#[derive(Default)]
pub struct FakeExecutions {
    pub stopped: Mutex<Vec<(String, String, String)>>,
}

impl Executions for FakeExecutions {
    async fn stop(&self, arn: &str, error: &str, cause: &str) -> Result<(), AwsError> {
        self.stopped
            .lock()
            .unwrap()
            .push((arn.into(), error.into(), cause.into()));
        Ok(())
    }
}

/// A ledger table with DynamoDB's conditional-write semantics.
#[derive(Default)]
pub struct MemoryLedger {
    pub items: Mutex<HashMap<String, Ledger>>,
}

impl MemoryLedger {
    pub fn get(&self, app: &str, env: &str) -> Option<Ledger> {
        self.items
            .lock()
            .unwrap()
            .get(&format!("{app}#{env}"))
            .cloned()
    }
}

impl LedgerStore for MemoryLedger {
    async fn load(&self, app: &str, env: &str) -> Result<Option<Ledger>, AwsError> {
        Ok(self.get(app, env))
    }

    async fn save(&self, ledger: &Ledger) -> Result<bool, AwsError> {
        let mut items = self.items.lock().unwrap();
        let key = format!("{}#{}", ledger.app, ledger.env);
        let stored = items.get(&key).map_or(0, |l| l.version);
        if stored != ledger.version {
            return Ok(false);
        }
        items.insert(
            key,
            Ledger {
                version: ledger.version + 1,
                ..ledger.clone()
            },
        );
        Ok(true)
    }
}

pub struct StaticTargets(pub Mutex<HashMap<String, AnyTarget>>);

impl StaticTargets {
    /// Change the blue-green target of `app#env` in place.
    pub fn edit(&self, key: &str, change: impl FnOnce(&mut TargetConfig)) {
        match self.0.lock().unwrap().get_mut(key) {
            Some(AnyTarget::BlueGreen(t)) => change(t),
            _ => panic!("no blue-green target {key}"),
        }
    }
}

impl TargetSource for StaticTargets {
    async fn with_alarm(&self, alarm: &str) -> Result<Vec<(String, String)>, Failure> {
        let known = self.0.lock().unwrap();
        let mut found: Vec<(String, String)> = known
            .iter()
            .filter(|(_, t)| t.alarms().iter().any(|a| a == alarm))
            .filter_map(|(k, _)| {
                k.split_once('#')
                    .map(|(a, e)| (a.to_string(), e.to_string()))
            })
            .collect();
        found.sort();
        Ok(found)
    }

    async fn target(&self, app: &str, env: &str) -> Result<TargetConfig, Failure> {
        match self.any_target(app, env).await? {
            AnyTarget::BlueGreen(t) => Ok(*t),
            AnyTarget::Rolling(_) => Err(Failure::new(
                ErrorType::InvalidInput,
                format!("{app}/{env} is a rolling-mode service"),
            )),
        }
    }

    async fn any_target(&self, app: &str, env: &str) -> Result<AnyTarget, Failure> {
        let known = self.0.lock().unwrap().get(&format!("{app}#{env}")).cloned();
        known.ok_or_else(|| {
            Failure::new(
                ErrorType::InvalidInput,
                format!("unknown service {app}/{env}"),
            )
        })
    }
}

pub struct StaticFlags(pub Flags);

impl FlagSource for StaticFlags {
    async fn flags(&self) -> Result<Flags, AwsError> {
        Ok(self.0)
    }
}

/// ECS as the local emulator behaves: updates complete at once.
#[derive(Default)]
pub struct FakeServices {
    pub services: Mutex<HashMap<String, ServiceState>>,
    pub registered: Mutex<Vec<Release>>,
}

impl FakeServices {
    pub fn add(&self, name: &str, task_definition_arn: &str, desired: i32) {
        let s = ServiceState {
            name: name.into(),
            task_definition_arn: task_definition_arn.into(),
            desired,
            running: desired,
            pending: 0,
            rollout: Rollout::Completed,
            failed_tasks: 0,
            deployments: 1,
        };
        self.services.lock().unwrap().insert(name.into(), s);
    }

    pub fn get(&self, name: &str) -> ServiceState {
        self.services.lock().unwrap()[name].clone()
    }
}

impl Services for FakeServices {
    async fn service(&self, cluster: &str, name: &str) -> Result<ServiceState, AwsError> {
        self.services
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .ok_or_else(|| AwsError::NotFound {
                what: "ECS service",
                id: format!("{cluster}/{name}"),
            })
    }

    async fn register_with_image(
        &self,
        from: &str,
        _container: &str,
        image: &str,
    ) -> Result<Release, AwsError> {
        let mut registered = self.registered.lock().unwrap();
        let release = Release {
            task_definition_arn: format!("{from}+{}", registered.len() + 1),
            image: image.into(),
        };
        registered.push(release.clone());
        Ok(release)
    }

    async fn update_service(
        &self,
        cluster: &str,
        name: &str,
        task_definition: Option<&str>,
        desired: i32,
    ) -> Result<(), AwsError> {
        let mut services = self.services.lock().unwrap();
        let s = services.get_mut(name).ok_or_else(|| AwsError::NotFound {
            what: "ECS service",
            id: format!("{cluster}/{name}"),
        })?;
        if let Some(td) = task_definition {
            s.task_definition_arn = td.into();
        }
        s.desired = desired;
        s.running = desired;
        Ok(())
    }
}

pub const LISTENER: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/live/1/2";
pub const BLUE_TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1";
pub const GREEN_TG: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2";

/// The target configuration of app `live`, env `prod`, in every function test.
pub fn sample_target() -> TargetConfig {
    TargetConfig::from_json(&serde_json::json!({
        "cluster": "live-event",
        "services": {"blue": "svc-blue", "green": "svc-green"},
        "containerName": "app",
        "listenerArn": LISTENER,
        "targetGroups": {"blue": BLUE_TG, "green": GREEN_TG},
        "loadBalancer": "app/live/1",
        "alarms": ["live-5xx"],
        "healthPolicy": {
            "max5xxRate": 0.02, "maxP95Ms": 500, "minRequestCount": 50,
            "periodSeconds": 1, "verifyTimeoutSeconds": 120
        },
        "defaultStrategy": "Canary10Percent5Minutes"
    }))
    .expect("sample target is valid")
}

/// One-second periods `[from_s, to_s)` of an ALB target group serving `requests` a period with a
/// fixed 5XX share and latency around `p95_ms` (a deterministic ±5 % wobble, so the judge has spread).
pub fn steady_series(
    from_s: i64,
    to_s: i64,
    requests: f64,
    error_share: f64,
    p95_ms: f64,
) -> GroupSeries {
    let mut s = GroupSeries::default();
    for t in from_s..to_s {
        let wobble = 1.0 + 0.05 * (((t * 7919) % 21) as f64 - 10.0) / 10.0;
        s.requests.insert(t, requests);
        if error_share > 0.0 {
            s.errors_5xx.insert(t, (requests * error_share).round());
        }
        s.p95_ms.insert(t, p95_ms * wobble);
        s.p99_ms.insert(t, 1.4 * p95_ms * wobble);
        s.mean_ms.insert(t, 0.5 * p95_ms * wobble);
    }
    s
}

/// A whole fake cloud for `live/prod`: blue is live (3 tasks on td:1) with the listener at 100/0.
pub struct Cloud {
    pub lb: FakeLb,
    pub ledger: MemoryLedger,
    pub targets: StaticTargets,
    pub flags: StaticFlags,
    pub services: FakeServices,
    pub alarms: FakeAlarms,
    pub metrics: FakeMetrics,
    pub executions: FakeExecutions,
}

impl Cloud {
    pub fn new() -> Cloud {
        let services = FakeServices::default();
        services.add("svc-blue", "td:1", 3);
        services.add("svc-green", "td:1", 0);
        Cloud {
            lb: FakeLb::with(
                LISTENER,
                ForwardRoute::for_weights(
                    BLUE_TG,
                    GREEN_TG,
                    cutover_core::Weights::all_on(cutover_core::Colour::Blue),
                ),
            ),
            ledger: MemoryLedger::default(),
            targets: StaticTargets(Mutex::new(HashMap::from([(
                "live#prod".to_string(),
                AnyTarget::BlueGreen(Box::new(sample_target())),
            )]))),
            flags: StaticFlags(Flags::default()),
            services,
            alarms: FakeAlarms::default(),
            metrics: FakeMetrics::default(),
            executions: FakeExecutions::default(),
        }
    }

    pub fn weights(&self) -> cutover_core::Weights {
        self.lb
            .route(LISTENER)
            .weights(BLUE_TG, GREEN_TG)
            .expect("percentages")
    }

    pub fn set_weights(&self, w: cutover_core::Weights) {
        self.lb.routes.lock().unwrap().insert(
            LISTENER.into(),
            ForwardRoute::for_weights(BLUE_TG, GREEN_TG, w),
        );
    }

    pub fn ledger(&self) -> Ledger {
        self.ledger.get("live", "prod").expect("a ledger")
    }

    /// Deployment `d1` has claimed the ledger and registered `td:2` (image `live:2`) for green.
    pub async fn prepared() -> Cloud {
        let c = Cloud::new();
        let mut l = Ledger::new("live", "prod", cutover_core::Colour::Blue, None);
        l.acquire("d1", "live:2", None, 1).expect("acquire");
        let release = Release {
            task_definition_arn: "td:2".into(),
            image: "live:2".into(),
        };
        l.set_release("d1", release, 1).expect("set_release");
        assert!(c.ledger.save(&l).await.expect("save"));
        c
    }

    /// Change the stored ledger the way another writer would (conditional on its version).
    pub async fn edit_ledger(&self, change: impl FnOnce(&mut Ledger)) {
        let mut l = self.ledger();
        change(&mut l);
        assert!(
            self.ledger.save(&l).await.expect("save"),
            "the ledger moved during the edit"
        );
    }
}

impl Default for Cloud {
    fn default() -> Self {
        Cloud::new()
    }
}

/// Switch values in memory, for the table switch; counts writes so tests can see a retry's effect.
#[derive(Default)]
pub struct MemorySwitch {
    pub values: Mutex<HashMap<String, String>>,
    pub writes: std::sync::atomic::AtomicUsize,
}

impl MemorySwitch {
    pub fn value(&self, name: &str) -> Option<String> {
        self.values.lock().unwrap().get(name).cloned()
    }
}

/// Keyed by the target's display form: a parameter's name, or `appconfig:app/env/profile#flag`.
impl crate::SwitchStore for MemorySwitch {
    async fn get(&self, at: &SwitchTarget) -> Result<Option<String>, AwsError> {
        Ok(self.value(&at.to_string()))
    }

    async fn put(&self, at: &SwitchTarget, value: &str) -> Result<(), AwsError> {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.values
            .lock()
            .unwrap()
            .insert(at.to_string(), value.into());
        Ok(())
    }

    async fn delete(&self, at: &SwitchTarget) -> Result<(), AwsError> {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.values.lock().unwrap().remove(&at.to_string());
        Ok(())
    }
}
