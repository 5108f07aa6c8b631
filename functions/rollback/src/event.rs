//! Every shape a rollback request arrives in, told apart by shape and parsed leniently: only the fields
//! Cutover acts on are required, and a missing one is named in the `InvalidInput` error.
//!
//! - a CloudWatch alarm's direct Lambda action (`alarmData`), as `aws_lambda_events` defines it;
//! - the same alarm through SNS (`Records[].Sns.Message` is the alarm JSON; the local cloud's message
//!   lacks `AlarmArn` and `Trigger.TreatMissingData`, so neither is needed);
//! - the deploy state machine's Catch output (`error: {Error, Cause}` with app, env, deploymentId);
//! - a manual request (`{app, env, reason}`, optionally `deploymentId`), as `cutover rollback` sends.

use aws_lambda_events::event::cloudwatch_alarms::{CloudWatchAlarm, CloudWatchAlarmStateValue};
use cutover_core::fields::{invalid_field as invalid, text};
use cutover_core::{check_name, ErrorType, Failure};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    Alarm {
        name: String,
        /// `ALARM`, `OK` or `INSUFFICIENT_DATA`.
        state: String,
        reason: String,
        via: &'static str,
        /// Where the alarm says it lives, when the event says: its account and region.
        account: Option<String>,
        region: Option<String>,
        /// When CloudWatch moved the alarm to this state (ms), when the event says.
        changed_at_ms: Option<u64>,
    },
    /// A step of the deploy state machine failed; its own execution is running this rollback.
    Step {
        app: String,
        env: String,
        deployment_id: String,
        reason: String,
        /// The step stopped (`Aborted`) because a rollback had already claimed the deployment: a
        /// consequence of that rollback, not one more cause of it.
        aborted: bool,
    },
    Manual {
        app: String,
        env: String,
        deployment_id: Option<String>,
        reason: String,
    },
}

fn from_direct_alarm(event: &Value) -> Result<Trigger, Failure> {
    let alarm: CloudWatchAlarm = serde_json::from_value(event.clone())
        .map_err(|e| invalid("alarmData", format!("not a CloudWatch alarm action: {e}")))?;
    let state = alarm
        .alarm_data
        .state
        .ok_or_else(|| invalid("alarmData.state", "is required"))?;
    let value = match state.value {
        CloudWatchAlarmStateValue::Alarm => "ALARM",
        CloudWatchAlarmStateValue::Ok => "OK",
        _ => "INSUFFICIENT_DATA",
    };
    Ok(Trigger::Alarm {
        name: alarm.alarm_data.alarm_name,
        state: value.into(),
        reason: state.reason,
        via: "direct",
        account: alarm.account_id,
        region: alarm.region,
        changed_at_ms: u64::try_from(state.timestamp.timestamp_millis()).ok(),
    })
}

fn from_sns(records: &[Value]) -> Result<Vec<Trigger>, Failure> {
    if records.is_empty() {
        return Err(invalid("Records", "is empty"));
    }
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = |f: &str| format!("Records[{i}].Sns.{f}");
            let message = r
                .pointer("/Sns/Message")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(&at("Message"), "is required"))?;
            let alarm: Value = serde_json::from_str(message)
                .map_err(|e| invalid(&at("Message"), format!("is not alarm JSON: {e}")))?;
            let field = |f: &str| {
                alarm
                    .get(f)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .ok_or_else(|| invalid(&at(&format!("Message.{f}")), "is required"))
            };
            // SNS gives the region as a display name; the alarm's ARN has its code.
            let arn_part = |i: usize| {
                field("AlarmArn")
                    .ok()
                    .and_then(|a| a.split(':').nth(i).map(String::from))
            };
            Ok(Trigger::Alarm {
                name: field("AlarmName")?,
                state: field("NewStateValue")?,
                reason: field("NewStateReason").unwrap_or_default(),
                via: "sns",
                account: field("AWSAccountId").ok().or_else(|| arn_part(4)),
                region: arn_part(3),
                // An alarm without it still rolls back.
                changed_at_ms: field("StateChangeTime").ok().and_then(|t| alarm_time(&t)),
            })
        })
        .collect()
}

/// CloudWatch writes `2021-04-13T20:45:25.521+0000` into the SNS message; RFC 3339 (`…Z`, which the
/// local cloud writes) is accepted too.
pub fn alarm_time(text: &str) -> Option<u64> {
    chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
        .ok()
        .and_then(|t| u64::try_from(t.timestamp_millis()).ok())
}

