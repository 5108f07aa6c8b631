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

pub(crate) fn partition_key(app: &str, env: &str) -> String {
    format!("{app}#{env}")
}

/// The key of `app`/`env`'s item `sort` (the ledger, the release, an archived one).
pub(crate) fn item_key(app: &str, env: &str, sort: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(partition_key(app, env))),
        ("sk".to_string(), AttributeValue::S(sort.into())),
    ])
}

fn key(app: &str, env: &str) -> HashMap<String, AttributeValue> {
    item_key(app, env, LEDGER_SORT_KEY)
}

/// `value` as an item, without its key.
pub(crate) fn to_item<T: serde::Serialize>(
    value: &T,
    what: &'static str,
    id: &str,
) -> Result<HashMap<String, AttributeValue>, AwsError> {
    serde_dynamo::to_item(value).map_err(|e| AwsError::Unusable {
        what,
        id: id.to_string(),
        problem: e.to_string(),
    })
}

/// Write `item` unconditionally (an archived record replacing its own copy).
pub(crate) async fn put_item(
    client: &Client,
    table: &str,
    item: HashMap<String, AttributeValue>,
) -> Result<(), AwsError> {
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("PutItem", e))?;
    Ok(())
}

/// Zero-padded so the string order is the time order (13 digits hold milliseconds until 2286).
fn archive_sort_key(d: &Deployment) -> String {
    format!("{DEPLOYMENT_SORT_PREFIX}{:013}#{}", d.started_at_ms, d.id)
}

/// One item by key, read consistently, without its keys, as `T`; `None` when there is none.
pub(crate) async fn get_item<T: serde::de::DeserializeOwned>(
    client: &Client,
    table: &str,
    key: HashMap<String, AttributeValue>,
    what: &'static str,
    id: String,
) -> Result<Option<T>, AwsError> {
    let out = client
        .get_item()
        .table_name(table)
        .set_key(Some(key))
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
            what,
            id,
            problem: e.to_string(),
        })
}

/// Write `item` only if the stored `version` is `version` (0: only if there is no item yet).
/// `Ok(false)`: someone else wrote first.
pub(crate) async fn put_on_version(
    client: &Client,
    table: &str,
    item: HashMap<String, AttributeValue>,
    version: u64,
) -> Result<bool, AwsError> {
    let put = client.put_item().table_name(table).set_item(Some(item));
    let put = if version == 0 {
        put.condition_expression("attribute_not_exists(pk)")
    } else {
        put.condition_expression("#v = :v")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":v", AttributeValue::N(version.to_string()))
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

/// The newest `limit` items of partition `pk` whose sort key starts with `prefix`, newest first.
pub(crate) async fn newest<T: serde::de::DeserializeOwned>(
    client: &Client,
    table: &str,
    pk: String,
    prefix: &str,
    limit: usize,
    what: &'static str,
) -> Result<Vec<T>, AwsError> {
    let mut out = Vec::new();
    let mut start = None;
    while out.len() < limit {
        let page = client
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
            .expression_attribute_values(":prefix", AttributeValue::S(prefix.into()))
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
            let value = serde_dynamo::from_item(item).map_err(|e| AwsError::Unusable {
                what,
                id: sk,
                problem: e.to_string(),
            })?;
            out.push(value);
        }
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => break,
        }
    }
    Ok(out)
}

impl DynamoLedger {
    /// Add `field` = `value` to deployment `d`'s history record, which must exist (a drill's report,
    /// written once the drill has ended and been archived).
    pub async fn annotate_archived(
        &self,
        app: &str,
        env: &str,
        d: &Deployment,
        field: &str,
        value: &serde_json::Value,
    ) -> Result<(), AwsError> {
        let value: AttributeValue =
            serde_dynamo::to_attribute_value(value).map_err(|e| AwsError::Unusable {
                what: "archived deployment",
                id: d.id.clone(),
                problem: e.to_string(),
            })?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key(app, env, &archive_sort_key(d))))
            .update_expression("SET #f = :v")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#f", field)
            .expression_attribute_values(":v", value)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception())
                {
                    AwsError::NotFound {
                        what: "archived deployment",
                        id: d.id.clone(),
                    }
                } else {
                    AwsError::from_sdk("UpdateItem", e)
                }
            })?;
        Ok(())
    }
}

impl LedgerStore for DynamoLedger {
    async fn load(&self, app: &str, env: &str) -> Result<Option<Ledger>, AwsError> {
        let id = partition_key(app, env);
        get_item(&self.client, &self.table, key(app, env), "ledger item", id).await
    }

    async fn save(&self, ledger: &Ledger) -> Result<bool, AwsError> {
        let next = Ledger {
            version: ledger.version + 1,
            ..ledger.clone()
        };
        let id = partition_key(&ledger.app, &ledger.env);
        let mut item = to_item(&next, "ledger item", &id)?;
        item.extend(key(&ledger.app, &ledger.env));
        put_on_version(&self.client, &self.table, item, ledger.version).await
    }

    async fn archive(&self, app: &str, env: &str, d: &Deployment) -> Result<(), AwsError> {
        let mut item = to_item(d, "archived deployment", &d.id)?;
        item.extend(item_key(app, env, &archive_sort_key(d)));
        put_item(&self.client, &self.table, item).await
    }

    async fn archived(
        &self,
        app: &str,
        env: &str,
        limit: usize,
    ) -> Result<Vec<Deployment>, AwsError> {
        let pk = partition_key(app, env);
        let what = "archived deployment";
        newest(
            &self.client,
            &self.table,
            pk,
            DEPLOYMENT_SORT_PREFIX,
            limit,
            what,
        )
        .await
    }
}
