//! A fake cloud with one port replaced, for tests that inject a fault or a race into that port while
//! every other port keeps the fake's state.

use super::*;
use crate::LoadBalancer;

/// `base` with its load balancer replaced by `lb` (which may itself wrap `base.lb`).
pub struct WithLoadBalancer<'a, L> {
    pub base: &'a FakeCloud,
    pub lb: L,
}

impl<L: LoadBalancer + Sync> Cloud for WithLoadBalancer<'_, L> {
    type LoadBalancer = L;
    type Ledger = FakeLedger;
    type Targets = FakeTargets;
    type Flags = FakeFlags;
    type Services = FakeServices;
    type Executions = FakeExecutions;
    type Alarms = FakeAlarms;
    type Metrics = FakeMetrics;
    type Switches = FakeSwitches;
    type Secrets = FakeSecrets;

    fn lb(&self) -> &L {
        &self.lb
    }
    fn ledger(&self) -> &FakeLedger {
        &self.base.ledger
    }
    fn targets(&self) -> &FakeTargets {
        &self.base.targets
    }
    fn flags(&self) -> &FakeFlags {
        &self.base.flags
    }
    fn services(&self) -> &FakeServices {
        &self.base.services
    }
    fn executions(&self) -> &FakeExecutions {
        &self.base.executions
    }
    fn alarms(&self) -> &FakeAlarms {
        &self.base.alarms
    }
    fn metrics(&self) -> &FakeMetrics {
        &self.base.metrics
    }
    fn switches(&self) -> &FakeSwitches {
        &self.base.switches
    }
    fn secrets(&self) -> &FakeSecrets {
        &self.base.secrets
    }
}
