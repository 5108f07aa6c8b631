//! One connection per invocation. TLS (rustls) verifies the server's certificate and its name
//! (verify-full) against the system roots plus, for RDS, the bundle named by `DB_CA_BUNDLE` (a PEM
//! file shipped with the function), and SCRAM channel binding is required over it.

use crate::db_failure;
use cutover_core::migration::Endpoint;
use cutover_core::{ErrorType, Failure};
use std::time::Duration;
use tokio_postgres::{Client, Config, NoTls};

pub async fn connect(db: &Endpoint, password: &str) -> Result<Client, Failure> {
    connect_with_bundle(db, password, std::env::var("DB_CA_BUNDLE").ok().as_deref()).await
}

/// `connect`, with the extra CA bundle given rather than read from the environment.
pub async fn connect_with_bundle(
    db: &Endpoint,
    password: &str,
    ca_bundle: Option<&str>,
) -> Result<Client, Failure> {
    let mut config = Config::new();
    config
        .host(&db.host)
        .port(db.port)
        .dbname(&db.name)
        .user(&db.user)
        .password(password)
        .application_name("cutover-migrate")
        .connect_timeout(Duration::from_secs(5));
    // The server must offer TLS when it is asked for: never fall back to plain text. And it must
    // prove, by SCRAM with channel binding, that it knows the password and holds the certificate
    // the session is bound to: a server that asks for the password in clear, by MD5, or for none
    // (trust) is refused before the password leaves.
    if db.tls {
        config.ssl_mode(tokio_postgres::config::SslMode::Require);
        config.channel_binding(tokio_postgres::config::ChannelBinding::Require);
    }
    let client = if db.tls {
        let (client, conn) = config.connect(tls(ca_bundle)?).await.map_err(db_failure)?;
        tokio::spawn(conn);
        client
    } else {
        let (client, conn) = config.connect(NoTls).await.map_err(db_failure)?;
        tokio::spawn(conn);
        client
    };
    Ok(client)
}

fn tls(ca_bundle: Option<&str>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, Failure> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_bundle {
        let certs = CertificateDer::pem_file_iter(path).map_err(|e| {
            Failure::new(ErrorType::InvalidInput, format!("DB_CA_BUNDLE {path}: {e}"))
        })?;
        for cert in certs.flatten() {
            let _ = roots.add(cert);
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Failure::new(ErrorType::InvalidInput, format!("TLS: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}
