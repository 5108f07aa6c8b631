use cutover_aws::{secrets::Passwords, switch::Switches};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let conf = cutover_aws::sdk_config().await;
    let passwords = Passwords::from_conf(&conf);
    // Flag switches deploy with this strategy (no bake); parameters need nothing more.
    let switch = Switches::from_conf(&conf, std::env::var("FLAG_DEPLOYMENT_STRATEGY").ok());
    cutover_lambda::run(|event| {
        let (passwords, switch) = (&passwords, &switch);
        async move { migrate::handle(passwords, switch, &event).await }
    })
    .await
}
