//! The listener and its target groups, kept in memory.

use crate::ports::TaggedRule;
use crate::{AwsError, LoadBalancer};
use cutover_core::target::HeaderRoute;
use cutover_core::traffic::{ForwardRoute, RouteRef, WeightedGroup};
use cutover_core::TargetHealth;
use std::collections::{BTreeMap, HashMap};
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
    /// Rules created through the port: their listener, header, priority and tags. Their forward
    /// routes are in `routes` under the rule's ARN, as a listener's are.
    pub rules: Mutex<BTreeMap<String, FakeRule>>,
    created: Mutex<usize>,
    /// Deregistration delay per target group; AWS's default (300 s) for one not listed.
    pub deregistration_delays: Mutex<HashMap<String, u32>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeRule {
    pub listener_arn: String,
    pub header: HeaderRoute,
    pub tags: BTreeMap<String, String>,
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

    /// The rules now on `listener_arn`.
    pub fn rules_on(&self, listener_arn: &str) -> Vec<(String, FakeRule)> {
        let rules = self.rules.lock().unwrap();
        rules
            .iter()
            .filter(|(_, r)| r.listener_arn == listener_arn)
            .map(|(a, r)| (a.clone(), r.clone()))
            .collect()
    }

    /// Run `hook` right after every listener read: what another actor does while a caller holds
    /// what it read (a slow read, a paused function).
    pub fn after_each_read(&self, hook: impl Fn() + Send + 'static) {
        *self.after_read.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(hook));
    }

    /// Run `hook` right after every listener write lands: what another actor does in that instant.
    pub fn after_each_write(&self, hook: impl Fn() + Send + 'static) {
        // A hook that panicked (a crash test) poisons the lock; the next test step replaces it.
        *self.after_write.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(hook));
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
        let mut routes = self.routes.lock().unwrap();
        // As ELBv2's adapter does: no stickiness in the write keeps the listener's.
        let kept = routes.get(at.arn()).and_then(|r| r.stickiness.clone());
        let mut written = route.clone();
        if written.stickiness.is_none() {
            written.stickiness = kept;
        }
        routes.insert(at.arn().into(), written);
        drop(routes);
        if let Some(hook) = self
            .after_write
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            hook();
        }
        Ok(())
    }

    async fn deregistration_delay(&self, target_group_arn: &str) -> Result<u32, AwsError> {
        self.calls.note("LoadBalancer::deregistration_delay");
        let delays = self.deregistration_delays.lock().unwrap();
        Ok(delays.get(target_group_arn).copied().unwrap_or(300))
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

    async fn set_test_listener(
        &self,
        listener_arn: &str,
        route: &ForwardRoute,
    ) -> Result<(), AwsError> {
        self.calls.note("LoadBalancer::set_test_listener");
        self.routes
            .lock()
            .unwrap()
            .insert(listener_arn.into(), route.clone());
        Ok(())
    }

    async fn tagged_rules(
        &self,
        listener_arn: &str,
        key: &str,
    ) -> Result<Vec<TaggedRule>, AwsError> {
        self.calls.note("LoadBalancer::tagged_rules");
        Ok(self
            .rules_on(listener_arn)
            .into_iter()
            .filter(|(_, r)| r.tags.contains_key(key))
            .map(|(arn, r)| TaggedRule { arn, tags: r.tags })
            .collect())
    }

    async fn create_header_rule(
        &self,
        listener_arn: &str,
        header: &HeaderRoute,
        target_group_arn: &str,
        tags: &[(String, String)],
    ) -> Result<String, AwsError> {
        self.calls.note("LoadBalancer::create_header_rule");
        if self
            .rules_on(listener_arn)
            .iter()
            .any(|(_, r)| r.header.priority == header.priority)
        {
            return Err(AwsError::Unusable {
                what: "listener",
                id: listener_arn.into(),
                problem: format!("priority {} is taken by another rule", header.priority),
            });
        }
        let n = {
            let mut c = self.created.lock().unwrap();
            *c += 1;
            *c
        };
        let arn = format!(
            "{}/{n:016x}",
            listener_arn.replacen(":listener/", ":listener-rule/", 1)
        );
        self.rules.lock().unwrap().insert(
            arn.clone(),
            FakeRule {
                listener_arn: listener_arn.into(),
                header: header.clone(),
                tags: tags.iter().cloned().collect(),
            },
        );
        let route = ForwardRoute {
            groups: vec![WeightedGroup {
                target_group_arn: target_group_arn.into(),
                weight: 1,
            }],
            stickiness: None,
        };
        self.routes.lock().unwrap().insert(arn.clone(), route);
        Ok(arn)
    }

    async fn delete_rule(&self, rule_arn: &str) -> Result<(), AwsError> {
        self.calls.note("LoadBalancer::delete_rule");
        self.rules.lock().unwrap().remove(rule_arn);
        self.routes.lock().unwrap().remove(rule_arn);
        Ok(())
    }
}
