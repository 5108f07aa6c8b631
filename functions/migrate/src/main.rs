use cutover_aws::{config::SsmSwitch, secrets::Passwords};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let conf = cutover_aws::sdk_config().await;
    let passwords = Passwords::from_conf(&conf);
    let switch = SsmSwitch::from_conf(&conf);
    cutover_lambda::run(|event| {
        let (passwords, switch) = (&passwords, &switch);
        async move { migrate::handle(passwords, switch, &event).await }
    })
    .await
}
