//! A database password as its secret holds it, and where it may be sent. Secrets Manager's RDS
//! secret shape (`{"username", "password", "host", "port", "dbname", …}`) names the database the
//! password belongs to; a spec that points that password at another host, port or database is
//! refused before any connection is made. RDS-managed secrets (`rds!db-…`) hold only the username
//! and password: there TLS `verify-full` and SCRAM channel binding keep the password from any server
//! that is not the database (`cutover_migrate::connect`).

use super::Database;
use crate::{ErrorType, Failure};
use serde_json::{json, Value};

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub password: String,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub dbname: Option<String>,
}

/// Never printed: a password must not reach a log line through a `{:?}`.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
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
            host: text("host"),
            port,
            dbname: text("dbname"),
        }
    }

    pub fn password_only(password: String) -> Credentials {
        Credentials {
            password,
            host: None,
            port: None,
            dbname: None,
        }
    }

    /// `db` is where these credentials belong, as far as their secret says.
    pub fn check(&self, db: &Database) -> Result<(), Failure> {
        let differs = |field: &str, spec: String, secret: &Option<String>| match secret {
            Some(s) if !s.eq_ignore_ascii_case(&spec) => Some((field.to_string(), spec, s.clone())),
            _ => None,
        };
        let mismatch = differs("database.host", db.host.clone(), &self.host)
            .or_else(|| {
                differs(
                    "database.port",
                    db.port.to_string(),
                    &self.port.map(|p| p.to_string()),
                )
            })
            .or_else(|| differs("database.name", db.name.clone(), &self.dbname));
        match mismatch {
            None => Ok(()),
            Some((field, spec, secret)) => Err(Failure::new(
                ErrorType::InvalidInput,
                format!(
                    "{field} is {spec}, but the password's secret belongs to {secret}: the password \
                     is sent only to the database its secret names"
                ),
            )
            .with_details(json!({ "field": field }))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::PasswordRef;

    fn db(host: &str, port: u16, name: &str) -> Database {
        Database {
            host: host.into(),
            port,
            name: name.into(),
            user: "app".into(),
            password: PasswordRef::Secret("cutover/db".into()),
            tls: true,
        }
    }

    #[test]
    fn an_rds_secret_names_its_database_and_a_plain_one_does_not() {
        let rds = Credentials::from_secret_text(
            r#"{"username":"app","password":"s3cret","engine":"postgres",
                "host":"live.cluster-x.eu-west-1.rds.amazonaws.com","port":5432,"dbname":"live"}"#
                .into(),
        );
        assert_eq!(rds.password, "s3cret");
        let home = db("live.cluster-x.eu-west-1.rds.amazonaws.com", 5432, "live");
        assert!(rds.check(&home).is_ok());
        for (other, field) in [
            (db("attacker.example.com", 5432, "live"), "database.host"),
            (db(&home.host, 6543, "live"), "database.port"),
            (db(&home.host, 5432, "postgres"), "database.name"),
        ] {
            let err = rds.check(&other).unwrap_err();
            assert_eq!(err.error_type, ErrorType::InvalidInput);
            assert!(err.reason.starts_with(field), "{}", err.reason);
            assert!(!err.reason.contains("s3cret"));
        }
        let plain = Credentials::from_secret_text("just-the-password".into());
        assert_eq!(plain.password, "just-the-password");
        assert!(plain.check(&db("anywhere", 5432, "x")).is_ok());
        // RDS-managed secrets hold only the username and password; a port may be text.
        let managed = Credentials::from_secret_text(r#"{"username":"a","password":"p"}"#.into());
        assert_eq!((managed.password.as_str(), managed.host), ("p", None));
        let text_port = Credentials::from_secret_text(r#"{"password":"p","port":"6543"}"#.into());
        assert_eq!(text_port.port, Some(6543));
        // JSON without a password is the password itself.
        let odd = Credentials::from_secret_text(r#"{"user":"u"}"#.into());
        assert_eq!(odd.password, r#"{"user":"u"}"#);
        assert!(!format!("{rds:?}").contains("s3cret"));
    }
}
