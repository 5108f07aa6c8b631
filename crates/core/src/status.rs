//! The deployment ledger's status machine (docs/architecture.md, "Ledger and status machine").
//!
//! `Preparing → Shifting ⇄ Verifying → Promoting → Promoted`, and from any non-final status to
//! `RollingBack`, which only ends in `RolledBack` or `Failed`. Once `RollingBack` is written nothing
//! leads back toward the candidate: that is what makes a rollback win every race with a promotion.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    Preparing,
    Shifting,
    Verifying,
    Promoting,
    Promoted,
    RollingBack,
    RolledBack,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger status cannot move from {from} to {to}")]
pub struct TransitionError {
    pub from: Status,
    pub to: Status,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Preparing,
        Status::Shifting,
        Status::Verifying,
        Status::Promoting,
        Status::Promoted,
        Status::RollingBack,
        Status::RolledBack,
        Status::Failed,
    ];

    /// No deployment is in flight once the ledger is here.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Promoted | Status::RolledBack | Status::Failed)
    }

    /// A deployment in these statuses must not move traffic toward its candidate any more.
    pub fn is_aborting(self) -> bool {
        matches!(
            self,
            Status::RollingBack | Status::RolledBack | Status::Failed
        )
    }

    pub fn can_move_to(self, to: Status) -> bool {
        use Status::*;
        match (self, to) {
            (Preparing, Shifting)
            | (Shifting, Verifying)
            | (Verifying, Shifting)
            | (Verifying, Promoting) => true,
            (Promoting, Promoted) => true,
            (RollingBack, RolledBack | Failed) => true,
            // A prepare that failed for good after its claim releases the service.
            (Preparing, Failed) => true,
            (from, RollingBack) => !from.is_final() && from != RollingBack,
            _ => false,
        }
    }

    pub fn transition(self, to: Status) -> Result<Status, TransitionError> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(TransitionError { from: self, to })
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Status::*;

    #[test]
    fn the_happy_path_is_allowed() {
        let path = [
            Preparing, Shifting, Verifying, Shifting, Verifying, Promoting, Promoted,
        ];
        for pair in path.windows(2) {
            assert_eq!(pair[0].transition(pair[1]), Ok(pair[1]));
        }
    }

    #[test]
    fn exactly_the_documented_transitions_exist() {
        let mut allowed = vec![];
        for from in Status::ALL {
            for to in Status::ALL {
                if from.can_move_to(to) {
                    allowed.push((from, to));
                }
            }
        }
        assert_eq!(
            allowed,
            vec![
                (Preparing, Shifting),
                (Preparing, RollingBack),
                (Preparing, Failed),
                (Shifting, Verifying),
                (Shifting, RollingBack),
                (Verifying, Shifting),
                (Verifying, Promoting),
                (Verifying, RollingBack),
                (Promoting, Promoted),
                (Promoting, RollingBack),
                (RollingBack, RolledBack),
                (RollingBack, Failed),
            ]
        );
    }

    #[test]
    fn refusals_name_both_ends() {
        let e = Promoted.transition(RollingBack).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ledger status cannot move from Promoted to RollingBack"
        );
    }

    proptest! {
        /// Whatever sequence of requests arrives, once RollingBack is reached no later status is a
        /// forward one: the candidate never gets traffic back.
        #[test]
        fn rolling_back_never_leads_forward(requests in proptest::collection::vec(0usize..8, 1..40)) {
            let mut status = Preparing;
            let mut seen_rollback = false;
            for r in requests {
                if let Ok(next) = status.transition(Status::ALL[r]) {
                    status = next;
                }
                seen_rollback |= status == RollingBack;
                if seen_rollback {
                    prop_assert!(status.is_aborting(), "moved to {status} after RollingBack");
                }
            }
        }

        #[test]
        fn final_statuses_are_final(to in 0usize..8) {
            for from in [Promoted, RolledBack, Failed] {
                prop_assert!(!from.can_move_to(Status::ALL[to]));
            }
        }
    }
}
