//! Every statement a migration runs, rendered from the validated spec: identifiers quoted, types from
//! the supported list, expressions from their parsed tree, values only as `$n` parameters.
//!
//! `bookkeeping` holds the statements on Cutover's own table, `catalog` what is asked of PostgreSQL's
//! catalog, `ddl` what creates and drops tables, functions and triggers, `copy` what moves and
//! compares rows.

mod bookkeeping;
mod catalog;
mod copy;
mod ddl;

pub use bookkeeping::*;
pub use catalog::*;
pub use copy::{backfill, copy_all, verify_bounds, verify_range};
pub use ddl::{
    create_target, create_trigger, drop_function, drop_table, drop_trigger, forward_function,
    probe_forward, probe_reverse, reverse_function, target_mark,
};

use cutover_core::migration::{Expr, Ident, MigrationSpec};

/// Names derived from the migration id (letters, digits and `-`), so always valid identifiers.
pub struct Names {
    pub forward_fn: String,
    pub reverse_fn: String,
    pub forward_trigger: String,
    pub reverse_trigger: String,
}

pub fn names(spec: &MigrationSpec) -> Names {
    let base = spec.id.replace('-', "_");
    let q = |s: String| {
        Ident::parse(&s)
            .expect("derived from a validated id")
            .quoted()
    };
    Names {
        forward_fn: format!("cutover.{}", q(format!("fwd_{base}"))),
        reverse_fn: format!("cutover.{}", q(format!("rev_{base}"))),
        forward_trigger: q(format!("cutover_fwd_{base}")),
        reverse_trigger: q(format!("cutover_rev_{base}")),
    }
}

fn list<T>(items: impl IntoIterator<Item = T>, f: impl Fn(T) -> String) -> String {
    items.into_iter().map(f).collect::<Vec<_>>().join(", ")
}

/// Source key columns and the target columns they are copied into, in key order.
fn key_pairs(spec: &MigrationSpec) -> Vec<(&Ident, &Ident, String)> {
    spec.key
        .iter()
        .map(|k| {
            let t = spec.key_target(k).expect("validated: key copied plainly");
            (k, &t.name, t.ty.sql())
        })
        .collect()
}

fn cast(e: &Expr, row: &str, ty: &str) -> String {
    format!("CAST({} AS {ty})", e.sql(row))
}

#[cfg(test)]
mod tests;
