//! Monitoring in the local cloud: after one promoted and one rolled-back deployment, the dashboard the
//! stack deployed answers through GetMetricData (success rate 50 %, one rollback event), every metric
//! it queries is one the functions emit or the load balancer publishes, and a rule on the default bus
//! heard every state change of both deployments, in order. `cutover report` over both, loaded in
//! headless Chromium, draws the weights each one went through.
//!
//! ministack keeps the functions' stdout but does not extract EMF (local/emf_forwarder.py does) and
//! does not evaluate metric math: an expression is evaluated here over the metrics it names, the way
//! CloudWatch would, when ministack answers it with an error.

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use cutover_core::telemetry::changes::DEPLOYMENT_DETAIL_TYPE;
use cutover_core::telemetry::metrics::CATALOGUE;
use cutover_core::Weights;
use cutover_scenarios::events::Subscriber;
use cutover_scenarios::{one_at_a_time, unique, LocalCloud};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

mod business;
mod expr;
mod report;

/// What AWS/ApplicationELB publishes per target group (AWS's ALB CloudWatch metrics page).
const ALB_TARGET_METRICS: &[&str] = &[
    "RequestCount",
    "HTTPCode_Target_5XX_Count",
    "TargetResponseTime",
];
const ALB_TARGET_DIMENSIONS: &[&str] = &["LoadBalancer", "TargetGroup"];

/// One row of a widget's `metrics`: a metric with its options, or an expression.
#[derive(Debug, Clone)]
enum Row {
    Metric {
        id: String,
        namespace: String,
        name: String,
        dims: Vec<(String, String)>,
        stat: String,
    },
    Expression {
        id: String,
        expression: String,
    },
}

fn rows(widget: &Value) -> Vec<Row> {
    let p = &widget["properties"];
    let widget_stat = p["stat"].as_str().unwrap_or("Average");
    p["metrics"]
        .as_array()
        .expect("a metric widget lists metrics")
        .iter()
        .map(|row| {
            let row = row.as_array().expect("a row is an array");
            let options = row
                .last()
                .filter(|v| v.is_object())
                .cloned()
                .unwrap_or(json!({}));
            let id = options["id"]
                .as_str()
                .expect("every row has an id")
                .to_string();
            if let Some(e) = options["expression"].as_str() {
                return Row::Expression {
                    id,
                    expression: e.to_string(),
                };
            }
            let text: Vec<&str> = row.iter().filter_map(Value::as_str).collect();
            let dims = text[2..]
                .chunks(2)
                .map(|p| (p[0].to_string(), p[1].to_string()))
                .collect();
            Row::Metric {
                id,
                namespace: text[0].to_string(),
                name: text[1].to_string(),
                dims,
                stat: options["stat"].as_str().unwrap_or(widget_stat).to_string(),
            }
        })
        .collect()
}

/// The metric is one Cutover writes under exactly these dimensions, or one the balancer publishes.
fn known(namespace: &str, name: &str, dims: &[(String, String)]) -> Result<(), String> {
    let names: BTreeSet<&str> = dims.iter().map(|(n, _)| n.as_str()).collect();
    match namespace {
        "Cutover" => {
            let def = CATALOGUE.iter().find(|m| m.name == name).ok_or(format!(
                "Cutover/{name} is not a metric the functions write"
            ))?;
            let emitted = def
                .dimension_sets
                .iter()
                .any(|set| set.iter().copied().collect::<BTreeSet<_>>() == names);
            emitted.then_some(()).ok_or(format!(
                "Cutover/{name} is never written with dimensions {names:?}"
            ))
        }
        "AWS/ApplicationELB" => {
            let ok = ALB_TARGET_METRICS.contains(&name)
                && names == ALB_TARGET_DIMENSIONS.iter().copied().collect();
            ok.then_some(()).ok_or(format!(
                "AWS/ApplicationELB/{name} by {names:?} is not published"
            ))
        }
        other => Err(format!(
            "namespace {other} is neither Cutover's nor the balancer's"
        )),
    }
}