fn app_env(event: &Value) -> Result<(String, String), Failure> {
    let (app, env) = (text(event, "app")?, text(event, "env")?);
    check_name("app", &app)?;
    check_name("env", &env)?;
    Ok((app, env))
}

/// A function's Cause is its JSON errorMessage; keep its readable reason when there is one.
fn readable_cause(err: &Value) -> String {
    let kind = err
        .get("Error")
        .and_then(Value::as_str)
        .unwrap_or("States.Unknown");
    let cause = err.get("Cause").and_then(Value::as_str).unwrap_or_default();
    let readable = serde_json::from_str::<Value>(cause)
        .ok()
        .and_then(|c| {
            c.get("errorMessage")
                .and_then(Value::as_str)
                .and_then(|m| serde_json::from_str::<Value>(m).ok())
        })
        .and_then(|m| m.get("reason").and_then(Value::as_str).map(String::from))
        .unwrap_or_else(|| cause.to_string());
    format!("{kind}: {readable}")
}

/// What one invocation asks for: one trigger, or one per SNS record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackRequest {
    pub triggers: Vec<Trigger>,
}

/// The most of a reason the ledger, the history and `StopExecution`'s cause keep. A reason is
/// anyone's text (a manual request, a step's Cause); unbounded, a 400 KB one would make the ledger
/// claim fail (DynamoDB's item limit) before traffic is restored.
pub const MAX_REASON_BYTES: usize = 1024;

/// `reason` cut at a character boundary to [`MAX_REASON_BYTES`], saying how much was cut.
pub fn bounded(reason: String) -> String {
    if reason.len() <= MAX_REASON_BYTES {
        return reason;
    }
    let mut end = MAX_REASON_BYTES - 40;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes cut)", &reason[..end], reason.len() - end)
}

impl RollbackRequest {
    pub fn from_event(event: &Value) -> Result<RollbackRequest, Failure> {
        let mut triggers = triggers(event)?;
        for t in &mut triggers {
            let (Trigger::Alarm { reason, .. }
            | Trigger::Step { reason, .. }
            | Trigger::Manual { reason, .. }) = t;
            *reason = bounded(std::mem::take(reason));
        }
        Ok(RollbackRequest { triggers })
    }
}

fn triggers(event: &Value) -> Result<Vec<Trigger>, Failure> {
    if event.get("alarmData").is_some() {
        return Ok(vec![from_direct_alarm(event)?]);
    }
    if let Some(records) = event.get("Records") {
        let records = records
            .as_array()
            .ok_or_else(|| invalid("Records", "must be a list"))?;
        return from_sns(records);
    }
    if let Some(err) = event.get("error") {
        let (app, env) = app_env(event)?;
        let deployment_id = text(event, "deploymentId")?;
        check_name("deploymentId", &deployment_id)?;
        return Ok(vec![Trigger::Step {
            app,
            env,
            deployment_id,
            reason: readable_cause(err),
            aborted: err.get("Error").and_then(Value::as_str) == Some("Aborted"),
        }]);
    }
    if event.get("reason").is_some() || event.get("app").is_some() {
        let (app, env) = app_env(event)?;
        let reason = text(event, "reason")?;
        let deployment_id = match event.get("deploymentId").and_then(Value::as_str) {
            Some(id) => {
                check_name("deploymentId", id)?;
                Some(id.to_string())
            }
            None => None,
        };
        return Ok(vec![Trigger::Manual {
            app,
            env,
            deployment_id,
            reason,
        }]);
    }
    Err(Failure::new(
        ErrorType::InvalidInput,
        "unrecognised event: expected a CloudWatch alarm action (alarmData), an SNS notification \
         (Records[].Sns.Message), the deploy state machine's Catch output (error) or a manual \
         request (app, env, reason)",
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn alarm_times_are_read_as_cloudwatch_and_the_local_cloud_write_them() {
        assert_eq!(
            super::alarm_time("2021-04-13T20:45:25.521+0000"),
            Some(1_618_346_725_521)
        );
        assert_eq!(
            super::alarm_time("2021-04-13T20:45:25Z"),
            Some(1_618_346_725_000)
        );
        assert_eq!(super::alarm_time("yesterday"), None);
    }
}
