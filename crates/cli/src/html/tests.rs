use super::*;
use cutover_core::{Colour, Deployment, Ledger, Release, VerdictRecord, Weights};

fn rolled_back(image: &str) -> Deployment {
    let mut l = Ledger::new("live", "prod", Colour::Blue, None);
    l.acquire("bad-1", image, None, 1_000).unwrap();
    let release = Release {
        task_definition_arn: "arn:aws:ecs:us-east-1:1:task-definition/live:3".into(),
        image: image.into(),
    };
    l.set_release("bad-1", release, 1_100).unwrap();
    l.record_shift(
        "bad-1",
        0,
        Weights::with_candidate(Colour::Green, 10),
        2_000,
    )
    .unwrap();
    l.record_verifying("bad-1", 20_000).unwrap();
    l.record_verdict(
        "bad-1",
        VerdictRecord {
            step_index: Some(0),
            candidate_weight: 10,
            verdict: "Unhealthy".into(),
            score: Some(40.0),
            lines: vec!["5XX rate 50 % > 1 % <b>".into()],
            at_ms: 21_000,
        },
    )
    .unwrap();
    l.claim_rollback("step failed", "step", Some("HealthFailed"), 21_500)
        .unwrap();
    l.traffic_restored(21_700);
    l.finish_rollback(22_000).unwrap();
    l.deployment.unwrap()
}

/// The `y` values of the longest polyline stroked `stroke` in `svg`, deduplicated in order.
fn levels(svg: &str, stroke: &str) -> Vec<i64> {
    let longest = svg
        .split("<polyline")
        .skip(1)
        .filter(|p| p.contains(&format!("stroke=\"{stroke}\"")))
        .map(|p| {
            p.split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .max_by_key(|pts| pts.len())
        .unwrap_or_default();
    let mut ys: Vec<i64> = Vec::new();
    for pair in longest.split_whitespace() {
        let y: f64 = pair.split(',').nth(1).unwrap().parse().unwrap();
        if ys.last() != Some(&(y.round() as i64)) {
            ys.push(y.round() as i64);
        }
    }
    ys
}

#[test]
fn the_timeline_steps_each_colour_to_its_share_and_back_at_the_rollback() {
    let svg = charts::timeline(&Timeline::of(&rolled_back("img:3"))).unwrap();
    let green = levels(&svg, &charts::hex(Colour::Green));
    let blue = levels(&svg, &charts::hex(Colour::Blue));
    assert_eq!(green.len(), 3, "0 → 10 → 0: {green:?}");
    assert_eq!((green[0], green[2]), (green[0], green[0]));
    assert_eq!(blue.len(), 3, "100 → 90 → 100: {blue:?}");
    // SVG y grows downwards: 100 % is the top, and 10 % is a tenth of the way up from 0 %.
    let (zero, hundred) = (green[0], blue[0]);
    assert!(hundred < zero);
    let tenth = (zero - green[1]) as f64 / (zero - hundred) as f64;
    assert!((tenth - 0.1).abs() < 0.02, "{tenth}");
    assert_eq!(blue[1] - hundred, zero - green[1], "90 % mirrors 10 %");
}

#[test]
fn record_text_is_escaped_and_the_page_fetches_nothing() {
    let d = rolled_back("evil\"><script>alert(1)</script>");
    let sections = [Section {
        timeline: Timeline::of(&d),
        metrics: Err("no <metrics>".into()),
    }];
    let page = page("live", "prod", 30_000, &Summary::of(&[d]), &sections).unwrap();
    assert!(!page.contains("<script"), "{page}");
    assert!(page.contains("evil&quot;&gt;&lt;script&gt;"));
    assert!(page.contains("5XX rate 50 % &gt; 1 % &lt;b&gt;"));
    assert!(page.contains("No metric charts: no &lt;metrics&gt;"));
    for fetched in ["src=", "href=\"http", "@import", "url("] {
        assert!(!page.contains(fetched), "{fetched}");
    }
    assert!(page.contains("data-status=\"RolledBack\""));
    assert!(page.contains("data-success-rate=\"0 %\""));
}

#[test]
fn the_metric_charts_draw_the_candidate_and_the_baseline() {
    let d = rolled_back("img:3");
    let t = Timeline::of(&d);
    let mut candidate = GroupSeries::default();
    let mut baseline = GroupSeries::default();
    for s in 1..=20 {
        candidate.requests.insert(s, 10.0);
        candidate.errors_5xx.insert(s, 5.0);
        baseline.requests.insert(s, 90.0);
    }
    let rate = error_rate(&candidate);
    assert_eq!(rate.get(&3), Some(&50.0));
    assert_eq!(error_rate(&baseline).get(&3), Some(&0.0));
    let svg = charts::metric(
        &t,
        &charts::Pair {
            title: "5XX",
            unit: "%",
            candidate: rate,
            baseline: error_rate(&baseline),
        },
    )
    .unwrap();
    assert_eq!(
        levels(&svg, &charts::hex(Colour::Green)).len(),
        1,
        "flat at 50 %"
    );
    assert!(svg.contains("candidate (green)") && svg.contains("baseline (blue)"));
}

#[test]
fn a_drill_and_the_hooks_that_ran_are_on_the_page() {
    let mut d = rolled_back("img:3");
    d.drill = Some(
        cutover_core::drill::DrillRecord::from_json(&serde_json::json!({"fault": "errors"}), 10)
            .unwrap(),
    );
    d.hooks = vec![cutover_core::ledger::HookRecord {
        stage: cutover_core::target::HookStage::AfterRollback,
        function: "cutover-hook-page<me>".into(),
        status: "Succeeded".into(),
        reason: Some("paged <on-call>".into()),
        attempts: 1,
        started_at_ms: 22_000,
        updated_at_ms: 22_400,
    }];
    let sections = [Section {
        timeline: Timeline::of(&d),
        metrics: Err("none".into()),
    }];
    let page = page("live", "prod", 30_000, &Summary::of(&[d]), &sections).unwrap();
    assert!(
        page.contains(
            "Rollback drill: errors at 10 %: detected (step) in 20 s, traffic back in 0.2 s."
        ),
        "{page}"
    );
    assert!(page.contains("data-detected=\"true\""));
    assert!(page.contains("<td>afterRollback</td><td>cutover-hook-page&lt;me&gt;</td>"));
    assert!(page.contains("paged &lt;on-call&gt;"));
    // A deployment that is no drill and ran no hook shows neither.
    let plain = rolled_back("img:4");
    let sections = [Section {
        timeline: Timeline::of(&plain),
        metrics: Err("none".into()),
    }];
    let html = super::page("live", "prod", 30_000, &Summary::of(&[plain]), &sections).unwrap();
    assert!(!html.contains("class=\"drill\"") && !html.contains("class=\"hooks\""));
}
