use cutover_aws::{
    config::SsmTargets, ecs::Ecs, elbv2::Elbv2, flags::AppConfigFlags, ledger::DynamoLedger,
    sfn::StepFunctions,
};
use rollback::{handle, Ports, Settings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let conf = cutover_aws::sdk_config().await;
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let flags = AppConfigFlags::from_conf(
        &conf,
        &env("APPCONFIG_APPLICATION"),
        &env("APPCONFIG_ENVIRONMENT"),
        &env("APPCONFIG_PROFILE"),
    );
    let (lb, ledger, targets, services, executions) = (
        Elbv2::from_conf(&conf),
        DynamoLedger::from_conf(&conf, env("LEDGER_TABLE")),
        SsmTargets::from_conf(&conf),
        Ecs::from_conf(&conf),
        StepFunctions::from_conf(&conf),
    );
    let ports = Ports {
        lb: &lb,
        ledger: &ledger,
        targets: &targets,
        services: &services,
        flags: &flags,
        executions: &executions,
    };
    let mut settings = Settings::default();
    if let Ok(ms) = env("REASSERT_MS").parse() {
        settings.reassert_ms = ms;
    }
    cutover_lambda::run(|event| {
        let ports = &ports;
        async move { handle(ports, settings, &event, &cutover_lambda::now_ms).await }
    })
    .await
}
