use crate::{AwsError, LedgerStore};
use cutover_core::{Deployment, Ledger};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One service's archived deployments by (start, id), as the table's sort key orders them.
pub type History = std::collections::BTreeMap<(u64, String), Deployment>;

/// A ledger table with DynamoDB's conditional-write semantics. A clone is another handle on the same
/// table, for a test that writes from inside another fake (a rollback racing a listener write).
#[derive(Default, Clone)]
pub struct FakeLedger {
    pub(crate) calls: super::Calls,
    pub items: Arc<Mutex<HashMap<String, Ledger>>>,
    /// Archived deployments by `<app>#<env>`, keyed as the table keys them (start, then id).
    pub history: Arc<Mutex<HashMap<String, History>>>,
}

impl FakeLedger {
    pub fn get(&self, app: &str, env: &str) -> Option<Ledger> {
        self.items
            .lock()
            .unwrap()
            .get(&format!("{app}#{env}"))
            .cloned()
    }

    /// [`LedgerStore::save`] without the future: `false` when the stored version moved on.
    pub fn put(&self, ledger: &Ledger) -> bool {
        let mut items = self.items.lock().unwrap();
        let key = format!("{}#{}", ledger.app, ledger.env);
        let stored = items.get(&key).map_or(0, |l| l.version);
        if stored != ledger.version {
            return false;
        }
        items.insert(
            key,
            Ledger {
                version: ledger.version + 1,
                ..ledger.clone()
            },
        );
        true
    }
}

impl LedgerStore for FakeLedger {
    async fn load(&self, app: &str, env: &str) -> Result<Option<Ledger>, AwsError> {
        self.calls.note("LedgerStore::load");
        Ok(self.get(app, env))
    }

    async fn save(&self, ledger: &Ledger) -> Result<bool, AwsError> {
        self.calls.note("LedgerStore::save");
        // DynamoDB refuses an item over 400 KB; the JSON of the ledger is close to its item's size.
        let size = serde_json::to_vec(ledger).map_or(0, |v| v.len());
        if size > 400 * 1024 {
            return Err(AwsError::Rejected {
                operation: "PutItem",
                code: "ValidationException".into(),
                message: "Item size has exceeded the maximum allowed size".into(),
            });
        }
        Ok(self.put(ledger))
    }

    async fn archive(&self, app: &str, env: &str, d: &Deployment) -> Result<(), AwsError> {
        self.calls.note("LedgerStore::archive");
        self.history
            .lock()
            .unwrap()
            .entry(format!("{app}#{env}"))
            .or_default()
            .insert((d.started_at_ms, d.id.clone()), d.clone());
        Ok(())
    }

    async fn archived(
        &self,
        app: &str,
        env: &str,
        limit: usize,
    ) -> Result<Vec<Deployment>, AwsError> {
        self.calls.note("LedgerStore::archived");
        let history = self.history.lock().unwrap();
        Ok(history
            .get(&format!("{app}#{env}"))
            .map(|h| h.values().rev().take(limit).cloned().collect())
            .unwrap_or_default())
    }
}
