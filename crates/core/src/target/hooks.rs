//! Lifecycle hooks: a team's own Lambda functions, invoked at fixed points of a deployment, whose
//! answer decides whether it goes on. The contract (docs/hooks.md): Cutover sends
//! `{app, env, deploymentId, image, candidateColour, testEndpoint, stage, attempt}` and reads
//! `{status: Succeeded|Failed|InProgress, reason?, retryAfterSeconds?}`, or ECS's
//! `{hookStatus: SUCCEEDED|FAILED|IN_PROGRESS, callBackDelay?}`.

use crate::fields::Reader;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Only functions named so can be invoked: the functions' IAM policy grants `lambda:InvokeFunction`
/// on `function:cutover-hook-*` and nothing else, so a configuration naming another is refused here,
/// not by IAM in the middle of a deployment.
pub const HOOK_FUNCTION_PREFIX: &str = "cutover-hook-";
/// Lambda's limit on a function name.
const MAX_FUNCTION_NAME: usize = 64;
/// The bound, and ECS's: no deployment waits on a hook for more than an hour.
pub const MAX_HOOK_TIMEOUT_SECONDS: u64 = 3_600;
pub const DEFAULT_HOOK_TIMEOUT_SECONDS: u64 = 600;
/// ECS's default delay before asking an `IN_PROGRESS` hook again.
pub const DEFAULT_RETRY_SECONDS: u64 = 30;
/// However short the delays a hook asks for, a stage invokes it at most this often: it bounds the
/// execution's history (cutover_core::history) at 3 events per invocation.
pub const MAX_INVOCATIONS: u64 = 30;
/// What a hook's reason may take in the ledger, the history and the CLI.
pub const MAX_REASON: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HookStage {
    /// The test route forwards to the candidate; no production request has reached it.
    BeforeAllowTraffic,
    /// The last production shift is verified; the candidate is not promoted yet.
    AfterAllowTraffic,
    /// A rollback finished: traffic is on the live colour, the ledger says RolledBack. Invoked
    /// asynchronously by the rollback function; its answer is not read.
    AfterRollback,
}

