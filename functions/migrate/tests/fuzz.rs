//! The migration events with one part broken, and any JSON, through the request parser (the
//! handler itself would reach the database for what parses): a request or a typed InvalidInput,
//! never a panic. The spec's own parser is fuzzed in crates/core/tests/fuzz.rs.

use cutover_aws::fakes::fuzz::refuses_before_writing;
use cutover_core::ErrorType;

#[test]
fn bad_events_are_refused_by_the_parser() {
    let files = [
        "migrate-expand.json",
        "migrate-backfill.json",
        "migrate-verify.json",
        "migrate-switch.json",
        "migrate-switch-flag.json",
        "migrate-contract.json",
        "migrate-revert.json",
        "migrate-restore.json",
    ];
    refuses_before_writing(&files, |event| async move {
        let out = migrate::MigrateRequest::from_event(&event).map(|_| serde_json::Value::Null);
        if let Err(f) = &out {
            assert_eq!(
                f.error_type,
                ErrorType::InvalidInput,
                "{event}: {}",
                f.reason
            );
        }
        (out, Vec::new())
    });
}
