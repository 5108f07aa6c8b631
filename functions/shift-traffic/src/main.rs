use cutover_aws::{config::SsmTargets, elbv2::Elbv2, ledger::DynamoLedger};
use shift_traffic::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let conf = cutover_aws::sdk_config().await;
    let lb = Elbv2::from_conf(&conf);
    let ledger = DynamoLedger::from_conf(&conf, std::env::var("LEDGER_TABLE").unwrap_or_default());
    let targets = SsmTargets::from_conf(&conf);
    cutover_lambda::run(|event| {
        let (lb, ledger, targets) = (&lb, &ledger, &targets);
        async move { handle(lb, ledger, targets, &event, cutover_lambda::now_ms()).await }
    })
    .await
}
