use super::*;
use crate::error::ErrorType;

#[test]
fn a_bake_can_be_skipped_only_while_a_step_bakes() {
    let mut l = Ledger::new("a", "e", Colour::Blue, None);
    assert_eq!(l.skip_bake(1).unwrap_err().error_type, ErrorType::Conflict);
    l.acquire("d1", "img", None, 1).unwrap();
    assert_eq!(
        l.skip_bake(2).unwrap_err().error_type,
        ErrorType::Conflict,
        "preparing"
    );
    l.record_shift("d1", 0, Weights::with_candidate(Colour::Green, 10), 3)
        .unwrap();
    assert_eq!(l.skip_bake(4).unwrap(), ("d1".to_string(), 0));
    l.record_verifying("d1", 5).unwrap();
    assert!(l.skip_bake(6).unwrap_err().reason.contains("is Verifying"));
}

fn release(n: u32) -> Release {
    Release {
        task_definition_arn: format!("arn:aws:ecs:us-east-1:1:task-definition/live:{n}"),
        image: format!("img:{n}"),
    }
}

fn ledger() -> Ledger {
    Ledger::new("live", "prod", Colour::Blue, Some(release(1)))
}

#[test]
fn a_canary_runs_to_promotion_and_swaps_colours() {
    let mut l = ledger();
    assert_eq!(l.acquire("c1", "img:2", None, 1).unwrap(), Acquired::New);
    assert_eq!(
        l.acquire("c1", "img:2", None, 2).unwrap(),
        Acquired::AlreadyOwned
    );
    l.set_release("c1", release(2), 3).unwrap();
    for (i, w) in [10u8, 100].into_iter().enumerate() {
        l.record_shift("c1", i as u32, Weights::with_candidate(Colour::Green, w), 4)
            .unwrap();
        l.record_shift("c1", i as u32, Weights::with_candidate(Colour::Green, w), 4)
            .unwrap();
        l.record_verifying("c1", 5).unwrap();
    }
    l.promote("c1", 6).unwrap();
    l.promote("c1", 7).unwrap();
    assert_eq!(l.live_colour, Colour::Green);
    assert_eq!(l.last_known_good, Some(release(2)));
    let d = l.deployment.as_ref().unwrap();
    assert_eq!(d.status, Status::Promoted);
    assert_eq!(
        d.shifts
            .iter()
            .map(|s| s.weights.green())
            .collect::<Vec<_>>(),
        [10, 100]
    );
    // The next deployment goes to the other colour.
    l.acquire("c2", "img:3", None, 8).unwrap();
    assert_eq!(l.deployment.as_ref().unwrap().candidate, Colour::Blue);
}

#[test]
fn a_second_deployment_conflicts_while_one_is_active() {
    let mut l = ledger();
    l.acquire("c1", "img:2", None, 1).unwrap();
    let before = l.clone();
    let err = l.acquire("c2", "img:3", None, 2).unwrap_err();
    assert_eq!(err.error_type, ErrorType::Conflict);
    assert_eq!(l, before);
}

#[test]
fn once_rolling_back_nothing_moves_traffic_forward() {
    let mut l = ledger();
    l.acquire("c1", "img:2", None, 1).unwrap();
    l.set_release("c1", release(2), 1).unwrap();
    l.record_shift("c1", 0, Weights::with_candidate(Colour::Green, 10), 2)
        .unwrap();
    assert!(l.begin_rollback("alarm live-5xx", 3).unwrap());
    assert!(
        !l.begin_rollback("second alarm", 4).unwrap(),
        "a second rollback is a no-op"
    );
    for err in [
        l.record_shift("c1", 1, Weights::with_candidate(Colour::Green, 100), 5)
            .unwrap_err(),
        l.record_verifying("c1", 5).unwrap_err(),
        l.promote("c1", 5).unwrap_err(),
    ] {
        assert_eq!(err.error_type, ErrorType::Aborted);
    }
    l.finish_rollback(6).unwrap();
    l.finish_rollback(7).unwrap();
    let d = l.deployment.as_ref().unwrap();
    assert_eq!(
        (d.status, d.weights),
        (Status::RolledBack, Weights::all_on(Colour::Blue))
    );
    assert_eq!(d.reason.as_deref(), Some("alarm live-5xx"));
    assert_eq!(l.live_colour, Colour::Blue);
}

#[test]
fn promotion_needs_full_traffic_and_a_release() {
    let mut l = ledger();
    l.acquire("c1", "img:2", None, 1).unwrap();
    l.record_shift("c1", 0, Weights::with_candidate(Colour::Green, 10), 2)
        .unwrap();
    l.record_verifying("c1", 2).unwrap();
    assert_eq!(
        l.promote("c1", 3).unwrap_err().error_type,
        ErrorType::Conflict
    );
}

#[test]
fn the_record_round_trips_through_json() {
    let mut l = ledger();
    l.acquire("c1", "img:2", Some("arn:exec"), 1).unwrap();
    l.record_shift("c1", 0, Weights::with_candidate(Colour::Green, 10), 2)
        .unwrap();
    let back: Ledger = serde_json::from_value(serde_json::to_value(&l).unwrap()).unwrap();
    assert_eq!(back, l);
}

#[test]
fn the_first_alarm_moment_is_kept_and_only_while_rolling_back() {
    let mut l = ledger();
    l.acquire("c1", "img:2", None, 1).unwrap();
    l.alarm_moment(2);
    assert!(l.deployment.as_ref().unwrap().rollback.is_none());
    l.claim_rollback("alarm a", "alarm", Some("a"), 5).unwrap();
    l.alarm_moment(3);
    l.alarm_moment(4);
    let r = |l: &Ledger| l.deployment.as_ref().unwrap().rollback.clone().unwrap();
    assert_eq!(r(&l).alarm_at_ms, Some(3));
    l.finish_rollback(6).unwrap();
    let mut after = l.clone();
    after.alarm_moment(1);
    assert_eq!(after, l, "a finished rollback keeps its record");
}
