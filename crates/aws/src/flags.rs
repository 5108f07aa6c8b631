//! Feature flags through AppConfigData. The session token and the last document are kept across warm
//! invocations, and AppConfig is asked again only after the `NextPollIntervalInSeconds` it gave.

use crate::{AwsError, FlagSource};
use aws_sdk_appconfigdata::Client;
use cutover_core::Flags;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// What AppConfig says when it was asked sooner than its interval allows is not worth a call.
const MIN_POLL: Duration = Duration::from_secs(15);

pub const PERMISSIONS: &[crate::iam::Needs] = {
    const PROFILE: &str = "arn:{partition}:appconfig:{region}:{account}:application/{flags_application}/environment/{flags_environment}/configuration/{flags_profile}";
    &[(
        "FlagSource::flags",
        &[
            crate::iam::allow("appconfig:StartConfigurationSession", PROFILE),
            crate::iam::allow("appconfig:GetLatestConfiguration", PROFILE),
        ],
    )]
};

pub struct AppConfigFlags {
    client: Client,
    application: String,
    environment: String,
    profile: String,
    session: Mutex<Session>,
}

#[derive(Default)]
struct Session {
    token: Option<String>,
    next_poll_at: Option<Instant>,
    flags: Option<Flags>,
}

impl AppConfigFlags {
    pub fn new(client: Client, application: &str, environment: &str, profile: &str) -> Self {
        AppConfigFlags {
            client,
            application: application.into(),
            environment: environment.into(),
            profile: profile.into(),
            session: Mutex::new(Session::default()),
        }
    }

    pub fn from_conf(
        conf: &aws_config::SdkConfig,
        application: &str,
        environment: &str,
        profile: &str,
    ) -> Self {
        AppConfigFlags::new(Client::new(conf), application, environment, profile)
    }

    async fn start(&self) -> Result<String, AwsError> {
        let out = self
            .client
            .start_configuration_session()
            .application_identifier(&self.application)
            .environment_identifier(&self.environment)
            .configuration_profile_identifier(&self.profile)
            .required_minimum_poll_interval_in_seconds(MIN_POLL.as_secs() as i32)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception())
                {
                    AwsError::NotFound {
                        what: "AppConfig profile",
                        id: format!("{}/{}/{}", self.application, self.environment, self.profile),
                    }
                } else {
                    AwsError::from_sdk("StartConfigurationSession", e)
                }
            })?;
        out.initial_configuration_token
            .ok_or_else(|| AwsError::Unusable {
                what: "AppConfig session",
                id: self.application.clone(),
                problem: "no initial token".into(),
            })
    }
}

impl FlagSource for AppConfigFlags {
    async fn flags(&self) -> Result<Flags, AwsError> {
        let mut s = self.session.lock().await;
        if let (Some(flags), Some(at)) = (s.flags, s.next_poll_at) {
            if Instant::now() < at {
                return Ok(flags);
            }
        }
        // A token expires after a day of disuse; one fresh session is worth a try before failing.
        for attempt in 0..2 {
            let token = match s.token.take() {
                Some(t) => t,
                None => self.start().await?,
            };
            match self
                .client
                .get_latest_configuration()
                .configuration_token(token)
                .send()
                .await
            {
                Ok(out) => {
                    s.token = out.next_poll_configuration_token.clone();
                    let wait = Duration::from_secs(out.next_poll_interval_in_seconds.max(0) as u64)
                        .max(MIN_POLL);
                    s.next_poll_at = Some(Instant::now() + wait);
                    // An empty body means "unchanged since your last poll".
                    let body = out
                        .configuration
                        .map(|b| b.into_inner())
                        .unwrap_or_default();
                    if !body.is_empty() {
                        let doc: serde_json::Value =
                            serde_json::from_slice(&body).map_err(|e| AwsError::Unusable {
                                what: "AppConfig flags",
                                id: self.profile.clone(),
                                problem: format!("not JSON: {e}"),
                            })?;
                        s.flags = Some(Flags::from_json(&doc));
                    }
                    return Ok(s.flags.unwrap_or_default());
                }
                Err(e)
                    if attempt == 0
                        && e.as_service_error()
                            .is_some_and(|s| s.is_bad_request_exception()) =>
                {
                    tracing::info!("AppConfig token refused; starting a new session");
                    continue;
                }
                Err(e) => return Err(AwsError::from_sdk("GetLatestConfiguration", e)),
            }
        }
        unreachable!("the loop returns on its second attempt")
    }
}
