//! Cutover's domain. Pure: no AWS types and no I/O, so every rule here is unit- and property-tested
//! without a cloud. Adapters (cutover-aws) and Lambda binaries translate to and from these types.

pub mod drill;
pub mod duration;
pub mod error;
pub mod execution_name;
pub mod experiment;
pub mod fields;
pub mod flags;
#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod health;
pub mod history;
pub mod judge;
pub mod ledger;
pub mod migration;
pub mod release;
pub mod request;
pub mod rolling;
pub mod scope;
pub mod status;
pub mod strategy;
pub mod target;
pub mod telemetry;
pub mod timeline;
pub mod traffic;

pub use error::{ErrorType, Failure};
pub use fields::{invalid_field, FieldError};
pub use flags::{check_name, Flags};
pub use health::{alarms_verdict, targets_verdict, Rollout, ServiceState, TargetHealth, Verdict};
pub use judge::analysis::{analyse, windows, Analysis, GroupSeries, Window};
pub use ledger::{
    Acquired, Deployment, HookRecord, Ledger, Release, RollbackRecord, Shift, TestRouteRecord,
    VerdictRecord,
};
pub use request::DeploymentRef;
pub use rolling::{AnyTarget, RollingTarget};
pub use scope::Scope;
pub use status::{Status, TransitionError};
pub use strategy::{PlanStep, Strategy, StrategyError};
pub use target::{MetricRules, TargetConfig};
pub use traffic::{Colour, ForwardRoute, RouteRef, Stickiness, Weights, WeightsError};
