use crate::{AwsError, LedgerStore};
use cutover_core::Ledger;
use std::collections::HashMap;
use std::sync::Mutex;

/// A ledger table with DynamoDB's conditional-write semantics.
#[derive(Default)]
pub struct FakeLedger {
    pub items: Mutex<HashMap<String, Ledger>>,
}

impl FakeLedger {
    pub fn get(&self, app: &str, env: &str) -> Option<Ledger> {
        self.items
            .lock()
            .unwrap()
            .get(&format!("{app}#{env}"))
            .cloned()
    }
}

impl LedgerStore for FakeLedger {
    async fn load(&self, app: &str, env: &str) -> Result<Option<Ledger>, AwsError> {
        Ok(self.get(app, env))
    }

    async fn save(&self, ledger: &Ledger) -> Result<bool, AwsError> {
        let mut items = self.items.lock().unwrap();
        let key = format!("{}#{}", ledger.app, ledger.env);
        let stored = items.get(&key).map_or(0, |l| l.version);
        if stored != ledger.version {
            return Ok(false);
        }
        items.insert(
            key,
            Ledger {
                version: ledger.version + 1,
                ..ledger.clone()
            },
        );
        Ok(true)
    }
}
