use super::*;
use serde_json::json;

fn spec(v: Value) -> Result<ExperimentSpec, Failure> {
    ExperimentSpec::from_json(&v)
}

#[test]
fn a_spec_reads_with_its_defaults() {
    let s = spec(json!({"split": 50, "durationSeconds": 7200, "metric": "LiveEvent/Business:Conversion:Average", "higherIsBetter": true})).unwrap();
    assert_eq!(
        (s.split, s.duration_seconds, s.stickiness_seconds),
        (50, 7200, 7200)
    );
    assert_eq!(s.conclude_within_seconds, DEFAULT_CONCLUDE_WITHIN_SECONDS);
    assert!(s.higher_is_better && !s.auto_promote);
    assert_eq!(
        s.plan(),
        vec![PlanStep {
            weight: 50,
            bake_seconds: 7200
        }]
    );
    assert_eq!(s.history_plan().len(), 2);
}

#[test]
fn bad_specs_name_their_field() {
    let base = json!({"split": 50, "durationSeconds": 7200, "metric": "N:M:Average"});
    for (field, value, says) in [
        ("split", json!(0), "experiment.split"),
        ("split", json!(100), "experiment.split"),
        ("durationSeconds", json!(59), "experiment.durationSeconds"),
        (
            "durationSeconds",
            json!(86_401),
            "experiment.durationSeconds",
        ),
        (
            "stickinessSeconds",
            json!(0),
            "experiment.stickinessSeconds",
        ),
        (
            "stickinessSeconds",
            json!(604_801),
            "experiment.stickinessSeconds",
        ),
        ("metric", json!("N:M"), "experiment.metric"),
        ("autoPromote", json!("yes"), "experiment.autoPromote"),
        ("confidence", json!(1.0), "experiment.confidence"),
        ("colour", json!("blue"), "experiment.colour"),
    ] {
        let mut v = base.clone();
        v[field] = value;
        let e = spec(v).unwrap_err();
        assert_eq!(e.error_type, crate::ErrorType::InvalidInput);
        assert!(e.reason.starts_with(says), "{field}: {}", e.reason);
    }
    let e = spec(json!({"split": 10, "durationSeconds": 600, "metric": "N:M:Sum"})).unwrap_err();
    assert!(e.reason.contains("only at split 50"), "{}", e.reason);
    assert!(spec(json!({"split": 50, "durationSeconds": 600, "metric": "N:M:Sum"})).is_ok());
}

#[test]
fn periods_stay_within_cloudwatch_and_memory() {
    assert_eq!(period_for(7200, 1), 5);
    assert_eq!(period_for(600, 1), 1);
    assert_eq!(period_for(7200, 60), 60);
    assert_eq!(period_for(4 * 3600, 1), 60);
    assert_eq!(
        period_for(3 * 3600 - 600, 1),
        60,
        "the verdict reads after the duration"
    );
    // 5 minutes at 60-s periods with AWS's 120 s delay: 2 whole periods, not 5.
    assert_eq!(judged_periods(300, 60, 120), 2);
    assert_eq!(judged_periods(7200, 60, 120), 117);
    assert_eq!(judged_periods(10, 60, 120), 0);
    assert_eq!(period_for(86_400, 1), 60);
    assert_eq!(period_for(86_400, 90), 120);
    for d in [60, 1000, 7200, 20_000, 86_400] {
        let p = period_for(d, 1);
        assert!(u64::from(d) / u64::from(p) <= MAX_PERIODS, "{d}: {p}");
        assert!(
            [1, 5, 10, 30].contains(&p) || p.is_multiple_of(60),
            "{d}: {p}"
        );
    }
}

fn record(winner: Option<Variant>, auto: bool, conclusion: Option<bool>) -> ExperimentRecord {
    let spec = spec(
        json!({"split": 50, "durationSeconds": 600, "metric": "N:M:Average", "autoPromote": auto}),
    )
    .unwrap();
    let mut result = compare(&[1.0; 5], &[1.0; 5], true, 0.95, 5);
    result.winner = winner;
    ExperimentRecord {
        spec,
        previous_stickiness: None,
        result: Some(result),
        judged_at_ms: Some(1),
        decision: None,
        conclusion: conclusion.map(|promote_winner| Conclusion {
            promote_winner,
            at_ms: 2,
        }),
    }
}

#[test]
fn only_a_winning_candidate_is_promoted() {
    use Decision::*;
    assert_eq!(
        record(Some(Variant::Candidate), true, None).decide(false),
        Promote
    );
    assert_eq!(
        record(Some(Variant::Candidate), false, None).decide(false),
        Await
    );
    assert_eq!(
        record(Some(Variant::Candidate), false, None).decide(true),
        KeepControl
    );
    assert_eq!(
        record(Some(Variant::Candidate), false, Some(true)).decide(false),
        Promote
    );
    assert_eq!(
        record(Some(Variant::Candidate), false, Some(false)).decide(false),
        KeepControl
    );
    assert_eq!(
        record(Some(Variant::Candidate), true, Some(false)).decide(false),
        KeepControl,
        "--keep-control stands over --auto-promote"
    );
    assert_eq!(
        record(Some(Variant::Control), true, Some(true)).decide(false),
        KeepControl
    );
    assert_eq!(record(None, true, None).decide(false), KeepControl);
}

#[test]
fn the_listener_gets_back_what_it_had() {
    let mut r = record(None, false, None);
    assert_eq!(
        r.restored_stickiness(),
        Stickiness {
            enabled: false,
            duration_seconds: None
        }
    );
    r.previous_stickiness = Some(Stickiness {
        enabled: true,
        duration_seconds: Some(30),
    });
    assert_eq!(r.restored_stickiness().duration_seconds, Some(30));
}
