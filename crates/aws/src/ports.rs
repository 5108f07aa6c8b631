//! The capabilities Cutover needs from the cloud, in domain terms.

use crate::AwsError;
use cutover_core::traffic::{ForwardRoute, RouteRef};
use std::future::Future;

/// The production listener (or listener rule) that splits traffic between blue and green.
pub trait LoadBalancer {
    /// The forward action's target groups and weights as the load balancer reports them now.
    fn forward_route(
        &self,
        at: &RouteRef,
    ) -> impl Future<Output = Result<ForwardRoute, AwsError>> + Send;

    /// Replace the forward action's target groups and weights. Everything else on the listener or
    /// rule (stickiness, other actions, their order) is written back as it was read.
    fn set_forward_route(
        &self,
        at: &RouteRef,
        route: &ForwardRoute,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}
