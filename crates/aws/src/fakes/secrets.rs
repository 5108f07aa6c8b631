use crate::{AwsError, SecretSource};
use cutover_core::migration::{Credentials, PasswordRef};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Secrets' texts (a password, or RDS's JSON shape) by the secret's or parameter's name; counts every read so a test
/// can tell that a refused request never reached for a password.
#[derive(Default)]
pub struct FakeSecrets {
    pub(crate) calls: super::Calls,
    pub passwords: Mutex<HashMap<String, String>>,
    pub reads: AtomicUsize,
}

impl FakeSecrets {
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

impl SecretSource for FakeSecrets {
    async fn password(&self, at: &PasswordRef) -> Result<Credentials, AwsError> {
        self.calls.note("SecretSource::password");
        self.reads.fetch_add(1, Ordering::SeqCst);
        let (PasswordRef::Secret(key) | PasswordRef::Parameter(key)) = at.clone();
        self.passwords
            .lock()
            .unwrap()
            .get(&key)
            .cloned()
            .map(Credentials::from_secret_text)
            .ok_or(AwsError::NotFound {
                what: "secret",
                id: key,
            })
    }
}
