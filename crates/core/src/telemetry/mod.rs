//! What Cutover tells the world about a deployment: CloudWatch metrics as EMF lines (`metrics`) and
//! EventBridge state-change events (`changes`). Pure: the adapters in `cutover-aws` print and send
//! (docs/monitoring.md).

pub mod changes;
pub mod metrics;

pub use changes::{changes, outcome_metrics, DeploymentChange, MigrationChange};
pub use metrics::{check_line, Emf, MetricDef, Unit, CATALOGUE, NAMESPACE};
