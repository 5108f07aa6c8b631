//! A database password as its secret holds it, and where it may be sent. Secrets Manager's RDS
//! secret shape (`{"username", "password", "host", "port", "dbname", …}`) names the database the
//! password belongs to: the connection goes there, the spec may leave those fields out, and a spec
//! that points the password at another host, port, database or user is refused before any
//! connection is made. RDS-managed secrets (`rds!db-…`) hold only the username
//! and password: there TLS `verify-full` and SCRAM channel binding keep the password from any server
//! that is not the database (`cutover_migrate::connect`).

use super::spec::is_loopback;
use super::Database;
use crate::{ErrorType, Failure};
use serde_json::{json, Value};

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub password: String,
    pub username: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub dbname: Option<String>,
}

/// Where one connection goes, every field decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub name: String,
    pub user: String,
    pub tls: bool,
}

/// Never printed: a password must not reach a log line through a `{:?}`.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// A secret's text: RDS's JSON shape, or the password itself.
    pub fn from_secret_text(text: String) -> Credentials {
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            return Credentials::password_only(text);
        };
        let Some(password) = v.get("password").and_then(Value::as_str) else {
            return Credentials::password_only(text);
        };
        let port = v.get("port").and_then(|p| match p {
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(s) => s.parse().ok(),
            _ => None,
        });
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        Credentials {
            password: password.to_string(),
            username: text("username"),
            host: text("host"),
            port,
            dbname: text("dbname"),
        }
    }

    pub fn password_only(password: String) -> Credentials {
        Credentials {
            password,
            username: None,
            host: None,
            port: None,
            dbname: None,
        }
    }

    /// Where `db` connects with these credentials: each of host, port, database and user from the
    /// secret when it names them (the spec must then agree), from the spec otherwise.
    pub fn endpoint(&self, db: &Database) -> Result<Endpoint, Failure> {
        let refuse = |field: &str, problem: String| {
            Failure::new(ErrorType::InvalidInput, format!("{field} {problem}"))
                .with_details(json!({ "field": field }))
        };
        let pick = |field: &str, spec: Option<String>, secret: Option<String>| match (spec, secret)
        {
            (Some(s), Some(k)) if !s.eq_ignore_ascii_case(&k) => Err(refuse(
                field,
                format!(
                    "is {s}, but the password's secret belongs to {k}: the password is sent only \
                     to the database its secret names"
                ),
            )),
            (_, Some(k)) | (Some(k), None) => Ok(Some(k)),
            (None, None) => Ok(None),
        };
        let required = |field: &str, v: Option<String>| {
            v.ok_or_else(|| {
                refuse(
                    field,
                    "is required: give it in the spec or keep it in the secret".into(),
                )
            })
        };
        let host = required(
            "database.host",
            pick("database.host", db.host.clone(), self.host.clone())?,
        )?;
        let port = pick(
            "database.port",
            db.port.map(|p| p.to_string()),
            self.port.map(|p| p.to_string()),
        )?
        .and_then(|p| p.parse().ok())
        .unwrap_or(5432);
        let name = required(
            "database.name",
            pick("database.name", db.name.clone(), self.dbname.clone())?,
        )?;
        let user = required(
            "database.user",
            pick("database.user", db.user.clone(), self.username.clone())?,
        )?;
        if !db.tls && !is_loopback(&host) {
            return Err(refuse(
                "database.tls",
                format!("disable is only for a database on this machine, and {host} is not"),
            ));
        }
        Ok(Endpoint {
            host,
            port,
            name,
            user,
            tls: db.tls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::PasswordRef;

    fn db(host: Option<&str>, port: Option<u16>, name: Option<&str>) -> Database {
        Database {
            host: host.map(String::from),
            port,
            name: name.map(String::from),
            user: Some("app".into()),
            password: PasswordRef::Secret("cutover/db".into()),
            tls: true,
        }
    }

    const RDS: &str = r#"{"username":"app","password":"s3cret","engine":"postgres",
        "host":"live.cluster-x.eu-west-1.rds.amazonaws.com","port":5432,"dbname":"live"}"#;

    #[test]
    fn an_rds_secret_decides_where_its_password_goes() {
        let rds = Credentials::from_secret_text(RDS.into());
        assert_eq!(rds.password, "s3cret");
        let home = "live.cluster-x.eu-west-1.rds.amazonaws.com";
        // The spec may leave the database to the secret, or name the same one.
        let e = rds.endpoint(&db(None, None, None)).unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.name.as_str(), e.user.as_str()),
            (home, 5432, "live", "app")
        );
        assert_eq!(
            rds.endpoint(&db(Some(home), Some(5432), Some("live")))
                .unwrap(),
            e
        );
        for (other, field) in [
            (
                db(Some("attacker.example.com"), None, None),
                "database.host",
            ),
            (db(None, Some(6543), None), "database.port"),
            (db(None, None, Some("postgres")), "database.name"),
        ] {
            let err = rds.endpoint(&other).unwrap_err();
            assert_eq!(err.error_type, ErrorType::InvalidInput);
            assert!(err.reason.starts_with(field), "{}", err.reason);
            assert!(!err.reason.contains("s3cret"));
        }
        assert!(!format!("{rds:?}").contains("s3cret"));
    }

    #[test]
    fn without_an_rds_secret_the_spec_says_where_and_must_say_it() {
        let plain = Credentials::from_secret_text("just-the-password".into());
        assert_eq!(plain.password, "just-the-password");
        let e = plain
            .endpoint(&db(Some("db.internal"), None, Some("x")))
            .unwrap();
        assert_eq!((e.host.as_str(), e.port), ("db.internal", 5432));
        let err = plain.endpoint(&db(None, None, Some("x"))).unwrap_err();
        assert!(
            err.reason.starts_with("database.host is required"),
            "{}",
            err.reason
        );
        // A host only the secret names is held to the TLS rule too.
        let mut clear = db(None, None, None);
        clear.tls = false;
        let err = Credentials::from_secret_text(RDS.into())
            .endpoint(&clear)
            .unwrap_err();
        assert!(err.reason.starts_with("database.tls"), "{}", err.reason);
        // RDS-managed secrets hold only the username and password; a port may be text.
        let managed = Credentials::from_secret_text(r#"{"username":"a","password":"p"}"#.into());
        assert_eq!((managed.password.as_str(), managed.host), ("p", None));
        let text_port = Credentials::from_secret_text(r#"{"password":"p","port":"6543"}"#.into());
        assert_eq!(text_port.port, Some(6543));
        // JSON without a password is the password itself.
        let odd = Credentials::from_secret_text(r#"{"user":"u"}"#.into());
        assert_eq!(odd.password, r#"{"user":"u"}"#);
    }
}
