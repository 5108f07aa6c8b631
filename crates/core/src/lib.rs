//! Cutover's domain. Pure: no AWS types and no I/O, so every rule here is unit- and property-tested
//! without a cloud. Adapters (cutover-aws) and Lambda binaries translate to and from these types.

pub mod error;
pub mod ledger;
pub mod strategy;
pub mod target;
pub mod traffic;

pub use error::{ErrorType, Failure};
pub use ledger::{Status, TransitionError};
pub use strategy::{PlanStep, Strategy, StrategyError};
pub use target::{FieldError, TargetConfig};
pub use traffic::{Colour, ForwardRoute, RouteRef, Weights, WeightsError};
