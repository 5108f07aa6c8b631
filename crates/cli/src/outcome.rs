//! How a command ended, and the exit code that says so to CI: documented in `--help` and the README,
//! so scripts branch on it.

/// The `Debug` names are the `outcome` a deployment's result reports and the first word of a
/// result line: keep them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The command did what it was asked (help and version included).
    Done,
    Promoted,
    /// An experiment ran to its verdict and the control keeps all traffic.
    ControlKept,
    Contracted,
    /// Bad flags, or an AWS call that failed.
    Error,
    RolledBack,
    Reverted,
    Failed,
    /// Another deployment is active, deployments are frozen, or there was nothing to act on.
    Refused,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Done | Outcome::Promoted | Outcome::ControlKept | Outcome::Contracted => 0,
            Outcome::Error => 1,
            Outcome::RolledBack | Outcome::Reverted => 2,
            Outcome::Failed => 3,
            Outcome::Refused => 4,
        }
    }
}
