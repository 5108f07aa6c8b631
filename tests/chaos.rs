//! Deployments under injected AWS faults (issue 19, item 1): the bounded subset `make test` runs; `make
//! chaos` runs the matrix (tests/bench/chaos.rs). One test, both regions at once: the fault proxies'
//! rules are scoped to a region, and nothing else may deploy in either region meanwhile.

use cutover_scenarios::chaos::Fault;
use cutover_scenarios::{LocalCloud, HOME_REGION, OTHER_REGION};

#[tokio::test]
async fn deployments_under_throttling_and_resets_end_final_with_traffic_on_the_live_colour() {
    let _one = cutover_scenarios::one_at_a_time().lock().await;
    let home = LocalCloud::for_deployments().await;
    let other = LocalCloud::connect_in(OTHER_REGION).await;
    assert_eq!(home.region, HOME_REGION);
    let (good, bad) = tokio::join!(
        home.chaos_run(Fault::Throttle, 0.2, false),
        other.chaos_run(Fault::Reset, 0.2, true),
    );
    for run in [&good, &bad] {
        assert!(
            run.faults > 0,
            "{}: no fault injected: are the functions behind the fault proxies?",
            run.id
        );
        assert!(
            run.violations.is_empty(),
            "{}: {:?}",
            run.id,
            run.violations
        );
    }
    // What the ledger says is final (checked above); a bad image never ends promoted.
    assert_ne!(bad.status, Some(cutover_core::Status::Promoted), "{bad:?}");
}
