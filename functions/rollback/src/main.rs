// The handler future nests deep enough (SDK calls inside the per-phase futures, inside serve's
// runtime service) to pass rustc's default layout depth of 128.
#![recursion_limit = "256"]

use rollback::Settings;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    cutover_lambda::serve(|cloud, event| async move {
        let mut settings = Settings::with_reassert_ms(cloud.env().reassert_ms);
        if let Some((account, region)) = &cloud.env().home {
            settings = settings.at_home(account, region);
        }
        rollback::handle(cloud, settings, &event, &cutover_lambda::now_ms).await
    })
    .await
}
