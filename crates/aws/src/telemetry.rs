//! The telemetry port over stdout (EMF lines, which CloudWatch Logs turns into metrics) and
//! EventBridge (`PutEvents` on the default bus).

use crate::{AwsError, Telemetry};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use cutover_core::telemetry::changes::SOURCE;
use cutover_core::telemetry::Emf;

pub const PERMISSIONS: &[crate::iam::Needs] = &[(
    "Telemetry::publish",
    // `events:source` is evaluated on PutEvents: the functions may speak only as `cutover`.
    &[crate::iam::allow_if(
        "events:PutEvents",
        "arn:{partition}:events:{region}:{account}:event-bus/default",
        "events:source",
        SOURCE,
    )],
)];

/// PutEvents refuses an entry (source, detail-type, detail and resources together) over 256 KB.
pub const MAX_ENTRY_BYTES: usize = 256 * 1024;

pub struct EventBridgeTelemetry {
    client: Client,
}

impl EventBridgeTelemetry {
    pub fn new(client: Client) -> Self {
        EventBridgeTelemetry { client }
    }

    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        EventBridgeTelemetry::new(Client::new(conf))
    }
}

impl Telemetry for EventBridgeTelemetry {
    fn metric(&self, emf: &Emf) {
        // Lambda sends stdout to CloudWatch Logs, one event per line.
        println!("{}", emf.line());
    }

    async fn publish(
        &self,
        detail_type: &'static str,
        detail: &serde_json::Value,
    ) -> Result<(), AwsError> {
        let detail = detail.to_string();
        let size = SOURCE.len() + detail_type.len() + detail.len();
        if size > MAX_ENTRY_BYTES {
            return Err(AwsError::Rejected {
                operation: "PutEvents",
                code: "EntryTooLarge".into(),
                message: format!(
                    "{detail_type} is {size} bytes; an entry holds at most {MAX_ENTRY_BYTES}"
                ),
            });
        }
        let entry = PutEventsRequestEntry::builder()
            .source(SOURCE)
            .detail_type(detail_type)
            .detail(detail)
            .build();
        let out = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("PutEvents", e))?;
        // PutEvents answers 200 with the entry refused in `Entries` (throttled, internal failure).
        match out.entries().first() {
            Some(e) if e.error_code().is_some() => {
                let code = e.error_code().unwrap_or_default().to_string();
                let message = e.error_message().unwrap_or_default().to_string();
                // The per-entry codes AWS documents: ThrottlingException and InternalFailure are
                // worth a retry; the rest (AccessDeniedException, MalformedDetail…) are not.
                Err(match code.as_str() {
                    "ThrottlingException" | "InternalFailure" => AwsError::Transient {
                        operation: "PutEvents",
                        message: format!("{code}: {message}"),
                    },
                    "AccessDeniedException" => AwsError::AccessDenied {
                        operation: "PutEvents",
                        message,
                    },
                    _ => AwsError::Rejected {
                        operation: "PutEvents",
                        code,
                        message,
                    },
                })
            }
            _ => Ok(()),
        }
    }
}
