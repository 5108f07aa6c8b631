//! shift-traffic: put the production split at the requested weights.
//!
//! A shift is read → check → write → read back (DESIGN.md §2). Input is validated before the first
//! AWS call; a listener already at the requested weights is left alone, so retries are harmless.

use cutover_aws::LoadBalancer;
use cutover_core::target::is_elb_arn;
use cutover_core::traffic::{ForwardRoute, RouteError, RouteRef, Weights};
use cutover_core::{ErrorType, Failure};
use serde_json::{json, Value};

/// Where to shift: the production listener (or rule) and the two target groups.
#[derive(Debug, Clone)]
pub struct Settings {
    pub route: RouteRef,
    pub blue_target_group: String,
    pub green_target_group: String,
}

impl Settings {
    /// From the function's environment, which the template fills from its parameters.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Settings, Failure> {
        let mut problems = Vec::new();
        let mut arn = |name: &str, resource: &str, required: bool| -> Option<String> {
            match get(name).filter(|v| !v.trim().is_empty()) {
                Some(v) if is_elb_arn(&v, resource) => Some(v),
                Some(v) => {
                    problems.push(format!(
                        "{name} must be an ELBv2 {resource} ARN, got \"{v}\""
                    ));
                    None
                }
                None if required => {
                    problems.push(format!("{name} is not set"));
                    None
                }
                None => None,
            }
        };
        let listener = arn("LISTENER_ARN", "listener", true);
        let rule = arn("LISTENER_RULE_ARN", "listener-rule", false);
        let blue = arn("BLUE_TARGET_GROUP_ARN", "targetgroup", true);
        let green = arn("GREEN_TARGET_GROUP_ARN", "targetgroup", true);
        match (listener, blue, green) {
            (Some(listener), Some(blue), Some(green)) if problems.is_empty() => Ok(Settings {
                route: rule.map_or(RouteRef::Listener(listener), RouteRef::Rule),
                blue_target_group: blue,
                green_target_group: green,
            }),
            _ => Err(Failure::new(
                ErrorType::InvalidInput,
                "the function's configuration is invalid",
            )
            .with_details(json!({ "problems": problems }))),
        }
    }

    fn weights_of(&self, route: &ForwardRoute) -> Result<Weights, Failure> {
        route
            .weights(&self.blue_target_group, &self.green_target_group)
            .map_err(|e| {
                let kind = match e {
                    RouteError::UnexpectedGroups { .. } => ErrorType::InvalidInput,
                    RouteError::NotPercentages { .. } => ErrorType::Conflict,
                };
                Failure::new(kind, e.to_string()).with_details(json!({ "arn": self.route.arn() }))
            })
    }
}

/// The validated request.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftRequest {
    pub weights: Weights,
    /// What the caller believes the split is now; a listener in any other state is a conflict.
    pub expect: Option<Weights>,
}

impl ShiftRequest {
    pub fn from_event(event: &Value) -> Result<ShiftRequest, Failure> {
        let invalid = |field: &str, problem: String| {
            Failure::new(ErrorType::InvalidInput, format!("{field}: {problem}"))
                .with_details(json!({ "field": field, "event": event }))
        };
        let obj = event
            .as_object()
            .ok_or_else(|| invalid("$", "the event must be a JSON object".into()))?;
        let weights = obj
            .get("weights")
            .ok_or_else(|| invalid("weights", "is required".into()))?;
        let weights = Weights::from_json(weights).map_err(|e| invalid("weights", e.to_string()))?;
        let expect = match obj.get("expect").filter(|v| !v.is_null()) {
            Some(v) => Some(Weights::from_json(v).map_err(|e| invalid("expect", e.to_string()))?),
            None => None,
        };
        Ok(ShiftRequest { weights, expect })
    }
}

pub async fn handle<L: LoadBalancer>(
    lb: &L,
    settings: &Settings,
    event: &Value,
) -> Result<Value, Failure> {
    let request = ShiftRequest::from_event(event)?;
    let at = &settings.route;
    let before = settings.weights_of(&lb.forward_route(at).await?)?;
    let arn = at.arn();
    if before == request.weights {
        tracing::info!(arn, weights = %before, "already at the requested weights; nothing written");
        return Ok(output(arn, before, before, false));
    }
    if let Some(expect) = request.expect.filter(|e| *e != before) {
        return Err(Failure::new(
            ErrorType::Conflict,
            format!("expected {expect} on the listener, found {before}"),
        )
        .with_details(json!({ "arn": arn, "expected": expect, "found": before })));
    }
    let target = ForwardRoute::for_weights(
        &settings.blue_target_group,
        &settings.green_target_group,
        request.weights,
    );
    lb.set_forward_route(at, &target).await?;
    let after = settings.weights_of(&lb.forward_route(at).await?)?;
    if after != request.weights {
        return Err(Failure::new(
            ErrorType::Conflict,
            format!("wrote {}, read back {after}", request.weights),
        )
        .with_details(json!({ "arn": arn, "wrote": request.weights, "found": after })));
    }
    tracing::info!(arn, from = %before, to = %after, "traffic shifted");
    Ok(output(arn, before, after, true))
}

fn output(arn: &str, previous: Weights, weights: Weights, changed: bool) -> Value {
    json!({ "arn": arn, "previous": previous, "weights": weights, "changed": changed })
}
