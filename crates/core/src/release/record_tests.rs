use super::*;
use crate::release::plan::waves_from_text;

fn record(waves: &str, on_failure: OnFailure) -> ReleaseRecord {
    let plan = ReleasePlan {
        waves: waves_from_text(waves),
        bake_seconds: 600,
        on_failure,
        failover: Vec::new(),
    };
    ReleaseRecord::new("shop", "prod", "r1", "img:2", plan, 1_000)
}

fn ended(r: &mut ReleaseRecord, region: &str, outcome: RegionOutcome) {
    r.begin_region(region, Some("img:1".into()), 2_000);
    r.end_run(region, false, outcome, Some("why"), 3_000);
}

#[test]
fn a_promoted_wave_bakes_then_the_last_one_is_done() {
    let mut r = record("us-east-1;us-west-2,eu-west-1", OnFailure::Stop);
    ended(&mut r, "us-east-1", RegionOutcome::Promoted);
    assert_eq!(
        r.after_wave(0),
        Next::Bake {
            wave: 1,
            seconds: 600
        }
    );
    ended(&mut r, "us-west-2", RegionOutcome::Promoted);
    assert!(
        matches!(r.after_wave(1), Next::Stop { ref reason } if reason.contains("eu-west-1: not ended")),
        "a region that has not ended is not promoted"
    );
    ended(&mut r, "eu-west-1", RegionOutcome::Promoted);
    assert_eq!(r.after_wave(1), Next::Done);
    assert_eq!(r.region("us-west-2").unwrap().wave, 1);
}

#[test]
fn a_failed_wave_stops_or_rolls_back_what_the_release_promoted() {
    let mut r = record("us-east-1;us-west-2,eu-west-1", OnFailure::Stop);
    ended(&mut r, "us-east-1", RegionOutcome::RolledBack);
    assert_eq!(
        r.after_wave(0),
        Next::Stop {
            reason: "wave 1 of 2 failed: us-east-1: RolledBack (why)".into()
        }
    );

    let mut r = record("us-east-1;us-west-2,eu-west-1", OnFailure::RollbackAll);
    ended(&mut r, "us-east-1", RegionOutcome::Promoted);
    ended(&mut r, "us-west-2", RegionOutcome::Promoted);
    ended(&mut r, "eu-west-1", RegionOutcome::Refused);
    match r.after_wave(1) {
        Next::RollbackAll { regions, reason } => {
            assert_eq!(regions, ["us-east-1", "us-west-2"]);
            assert!(reason.contains("eu-west-1: Refused (why)"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // Nothing promoted yet: rollbackAll has nothing to return.
    let mut r = record("us-east-1;us-west-2", OnFailure::RollbackAll);
    ended(&mut r, "us-east-1", RegionOutcome::Failed);
    assert!(matches!(r.after_wave(0), Next::Stop { .. }));
}

#[test]
fn a_revert_deploys_the_previous_image_once_and_only_where_promoted() {
    let mut r = record("us-east-1;us-west-2", OnFailure::RollbackAll);
    ended(&mut r, "us-east-1", RegionOutcome::Promoted);
    ended(&mut r, "us-west-2", RegionOutcome::RolledBack);
    let run = r.begin_revert("us-east-1", 5_000).unwrap().clone();
    assert_eq!(
        (run.image.as_str(), run.deployment_id.as_str()),
        ("img:1", "r1-revert")
    );
    assert_eq!(
        r.begin_revert("us-east-1", 9_000).unwrap().started_at_ms,
        5_000
    );
    assert!(r
        .begin_revert("us-west-2", 5_000)
        .unwrap_err()
        .contains("not promoted"));
    assert!(r
        .begin_revert("eu-west-1", 5_000)
        .unwrap_err()
        .contains("not deployed"));
    assert_eq!(r.revert_status(), ReleaseStatus::Failed, "revert not ended");
    r.end_run("us-east-1", true, RegionOutcome::Promoted, None, 6_000);
    assert_eq!(r.revert_status(), ReleaseStatus::RolledBack);
    assert_eq!(
        r.summary(),
        "release r1 of img:2 Running (wave 1/2): us-east-1 Promoted, reverted to img:1: Promoted, us-west-2 RolledBack"
    );

    let mut r = record("us-east-1", OnFailure::RollbackAll);
    r.begin_region("us-east-1", None, 1);
    r.end_run("us-east-1", false, RegionOutcome::Promoted, None, 2);
    assert!(r
        .begin_revert("us-east-1", 3)
        .unwrap_err()
        .contains("no earlier image"));
}

#[test]
fn the_first_ending_stands() {
    let mut r = record("us-east-1", OnFailure::Stop);
    ended(&mut r, "us-east-1", RegionOutcome::Promoted);
    r.end_run("us-east-1", false, RegionOutcome::Failed, None, 9_000);
    assert_eq!(
        r.region("us-east-1").unwrap().deploy.outcome,
        Some(RegionOutcome::Promoted)
    );
    r.begin_region("us-east-1", Some("other".into()), 9_000);
    assert_eq!(r.regions.len(), 1);
    r.finish(ReleaseStatus::Succeeded, None, 10_000);
    r.finish(ReleaseStatus::Failed, Some("late"), 11_000);
    assert_eq!(
        (r.status, r.ended_at_ms),
        (ReleaseStatus::Succeeded, Some(10_000))
    );
    let long = "x".repeat(5_000);
    assert_eq!(clip(&long).chars().count(), MAX_REASON + 1);
}

#[test]
fn a_regional_execution_is_read_with_its_ledger() {
    let out = |s, e, l| regional_outcome(s, e, l, "r1").map(|(o, _)| o);
    assert_eq!(out("RUNNING", None, None), None);
    assert_eq!(
        out("ABORTED", None, Some(("r1", Status::RollingBack))),
        None,
        "the rollback stopped it and is still finishing"
    );
    assert_eq!(
        out("SUCCEEDED", None, Some(("r1", Status::Promoted))),
        Some(RegionOutcome::Promoted)
    );
    assert_eq!(
        out(
            "FAILED",
            Some("HealthFailed"),
            Some(("r1", Status::RolledBack))
        ),
        Some(RegionOutcome::RolledBack)
    );
    assert_eq!(
        out("ABORTED", None, Some(("r1", Status::RolledBack))),
        Some(RegionOutcome::RolledBack)
    );
    assert_eq!(
        out(
            "FAILED",
            Some("Conflict"),
            Some(("other", Status::Shifting))
        ),
        Some(RegionOutcome::Refused)
    );
    let (o, why) = regional_outcome("SUCCEEDED", None, None, "r1").unwrap();
    assert_eq!(o, RegionOutcome::Failed);
    assert!(why.unwrap().contains("without this deployment"));
}
