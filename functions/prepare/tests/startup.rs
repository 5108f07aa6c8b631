//! The binary's start-up: a function whose environment lacks a variable fails its init naming it,
//! before it asks the Lambda runtime for an invocation.

use std::process::Command;

#[test]
fn a_missing_variable_is_named_at_start_up() {
    let out = Command::new(env!("CARGO_BIN_EXE_prepare"))
        .env_clear()
        .env("APPCONFIG_APPLICATION", "a")
        .env("APPCONFIG_ENVIRONMENT", "e")
        .env("APPCONFIG_PROFILE", "p")
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("LEDGER_TABLE"), "{said}");
    assert!(
        !said.contains("AWS_LAMBDA_RUNTIME_API"),
        "it stopped before looking for the runtime: {said}"
    );
}
