//! Sample events with one part broken, and any JSON: never a panic, and nothing written (no
//! release item, no regional execution) for input refused as invalid.

use cutover_aws::fakes::fuzz::refuses_before_writing;
use cutover_aws::release::fakes::FakeReleaseCloud;

#[test]
fn bad_events_are_refused_before_any_write() {
    let files = [
        "release-plan.json",
        "release-start.json",
        "release-poll.json",
    ];
    refuses_before_writing(&files, |event| async move {
        let c = FakeReleaseCloud::with_regions(&["us-east-1", "us-west-2"]);
        let out = release::handle(&c, &event, 1_000).await;
        let mut writes = Vec::new();
        if c.release().is_some() {
            writes.push("Releases::save");
        }
        if !c.executions().is_empty() {
            writes.push("Regions::start");
        }
        (out, writes)
    });
}
