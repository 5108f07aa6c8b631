//! Zero-downtime table migrations: the spec, the expressions it may contain, and the order of phases.
//! The SQL itself is rendered from these validated values by `cutover-migrate`.

pub mod credentials;
pub mod expr;
pub mod ident;
pub mod spec;
pub mod state;
pub mod switch;

pub use credentials::{Credentials, Endpoint};
pub use expr::Expr;
pub use ident::{Ident, SqlType, TableName};
pub use spec::{Column, Database, MigrationSpec, PasswordRef};
pub use state::{decide, Decision, Phase, Stage, Standing};
pub use switch::{FlagRef, Switch, SwitchTarget};
