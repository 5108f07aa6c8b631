//! Bad invocations end with exit code 1 and a usage message before any AWS call: the AWS endpoint
//! points at a listener of this test, which must never see a connection.

use std::net::TcpListener;
use std::process::{Command, Output};

fn cutover(args: &[&str], endpoint: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("GITHUB_SHA")
        .output()
        .expect("run cutover")
}

#[test]
fn invalid_flags_exit_1_without_calling_aws() {
    let spy = TcpListener::bind("127.0.0.1:0").unwrap();
    spy.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", spy.local_addr().unwrap());
    let cases: [(&[&str], &str); 6] = [
        (&["deploy", "--app", "live", "--env", "prod"], "--image"),
        (
            &["deploy", "--app", "live", "--env", "prod", "--image", "x:1"],
            "--id",
        ),
        (
            &[
                "deploy",
                "--app",
                "live",
                "--env",
                "prod",
                "--image",
                "x:1",
                "--id",
                "a",
                "--strategy",
                "Bogus",
            ],
            "--strategy",
        ),
        (
            &[
                "deploy", "--app", "live; rm", "--env", "prod", "--image", "x:1", "--id", "a",
            ],
            "--app",
        ),
        (&["status", "--app", "live"], "--env"),
        (
            &[
                "rollback", "--app", "live", "--env", "prod", "--reason", " ",
            ],
            "--reason",
        ),
    ];
    for (args, named) in cases {
        let out = cutover(args, &endpoint);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(named),
            "{args:?} should name {named}: {stderr}"
        );
    }
    assert!(spy.accept().is_err(), "a bad invocation reached AWS");
}

#[test]
fn help_documents_the_exit_codes_and_exits_0() {
    let out = cutover(&["deploy", "--help"], "http://127.0.0.1:9");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("2 rolled back") && help.contains("4 refused"),
        "{help}"
    );
}

#[test]
fn a_migration_spec_with_an_injected_identifier_exits_1_without_calling_aws() {
    let spy = TcpListener::bind("127.0.0.1:0").unwrap();
    spy.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", spy.local_addr().unwrap());
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../local/migrate/tickets-spec.json"
    );
    let mut spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
    spec["source"] = serde_json::json!("events; DROP TABLE x");
    spec["target"]["columns"][4]["type"] = serde_json::json!("bigint); DROP TABLE x; --");
    let path = std::env::temp_dir().join(format!("injected-{}.json", std::process::id()));
    std::fs::write(&path, spec.to_string()).unwrap();
    let out = cutover(
        &["migrate", "--spec", path.to_str().unwrap(), "--wait"],
        &endpoint,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("source: \"events; DROP TABLE x\" is not an identifier"),
        "{stderr}"
    );
    assert!(stderr.contains("target.columns[4].type:"), "{stderr}");
    assert!(spy.accept().is_err(), "a refused spec reached AWS");
}
