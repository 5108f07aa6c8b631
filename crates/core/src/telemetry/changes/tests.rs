use super::*;
use crate::telemetry::metrics::check_line;
use crate::traffic::Colour;
use serde_json::Value;

fn steps(
    l: &mut Ledger,
    before: &mut Option<Ledger>,
    f: impl FnOnce(&mut Ledger),
) -> Vec<DeploymentChange> {
    f(l);
    let out = changes(before.as_ref(), l);
    *before = Some(l.clone());
    out
}

fn statuses(c: &[DeploymentChange]) -> Vec<(Option<Status>, Status)> {
    c.iter().map(|c| (c.from, c.to)).collect()
}

#[test]
fn a_promoted_canary_tells_every_transition_of_the_status_machine_once() {
    let mut l = Ledger::new("live", "prod", Colour::Blue, None);
    let mut before = Some(l.clone());
    let mut all = Vec::new();
    all.extend(steps(&mut l, &mut before, |l| {
        l.acquire("d1", "img:2", None, 1_000).unwrap();
    }));
    for (i, w) in [10u8, 100].into_iter().enumerate() {
        let w = Weights::with_candidate(Colour::Green, w);
        all.extend(steps(&mut l, &mut before, |l| {
            l.record_shift("d1", i as u32, w, 2_000).unwrap()
        }));
        // A repeated write tells nothing.
        all.extend(steps(&mut l, &mut before, |l| {
            l.record_shift("d1", i as u32, w, 2_000).unwrap()
        }));
        all.extend(steps(&mut l, &mut before, |l| {
            l.record_verifying("d1", 3_000).unwrap()
        }));
    }
    l.set_release(
        "d1",
        crate::ledger::Release {
            task_definition_arn: "td:2".into(),
            image: "img:2".into(),
        },
        3_500,
    )
    .unwrap();
    all.extend(steps(&mut l, &mut before, |l| {
        l.promote("d1", 61_000).unwrap()
    }));
    use Status::*;
    assert_eq!(
        statuses(&all),
        [
            (None, Preparing),
            (Some(Preparing), Shifting),
            (Some(Shifting), Verifying),
            (Some(Verifying), Shifting),
            (Some(Shifting), Verifying),
            (Some(Verifying), Promoting),
            (Some(Promoting), Promoted),
        ]
    );
    for c in &all {
        if let Some(from) = c.from {
            assert!(from.can_move_to(c.to), "{from} → {}", c.to);
        }
    }
    let last = all.last().unwrap();
    assert_eq!(last.duration_ms, Some(60_000));
    assert_eq!(last.weights.green(), 100);
    let emf = outcome_metrics(last).unwrap();
    let v: Value = serde_json::from_str(&emf.line()).unwrap();
    assert_eq!(v["DeploymentsPromoted"], 1.0);
    assert_eq!(v["DeploymentDurationMs"], 60_000.0);
    assert_eq!(v["Outcome"], "Promoted");
    assert_eq!(v["DeploymentId"], "d1");
    assert!(
        outcome_metrics(&all[1]).is_none(),
        "a shift is not an outcome"
    );
    let started: Value = serde_json::from_str(&outcome_metrics(&all[0]).unwrap().line()).unwrap();
    assert_eq!(started["DeploymentsStarted"], 1.0);
}

#[test]
fn a_rollback_tells_its_trigger_and_a_new_deployment_starts_from_nothing() {
    let mut l = Ledger::new("live", "prod", Colour::Blue, None);
    l.acquire("d1", "img:2", None, 1).unwrap();
    let mut before = Some(l.clone());
    let c = steps(&mut l, &mut before, |l| {
        l.claim_rollback("alarm live-5xx in ALARM", "alarm", Some("live-5xx"), 5)
            .unwrap();
    });
    assert_eq!(
        statuses(&c),
        [(Some(Status::Preparing), Status::RollingBack)]
    );
    assert_eq!(c[0].trigger.as_deref(), Some("alarm"));
    assert_eq!(c[0].reason.as_deref(), Some("alarm live-5xx in ALARM"));
    let c = steps(&mut l, &mut before, |l| l.finish_rollback(9).unwrap());
    let line = outcome_metrics(&c[0]).unwrap().line();
    check_line(&line).unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["DeploymentsRolledBack"], 1.0);
    assert_eq!(v["Trigger"], "alarm");
    let c = steps(&mut l, &mut before, |l| {
        l.acquire("d2", "img:3", None, 20).unwrap();
    });
    assert_eq!(statuses(&c), [(None, Status::Preparing)]);
}

#[test]
fn a_long_reason_is_cut_at_a_character_boundary() {
    let mut l = Ledger::new("a", "e", Colour::Blue, None);
    l.acquire("d1", "i", None, 1).unwrap();
    let before = l.clone();
    l.claim_rollback(&"é".repeat(900), "manual", None, 2)
        .unwrap();
    let reason = changes(Some(&before), &l)[0].reason.clone().unwrap();
    assert!(reason.len() <= REASON_BYTES + '…'.len_utf8());
    assert!(reason.ends_with('…'));
}
