//! Deployments while AWS misbehaves (issue 19, item 1). The functions reach the emulators through the
//! fault proxies local/up.sh starts (microburst, in front of ministack and of moto); a run gives both
//! proxies rules for one fault kind at one rate, scoped to the run's region by the SigV4 credential
//! scope, starts a deployment, follows it to its end, removes the rules and checks the invariants.
//! The test's own clients talk to the emulators directly, so what they read is never faulted.

use super::LocalCloud;
use aws_sdk_dynamodb::types::AttributeValue;
use cutover_core::traffic::Weights;
use cutover_core::Status;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// One kind of misbehaviour, injected on every call of the run's region at the run's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No rules: the baseline the extra time is measured against.
    None,
    /// Each service's throttling error in its own protocol (400, or 429 for Lambda's REST API).
    Throttle,
    /// 500 InternalFailure and 503 ServiceUnavailable, half each.
    ServerError,
    /// 0.2–6 s before the call is forwarded: past the SDK's 5-second attempt timeout now and then.
    Latency,
    /// The connection reset before the call is forwarded, or cut after it was (the write landed,
    /// the answer did not), half each.
    Reset,
    /// DynamoDB writes with a `ConditionExpression` held 2–8 s before they are forwarded: the
    /// ledger's optimistic writes landing after the caller gave up and retried.
    SlowConditionalWrite,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::None,
        Fault::Throttle,
        Fault::ServerError,
        Fault::Latency,
        Fault::Reset,
        Fault::SlowConditionalWrite,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::Throttle => "throttle",
            Fault::ServerError => "5xx",
            Fault::Latency => "latency",
            Fault::Reset => "reset",
            Fault::SlowConditionalWrite => "slow-ddb-write",
        }
    }

    pub fn parse(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }

    /// microburst rules (its control API's JSON) for `region` at probability `rate`.
    fn rules(self, region: &str, rate: f64) -> Vec<Value> {
        let rule = |extra: Value| {
            let mut r = json!({"region": region, "probability": rate});
            r.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            r
        };
        let error = |service: &str, code: &str, status: u16| {
            rule(
                json!({"service": service, "error": {"code": code, "status": status, "message": "Rate exceeded"}}),
            )
        };
        match self {
            Fault::None => vec![],
            // The SDK reads the code to classify throttling; each service's own spelling.
            Fault::Throttle => vec![
                error("dynamodb", "ProvisionedThroughputExceededException", 400),
                error("elasticloadbalancing", "Throttling", 400),
                error("lambda", "TooManyRequestsException", 429),
                error("*", "ThrottlingException", 400),
            ],
            Fault::ServerError => {
                let half = rate / 2.0;
                vec![
                    json!({"region": region, "service": "*", "probability": half,
                           "error": {"code": "InternalFailure", "status": 500, "message": "injected"}}),
                    json!({"region": region, "service": "*", "probability": half / (1.0 - half),
                           "error": {"code": "ServiceUnavailable", "status": 503, "message": "injected"}}),
                ]
            }
            Fault::Latency => vec![rule(
                json!({"service": "*", "latency": {"min": 200, "max": 6000}}),
            )],
            Fault::Reset => {
                let half = rate / 2.0;
                vec![
                    json!({"region": region, "service": "*", "probability": half, "reset": true}),
                    json!({"region": region, "service": "*", "probability": half / (1.0 - half),
                           "response": {"abort_frac": 0.0}}),
                ]
            }
            Fault::SlowConditionalWrite => vec![rule(
                json!({"service": "dynamodb", "body": "ConditionExpression", "latency": {"min": 2000, "max": 8000}}),
            )],
        }
    }
}

fn proxies() -> [String; 2] {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    [
        var("FAULT_PROXY_URL", "http://127.0.0.1:4570"),
        var("FAULT_PROXY_ELBV2_URL", "http://127.0.0.1:4571"),
    ]
}

