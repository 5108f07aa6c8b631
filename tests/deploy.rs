//! The deploy state machine in the local cloud: real executions, real listener, real ledger.
//! Tests share the seeded service, so they run one at a time and judge relative to the live colour.

use cutover_core::{Status, Weights};
use cutover_scenarios::{one_at_a_time, unique, LocalCloud};
use serde_json::json;

async fn cloud() -> LocalCloud {
    LocalCloud::for_deployments().await
}

async fn live_colour(c: &LocalCloud) -> cutover_core::Colour {
    c.live_colour().await
}

#[tokio::test]
async fn a_canary_is_promoted_and_the_next_deployment_uses_the_other_colour() {
    let _one = one_at_a_time().lock().await;
    let c = cloud().await;
    let live = live_colour(&c).await;
    let candidate = live.other();
    let id = unique("canary");
    let image = format!("public.ecr.aws/live-event/service:{id}");

    let run = c
        .deploy(
            &id,
            &image,
            json!("Canary10Percent5Minutes"),
            None,
            || async {},
        )
        .await;
    assert_eq!(run.status, "SUCCEEDED", "{:?} {:?}", run.error, run.cause);
    let expected: Vec<Weights> = [0, 10, 100]
        .iter()
        .map(|p| Weights::with_candidate(candidate, *p))
        .collect();
    assert_eq!(run.observed, expected, "listener splits seen, in order");

    let l = c.ledger().await.unwrap();
    let d = l.deployment.as_ref().unwrap();
    assert_eq!(
        (d.id.as_str(), d.status, l.live_colour),
        (id.as_str(), Status::Promoted, candidate)
    );
    let release = l.last_known_good.clone().unwrap();
    assert_eq!(release.image, image);
    // The test route was open before the first production weight, and promote closed it.
    let route = d
        .test_route
        .clone()
        .expect("the seeded target has a test route");
    assert!(
        route.opened_at_ms <= d.shifts[0].at_ms,
        "{route:?} {:?}",
        d.shifts
    );
    assert!(route.closed_at_ms.is_some(), "{route:?}");
    assert_eq!(
        c.test_rules().await,
        Vec::<Vec<String>>::new(),
        "the test rule is gone"
    );
    assert_eq!(c.test_listener_weights().await, Weights::all_on(candidate));
    // The judge passed both steps (10 % against the live colour, 100 % against its last window).
    let verdicts: Vec<_> = d
        .verdicts
        .iter()
        .map(|v| (v.step_index, v.candidate_weight, v.verdict.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        vec![(Some(0), 10, "Healthy"), (Some(1), 100, "Healthy")]
    );
    for v in &d.verdicts {
        assert!(
            v.score.is_some_and(|s| s >= 95.0),
            "score {:?}: {:#?}",
            v.score,
            v.lines
        );
    }
    let services = &c.seed["services"];
    let new = c
        .service(services[candidate.as_str()].as_str().unwrap())
        .await;
    assert_eq!(
        new.task_definition(),
        Some(release.task_definition_arn.as_str())
    );
    let old = c.service(services[live.as_str()].as_str().unwrap()).await;
    assert_eq!(
        old.desired_count(),
        0,
        "the old colour is scaled down after the termination wait"
    );
    // Not before its target group's deregistration delay (30 s in the seed) had passed since its
    // weight went to 0: the first answer asked to wait, the one after the wait scaled down.
    let first = c.state_outputs(&run.arn, "ScaleDown").await;
    let after = c.state_outputs(&run.arn, "ScaleDownDrained").await;
    assert_eq!(first.len(), 1, "{first:?}");
    let asked = &first[0]["scaledDown"];
    assert_eq!(asked["deregistrationDelaySeconds"], 30, "{asked}");
    assert!(
        asked["waitSeconds"]
            .as_u64()
            .is_some_and(|w| (1..=30).contains(&w)),
        "{asked}"
    );
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(
        after[0]["scaledDown"]["scaledDown"],
        services[live.as_str()],
        "{after:?}"
    );

    // The next deployment goes back to the colour that just went idle.
    let id2 = unique("allatonce");
    let run = c
        .deploy(
            &id2,
            &format!("public.ecr.aws/live-event/service:{id2}"),
            json!("AllAtOnce"),
            None,
            || async {},
        )
        .await;
    assert_eq!(run.status, "SUCCEEDED", "{:?} {:?}", run.error, run.cause);
    assert_eq!(
        run.observed,
        vec![Weights::all_on(candidate), Weights::all_on(live)]
    );
    assert_eq!(c.ledger().await.unwrap().live_colour, live);
}

#[tokio::test]
async fn a_linear_rollout_passes_through_all_ten_weights_in_order() {
    let _one = one_at_a_time().lock().await;
    let c = cloud().await;
    let candidate = live_colour(&c).await.other();
    let id = unique("linear");
    let run = c
        .deploy(
            &id,
            &format!("public.ecr.aws/live-event/service:{id}"),
            json!("Linear10PercentEvery1Minute"),
            None,
            || async {},
        )
        .await;
    assert_eq!(run.status, "SUCCEEDED", "{:?} {:?}", run.error, run.cause);
    let d = c.ledger().await.unwrap().deployment.unwrap();
    let recorded: Vec<(u32, u8)> = d
        .shifts
        .iter()
        .map(|s| (s.step_index, s.weights.of(candidate)))
        .collect();
    assert_eq!(
        recorded,
        (0..10).map(|i| (i, (i as u8 + 1) * 10)).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_second_start_while_one_is_active_is_refused_with_conflict() {
    let _one = one_at_a_time().lock().await;
    let c = cloud().await;
    let live = live_colour(&c).await;
    let first = unique("long");
    // 400 s of bake, scaled to 12 s: long enough to try a second start meanwhile.
    let slow =
        json!({"steps": [{"weight": 10, "bakeSeconds": 400}, {"weight": 100, "bakeSeconds": 0}]});
    let second = unique("intruder");
    let c2 = LocalCloud::connect().await;
    let (second_run, first_state) = {
        let trigger = Some(Weights::with_candidate(live.other(), 10));
        let mut seen = None;
        let run = c
            .deploy(
                &first,
                &format!("public.ecr.aws/live-event/service:{first}"),
                slow,
                trigger,
                || async {
                    // The listener shows 10 % a moment before shift-traffic records the step in the
                    // ledger: wait for that write, or it would be taken for the intruder's.
                    let before = settled_at_10(&c2, live).await;
                    let r = c2
                        .deploy(
                            &second,
                            "public.ecr.aws/live-event/service:intruder",
                            json!("AllAtOnce"),
                            None,
                            || async {},
                        )
                        .await;
                    let after = c2.ledger().await;
                    let changed =
                        (before != after).then(|| format!("before {before:?}\nafter {after:?}"));
                    seen = Some((r, changed));
                },
            )
            .await;
        assert_eq!(run.status, "SUCCEEDED", "{:?} {:?}", run.error, run.cause);
        (
            seen.expect("the second start ran during the first deployment's bake"),
            run,
        )
    };
    let (r, unchanged) = second_run;
    assert_eq!(
        (r.status.as_str(), r.error.as_deref()),
        ("FAILED", Some("Conflict")),
        "{:?}",
        r.cause
    );
    assert_eq!(unchanged, None, "a refused start must not touch the ledger");
    assert!(
        r.observed.iter().all(|w| w.of(live.other()) <= 10),
        "the intruder moved traffic: {:?}",
        r.observed
    );
    assert_eq!(
        first_state.observed.last(),
        Some(&Weights::all_on(live.other()))
    );
}

#[tokio::test]
async fn a_start_while_deployments_are_frozen_is_refused_and_changes_nothing() {
    let _one = one_at_a_time().lock().await;
    let c = cloud().await;
    live_colour(&c).await;
    c.set_flags(true).await;
    // prepare honours AppConfig's poll interval (15 s): a warm function sees the flag after that.
    tokio::time::sleep(std::time::Duration::from_secs(16)).await;
    let before = (c.ledger().await, c.listener_weights().await);
    let id = unique("frozen");
    let run = c
        .deploy(
            &id,
            "public.ecr.aws/live-event/service:frozen",
            json!("AllAtOnce"),
            None,
            || async {},
        )
        .await;
    c.set_flags(false).await;
    assert_eq!(
        (run.status.as_str(), run.error.as_deref()),
        ("FAILED", Some("Frozen")),
        "{:?}",
        run.cause
    );
    assert_eq!(
        (c.ledger().await, c.listener_weights().await),
        before,
        "a frozen start must change nothing"
    );
    tokio::time::sleep(std::time::Duration::from_secs(16)).await;
}

/// The ledger once the first deployment's 10 % step is recorded (at most 10 s).
async fn settled_at_10(c: &LocalCloud, live: cutover_core::Colour) -> Option<cutover_core::Ledger> {
    let wanted = Weights::with_candidate(live.other(), 10);
    for _ in 0..200 {
        let l = c.ledger().await;
        let d = l.as_ref().and_then(|l| l.deployment.as_ref());
        if d.is_some_and(|d| d.status == Status::Shifting && d.weights == wanted) {
            return l;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the first deployment never recorded its 10 % step");
}
