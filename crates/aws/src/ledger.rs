//! The deployment ledger in DynamoDB: one item per `<app>#<env>` (sort key `LEDGER`), written only on
//! the condition that its `version` is the one read. The rules for what may change live in
//! `cutover_core::deployment`; this module only loads, writes and retries.

use crate::{AwsError, LedgerStore};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use cutover_core::{Deployment, Ledger};
use std::collections::HashMap;

pub const LEDGER_SORT_KEY: &str = "LEDGER";
/// Archived deployments sort after it by start time, so a Query reads the newest first.
pub const DEPLOYMENT_SORT_PREFIX: &str = "DEPLOYMENT#";

const TABLE: &str = "arn:{partition}:dynamodb:{region}:{account}:table/{ledger_table}";

pub const PERMISSIONS: &[crate::iam::Needs] = &[
    (
        "LedgerStore::load",
        &[crate::iam::allow("dynamodb:GetItem", TABLE)],
    ),
    (
        "LedgerStore::save",
        &[crate::iam::allow("dynamodb:PutItem", TABLE)],
    ),
    (
        "LedgerStore::archive",
        &[crate::iam::allow("dynamodb:PutItem", TABLE)],
    ),
    (
        "LedgerStore::archived",
        &[crate::iam::allow("dynamodb:Query", TABLE)],
    ),
];

pub struct DynamoLedger {
    client: Client,
    table: String,
}

impl DynamoLedger {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoLedger {
            client,
            table: table.into(),
        }
    }

    pub fn from_conf(conf: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        DynamoLedger::new(Client::new(conf), table)
    }
}

fn partition_key(app: &str, env: &str) -> String {
    format!("{app}#{env}")
}

fn key(app: &str, env: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(partition_key(app, env))),
        ("sk".to_string(), AttributeValue::S(LEDGER_SORT_KEY.into())),
    ])
}

/// Zero-padded so the string order is the time order (13 digits hold milliseconds until 2286).
fn archive_sort_key(d: &Deployment) -> String {
    format!("{DEPLOYMENT_SORT_PREFIX}{:013}#{}", d.started_at_ms, d.id)
}

impl LedgerStore for DynamoLedger {
    async fn load(&self, app: &str, env: &str) -> Result<Option<Ledger>, AwsError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(app, env)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetItem", e))?;
        let Some(mut item) = out.item else {
            return Ok(None);
        };
        item.remove("pk");
        item.remove("sk");
        serde_dynamo::from_item(item)
            .map(Some)
            .map_err(|e| AwsError::Unusable {
                what: "ledger item",
                id: partition_key(app, env),
                problem: e.to_string(),
            })
    }

    async fn save(&self, ledger: &Ledger) -> Result<bool, AwsError> {
        let next = Ledger {
            version: ledger.version + 1,
            ..ledger.clone()
        };
        let mut item: HashMap<String, AttributeValue> =
            serde_dynamo::to_item(&next).map_err(|e| AwsError::Unusable {
                what: "ledger item",
                id: partition_key(&ledger.app, &ledger.env),
                problem: e.to_string(),
            })?;
        item.extend(key(&ledger.app, &ledger.env));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let put = if ledger.version == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("#v = :v")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":v", AttributeValue::N(ledger.version.to_string()))
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(AwsError::from_sdk("PutItem", e)),
        }
    }

    async fn archive(&self, app: &str, env: &str, d: &Deployment) -> Result<(), AwsError> {
        let mut item: HashMap<String, AttributeValue> =
            serde_dynamo::to_item(d).map_err(|e| AwsError::Unusable {
                what: "archived deployment",
                id: d.id.clone(),
                problem: e.to_string(),
            })?;
        item.insert("pk".into(), AttributeValue::S(partition_key(app, env)));
        item.insert("sk".into(), AttributeValue::S(archive_sort_key(d)));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("PutItem", e))?;
        Ok(())
    }

    async fn archived(
        &self,
        app: &str,
        env: &str,
        limit: usize,
    ) -> Result<Vec<Deployment>, AwsError> {
        let mut out = Vec::new();
        let mut start = None;
        while out.len() < limit {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", AttributeValue::S(partition_key(app, env)))
                .expression_attribute_values(
                    ":prefix",
                    AttributeValue::S(DEPLOYMENT_SORT_PREFIX.into()),
                )
                .scan_index_forward(false)
                .limit(i32::try_from(limit - out.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("Query", e))?;
            for mut item in page.items.unwrap_or_default() {
                let sk = match item.remove("sk") {
                    Some(AttributeValue::S(s)) => s,
                    _ => String::new(),
                };
                item.remove("pk");
                let d = serde_dynamo::from_item(item).map_err(|e| AwsError::Unusable {
                    what: "archived deployment",
                    id: sk,
                    problem: e.to_string(),
                })?;
                out.push(d);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }
}
