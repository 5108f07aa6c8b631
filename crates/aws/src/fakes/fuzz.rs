//! The fuzz test every function runs (issue 19): its sample events with one part broken, and any
//! JSON, through its handler over fakes. Whatever it answers, it must not panic, and input it
//! refuses as `InvalidInput` must have reached no write (`WRITES`): bad input changes nothing.

use cutover_core::fuzz::{json, mutated};
use cutover_core::{ErrorType, Failure};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use std::future::Future;

/// The sample event `events/<name>`, about the fakes' service (`live`/`prod`, deployment `d1`) so
/// that its mutations reach past the lookup of the service.
pub fn sample(name: &str) -> Value {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (field, value) in [("app", "live"), ("env", "prod"), ("deploymentId", "d1")] {
        if let Some(slot) = v.get_mut(field) {
            *slot = Value::from(value);
        }
    }
    v
}

/// Run `handle` on mutations of the sample events `files` and on arbitrary JSON: 256 cases by
/// default (`PROPTEST_CASES` for more). `handle` builds its own fakes and answers what the handler
/// returned with the write methods it called.
pub fn refuses_before_writing<F, Fut>(files: &[&str], handle: F)
where
    F: Fn(Value) -> Fut,
    Fut: Future<Output = (Result<Value, Failure>, Vec<&'static str>)>,
{
    let mut strategies: Vec<BoxedStrategy<Value>> =
        files.iter().map(|f| mutated(sample(f)).boxed()).collect();
    strategies.push(json().boxed());
    let events = Union::new(strategies);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&events, |event| {
        let (out, writes) = rt.block_on(handle(event.clone()));
        if let Err(f) = &out {
            prop_assert!(
                f.error_type != ErrorType::InvalidInput || writes.is_empty(),
                "{event} was refused as invalid ({}) after writing {writes:?}",
                f.reason
            );
            prop_assert!(!f.reason.is_empty(), "{event}: an error without a reason");
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
