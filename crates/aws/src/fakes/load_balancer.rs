//! The listener and its target groups, kept in memory.

use crate::{AwsError, LoadBalancer};
use cutover_core::traffic::{ForwardRoute, RouteRef};
use cutover_core::TargetHealth;
use std::collections::HashMap;
use std::sync::Mutex;

type Hook = Box<dyn Fn() + Send>;

#[derive(Default)]
pub struct FakeLoadBalancer {
    pub(crate) calls: super::Calls,
    pub routes: Mutex<HashMap<String, ForwardRoute>>,
    pub writes: Mutex<usize>,
    /// Target health per target group; a group not listed has no targets.
    pub health: Mutex<HashMap<String, Vec<TargetHealth>>>,
    after_write: Mutex<Option<Hook>>,
    after_read: Mutex<Option<Hook>>,
}

impl FakeLoadBalancer {
    pub fn with(arn: &str, route: ForwardRoute) -> FakeLoadBalancer {
        let lb = FakeLoadBalancer::default();
        lb.routes.lock().unwrap().insert(arn.into(), route);
        lb
    }

    pub fn route(&self, arn: &str) -> ForwardRoute {
        self.routes.lock().unwrap()[arn].clone()
    }

    /// Run `hook` right after every listener read: what another actor does while a caller holds
    /// what it read (a slow read, a paused function).
    pub fn after_each_read(&self, hook: impl Fn() + Send + 'static) {
        *self.after_read.lock().unwrap() = Some(Box::new(hook));
    }

    /// Run `hook` right after every listener write lands: what another actor does in that instant.
    pub fn after_each_write(&self, hook: impl Fn() + Send + 'static) {
        *self.after_write.lock().unwrap() = Some(Box::new(hook));
    }
}

impl LoadBalancer for FakeLoadBalancer {
    async fn forward_route(&self, at: &RouteRef) -> Result<ForwardRoute, AwsError> {
        self.calls.note("LoadBalancer::forward_route");
        let route = self.routes.lock().unwrap().get(at.arn()).cloned();
        if let Some(hook) = self.after_read.lock().unwrap().as_ref() {
            hook();
        }
        route.ok_or_else(|| AwsError::NotFound {
            what: "listener",
            id: at.arn().into(),
        })
    }

    async fn set_forward_route(&self, at: &RouteRef, route: &ForwardRoute) -> Result<(), AwsError> {
        self.calls.note("LoadBalancer::set_forward_route");
        *self.writes.lock().unwrap() += 1;
        self.routes
            .lock()
            .unwrap()
            .insert(at.arn().into(), route.clone());
        if let Some(hook) = self.after_write.lock().unwrap().as_ref() {
            hook();
        }
        Ok(())
    }

    async fn target_health(&self, target_group_arn: &str) -> Result<Vec<TargetHealth>, AwsError> {
        self.calls.note("LoadBalancer::target_health");
        Ok(self
            .health
            .lock()
            .unwrap()
            .get(target_group_arn)
            .cloned()
            .unwrap_or_default())
    }
}
