//! The subcommands that make no AWS call: what they print and how they exit.

use std::process::{Command, Output};

fn cutover(args: &[&str], floor: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cutover"));
    cmd.args(args).env_remove("METRIC_PERIOD_FLOOR_SECONDS");
    if let Some(f) = floor {
        cmd.env("METRIC_PERIOD_FLOOR_SECONDS", f);
    }
    cmd.output().expect("run cutover")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn plan_prints_how_long_each_step_takes_on_aws() {
    let out = cutover(&["plan", "--strategy", "Canary10Percent5Minutes"], None);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    for expected in [
        "step  1: candidate  10%  bake   300 s  (t+0 s; on AWS verified by t+480 s)",
        "step  2: candidate 100%  bake     0 s  (t+300 s; on AWS verified by t+960 s)",
        "on AWS: about 16 min",
    ] {
        assert!(t.contains(expected), "{expected} in\n{t}");
    }
}

#[test]
fn check_target_holds_alb_periods_to_60_s_unless_the_floor_is_lowered() {
    let dir = std::env::temp_dir().join(format!("cutover-check-target-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("target.json");
    let tg = |c: &str, id: &str| {
        format!("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{c}/{id}")
    };
    let target = serde_json::json!({
        "cluster": "live-event",
        "services": {"blue": "svc-blue", "green": "svc-green"},
        "containerName": "app",
        "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/live/1/2",
        "targetGroups": {"blue": tg("blue", "1"), "green": tg("green", "2")},
        "loadBalancer": "app/live/1",
        "healthPolicy": {"periodSeconds": 1, "metricDelaySeconds": 1, "verifyTimeoutSeconds": 30}
    });
    std::fs::write(&file, target.to_string()).unwrap();
    let path = file.to_str().unwrap();
    let aws = cutover(&["check-target", path], None);
    assert_eq!(aws.status.code(), Some(1), "{}", text(&aws));
    assert!(
        text(&aws).contains("healthPolicy.periodSeconds: must be at least 60"),
        "{}",
        text(&aws)
    );
    let local = cutover(&["check-target", path], Some("1"));
    assert!(local.status.success(), "{}", text(&local));
    let bad = cutover(&["check-target", path], Some("90"));
    assert!(
        text(&bad).contains("METRIC_PERIOD_FLOOR_SECONDS"),
        "{}",
        text(&bad)
    );
    std::fs::remove_dir_all(&dir).ok();
}
