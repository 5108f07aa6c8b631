//! `{"testRoute": "open"}`: before the first production weight, point the test route (test
//! listener, header rule) at the candidate and record it. The ledger is checked before the load
//! balancer is touched; if a rollback claims the ledger while the route opens, the route is closed
//! again here, so a rollback that already ran its own close is not undone.

use cutover_aws::test_route::{self, Opened};
use cutover_aws::{load_ledger, told, Cloud, TargetSource};
use cutover_core::{invalid_field, DeploymentRef, ErrorType, Failure, TestRouteRecord};
use serde_json::{json, Value};

pub async fn open(cloud: &impl Cloud, event: &Value, now_ms: u64) -> Result<Value, Failure> {
    match event.get("testRoute").and_then(Value::as_str) {
        Some("open") => {}
        _ => {
            return Err(invalid_field(
                "testRoute",
                format!("must be \"open\", got {}", event["testRoute"]),
            ))
        }
    }
    let DeploymentRef {
        app,
        env,
        deployment_id: id,
    } = DeploymentRef::from_event(event)?;
    let (app, env, id) = (app.as_str(), env.as_str(), id.as_str());
    let target = cloud.targets().target(app, env).await?;
    if target.test_listener_arn.is_none() && target.test_header.is_none() {
        return Ok(json!({ "deploymentId": id, "testRoute": null }));
    }
    let mut record = load_ledger(cloud.ledger(), app, env).await?;
    let live = record.live_colour;
    let candidate = record.active(id)?.candidate;
    let empty = TestRouteRecord {
        listener_arn: None,
        rule_arn: None,
        opened_at_ms: now_ms,
        closed_at_ms: None,
    };
    record.clone().open_test_route(id, empty, now_ms)?;

    let Opened {
        listener_arn,
        rule_arn,
    } = test_route::open(cloud.lb(), &target, app, env, id, candidate).await?;
    let opened = TestRouteRecord {
        listener_arn,
        rule_arn,
        opened_at_ms: now_ms,
        closed_at_ms: None,
    };
    let recorded = told::record(cloud, app, env, None, |l| {
        l.open_test_route(id, opened.clone(), now_ms)
    })
    .await;
    match recorded {
        Ok(_) => {
            tracing::info!(app, env, id, listener = ?opened.listener_arn, rule = ?opened.rule_arn, %candidate, "test route open");
            Ok(json!({ "deploymentId": id, "testRoute": {
                "listenerArn": opened.listener_arn, "ruleArn": opened.rule_arn, "candidate": candidate,
            }}))
        }
        Err(f) if f.error_type == ErrorType::Aborted => {
            tracing::warn!(
                app,
                env,
                id,
                "rolled back while the test route opened; closing it"
            );
            test_route::close(cloud.lb(), &target, app, env, live).await?;
            Err(f)
        }
        Err(f) => Err(f),
    }
}
