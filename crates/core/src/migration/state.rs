//! Which phase may run after which, from the bookkeeping row. Every phase can be re-run; a re-run
//! either repeats idempotent work or reports that its work is done.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Expand,
    Backfill,
    Verify,
    Switch,
    Contract,
    /// The first half of a revert: the switch goes back, both tables and triggers stay, so writes
    /// from application instances that still read the old switch reach the source while they drain.
    Restore,
    Revert,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::Expand,
        Phase::Backfill,
        Phase::Verify,
        Phase::Switch,
        Phase::Contract,
        Phase::Restore,
        Phase::Revert,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Expand => "expand",
            Phase::Backfill => "backfill",
            Phase::Verify => "verify",
            Phase::Switch => "switch",
            Phase::Contract => "contract",
            Phase::Restore => "restore",
            Phase::Revert => "revert",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a migration stands, as its bookkeeping row records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Expanded,
    Switched,
    /// The switch is back on the source; the target waits for revert to drop it.
    Reverting,
    Contracted,
    Reverted,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Expanded => "expanded",
            Stage::Switched => "switched",
            Stage::Reverting => "reverting",
            Stage::Contracted => "contracted",
            Stage::Reverted => "reverted",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        [
            Stage::Expanded,
            Stage::Switched,
            Stage::Reverting,
            Stage::Contracted,
            Stage::Reverted,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// The bookkeeping row's facts that decide what may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub stage: Option<Stage>,
    /// The last verify found target and source equal.
    pub verified: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Run,
    /// The work is already done (a retry after success); answer without changing anything.
    Done,
}

/// Whether `phase` may run now, or why not.
pub fn decide(phase: Phase, at: Standing) -> Result<Decision, String> {
    use Stage::*;
    let stage = at.stage;
    let name = stage.map_or("not started", Stage::as_str);
    match (phase, stage) {
        (_, Some(Contracted)) if phase != Phase::Contract => Err(format!(
            "{phase} refused: the migration is contracted (the source table is gone)"
        )),
        (Phase::Restore | Phase::Revert, Some(Reverting)) => Ok(Decision::Run),
        (_, Some(Reverting)) => Err(format!(
            "{phase} refused: the migration is reverting (the switch is back on the source); finish with revert"
        )),
        (Phase::Restore, Some(Expanded | Switched)) => Ok(Decision::Run),
        // Nothing was switched or there is nothing left to drain from.
        (Phase::Restore, None | Some(Reverted)) => Ok(Decision::Done),
        (Phase::Expand, None | Some(Reverted) | Some(Expanded)) => Ok(Decision::Run),
        (Phase::Expand, Some(Switched)) => Ok(Decision::Done),
        (Phase::Backfill | Phase::Verify, Some(Expanded | Switched)) => Ok(Decision::Run),
        (Phase::Switch, Some(Expanded | Switched)) if at.verified => Ok(Decision::Run),
        (Phase::Switch, Some(Expanded | Switched)) => {
            Err("switch refused: no passed verify since the target was created".into())
        }
        (Phase::Contract, Some(Contracted)) => Ok(Decision::Done),
        (Phase::Contract, Some(Switched)) if at.verified => Ok(Decision::Run),
        (Phase::Contract, _) => Err(format!(
            "contract refused: it needs a passed verify and a switch (stage: {name}, verified: {})",
            at.verified
        )),
        (Phase::Revert, Some(Reverted)) => Ok(Decision::Done),
        // Revert drops with IF EXISTS, so it also cleans up after an expand that never recorded itself.
        (Phase::Revert, _) => Ok(Decision::Run),
        (_, _) => Err(format!("{phase} refused: run expand first (stage: {name})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(stage: Option<Stage>, verified: bool) -> Standing {
        Standing { stage, verified }
    }

    #[test]
    fn phases_follow_the_expand_contract_order() {
        use Stage::*;
        assert_eq!(decide(Phase::Expand, at(None, false)), Ok(Decision::Run));
        assert!(decide(Phase::Backfill, at(None, false)).is_err());
        assert!(decide(Phase::Backfill, at(Some(Reverted), false)).is_err());
        assert_eq!(
            decide(Phase::Backfill, at(Some(Expanded), false)),
            Ok(Decision::Run)
        );
        assert!(decide(Phase::Switch, at(Some(Expanded), false))
            .unwrap_err()
            .contains("no passed verify"));
        assert_eq!(
            decide(Phase::Switch, at(Some(Expanded), true)),
            Ok(Decision::Run)
        );
        assert!(decide(Phase::Contract, at(Some(Expanded), true)).is_err());
        assert!(decide(Phase::Contract, at(Some(Switched), false)).is_err());
        assert_eq!(
            decide(Phase::Contract, at(Some(Switched), true)),
            Ok(Decision::Run)
        );
        assert_eq!(
            decide(Phase::Contract, at(Some(Contracted), true)),
            Ok(Decision::Done)
        );
        for p in [
            Phase::Expand,
            Phase::Backfill,
            Phase::Verify,
            Phase::Switch,
            Phase::Revert,
        ] {
            assert!(decide(p, at(Some(Contracted), true))
                .unwrap_err()
                .contains("contracted"));
        }
        for s in [None, Some(Expanded), Some(Switched)] {
            assert_eq!(decide(Phase::Revert, at(s, false)), Ok(Decision::Run));
        }
        assert_eq!(
            decide(Phase::Revert, at(Some(Reverted), false)),
            Ok(Decision::Done)
        );
    }

    #[test]
    fn a_restored_switch_leads_only_to_revert() {
        use Stage::*;
        for s in [Some(Expanded), Some(Switched), Some(Reverting)] {
            assert_eq!(decide(Phase::Restore, at(s, true)), Ok(Decision::Run));
        }
        for s in [None, Some(Reverted)] {
            assert_eq!(decide(Phase::Restore, at(s, false)), Ok(Decision::Done));
        }
        assert!(decide(Phase::Restore, at(Some(Contracted), true)).is_err());
        assert_eq!(
            decide(Phase::Revert, at(Some(Reverting), true)),
            Ok(Decision::Run)
        );
        // Above all, no contract of the source the application was just switched back to.
        for p in [
            Phase::Expand,
            Phase::Backfill,
            Phase::Verify,
            Phase::Switch,
            Phase::Contract,
        ] {
            assert!(decide(p, at(Some(Reverting), true))
                .unwrap_err()
                .contains("reverting"));
        }
    }

    #[test]
    fn phase_names_round_trip() {
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
        }
        assert_eq!(Phase::parse("drop"), None);
    }
}
