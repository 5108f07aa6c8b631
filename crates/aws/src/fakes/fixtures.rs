//! The service every function test deploys: app `live`, env `prod`, and traffic series for the judge.

use cutover_core::{GroupSeries, MetricRules, TargetConfig};

pub const LISTENER: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/live/1/2";
pub const BLUE_TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1";
pub const GREEN_TG: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2";

/// The target configuration of app `live`, env `prod`, in every function test: 1-second periods
/// that arrive at once, as in the local cloud.
pub fn sample_target() -> TargetConfig {
    let local = MetricRules {
        min_period_seconds: 1,
    };
    TargetConfig::from_json_with(
        &serde_json::json!({
            "cluster": "live-event",
            "services": {"blue": "svc-blue", "green": "svc-green"},
            "containerName": "app",
            "listenerArn": LISTENER,
            "targetGroups": {"blue": BLUE_TG, "green": GREEN_TG},
            "loadBalancer": "app/live/1",
            "alarms": ["live-5xx"],
            "healthPolicy": {
                "max5xxRate": 0.02, "maxP95Ms": 500, "minRequestCount": 50,
                "periodSeconds": 1, "metricDelaySeconds": 0, "verifyTimeoutSeconds": 120
            },
            "defaultStrategy": "Canary10Percent5Minutes"
        }),
        local,
    )
    .expect("sample target is valid")
}

/// One-second periods `[from_s, to_s)` of an ALB target group serving `requests` a period with a
/// fixed 5XX share and latency around `p95_ms` (a deterministic ±5 % wobble, so the judge has spread).
pub fn steady_series(
    from_s: i64,
    to_s: i64,
    requests: f64,
    error_share: f64,
    p95_ms: f64,
) -> GroupSeries {
    let mut s = GroupSeries::default();
    for t in from_s..to_s {
        let wobble = 1.0 + 0.05 * (((t * 7919) % 21) as f64 - 10.0) / 10.0;
        s.requests.insert(t, requests);
        if error_share > 0.0 {
            s.errors_5xx.insert(t, (requests * error_share).round());
        }
        s.p95_ms.insert(t, p95_ms * wobble);
        s.p99_ms.insert(t, 1.4 * p95_ms * wobble);
        s.mean_ms.insert(t, 0.5 * p95_ms * wobble);
    }
    s
}
