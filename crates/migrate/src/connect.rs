//! One connection per invocation. TLS (rustls) verifies the server's certificate and its name
//! (verify-full) against the system roots plus Amazon RDS's root CAs, which ship inside the binary
//! ([`RDS_CA_BUNDLE`]); `DB_CA_BUNDLE`, a PEM file, replaces those (another partition's bundle, a
//! region newer than the shipped one, a private CA). SCRAM channel binding is required over it.

use crate::db_failure;
use cutover_core::migration::Endpoint;
use cutover_core::{ErrorType, Failure};
use std::time::Duration;
use tokio_postgres::{Client, Config, NoTls};

/// The regional root CAs of Amazon RDS (RSA2048, RSA4096 and ECC384 G1 of 32 regions, the first
/// expiring in 2061): only certificates that two independent copies of AWS's global bundle carry
/// byte for byte, self-signatures checked (crates/migrate/certs/README.md).
pub const RDS_CA_BUNDLE: &str = include_str!("../certs/rds-global-bundle.pem");

pub async fn connect(db: &Endpoint, password: &str) -> Result<Client, Failure> {
    // The template always sets the variable; empty means the shipped bundle.
    let bundle = std::env::var("DB_CA_BUNDLE").ok().filter(|p| !p.is_empty());
    connect_with_bundle(db, password, bundle.as_deref()).await
}

/// `connect`, with the CA bundle that replaces the shipped RDS one given rather than read from the
/// environment.
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
    let (pem, origin) = match ca_bundle {
        Some(path) => (
            std::fs::read(path).map_err(|e| {
                Failure::new(ErrorType::InvalidInput, format!("DB_CA_BUNDLE {path}: {e}"))
            })?,
            path,
        ),
        None => (RDS_CA_BUNDLE.as_bytes().to_vec(), "the shipped RDS bundle"),
    };
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| {
            Failure::new(ErrorType::InvalidInput, format!("CA bundle {origin}: {e}"))
        })?;
        if roots.add(cert).is_ok() {
            added += 1;
        }
    }
    if added == 0 {
        return Err(Failure::new(
            ErrorType::InvalidInput,
            format!("CA bundle {origin}: no CA certificate in it"),
        ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{pem::PemObject, CertificateDer};

    #[test]
    fn the_shipped_rds_bundle_holds_every_regions_three_root_cas_and_nothing_else() {
        let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(RDS_CA_BUNDLE.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(certs.len(), 96);
        let mut roots = rustls::RootCertStore::empty();
        for cert in &certs {
            roots.add(cert.clone()).unwrap();
        }
        assert_eq!(roots.len(), 96);
        // Every anchor is one of RDS's: its subject names the service.
        for anchor in roots.roots.iter() {
            let subject = anchor.subject.as_ref();
            assert!(
                subject.windows(10).any(|w| w == b"Amazon RDS"),
                "{subject:?}"
            );
        }
        for region in [
            "us-east-1",
            "eu-west-1",
            "ap-southeast-2",
            "il-central-1",
            "ca-west-1",
        ] {
            for kind in ["RSA2048", "RSA4096", "ECC384"] {
                let name = format!("Amazon RDS {region} Root CA {kind} G1");
                assert!(RDS_CA_BUNDLE.contains(&format!("# {name}\n")), "{name}");
            }
        }
    }

    #[test]
    fn a_bundle_that_is_unreadable_or_holds_no_ca_is_refused_before_connecting() {
        let err = tls(Some("/nonexistent/bundle.pem")).err().unwrap();
        assert_eq!(err.error_type, ErrorType::InvalidInput);
        assert!(err.reason.contains("DB_CA_BUNDLE"), "{}", err.reason);
        let empty = std::env::temp_dir().join(format!("cutover-empty-{}.pem", std::process::id()));
        std::fs::write(&empty, "no certificates here\n").unwrap();
        let err = tls(empty.to_str()).err().unwrap();
        std::fs::remove_file(&empty).unwrap();
        assert!(err.reason.contains("no CA certificate"), "{}", err.reason);
        assert!(tls(None).is_ok());
    }
}
