// The handler future nests deep enough (SDK calls inside the per-phase futures) to pass rustc's
// default layout depth of 128.
#![recursion_limit = "256"]

use cutover_aws::{
    alarms::CloudWatchAlarms, config::SsmTargets, ecs::Ecs, elbv2::Elbv2, ledger::DynamoLedger,
    metrics::CloudWatchMetrics,
};
use verify_health::{handle, Ports};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let conf = cutover_aws::sdk_config().await;
    let lb = Elbv2::from_conf(&conf);
    let ledger = DynamoLedger::from_conf(&conf, std::env::var("LEDGER_TABLE").unwrap_or_default());
    let targets = SsmTargets::from_conf(&conf);
    let services = Ecs::from_conf(&conf);
    let alarms = CloudWatchAlarms::from_conf(&conf);
    let metrics = CloudWatchMetrics::from_conf(&conf);
    let ports = Ports {
        lb: &lb,
        ledger: &ledger,
        targets: &targets,
        services: &services,
        alarms: &alarms,
        metrics: &metrics,
    };
    cutover_lambda::run(|event| {
        let ports = &ports;
        async move { handle(ports, &event, cutover_lambda::now_ms()).await }
    })
    .await
}