/// microburst's control API (curl, as the other local-cloud helpers do); `None` when it refused.
fn try_control(proxy: &str, method: &str, body: &Value) -> Option<Value> {
    let out = std::process::Command::new("curl")
        .args(["-fsS", "-X", method, "-H", "Content-Type: application/json"])
        .args(["--data", &body.to_string()])
        .arg(format!("{proxy}/_microburst/rules"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap_or(Value::Null))
}

fn control(proxy: &str, method: &str, body: &Value) -> Value {
    try_control(proxy, method, body)
        .unwrap_or_else(|| panic!("fault proxy {proxy} refused {method} {body}"))
}

/// Rules in force on both proxies until `stop`, which says how many faults they injected, or until
/// it is dropped: a run that panics must not leave faults behind for the tests after it.
pub struct Injection {
    region: String,
    rule_ids: Vec<(String, u64)>,
    stopped: bool,
}

impl Drop for Injection {
    fn drop(&mut self) {
        if !self.stopped {
            for proxy in proxies() {
                try_control(&proxy, "DELETE", &json!([{"region": self.region}]));
            }
        }
    }
}

impl Injection {
    pub fn start(region: &str, fault: Fault, rate: f64) -> Injection {
        let mut rule_ids = Vec::new();
        for proxy in proxies() {
            let rules = fault.rules(region, rate);
            if rules.is_empty() {
                continue;
            }
            let added = control(&proxy, "PATCH", &Value::Array(rules));
            for r in added.as_array().into_iter().flatten() {
                rule_ids.push((proxy.clone(), r["id"].as_u64().unwrap_or_default()));
            }
        }
        Injection {
            region: region.into(),
            rule_ids,
            stopped: false,
        }
    }

    /// Remove the region's rules; the faults they fired.
    pub fn stop(mut self) -> u64 {
        self.stopped = true;
        let mut fired = 0;
        for proxy in proxies() {
            let rules = control(&proxy, "GET", &json!([]));
            for r in rules.as_array().into_iter().flatten() {
                let id = r["id"].as_u64().unwrap_or_default();
                if self.rule_ids.contains(&(proxy.clone(), id)) {
                    fired += r["fired_count"].as_u64().unwrap_or_default();
                }
            }
            control(&proxy, "DELETE", &json!([{"region": self.region}]));
        }
        fired
    }
}

/// What one deployment under faults ended as, and every invariant it broke.
#[derive(Debug)]
pub struct Outcome {
    pub id: String,
    pub status: Option<Status>,
    pub execution: String,
    pub seconds: f64,
    pub faults: u64,
    pub violations: Vec<String>,
    /// Why it ended as it did (the ledger's reason, or the rollback's first source).
    pub reason: Option<String>,
}

impl LocalCloud {
    /// A deployment of a good (or, `bad`, the simulator's bad profile) image with one canary step,
    /// under `fault` at `rate`, followed to its end; then the invariants.
    pub async fn chaos_run(&self, fault: Fault, rate: f64, bad: bool) -> Outcome {
        let id = super::unique(&format!(
            "{}{}-",
            fault.name(),
            if bad { "-bad" } else { "" }
        ));
        let image = format!("public.ecr.aws/live-event/service:{id}");
        let strategy = json!({"steps": [{"weight": 20, "bakeSeconds": 300}, {"weight": 100, "bakeSeconds": 0}]});
        let (app, env) = (self.seeded("app"), self.seeded("env"));
        let input = json!({"app": app, "env": env, "image": image, "deploymentId": id, "strategy": strategy});
        let started = Instant::now();
        let since_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            .saturating_sub(60_000);
        let injection = Injection::start(&self.region, fault, rate);
        let start = self
            .sfn
            .start_execution()
            .state_machine_arn(self.output("DeployStateMachineArn"))
            .name(cutover_core::execution_name::deployment(&app, &env, &id))
            .input(input.to_string())
            .send()
            .await;
        let mut violations = Vec::new();
        let arn = match start {
            Ok(out) => out.execution_arn,
            Err(e) => panic!("StartExecution (not faulted: the test's own client): {e:?}"),
        };
        // Long enough for every retry the machine allows under the worst fault; a run still going
        // then is stuck, which is what the invariant is about.
        let deadline = started + Duration::from_secs(300);
        let mut execution = String::from("RUNNING");
        while Instant::now() < deadline {
            let d = self
                .sfn
                .describe_execution()
                .execution_arn(&arn)
                .send()
                .await
                .expect("DescribeExecution");
            execution = d.status().as_str().to_string();
            if execution != "RUNNING" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let seconds = started.elapsed().as_secs_f64();
        let faults = injection.stop();
        if execution == "RUNNING" {
            violations.push(format!("execution still RUNNING after {seconds:.0} s"));
        }
        let status = self.check_invariants(&id, since_ms, &mut violations).await;
        let reason = self
            .ledger()
            .await
            .and_then(|l| l.deployment)
            .filter(|d| d.id == id)
            .and_then(|d| {
                d.rollback
                    .and_then(|r| r.sources.first().cloned())
                    .or(d.reason)
            });
        Outcome {
            id,
            status,
            execution,
            seconds,
            faults,
            violations,
            reason,
        }
    }

    /// The deployment final in the ledger, the listener all on the live colour, no test rule left,
    /// exactly one history record. Returns the ledger's status of the deployment.
    async fn check_invariants(
        &self,
        id: &str,
        since_ms: u128,
        violations: &mut Vec<String>,
    ) -> Option<Status> {
        let ledger = self.ledger().await;
        let deployment = ledger.as_ref().and_then(|l| l.deployment.as_ref());
        let status = match deployment {
            Some(d) if d.id == id => Some(d.status),
            other => {
                violations.push(format!(
                    "the ledger's deployment is {:?}, not {id}",
                    other.map(|d| &d.id)
                ));
                None
            }
        };
        if let Some(s) = status.filter(|s| !s.is_final()) {
            violations.push(format!("ledger status {s:?} is not final"));
        }
        if let Some(l) = &ledger {
            let weights = self.listener_weights().await;
            if weights != Weights::all_on(l.live_colour) {
                violations.push(format!(
                    "listener {weights:?} while the ledger says {} is live",
                    l.live_colour.as_str()
                ));
            }
        }
        let rules = self.test_rules().await;
        if !rules.is_empty() {
            violations.push(format!("{} test rule(s) left on the listener", rules.len()));
        }
        let records = self.history_records(id, since_ms).await.len();
        if records != 1 {
            violations.push(format!("{records} history records, not 1"));
        }
        status
    }

    /// Archived records of deployment `id` in the ledger table: those started since `since_ms`
    /// (the sort key is `DEPLOYMENT#<started ms, 13 digits>#<id>`), one page of few items.
    pub async fn history_records(
        &self,
        id: &str,
        since_ms: u128,
    ) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        let pk = format!("{}#{}", self.seeded("app"), self.seeded("env"));
        let out = self
            .dynamodb
            .query()
            .table_name(self.output("LedgerTableName"))
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .expression_attribute_values(
                ":from",
                AttributeValue::S(format!("DEPLOYMENT#{since_ms:013}")),
            )
            .expression_attribute_values(":to", AttributeValue::S("DEPLOYMENT#9".into()))
            .consistent_read(true)
            .send()
            .await
            .expect("Query on the ledger");
        out.items()
            .iter()
            .filter(|i| {
                i.get("sk")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|sk| sk.ends_with(&format!("#{id}")))
            })
            .cloned()
            .collect()
    }
}
