//! shift-traffic killed mid-call (issue 19, item 2): the Lambda dies right after its listener write,
//! before the ledger records the shift. The state machine's retry of the same step finishes the job:
//! the listener stays at the step's weights and the ledger gets exactly one record of it.

use cutover_aws::fakes::FakeCloud;
use cutover_core::{Status, Weights};
use serde_json::json;

#[test]
fn a_shift_killed_after_its_listener_write_is_finished_by_the_retry() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let c = rt.block_on(FakeCloud::prepared());
    let event =
        json!({"app": "live", "env": "prod", "deploymentId": "d1", "stepIndex": 0, "weight": 10});
    c.lb.after_each_write(|| panic!("killed after the listener write"));
    let crashed = std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            rt.block_on(shift_traffic::handle(&c, &event, 5))
        })
        .join()
    });
    assert!(crashed.is_err(), "the first call died");
    assert_eq!(
        c.weights(),
        Weights::new(90, 10).unwrap(),
        "its write landed"
    );
    let d = c.stored_ledger().deployment.unwrap();
    assert!(
        d.shifts.is_empty(),
        "the ledger never heard of it: {:?}",
        d.shifts
    );

    c.lb.after_each_write(|| {});
    let out = rt.block_on(shift_traffic::handle(&c, &event, 6)).unwrap();
    assert_eq!(c.weights(), Weights::new(90, 10).unwrap());
    let d = c.stored_ledger().deployment.unwrap();
    assert_eq!(d.status, Status::Shifting, "{out}");
    assert_eq!(
        d.shifts
            .iter()
            .map(|s| (s.step_index, s.weights.green()))
            .collect::<Vec<_>>(),
        [(0, 10)],
        "exactly one record of the step"
    );
}
