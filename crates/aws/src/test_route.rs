//! Opening and closing a deployment's test route (cutover_core::target::test_route) over the
//! load-balancer port. Both are idempotent: a retry finds the rule it made by its tags, and closing
//! what is closed changes nothing.

use crate::LoadBalancer;
use cutover_core::target::test_route::{test_route_tag, DEPLOYMENT_TAG, TEST_ROUTE_TAG};
use cutover_core::traffic::{ForwardRoute, RouteRef};
use cutover_core::{Colour, ErrorType, Failure, TargetConfig, Weights};
use serde_json::json;

/// What an open test route consists of.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Opened {
    pub listener_arn: Option<String>,
    pub rule_arn: Option<String>,
}

/// What closing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Closed {
    pub rules_deleted: usize,
    pub listener_reset: bool,
}

fn all_on(target: &TargetConfig, colour: Colour) -> ForwardRoute {
    ForwardRoute::for_weights(
        &target.target_groups.blue,
        &target.target_groups.green,
        Weights::all_on(colour),
    )
}

/// Point the test listener at `colour` unless it is there already, and read it back.
async fn point_listener<L: LoadBalancer>(
    lb: &L,
    target: &TargetConfig,
    arn: &str,
    colour: Colour,
) -> Result<bool, Failure> {
    let at = RouteRef::Listener(arn.into());
    let on = |r: &ForwardRoute| {
        r.weights(&target.target_groups.blue, &target.target_groups.green)
            .ok()
    };
    let wanted = Weights::all_on(colour);
    if on(&lb.forward_route(&at).await?) == Some(wanted) {
        return Ok(false);
    }
    lb.set_test_listener(arn, &all_on(target, colour)).await?;
    let after = lb.forward_route(&at).await?;
    if on(&after) != Some(wanted) {
        return Err(Failure::new(
            ErrorType::Conflict,
            format!("the test listener was set to {wanted}, read back {after:?}"),
        )
        .with_details(json!({ "arn": arn })));
    }
    Ok(true)
}

/// The test route of deployment `id` to the candidate: the test listener forwards to it, and the
/// header rule exists (found by its tags, or created) and forwards to it. Rules of this service left
/// by another deployment are deleted first.
pub async fn open<L: LoadBalancer>(
    lb: &L,
    target: &TargetConfig,
    app: &str,
    env: &str,
    id: &str,
    candidate: Colour,
) -> Result<Opened, Failure> {
    let mut opened = Opened::default();
    if let Some(arn) = &target.test_listener_arn {
        point_listener(lb, target, arn, candidate).await?;
        opened.listener_arn = Some(arn.clone());
    }
    let Some(header) = &target.test_header else {
        return Ok(opened);
    };
    let service = test_route_tag(app, env);
    let mut mine = None;
    for rule in lb
        .tagged_rules(&target.listener_arn, TEST_ROUTE_TAG)
        .await?
    {
        if rule.tags.get(TEST_ROUTE_TAG) != Some(&service) {
            continue;
        }
        if mine.is_none() && rule.tags.get(DEPLOYMENT_TAG).map(String::as_str) == Some(id) {
            mine = Some(rule.arn);
        } else {
            tracing::warn!(
                app,
                env,
                rule = rule.arn,
                "deleting a test rule another deployment left"
            );
            lb.delete_rule(&rule.arn).await?;
        }
    }
    let candidate_tg = target.target_groups.get(candidate);
    let arn = match mine {
        Some(arn) => arn,
        None => {
            let tags = [
                (TEST_ROUTE_TAG.to_string(), service),
                (DEPLOYMENT_TAG.to_string(), id.to_string()),
            ];
            lb.create_header_rule(&target.listener_arn, header, candidate_tg, &tags)
                .await?
        }
    };
    let route = lb.forward_route(&RouteRef::Rule(arn.clone())).await?;
    let to: Vec<&str> = route
        .groups
        .iter()
        .filter(|g| g.weight > 0)
        .map(|g| g.target_group_arn.as_str())
        .collect();
    if to != [candidate_tg.as_str()] {
        return Err(Failure::new(
            ErrorType::Conflict,
            format!("the test rule forwards to {to:?}, not to the candidate's target group"),
        )
        .with_details(json!({ "rule": arn })));
    }
    opened.rule_arn = Some(arn);
    Ok(opened)
}

/// No test route left to the candidate: every header rule of this service is deleted, and the
/// test listener forwards to `live`.
pub async fn close<L: LoadBalancer>(
    lb: &L,
    target: &TargetConfig,
    app: &str,
    env: &str,
    live: Colour,
) -> Result<Closed, Failure> {
    let mut closed = Closed::default();
    if target.test_header.is_some() {
        let service = test_route_tag(app, env);
        for rule in lb
            .tagged_rules(&target.listener_arn, TEST_ROUTE_TAG)
            .await?
        {
            if rule.tags.get(TEST_ROUTE_TAG) == Some(&service) {
                lb.delete_rule(&rule.arn).await?;
                closed.rules_deleted += 1;
            }
        }
    }
    if let Some(arn) = &target.test_listener_arn {
        closed.listener_reset = point_listener(lb, target, arn, live).await?;
    }
    Ok(closed)
}
