//! The migration's ports against mocked responses: the password (Secrets Manager, RDS JSON or plain;
//! SSM SecureString decrypted) and the table switch (an absent parameter is a value, not an error).

use aws_sdk_secretsmanager::operation::get_secret_value::{
    GetSecretValueError, GetSecretValueOutput,
};
use aws_sdk_secretsmanager::types::error::ResourceNotFoundException;
use aws_sdk_ssm::operation::delete_parameter::DeleteParameterError;
use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
use aws_sdk_ssm::operation::put_parameter::PutParameterOutput;
use aws_sdk_ssm::types::error::ParameterNotFound;
use aws_sdk_ssm::types::{Parameter, ParameterType};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use cutover_aws::config::SsmSwitch;
use cutover_aws::secrets::Passwords;
use cutover_aws::{AwsError, SecretSource};
use cutover_core::migration::PasswordRef;

fn ssm_parameter(value: &str) -> GetParameterOutput {
    GetParameterOutput::builder()
        .parameter(Parameter::builder().value(value).build())
        .build()
}

#[tokio::test]
async fn passwords_come_from_rds_secrets_and_decrypted_parameters() {
    let secret = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
        .match_requests(|r| r.secret_id() == Some("cutover/live-event/db"))
        .then_output(|| {
            GetSecretValueOutput::builder()
                .secret_string(r#"{"username":"app","password":"s3cret"}"#)
                .build()
        });
    let missing = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
        .match_requests(|r| r.secret_id() == Some("cutover/none"))
        .then_error(|| {
            GetSecretValueError::ResourceNotFoundException(
                ResourceNotFoundException::builder().build(),
            )
        });
    let param = mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(|r| {
            r.name() == Some("/cutover/db-password") && r.with_decryption() == Some(true)
        })
        .then_output(|| ssm_parameter("plain-pw"));
    let passwords = Passwords::new(
        mock_client!(
            aws_sdk_secretsmanager,
            RuleMode::MatchAny,
            [&secret, &missing]
        ),
        mock_client!(aws_sdk_ssm, RuleMode::MatchAny, [&param]),
    );
    let pw = |s: &str| PasswordRef::Secret(s.into());
    assert_eq!(
        passwords
            .password(&pw("cutover/live-event/db"))
            .await
            .unwrap()
            .password,
        "s3cret"
    );
    assert_eq!(
        passwords
            .password(&PasswordRef::Parameter("/cutover/db-password".into()))
            .await
            .unwrap()
            .password,
        "plain-pw"
    );
    let err = passwords.password(&pw("cutover/none")).await.unwrap_err();
    assert_eq!(
        err,
        AwsError::NotFound {
            what: "secret",
            id: "cutover/none".into()
        }
    );
    // The error names the secret, never a value.
    assert!(!format!("{err}").contains("s3cret"));
}

#[tokio::test]
async fn the_switch_reads_absent_as_none_writes_strings_and_deletes_idempotently() {
    let get_missing = mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(|r| r.name() == Some("/live-event/prod/new"))
        .then_error(|| GetParameterError::ParameterNotFound(ParameterNotFound::builder().build()));
    let get = mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(|r| r.name() == Some("/live-event/prod/tickets-table"))
        .then_output(|| ssm_parameter("tickets"));
    let put = mock!(aws_sdk_ssm::Client::put_parameter)
        .match_requests(|r| {
            r.name() == Some("/live-event/prod/tickets-table")
                && r.value() == Some("tickets_v2")
                && r.r#type() == Some(&ParameterType::String)
                && r.overwrite() == Some(true)
        })
        .then_output(|| PutParameterOutput::builder().version(2).build());
    let delete_missing = mock!(aws_sdk_ssm::Client::delete_parameter).then_error(|| {
        DeleteParameterError::ParameterNotFound(ParameterNotFound::builder().build())
    });
    let switch = SsmSwitch::new(mock_client!(
        aws_sdk_ssm,
        RuleMode::MatchAny,
        [&get_missing, &get, &put, &delete_missing]
    ));
    assert_eq!(switch.get("/live-event/prod/new").await.unwrap(), None);
    assert_eq!(
        switch
            .get("/live-event/prod/tickets-table")
            .await
            .unwrap()
            .as_deref(),
        Some("tickets")
    );
    switch
        .put("/live-event/prod/tickets-table", "tickets_v2")
        .await
        .unwrap();
    switch.delete("/live-event/prod/new").await.unwrap();
    assert_eq!(put.num_calls(), 1);
}
