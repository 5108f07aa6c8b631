//! Sample events with one part broken, and any JSON: never a panic, and nothing written for input
//! refused as invalid (cutover_aws::fakes::fuzz).

use cutover_aws::fakes::fuzz::refuses_before_writing;
use cutover_aws::fakes::FakeCloud;

#[test]
fn bad_events_are_refused_before_any_write() {
    refuses_before_writing(&["finalize.json"], |event| async move {
        let c = FakeCloud::prepared().await;
        c.clear_calls();
        let out = finalize::handle(&c, &event, 1_000).await;
        (out, c.writes())
    });
}
