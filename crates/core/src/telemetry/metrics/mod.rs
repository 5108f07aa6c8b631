//! Cutover's CloudWatch metrics, as embedded-metric-format (EMF) log lines: every metric any function
//! writes is in [`CATALOGUE`] with its unit and dimension sets, so the dashboard's test can hold each
//! widget's query against what the code emits (docs/monitoring.md, "Metrics").
//!
//! Dimensions are bounded by design: `App` and `Env`, and at most one more drawn from a closed set
//! (colour, verdict, trigger, outcome, phase). A deployment id or an image would make one metric per
//! release; they travel as properties of the log line, searchable in Logs Insights, never as
//! dimensions.

use serde_json::{json, Map, Value};

pub const NAMESPACE: &str = "Cutover";

/// The units EMF accepts that Cutover uses (the CloudWatch `StandardUnit` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Percent,
    None,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Percent => "Percent",
            Unit::None => "None",
        }
    }
}

/// A metric and the dimension sets it is published under. Every set starts with `App`, `Env`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    pub name: &'static str,
    pub unit: Unit,
    pub dimension_sets: &'static [&'static [&'static str]],
}

const APP_ENV: &[&str] = &["App", "Env"];

const fn def(
    name: &'static str,
    unit: Unit,
    dimension_sets: &'static [&'static [&'static str]],
) -> MetricDef {
    MetricDef {
        name,
        unit,
        dimension_sets,
    }
}

pub const DEPLOYMENTS_STARTED: MetricDef = def("DeploymentsStarted", Unit::Count, &[APP_ENV]);
pub const DEPLOYMENTS_PROMOTED: MetricDef = def("DeploymentsPromoted", Unit::Count, &[APP_ENV]);
pub const DEPLOYMENTS_ROLLED_BACK: MetricDef = def(
    "DeploymentsRolledBack",
    Unit::Count,
    &[APP_ENV, &["App", "Env", "Trigger"]],
);
pub const DEPLOYMENTS_FAILED: MetricDef = def("DeploymentsFailed", Unit::Count, &[APP_ENV]);
/// From the claim to the final status, per outcome and over all of them.
pub const DEPLOYMENT_DURATION: MetricDef = def(
    "DeploymentDurationMs",
    Unit::Milliseconds,
    &[APP_ENV, &["App", "Env", "Outcome"]],
);
/// From the request that started the rollback to 100 % live read back on the listener.
pub const TIME_TO_ROLLBACK: MetricDef = def("TimeToRollbackMs", Unit::Milliseconds, &[APP_ENV]);
/// From the alarm's state change (CloudWatch's own timestamp) to 100 % live read back.
pub const ALARM_TO_RESTORED: MetricDef =
    def("AlarmToTrafficRestoredMs", Unit::Milliseconds, &[APP_ENV]);
pub const STEP_VERDICTS: MetricDef =
    def("StepVerdicts", Unit::Count, &[&["App", "Env", "Verdict"]]);
pub const CANARY_SCORE: MetricDef = def("CanaryScore", Unit::None, &[APP_ENV]);
/// Each colour's share after every listener change: one line per colour, so a graph of both is the
/// split over time.
pub const TRAFFIC_WEIGHT: MetricDef =
    def("TrafficWeight", Unit::Percent, &[&["App", "Env", "Colour"]]);
pub const MIGRATION_ROWS_COPIED: MetricDef = def("MigrationRowsCopied", Unit::Count, &[APP_ENV]);
pub const MIGRATION_PHASE_DURATION: MetricDef = def(
    "MigrationPhaseDurationMs",
    Unit::Milliseconds,
    &[&["App", "Env", "Phase"]],
);
pub const MIGRATION_VERIFY_MISMATCHES: MetricDef =
    def("MigrationVerifyMismatches", Unit::Count, &[APP_ENV]);

/// Written by the release function in the home region: one release across regions.
pub const RELEASES_STARTED: MetricDef = def("ReleasesStarted", Unit::Count, &[APP_ENV]);
pub const RELEASES_SUCCEEDED: MetricDef = def("ReleasesSucceeded", Unit::Count, &[APP_ENV]);
pub const RELEASES_STOPPED: MetricDef = def("ReleasesStopped", Unit::Count, &[APP_ENV]);
pub const RELEASES_ROLLED_BACK: MetricDef = def("ReleasesRolledBack", Unit::Count, &[APP_ENV]);
pub const RELEASES_FAILED: MetricDef = def("ReleasesFailed", Unit::Count, &[APP_ENV]);
pub const RELEASE_DURATION: MetricDef = def(
    "ReleaseDurationMs",
    Unit::Milliseconds,
    &[APP_ENV, &["App", "Env", "Outcome"]],
);

pub const CATALOGUE: &[MetricDef] = &[
    DEPLOYMENTS_STARTED,
    DEPLOYMENTS_PROMOTED,
    DEPLOYMENTS_ROLLED_BACK,
    DEPLOYMENTS_FAILED,
    DEPLOYMENT_DURATION,
    TIME_TO_ROLLBACK,
    ALARM_TO_RESTORED,
    STEP_VERDICTS,
    CANARY_SCORE,
    TRAFFIC_WEIGHT,
    MIGRATION_ROWS_COPIED,
    MIGRATION_PHASE_DURATION,
    MIGRATION_VERIFY_MISMATCHES,
    RELEASES_STARTED,
    RELEASES_SUCCEEDED,
    RELEASES_STOPPED,
    RELEASES_ROLLED_BACK,
    RELEASES_FAILED,
    RELEASE_DURATION,
];

/// One EMF document: metrics of one service at one moment. Metrics with the same dimension sets share
/// a directive.
#[derive(Debug, Clone, PartialEq)]
pub struct Emf {
    at_ms: u64,
    dimensions: Vec<(&'static str, String)>,
    values: Vec<(MetricDef, f64)>,
    properties: Map<String, Value>,
}

impl Emf {
    pub fn new(app: &str, env: &str, at_ms: u64) -> Emf {
        Emf {
            at_ms,
            dimensions: vec![("App", app.to_string()), ("Env", env.to_string())],
            values: Vec::new(),
            properties: Map::new(),
        }
    }

    /// A dimension beyond `App` and `Env`, for the metrics whose sets name it.
    pub fn by(mut self, name: &'static str, value: impl Into<String>) -> Emf {
        self.dimensions.push((name, value.into()));
        self
    }

    pub fn with(mut self, metric: MetricDef, value: f64) -> Emf {
        self.values.push((metric, value));
        self
    }

    /// Context for a person reading the log line (a deployment id, say): not a dimension.
    pub fn property(mut self, name: &str, value: impl Into<Value>) -> Emf {
        self.properties.insert(name.to_string(), value.into());
        self
    }

    pub fn metrics(&self) -> impl Iterator<Item = (&MetricDef, f64)> {
        self.values.iter().map(|(m, v)| (m, *v))
    }

    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The log line. A dimension set naming a dimension this document lacks is left out, so a
    /// caller that gives no trigger still publishes the `App, Env` aggregate.
    pub fn line(&self) -> String {
        let mut root = self.properties.clone();
        let mut directives: Vec<(Vec<Vec<&str>>, Vec<Value>)> = Vec::new();
        for (m, v) in &self.values {
            let sets: Vec<Vec<&str>> = m
                .dimension_sets
                .iter()
                .filter(|set| set.iter().all(|d| self.dimension(d).is_some()))
                .map(|set| set.to_vec())
                .collect();
            if sets.is_empty() {
                continue;
            }
            let metric = json!({"Name": m.name, "Unit": m.unit.name()});
            match directives.iter_mut().find(|(s, _)| *s == sets) {
                Some((_, metrics)) => metrics.push(metric),
                None => directives.push((sets, vec![metric])),
            }
            root.insert(m.name.to_string(), json!(v));
        }
        for (name, value) in &self.dimensions {
            root.insert(name.to_string(), json!(value));
        }
        let directives: Vec<Value> = directives
            .into_iter()
            .map(|(sets, metrics)| {
                json!({"Namespace": NAMESPACE, "Dimensions": sets, "Metrics": metrics})
            })
            .collect();
        root.insert(
            "_aws".into(),
            json!({"Timestamp": self.at_ms, "CloudWatchMetrics": directives}),
        );
        Value::Object(root).to_string()
    }
}

/// Whether `line` is an EMF document CloudWatch Logs would extract, held to AWS's specification: a
/// JSON object of at most 256 KB whose `_aws` has a millisecond `Timestamp` and directives, each with
/// a namespace, dimension sets of at most 30 names that are string members of the root, and at most
/// 100 metrics that are number members (or arrays of at most 100 numbers). The fake telemetry checks
/// every line a handler writes with it.
pub fn check_line(line: &str) -> Result<(), String> {
    const MAX_BYTES: usize = 256 * 1024;
    if line.len() > MAX_BYTES || line.contains('\n') {
        return Err("an EMF line is one log event of at most 256 KB".into());
    }
    let root: Map<String, Value> =
        serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let meta = root
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("no _aws object")?;
    meta.get("Timestamp")
        .and_then(Value::as_u64)
        .ok_or("_aws.Timestamp must be milliseconds since the epoch")?;
    let directives = meta
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .filter(|d| !d.is_empty())
        .ok_or("_aws.CloudWatchMetrics must be a non-empty array")?;
    for d in directives {
        let ns = d["Namespace"].as_str().unwrap_or_default();
        if ns.is_empty() || ns.len() > 255 || ns.starts_with(':') {
            return Err(format!("namespace {ns:?} is not 1 to 255 characters"));
        }
        for set in d["Dimensions"]
            .as_array()
            .ok_or("Dimensions must be an array")?
        {
            let set = set.as_array().ok_or("a dimension set must be an array")?;
            if set.len() > 30 {
                return Err("a dimension set holds at most 30 dimensions".into());
            }
            for name in set {
                let name = name.as_str().ok_or("a dimension name must be a string")?;
                match root.get(name).and_then(Value::as_str) {
                    Some(v) if !v.is_empty() && v.len() <= 1024 => {}
                    _ => {
                        return Err(format!(
                            "dimension {name} is not a string member of 1 to 1024 characters"
                        ))
                    }
                }
            }
        }
        let metrics = d["Metrics"].as_array().ok_or("Metrics must be an array")?;
        if metrics.len() > 100 {
            return Err("a directive holds at most 100 metrics".into());
        }
        for m in metrics {
            let name = m["Name"]
                .as_str()
                .filter(|n| !n.is_empty() && n.len() <= 255);
            let name = name.ok_or("a metric needs a Name of 1 to 255 characters")?;
            let numeric = match root.get(name) {
                Some(Value::Number(_)) => true,
                Some(Value::Array(a)) => a.len() <= 100 && a.iter().all(Value::is_number),
                _ => false,
            };
            if !numeric {
                return Err(format!("metric {name} is not a number member of the root"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
