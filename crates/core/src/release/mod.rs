//! Multi-region releases (issue 18): a release plan of ordered waves of regions, validated before
//! anything starts. Never several regions at once unless a wave says so, never both halves of a
//! Route 53 failover pair in one wave: a deployment must never take down the only healthy half.

pub mod budget;
pub mod failover;
pub mod plan;
pub mod record;

pub use failover::{gate, healthy_share, FailoverHalf, FailoverRecord, DEFAULT_HEALTHY_SHARE};
pub use plan::{FailoverPair, OnFailure, ReleasePlan};
pub use record::{Next, RegionOutcome, RegionRecord, RegionalRun, ReleaseRecord, ReleaseStatus};
