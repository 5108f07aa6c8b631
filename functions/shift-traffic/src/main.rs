use cutover_aws::elbv2::Elbv2;
use shift_traffic::{handle, Settings};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // A bad environment is reported on every invocation, as a typed error Step Functions can see.
    let settings = Settings::from_env(|k| std::env::var(k).ok());
    let lb = Elbv2::from_conf(&cutover_aws::sdk_config().await);
    cutover_lambda::run(|event| {
        let (lb, settings) = (&lb, &settings);
        async move { handle(lb, settings.as_ref().map_err(Clone::clone)?, &event).await }
    })
    .await
}