/// Each query's values over [start, end), in one period: the query's sums (or stat) keyed by id, and
/// the expressions ministack could not answer.
async fn query(
    c: &LocalCloud,
    rows: &[Row],
    start: SystemTime,
    end: SystemTime,
) -> (BTreeMap<String, Vec<f64>>, Vec<(String, String)>) {
    let span = end.duration_since(start).unwrap().as_secs();
    let period = span.div_ceil(60).max(1) as i32 * 60;
    let queries = rows.iter().map(|r| match r {
        Row::Metric {
            id,
            namespace,
            name,
            dims,
            stat,
        } => {
            let metric = Metric::builder()
                .namespace(namespace)
                .metric_name(name)
                .set_dimensions(Some(
                    dims.iter()
                        .map(|(n, v)| Dimension::builder().name(n).value(v).build())
                        .collect(),
                ))
                .build();
            MetricDataQuery::builder()
                .id(id)
                .metric_stat(
                    MetricStat::builder()
                        .metric(metric)
                        .period(period)
                        .stat(stat)
                        .build(),
                )
                .build()
        }
        Row::Expression { id, expression } => MetricDataQuery::builder()
            .id(id)
            .expression(expression)
            .period(period)
            .build(),
    });
    let out = c
        .cloudwatch
        .get_metric_data()
        .set_metric_data_queries(Some(queries.collect()))
        .start_time(start.into())
        .end_time(end.into())
        .send()
        .await
        .expect("GetMetricData");
    let mut values = BTreeMap::new();
    let mut unanswered = Vec::new();
    for r in out.metric_data_results() {
        let id = r.id().unwrap_or_default().to_string();
        let is_expression = rows
            .iter()
            .any(|row| matches!(row, Row::Expression { id: e, .. } if *e == id));
        if is_expression && r.values().is_empty() {
            let why = r
                .messages()
                .iter()
                .filter_map(|m| m.value())
                .collect::<Vec<_>>()
                .join("; ");
            unanswered.push((id, why));
        } else {
            values.insert(id, r.values().to_vec());
        }
    }
    (values, unanswered)
}

/// A widget's single value: its visible expression, evaluated by CloudWatch or (where ministack
/// cannot) here over the values of the metrics it names.
async fn single_value(c: &LocalCloud, widget: &Value, start: SystemTime, end: SystemTime) -> f64 {
    let rows = rows(widget);
    let (values, unanswered) = query(c, &rows, start, end).await;
    let shown = rows
        .iter()
        .find(|r| matches!(r, Row::Expression { .. }))
        .or(rows.first())
        .unwrap();
    match shown {
        Row::Metric { id, .. } => values[id].iter().sum(),
        Row::Expression { id, expression } => match values.get(id) {
            Some(v) => v.iter().sum(),
            None => {
                assert!(
                    unanswered.iter().any(|(u, _)| u == id),
                    "expression {id} neither answered nor refused"
                );
                let sums = values
                    .iter()
                    .map(|(k, v)| (k.clone(), v.iter().sum()))
                    .collect();
                expr::eval(expression, &sums).unwrap_or_else(|e| panic!("{expression}: {e}"))
            }
        },
    }
}

/// The transitions of deployment `id`, chained from its start: each one leaves the status the one
/// before reached. Panics on a gap, a repeat or an event out of the chain.
fn chain(events: &[Value], id: &str) -> Vec<String> {
    let mine: Vec<&Value> = events
        .iter()
        .filter(|e| e["detail"]["deploymentId"] == id)
        .collect();
    let mut at = Value::Null;
    let mut out = Vec::new();
    for (i, e) in mine.iter().enumerate() {
        assert_eq!(e["source"], "cutover");
        assert_eq!(
            e["detail"]["from"], at,
            "event {i} of {id} does not follow the one before: {:#?}",
            mine
        );
        at = e["detail"]["to"].clone();
        out.push(at.as_str().unwrap().to_string());
    }
    out
}

