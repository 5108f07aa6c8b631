//! Traffic operations every function shares, over the load-balancer port and a target configuration.

use crate::LoadBalancer;
use cutover_core::traffic::{ForwardRoute, RouteError, RouteRef};
use cutover_core::{ErrorType, Failure, TargetConfig, Weights};
use serde_json::json;

pub fn route_of(target: &TargetConfig) -> RouteRef {
    target.listener_rule_arn.clone().map_or(
        RouteRef::Listener(target.listener_arn.clone()),
        RouteRef::Rule,
    )
}

/// The current split, provided the route forwards to exactly the target's two groups.
pub async fn read_weights<L: LoadBalancer>(
    lb: &L,
    target: &TargetConfig,
) -> Result<Weights, Failure> {
    read_route(lb, target).await.map(|(w, _)| w)
}

/// The current split and the listener's stickiness (`None`: none configured).
pub async fn read_route<L: LoadBalancer>(
    lb: &L,
    target: &TargetConfig,
) -> Result<(Weights, Option<cutover_core::Stickiness>), Failure> {
    let at = route_of(target);
    let route = lb.forward_route(&at).await?;
    route
        .weights(&target.target_groups.blue, &target.target_groups.green)
        .map(|w| (w, route.stickiness.clone()))
        .map_err(|e| {
            let kind = match e {
                RouteError::UnexpectedGroups { .. } => ErrorType::InvalidInput,
                RouteError::NotPercentages { .. } => ErrorType::Conflict,
            };
            Failure::new(kind, e.to_string()).with_details(json!({ "arn": at.arn() }))
        })
}

/// Write `weights` and read them back; the listener's stickiness stays as it is.
pub async fn write_weights<L: LoadBalancer>(
    lb: &L,
    target: &TargetConfig,
    weights: Weights,
) -> Result<(), Failure> {
    write_route(lb, target, weights, None).await
}

/// Write `weights`, and `stickiness` when given, in one listener write, and read the weights back.
pub async fn write_route<L: LoadBalancer>(
    lb: &L,
    target: &TargetConfig,
    weights: Weights,
    stickiness: Option<cutover_core::Stickiness>,
) -> Result<(), Failure> {
    let route = ForwardRoute::for_weights(
        &target.target_groups.blue,
        &target.target_groups.green,
        weights,
    )
    .with_stickiness(stickiness);
    lb.set_forward_route(&route_of(target), &route).await?;
    let after = read_weights(lb, target).await?;
    if after != weights {
        return Err(Failure::new(
            ErrorType::Conflict,
            format!("wrote {weights}, read back {after}"),
        )
        .with_details(json!({ "arn": target.listener_arn, "wrote": weights, "found": after })));
    }
    Ok(())
}
