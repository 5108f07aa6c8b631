//! Database passwords: a Secrets Manager secret (a plain string, or RDS's JSON with `password`), or an
//! SSM SecureString. Values are returned, never logged or put in an error.

use crate::{AwsError, SecretSource};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use cutover_core::migration::{Credentials, PasswordRef};

pub const PERMISSIONS: &[crate::iam::Needs] = &[(
    "SecretSource::password",
    &[
        // A spec names its password under these prefixes (cutover_core::migration::spec), or an
        // RDS-managed secret the stack's DatabaseSecretArns parameter lists.
        crate::iam::allow(
            "secretsmanager:GetSecretValue",
            "arn:{partition}:secretsmanager:{region}:{account}:secret:cutover/{secret_name}",
        ),
        crate::iam::allow("secretsmanager:GetSecretValue", "{database_secret}"),
        crate::iam::allow(
            "ssm:GetParameter",
            "arn:{partition}:ssm:{region}:{account}:parameter/cutover/db/{password_name}",
        ),
    ],
)];

pub struct Passwords {
    secrets: aws_sdk_secretsmanager::Client,
    ssm: aws_sdk_ssm::Client,
}

impl Passwords {
    pub fn new(secrets: aws_sdk_secretsmanager::Client, ssm: aws_sdk_ssm::Client) -> Self {
        Passwords { secrets, ssm }
    }

    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        Passwords::new(
            aws_sdk_secretsmanager::Client::new(conf),
            aws_sdk_ssm::Client::new(conf),
        )
    }
}

impl SecretSource for Passwords {
    async fn password(&self, at: &PasswordRef) -> Result<Credentials, AwsError> {
        match at {
            PasswordRef::Secret(id) => {
                let out = self
                    .secrets
                    .get_secret_value()
                    .secret_id(id)
                    .send()
                    .await
                    .map_err(|e| match e.as_service_error() {
                        Some(GetSecretValueError::ResourceNotFoundException(_)) => {
                            AwsError::NotFound {
                                what: "secret",
                                id: id.clone(),
                            }
                        }
                        _ => AwsError::from_sdk("GetSecretValue", e),
                    })?;
                // RDS's JSON shape, with the database it belongs to, or the password itself.
                out.secret_string()
                    .map(|s| Credentials::from_secret_text(s.to_string()))
                    .ok_or_else(|| AwsError::Unusable {
                        what: "secret",
                        id: id.clone(),
                        problem: "has no SecretString".into(),
                    })
            }
            PasswordRef::Parameter(name) => {
                let out = self
                    .ssm
                    .get_parameter()
                    .name(name)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| {
                        if e.as_service_error()
                            .is_some_and(|s| s.is_parameter_not_found())
                        {
                            AwsError::NotFound {
                                what: "parameter",
                                id: name.clone(),
                            }
                        } else {
                            AwsError::from_sdk("GetParameter", e)
                        }
                    })?;
                out.parameter()
                    .and_then(|p| p.value())
                    .map(|p| Credentials::password_only(p.to_string()))
                    .ok_or_else(|| AwsError::Unusable {
                        what: "parameter",
                        id: name.clone(),
                        problem: "has no value".into(),
                    })
            }
        }
    }
}