impl HookStage {
    pub fn parse(s: &str) -> Option<HookStage> {
        match s {
            "beforeAllowTraffic" => Some(HookStage::BeforeAllowTraffic),
            "afterAllowTraffic" => Some(HookStage::AfterAllowTraffic),
            "afterRollback" => Some(HookStage::AfterRollback),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HookStage::BeforeAllowTraffic => "beforeAllowTraffic",
            HookStage::AfterAllowTraffic => "afterAllowTraffic",
            HookStage::AfterRollback => "afterRollback",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hook {
    /// A function name or ARN (optionally with a version or alias) under [`HOOK_FUNCTION_PREFIX`].
    pub function: String,
    /// From the stage's first invocation: past it, the hook counts as failed.
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hooks {
    pub before_allow_traffic: Option<Hook>,
    pub after_allow_traffic: Option<Hook>,
    /// Its `timeoutSeconds` is read but unused: the stage is not waited for.
    pub after_rollback: Option<Hook>,
    /// Where a hook reaches the candidate (the test listener's URL, or the production URL with the
    /// test header): passed to every hook as `testEndpoint`.
    pub test_endpoint: Option<String>,
}

impl Hooks {
    pub fn get(&self, stage: HookStage) -> Option<&Hook> {
        match stage {
            HookStage::BeforeAllowTraffic => self.before_allow_traffic.as_ref(),
            HookStage::AfterAllowTraffic => self.after_allow_traffic.as_ref(),
            HookStage::AfterRollback => self.after_rollback.as_ref(),
        }
    }
}

/// The function's name inside a name or an ARN (`arn:aws:lambda:r:a:function:NAME[:qualifier]`).
fn function_name(s: &str) -> Option<&str> {
    if !s.starts_with("arn:") {
        return Some(s);
    }
    let parts: Vec<&str> = s.split(':').collect();
    (matches!(parts.len(), 7 | 8) && parts[2] == "lambda" && parts[5] == "function")
        .then(|| parts[6])
}

fn is_valid_function(s: &str) -> bool {
    function_name(s).is_some_and(|n| {
        n.len() <= MAX_FUNCTION_NAME
            && n.len() > HOOK_FUNCTION_PREFIX.len()
            && n.starts_with(HOOK_FUNCTION_PREFIX)
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

impl Reader<'_> {
    pub(crate) fn hooks(&mut self) -> Hooks {
        let stages: Vec<String> = match self.value("hooks", false) {
            Some(Value::Object(o)) => o.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let mut r = self.child("hooks", false);
        for s in stages
            .iter()
            .filter(|s| HookStage::parse(s).is_none() && *s != "testEndpoint")
        {
            r.fail(
                s,
                "is not a stage Cutover runs hooks at (beforeAllowTraffic, afterAllowTraffic, \
                 afterRollback)",
            );
        }
        let mut one = |stage: &str| {
            let is_object = r.value(stage, false)?.is_object();
            let mut h = r.child(stage, false);
            if !is_object {
                return None;
            }
            let function = h.string("function", true);
            let timeout = h.integer(
                "timeoutSeconds",
                MAX_HOOK_TIMEOUT_SECONDS,
                DEFAULT_HOOK_TIMEOUT_SECONDS,
            );
            if timeout == 0 {
                h.fail("timeoutSeconds", "must be at least 1");
            }
            let function = function?;
            if !is_valid_function(&function) {
                h.fail(
                    "function",
                    format!(
                        "must be a Lambda function name or ARN whose name starts with \
                         {HOOK_FUNCTION_PREFIX} (at most {MAX_FUNCTION_NAME} letters, digits, - \
                         and _): Cutover may invoke only those, got \"{function}\""
                    ),
                );
                return None;
            }
            Some(Hook {
                function,
                timeout_seconds: timeout,
            })
        };
        let before_allow_traffic = one("beforeAllowTraffic");
        let after_allow_traffic = one("afterAllowTraffic");
        let after_rollback = one("afterRollback");
        let test_endpoint = r.string("testEndpoint", false);
        if let Some(url) = &test_endpoint {
            let ok = (url.starts_with("http://") || url.starts_with("https://"))
                && url.len() <= 2_048
                && !url.chars().any(char::is_whitespace);
            if !ok {
                r.fail(
                    "testEndpoint",
                    format!("must be an http:// or https:// URL, got \"{url}\""),
                );
            }
        }
        Hooks {
            before_allow_traffic,
            after_allow_traffic,
            after_rollback,
            test_endpoint,
        }
    }
}

/// What a hook said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Succeeded,
    Failed(String),
    InProgress { retry_after_seconds: Option<u64> },
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_REASON) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

impl Answer {
    /// Cutover's shape or ECS's. Anything else is a failure that says what came back, as ECS treats
    /// a missing `hookStatus`: a hook that cannot answer must not let a release through.
    pub fn parse(v: &Value) -> Answer {
        let reason = v.get("reason").and_then(Value::as_str).map(clip);
        let (status, delay) = match (v.get("status"), v.get("hookStatus")) {
            (Some(Value::String(s)), _) => (s.as_str(), v.get("retryAfterSeconds")),
            (None, Some(Value::String(s))) => (s.as_str(), v.get("callBackDelay")),
            _ => {
                let shape = clip(&v.to_string());
                return Answer::Failed(format!(
                    "the hook answered without a status or hookStatus: {shape}"
                ));
            }
        };
        match status {
            "Succeeded" | "SUCCEEDED" => Answer::Succeeded,
            "Failed" | "FAILED" => {
                Answer::Failed(reason.unwrap_or_else(|| "the hook answered Failed".into()))
            }
            "InProgress" | "IN_PROGRESS" => Answer::InProgress {
                retry_after_seconds: delay.and_then(Value::as_u64),
            },
            other => Answer::Failed(format!(
                "the hook answered an unknown status \"{}\"",
                clip(other)
            )),
        }
    }
}

/// What the deployment does after an answer (or after no answer within the invocation's time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Proceed,
    /// Ask again after this many seconds.
    Wait(u64),
    Fail(String),
}

/// `started_ms`: the stage's first invocation; `answer`: `None` when the invocation did not answer
/// in time.
pub fn decide(hook: &Hook, answer: Option<&Answer>, started_ms: u64, now_ms: u64) -> Next {
    let deadline = started_ms + hook.timeout_seconds * 1_000;
    let timed_out = || {
        Next::Fail(format!(
            "hook {} did not succeed within its timeout of {} s",
            hook.function, hook.timeout_seconds
        ))
    };
    match answer {
        Some(Answer::Failed(reason)) => Next::Fail(format!("hook {}: {reason}", hook.function)),
        // A success that arrives after the deadline is as late as no answer at all.
        _ if now_ms >= deadline => timed_out(),
        Some(Answer::Succeeded) => Next::Proceed,
        Some(Answer::InProgress {
            retry_after_seconds,
        }) => {
            let floor = hook.timeout_seconds.div_ceil(MAX_INVOCATIONS).max(1);
            let asked = retry_after_seconds
                .unwrap_or(DEFAULT_RETRY_SECONDS)
                .max(floor);
            let left = (deadline - now_ms).div_ceil(1_000);
            Next::Wait(asked.min(left))
        }
        None => Next::Wait(hook.timeout_seconds.div_ceil(MAX_INVOCATIONS).max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hook(timeout: u64) -> Hook {
        Hook {
            function: "cutover-hook-smoke".into(),
            timeout_seconds: timeout,
        }
    }

    #[test]
    fn both_answer_shapes_are_read() {
        assert_eq!(
            Answer::parse(&json!({"status": "Succeeded"})),
            Answer::Succeeded
        );
        assert_eq!(
            Answer::parse(&json!({"hookStatus": "SUCCEEDED"})),
            Answer::Succeeded
        );
        assert_eq!(
            Answer::parse(&json!({"hookStatus": "IN_PROGRESS", "callBackDelay": 60})),
            Answer::InProgress {
                retry_after_seconds: Some(60)
            }
        );
        assert_eq!(
            Answer::parse(&json!({"status": "Failed", "reason": "smoke: GET / gave 500"})),
            Answer::Failed("smoke: GET / gave 500".into())
        );
        assert!(
            matches!(Answer::parse(&json!({"ok": true})), Answer::Failed(r) if r.contains("without a status"))
        );
        assert!(matches!(Answer::parse(&json!("done")), Answer::Failed(_)));
        assert!(
            matches!(Answer::parse(&json!({"status": "Maybe"})), Answer::Failed(r) if r.contains("Maybe"))
        );
        let long = "x".repeat(10_000);
        let Answer::Failed(r) = Answer::parse(&json!({"status": "Failed", "reason": long})) else {
            panic!()
        };
        assert!(r.chars().count() <= MAX_REASON + 1);
    }

    #[test]
    fn in_progress_waits_what_was_asked_within_the_floor_and_the_deadline() {
        let h = hook(600);
        let wait = |d: Option<u64>, now| {
            decide(
                &h,
                Some(&Answer::InProgress {
                    retry_after_seconds: d,
                }),
                0,
                now,
            )
        };
        assert_eq!(wait(None, 0), Next::Wait(30), "ECS's default");
        assert_eq!(wait(Some(1), 0), Next::Wait(20), "600 s / 30 invocations");
        assert_eq!(
            wait(Some(120), 595_000),
            Next::Wait(5),
            "not past the deadline"
        );
        assert!(matches!(wait(Some(1), 600_000), Next::Fail(r) if r.contains("600 s")));
        assert_eq!(decide(&h, None, 0, 1_000), Next::Wait(20));
        assert!(matches!(decide(&h, None, 0, 600_000), Next::Fail(_)));
        assert_eq!(
            decide(&h, Some(&Answer::Succeeded), 0, 599_999),
            Next::Proceed
        );
        assert!(
            matches!(
                decide(&h, Some(&Answer::Succeeded), 0, 600_000),
                Next::Fail(_)
            ),
            "a success after the deadline is late"
        );
    }

    #[test]
    fn only_cutover_hook_functions_are_accepted() {
        for ok in [
            "cutover-hook-smoke",
            "arn:aws:lambda:us-east-1:123456789012:function:cutover-hook-smoke",
            "arn:aws:lambda:us-east-1:123456789012:function:cutover-hook-smoke:live",
        ] {
            assert!(is_valid_function(ok), "{ok}");
        }
        for bad in [
            "smoke",
            "cutover-hook-",
            "cutover-rollback",
            "arn:aws:lambda:us-east-1:123456789012:layer:cutover-hook-x",
            "cutover-hook-a b",
            &format!("cutover-hook-{}", "x".repeat(60)),
        ] {
            assert!(!is_valid_function(bad), "{bad}");
        }
    }
}
