// The handler future nests deep enough (SDK calls inside the per-phase futures, inside serve's
// runtime service) to pass rustc's default layout depth of 128.
#![recursion_limit = "256"]

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    cutover_lambda::serve(|cloud, event| async move { migrate::handle(cloud, &event).await }).await
}
