//! Sample events with one part broken, and any JSON: never a panic, and nothing written for input
//! refused as invalid (cutover_aws::fakes::fuzz).

use cutover_aws::fakes::fuzz::refuses_before_writing;
use cutover_aws::fakes::FakeCloud;
use rollback::Settings;

const QUICK: Settings = Settings {
    reassert_ms: 0,
    reassert_every_ms: 10,
    home: Some(("123456789012", "us-east-1")),
};

#[test]
fn bad_events_are_refused_before_any_write() {
    let files = [
        "rollback-alarm-direct.json",
        "rollback-alarm-sns.json",
        "rollback-alarm-composite.json",
        "rollback-catch.json",
        "rollback-manual.json",
    ];
    refuses_before_writing(&files, |event| async move {
        let c = FakeCloud::prepared().await;
        c.clear_calls();
        let out = rollback::handle(&c, QUICK, &event, &|| 1_000).await;
        (out, c.writes())
    });
}
