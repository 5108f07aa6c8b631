//! What Cutover tells the world about a deployment and a release: CloudWatch metrics as EMF lines
//! (`metrics`) and EventBridge state-change events (`changes`, `release`). Pure: the adapters in `cutover-aws` print and send
//! (docs/monitoring.md).

pub mod changes;
pub mod metrics;
pub mod release;

pub use changes::{changes, outcome_metrics, DeploymentChange, MigrationChange};
pub use metrics::{check_line, Emf, MetricDef, Unit, CATALOGUE, NAMESPACE};
pub use release::{release_change, release_metrics, ReleaseChange, RELEASE_DETAIL_TYPE};
