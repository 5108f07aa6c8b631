//! rollback killed mid-call (issue 19, item 2): the function dies right after it stopped the
//! execution, before it scaled the candidate down and recorded the end. The next trigger (the alarm
//! again, or a person) finishes the job: traffic on live, candidate at 0, the rollback recorded once.

use cutover_aws::fakes::FakeCloud;
use cutover_core::{Colour, Status, Weights};
use rollback::Settings;
use serde_json::json;

const QUICK: Settings = Settings {
    reassert_ms: 0,
    reassert_every_ms: 10,
    home: Some(("123456789012", "us-east-1")),
};

#[test]
fn a_rollback_killed_after_stopping_the_execution_is_finished_by_the_next_trigger() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let c = rt.block_on(async {
        let c = FakeCloud::prepared().await;
        c.edit_ledger(|l| {
            l.deployment.as_mut().unwrap().execution_arn = Some("arn:exec:d1".into());
            l.record_shift("d1", 0, Weights::with_candidate(Colour::Green, 10), 2)
                .unwrap();
        })
        .await;
        c
    });
    c.set_weights(Weights::with_candidate(Colour::Green, 10));
    c.services.add("svc-green", "td:2", 3);
    let manual = json!({"app": "live", "env": "prod", "reason": "5XX on the canary"});
    c.executions
        .after_each_stop(|| panic!("killed after StopExecution"));
    let crashed = std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            rt.block_on(rollback::handle(&c, QUICK, &manual, &|| 1_000))
        })
        .join()
    });
    assert!(crashed.is_err(), "the first call died");
    assert_eq!(
        c.weights(),
        Weights::all_on(Colour::Blue),
        "traffic came back first"
    );
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(
        d.status,
        Status::RollingBack,
        "not finished: {:?}",
        d.status
    );

    c.executions.after_each_stop(|| {});
    let out = rt
        .block_on(rollback::handle(&c, QUICK, &manual, &|| 2_000))
        .unwrap();
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, Status::RolledBack, "{out}");
    assert_eq!(c.weights(), Weights::all_on(Colour::Blue));
    assert_eq!(
        c.services.get("svc-green").desired,
        0,
        "candidate scaled down"
    );
    assert!(d
        .rollback
        .is_some_and(|r| r.traffic_restored_at_ms.is_some()));
}