#[tokio::test]
async fn the_dashboard_shows_one_promoted_and_one_rolled_back_deployment_and_a_rule_hears_each_change(
) {
    let _one = one_at_a_time().lock().await;
    let c = LocalCloud::for_deployments().await;
    let start = SystemTime::now() - Duration::from_secs(1);
    let subscriber = Subscriber::subscribe(&c, DEPLOYMENT_DETAIL_TYPE).await;
    let live = c.live_colour().await;

    let good = unique("good");
    let run = c
        .deploy(
            &good,
            &format!("public.ecr.aws/live-event/service:{good}"),
            json!("Canary10Percent5Minutes"),
            None,
            || async {},
        )
        .await;
    assert_eq!(run.status, "SUCCEEDED", "{:?} {:?}", run.error, run.cause);

    // The next candidate is the colour that was live: the alarm fires while it has 10 %.
    let bad = unique("bad");
    let steps =
        json!({"steps": [{"weight": 10, "bakeSeconds": 400}, {"weight": 100, "bakeSeconds": 0}]});
    let run = c
        .deploy(
            &bad,
            &format!("public.ecr.aws/live-event/service:{bad}"),
            steps,
            Some(Weights::with_candidate(live, 10)),
            || c.breach_5xx_alarm(),
        )
        .await;
    c.settle_5xx_alarm().await;
    assert_eq!(run.status, "ABORTED", "{:?} {:?}", run.error, run.cause);

    let finals = [(&good, "Promoted"), (&bad, "RolledBack")];
    let events = subscriber
        .received(&c, |got| {
            finals.iter().all(|(id, to)| {
                got.iter()
                    .any(|e| e["detail"]["deploymentId"] == **id && e["detail"]["to"] == *to)
            })
        })
        .await;
    let good_chain = chain(&events, &good);
    assert_eq!(good_chain.first().map(String::as_str), Some("Preparing"));
    assert_eq!(
        &good_chain[good_chain.len() - 2..],
        ["Promoting", "Promoted"]
    );
    assert!(
        good_chain.iter().filter(|s| *s == "Shifting").count() >= 2,
        "{good_chain:?}"
    );
    let bad_chain = chain(&events, &bad);
    assert_eq!(
        &bad_chain[bad_chain.len() - 2..],
        ["RollingBack", "RolledBack"],
        "{bad_chain:?}"
    );

    let name = c.output("DashboardName");
    let body = c
        .cloudwatch
        .get_dashboard()
        .dashboard_name(&name)
        .send()
        .await
        .expect("GetDashboard")
        .dashboard_body
        .unwrap();
    let body: Value = serde_json::from_str(&body).expect("the dashboard body is JSON");
    let widgets: BTreeMap<String, Value> = body["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["properties"]["title"].as_str().unwrap().to_string(),
                w.clone(),
            )
        })
        .collect();
    let alarms = widgets
        .values()
        .find(|w| w["type"] == "alarm")
        .expect("an alarm status widget");
    assert_eq!(alarms["properties"]["alarms"].as_array().unwrap().len(), 2);

    // The forwarder sends each line within a second of its write; the metrics are in when both
    // outcomes are.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (rate, rollbacks) = loop {
        let end = SystemTime::now() + Duration::from_secs(60);
        let rate = single_value(&c, &widgets["Deployment Success Rate"], start, end).await;
        let rollbacks = single_value(&c, &widgets["Rollback Events"], start, end).await;
        if (rate == 50.0 && rollbacks == 1.0) || std::time::Instant::now() > deadline {
            break (rate, rollbacks);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(
        (rate, rollbacks),
        (50.0, 1.0),
        "success rate and rollback events"
    );

    let end = SystemTime::now() + Duration::from_secs(60);
    for (title, w) in widgets.iter().filter(|(_, w)| w["type"] == "metric") {
        let rows = rows(w);
        let (values, _) = query(&c, &rows, start, end).await;
        // A metric an expression reads through FILL may have no data point (no 5XX at all).
        let filled: Vec<String> = rows
            .iter()
            .filter_map(|r| match r {
                Row::Expression { expression, .. } => Some(expr::filled(expression)),
                Row::Metric { .. } => None,
            })
            .flatten()
            .collect();
        for r in &rows {
            if let Row::Metric {
                id,
                namespace,
                name,
                dims,
                ..
            } = r
            {
                known(namespace, name, dims).unwrap_or_else(|e| panic!("{title}: {e}"));
                assert!(
                    !values[id].is_empty() || filled.contains(id),
                    "{title}: {namespace}/{name} {dims:?} has no data"
                );
            }
        }
    }

    // The report over both, as a person opens it: the page the CLI wrote, in a real browser.
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("monitoring-report");
    let (page, said) = report::write(&c, &dir, 2);
    assert_eq!(said["deployments"], 2, "{said}");
    let seen = report::in_browser(&page);
    assert_eq!(seen["consoleErrors"], json!([]), "{seen:#}");
    assert_eq!(
        seen["outsideRequests"],
        json!([]),
        "the page is self-contained"
    );
    assert_eq!(seen["successRate"], "50 %");
    let section = |id: &str| {
        seen["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no section for {id}: {seen:#}"))
            .clone()
    };
    let (g, b) = (section(&good), section(&bad));
    for (s, status) in [(&g, "Promoted"), (&b, "RolledBack")] {
        assert_eq!(s["status"], status);
        assert_eq!(s["charts"], 3, "timeline, 5XX rate and p95: {s:#}");
        assert_eq!(s["metricsNote"], Value::Null, "{s:#}");
    }
    // One verdict per step for the good one; the alarm beat the bad one's first verification.
    assert_eq!(g["verdicts"], 2, "{g:#}");
    report::assert_levels(&g["candidate"], &[0.0, 10.0, 100.0], "good candidate");
    report::assert_levels(&g["baseline"], &[100.0, 90.0, 0.0], "good baseline");
    report::assert_levels(&b["candidate"], &[0.0, 10.0, 0.0], "bad candidate");
    report::assert_levels(&b["baseline"], &[100.0, 90.0, 100.0], "bad baseline");
    // Back to 100 % live at the rollback: the drop is drawn where the rollback was asked for, plus
    // the time it took (the chart's x axis is read through its own tick labels).
    let requested = b["rollbackRequestedAtS"].as_f64().expect("a rollback line");
    let dropped = b["candidate"][2]["atS"].as_f64().unwrap();
    assert!(
        (requested - 0.5..requested + 5.0).contains(&dropped),
        "rollback asked at {requested:.1} s, traffic back at {dropped:.1} s"
    );
    assert!(
        std::fs::metadata(seen["screenshot"].as_str().unwrap())
            .unwrap()
            .len()
            > 10_000,
        "a screenshot next to the page"
    );
}
