//! The one seam between Cutover's functions and the cloud: every port behind one trait.
//!
//! A handler takes `&impl Cloud` and asks it for the ports it uses, so adding a port touches this
//! trait, [`AwsCloud`](crate::aws_cloud::AwsCloud) and [`FakeCloud`](crate::fakes::FakeCloud), and no
//! function that does not use it. See docs/architecture.md, "Pieces".

use crate::{
    Alarms, Executions, FlagSource, Hooks, LedgerStore, LoadBalancer, Metrics, Partners,
    SecretSource, Services, SwitchStore, TargetSource, Telemetry,
};

pub trait Cloud: Sync {
    type LoadBalancer: LoadBalancer + Sync;
    type Ledger: LedgerStore + Sync;
    type Targets: TargetSource + Sync;
    type Flags: FlagSource + Sync;
    type Services: Services + Sync;
    type Executions: Executions + Sync;
    type Alarms: Alarms + Sync;
    type Metrics: Metrics + Sync;
    type Switches: SwitchStore + Sync;
    type Secrets: SecretSource + Sync;
    type Telemetry: Telemetry + Sync;
    type Hooks: Hooks + Sync;
    type Partners: Partners + Sync;

    /// The production listener (or rule) and its target groups.
    fn lb(&self) -> &Self::LoadBalancer;
    /// The deployment ledger table.
    fn ledger(&self) -> &Self::Ledger;
    /// Target configurations of the services Cutover deploys.
    fn targets(&self) -> &Self::Targets;
    /// Cutover's own feature flags.
    fn flags(&self) -> &Self::Flags;
    /// The ECS services behind the colours.
    fn services(&self) -> &Self::Services;
    /// Executions of the deploy state machine.
    fn executions(&self) -> &Self::Executions;
    /// CloudWatch alarm states.
    fn alarms(&self) -> &Self::Alarms;
    /// CloudWatch ALB metrics.
    fn metrics(&self) -> &Self::Metrics;
    /// A migration's table switch (SSM parameter or AppConfig flag).
    fn switches(&self) -> &Self::Switches;
    /// Database passwords.
    fn secrets(&self) -> &Self::Secrets;
    /// EMF metrics and state-change events.
    fn telemetry(&self) -> &Self::Telemetry;
    fn hooks(&self) -> &Self::Hooks;
    /// The other half of a Route 53 failover pair, in another region.
    fn partners(&self) -> &Self::Partners;
}

/// Implements [`Cloud`] for a struct whose fields `lb`, `ledger`, `targets`, `flags`, `services`,
/// `executions`, `alarms`, `metrics`, `switches`, `secrets`, `telemetry`, `hooks` and `partners` hold the ports, given their types in
/// that order.
#[macro_export]
macro_rules! cloud_of_fields {
    ($cloud:ty { $lb:ty, $ledger:ty, $targets:ty, $flags:ty, $services:ty, $executions:ty,
        $alarms:ty, $metrics:ty, $switches:ty, $secrets:ty, $telemetry:ty, $hooks:ty,
        $partners:ty $(,)? }) => {
        impl $crate::Cloud for $cloud {
            type LoadBalancer = $lb;
            type Ledger = $ledger;
            type Targets = $targets;
            type Flags = $flags;
            type Services = $services;
            type Executions = $executions;
            type Alarms = $alarms;
            type Metrics = $metrics;
            type Switches = $switches;
            type Secrets = $secrets;
            type Telemetry = $telemetry;
            type Hooks = $hooks;
            type Partners = $partners;
            $crate::cloud_of_fields!(@get lb: $lb, ledger: $ledger, targets: $targets,
                flags: $flags, services: $services, executions: $executions, alarms: $alarms,
                metrics: $metrics, switches: $switches, secrets: $secrets,
                telemetry: $telemetry, hooks: $hooks, partners: $partners);
        }
    };
    (@get $($field:ident: $port:ty),*) => {
        $(fn $field(&self) -> &$port {
            &self.$field
        })*
    };
}
