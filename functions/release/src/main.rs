// The handler future nests deep enough (SDK calls inside the per-region futures, inside serve's
// runtime service) to pass rustc's default layout depth of 128.
#![recursion_limit = "256"]

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    cutover_lambda::serve_with(
        cutover_aws::release::aws::AwsReleaseCloud::from_env,
        |cloud, event| async move { release::handle(cloud, &event, cutover_lambda::now_ms()).await },
    )
    .await
}
