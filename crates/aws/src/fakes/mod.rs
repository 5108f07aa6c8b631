//! In-memory ports for the functions' tests, one file per port: they keep state the way the cloud
//! would, so a handler's test asserts what it changed, not which calls it made. [`FakeCloud`] bundles
//! them behind the same [`Cloud`](crate::Cloud) seam the Lambda binaries use.

mod alarms;
mod executions;
mod fixtures;
mod flags;
pub mod fuzz;
mod hooks;
mod ledger;
mod load_balancer;
mod metrics;
mod partners;
mod secrets;
mod services;
mod switches;
mod targets;
mod telemetry;

pub use alarms::FakeAlarms;
pub use executions::FakeExecutions;
pub use fixtures::{sample_target, steady_series, BLUE_TG, GREEN_TG, LISTENER};
pub use flags::FakeFlags;
pub use hooks::FakeHooks;
pub use ledger::FakeLedger;
pub use load_balancer::{FakeLoadBalancer, FakeRule};
pub use metrics::FakeMetrics;
pub use partners::FakePartners;
pub use secrets::FakeSecrets;
pub use services::FakeServices;
pub use switches::FakeSwitches;
pub use targets::FakeTargets;
pub use telemetry::FakeTelemetry;

use crate::LedgerStore;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Which port methods a handler called, shared by every fake of one [`FakeCloud`]: a function's
/// tests hold it against the calls the function declares, which its IAM check is built from.
#[derive(Default, Clone)]
pub struct Calls(Arc<Mutex<BTreeSet<&'static str>>>);

impl Calls {
    pub(crate) fn note(&self, call: &'static str) {
        self.0.lock().unwrap().insert(call);
    }
}
use cutover_core::traffic::ForwardRoute;
use cutover_core::{AnyTarget, Colour, Flags, Ledger, Release, Weights};

/// A whole fake cloud. [`FakeCloud::new`] is `live/prod` with blue live (3 tasks on td:1) and the
/// listener at 100/0; the fields are the fakes, for a test to arrange and read back.
pub struct FakeCloud {
    pub lb: FakeLoadBalancer,
    pub ledger: FakeLedger,
    pub targets: FakeTargets,
    pub flags: FakeFlags,
    pub services: FakeServices,
    pub alarms: FakeAlarms,
    pub metrics: FakeMetrics,
    pub executions: FakeExecutions,
    pub switches: FakeSwitches,
    pub secrets: FakeSecrets,
    pub telemetry: FakeTelemetry,
    pub hooks: FakeHooks,
    pub partners: FakePartners,
}

/// Arranges a [`FakeCloud`] before a test: what differs from [`FakeCloud::new`].
#[derive(Default)]
pub struct FakeCloudBuilder {
    flags: Flags,
    targets: Vec<(String, AnyTarget)>,
    services: Vec<(String, String, i32)>,
}

impl FakeCloudBuilder {
    pub fn flags(mut self, flags: Flags) -> Self {
        self.flags = flags;
        self
    }

    /// Another service's target configuration, keyed `app#env`.
    pub fn target(mut self, key: &str, target: AnyTarget) -> Self {
        self.targets.push((key.into(), target));
        self
    }

    /// Another ECS service (or `svc-blue`/`svc-green` in another state).
    pub fn service(mut self, name: &str, task_definition_arn: &str, desired: i32) -> Self {
        self.services
            .push((name.into(), task_definition_arn.into(), desired));
        self
    }

    pub fn build(self) -> FakeCloud {
        let services = FakeServices::default();
        services.add("svc-blue", "td:1", 3);
        services.add("svc-green", "td:1", 0);
        for (name, td, desired) in &self.services {
            services.add(name, td, *desired);
        }
        let targets = FakeTargets::default();
        targets.insert("live#prod", AnyTarget::BlueGreen(Box::new(sample_target())));
        for (key, target) in self.targets {
            targets.insert(&key, target);
        }
        let mut c = FakeCloud {
            lb: FakeLoadBalancer::with(
                LISTENER,
                ForwardRoute::for_weights(BLUE_TG, GREEN_TG, Weights::all_on(Colour::Blue)),
            ),
            ledger: FakeLedger::default(),
            targets,
            flags: FakeFlags::new(self.flags),
            services,
            alarms: FakeAlarms::default(),
            metrics: FakeMetrics::default(),
            executions: FakeExecutions::default(),
            switches: FakeSwitches::default(),
            secrets: FakeSecrets::default(),
            telemetry: FakeTelemetry::default(),
            hooks: FakeHooks::default(),
            partners: FakePartners::default(),
        };
        let calls = Calls::default();
        c.lb.calls = calls.clone();
        c.ledger.calls = calls.clone();
        c.targets.1 = calls.clone();
        c.flags.calls = calls.clone();
        c.services.calls = calls.clone();
        c.alarms.1 = calls.clone();
        c.metrics.calls = calls.clone();
        c.executions.calls = calls.clone();
        c.switches.calls = calls.clone();
        c.secrets.calls = calls.clone();
        c.telemetry.calls = calls.clone();
        c.hooks.calls = calls.clone();
        c.partners.calls = calls;
        c
    }
}

/// The port methods that change something in the cloud: input refused as invalid must reach none.
pub const WRITES: &[&str] = &[
    "LoadBalancer::set_forward_route",
    "LoadBalancer::set_test_listener",
    "LoadBalancer::create_header_rule",
    "LoadBalancer::delete_rule",
    "LedgerStore::save",
    "LedgerStore::archive",
    "Services::register_with_image",
    "Services::update_service",
    "Executions::stop",
    "SwitchStore::put",
    "SwitchStore::delete",
    "Hooks::invoke",
    "Hooks::notify",
];

impl FakeCloud {
    /// Forget the calls so far (a test's own set-up), so `writes` tells what the handler did.
    pub fn clear_calls(&self) {
        self.lb.calls.0.lock().unwrap().clear();
    }

    /// Every port method called so far.
    pub fn calls(&self) -> Vec<&'static str> {
        self.lb.calls.0.lock().unwrap().iter().copied().collect()
    }

    /// The write methods (of [`WRITES`]) called so far.
    pub fn writes(&self) -> Vec<&'static str> {
        let calls = self.lb.calls.0.lock().unwrap();
        calls
            .iter()
            .copied()
            .filter(|c| WRITES.contains(c))
            .collect()
    }

    pub fn builder() -> FakeCloudBuilder {
        FakeCloudBuilder::default()
    }

    pub fn new() -> FakeCloud {
        FakeCloud::builder().build()
    }

    /// Every port method called so far must be one of `declared` (a function's `CALLS`): a call its
    /// declaration misses is a call its IAM policy was never checked for.
    pub fn assert_calls_within(&self, declared: &[&str]) {
        let calls = self.lb.calls.0.lock().unwrap();
        let undeclared: Vec<_> = calls.iter().filter(|c| !declared.contains(c)).collect();
        assert!(
            undeclared.is_empty(),
            "the handler called {undeclared:?}, which its CALLS does not list (so its IAM policy \
             is not checked for them)"
        );
    }

    /// The listener's weights now.
    pub fn weights(&self) -> Weights {
        self.lb
            .route(LISTENER)
            .weights(BLUE_TG, GREEN_TG)
            .expect("percentages")
    }

    pub fn set_weights(&self, w: Weights) {
        self.lb.routes.lock().unwrap().insert(
            LISTENER.into(),
            ForwardRoute::for_weights(BLUE_TG, GREEN_TG, w),
        );
    }

    /// Give the production listener's forward action `stickiness`, as its owner configured it.
    pub fn set_stickiness(&self, stickiness: Option<cutover_core::Stickiness>) {
        let mut routes = self.lb.routes.lock().unwrap();
        routes.get_mut(LISTENER).expect("the listener").stickiness = stickiness;
    }

    /// The `live/prod` ledger record as stored.
    pub fn stored_ledger(&self) -> Ledger {
        self.ledger.get("live", "prod").expect("a ledger")
    }

    /// Deployment `d1` has claimed the ledger and registered `td:2` (image `live:2`) for green.
    pub async fn prepared() -> FakeCloud {
        let c = FakeCloud::new();
        let mut l = Ledger::new("live", "prod", Colour::Blue, None);
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
        let mut l = self.stored_ledger();
        change(&mut l);
        assert!(
            self.ledger.save(&l).await.expect("save"),
            "the ledger moved during the edit"
        );
    }
}

impl Default for FakeCloud {
    fn default() -> Self {
        FakeCloud::new()
    }
}

crate::cloud_of_fields!(FakeCloud {
    FakeLoadBalancer,
    FakeLedger,
    FakeTargets,
    FakeFlags,
    FakeServices,
    FakeExecutions,
    FakeAlarms,
    FakeMetrics,
    FakeSwitches,
    FakeSecrets,
    FakeTelemetry,
    FakeHooks,
    FakePartners,
});
