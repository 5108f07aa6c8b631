// The handler future nests deep enough (SDK calls inside the per-phase futures, inside serve's
// runtime service) to pass rustc's default layout depth of 128.
#![recursion_limit = "256"]

use rollback::Settings;

/// The template gives the function its account (`CUTOVER_ACCOUNT_ID`); Lambda sets `AWS_REGION`.
/// Leaked once at start-up, so `Settings` stays `Copy`.
fn home() -> Option<(&'static str, &'static str)> {
    let var = |k| std::env::var(k).ok().filter(|v: &String| !v.is_empty());
    let (account, region) = (var("CUTOVER_ACCOUNT_ID")?, var("AWS_REGION")?);
    Some((account.leak(), region.leak()))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let home = home();
    cutover_lambda::serve(move |cloud, event| async move {
        let mut settings = Settings::with_reassert_ms(cloud.env().reassert_ms);
        if let Some((account, region)) = home {
            settings = settings.at_home(account, region);
        }
        rollback::handle(cloud, settings, &event, &cutover_lambda::now_ms).await
    })
    .await
}
