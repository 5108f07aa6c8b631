//! Arbitrary input for the fuzz tests (issue 19): any JSON, and realistic events with one part
//! broken, which reach further into a parser than noise does. Test support, behind `fuzz`.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Keys the parsers read, so generated objects hit real fields, not only unknown ones.
const KEYS: &[&str] = &[
    "app",
    "env",
    "deploymentId",
    "releaseId",
    "image",
    "strategy",
    "steps",
    "weight",
    "bakeSeconds",
    "phase",
    "action",
    "region",
    "waves",
    "spec",
    "source",
    "target",
    "columns",
    "expression",
    "reason",
    "Records",
    "Sns",
    "Message",
    "AlarmName",
    "NewStateValue",
    "detail",
    "state",
    "value",
    "experiment",
    "testRoute",
    "step",
    "error",
    "Error",
    "Cause",
    "executionArn",
    "kind",
    "name",
];

/// Any JSON value, up to a few levels deep, strings of any Unicode.
pub fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(KEYS).prop_map(|k| Value::String(k.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(KEYS).prop_map(String::from),
        1 => ".{0,12}",
    ]
}

/// `sample` with one change: a field (at any depth) replaced by any JSON or removed, a field
/// added, or the whole event replaced.
pub fn mutated(sample: Value) -> impl Strategy<Value = Value> {
    let paths = paths(&sample, &mut Vec::new());
    let n = paths.len().max(1);
    (0..n, 0u8..8, json(), key()).prop_map(move |(i, op, value, extra)| {
        let mut event = sample.clone();
        match (op, paths.get(i)) {
            (0, _) => return value,
            (1 | 2, Some(path)) => {
                remove_at(&mut event, path);
            }
            (3, _) => {
                if let Value::Object(m) = &mut event {
                    m.insert(extra, value);
                }
            }
            (_, Some(path)) => {
                if let Some(slot) = at(&mut event, path) {
                    *slot = value;
                }
            }
            _ => return value,
        }
        event
    })
}

/// Every path (object keys and array indexes) of `v`.
fn paths(v: &Value, prefix: &mut Vec<Value>) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    let children: Vec<(Value, &Value)> = match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, c)| (Value::String(k.clone()), c))
            .collect(),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, c)| (Value::from(i), c))
            .collect(),
        _ => Vec::new(),
    };
    for (k, child) in children {
        prefix.push(k);
        out.push(prefix.clone());
        out.extend(paths(child, prefix));
        prefix.pop();
    }
    out
}

fn at<'a>(v: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, k| match k {
        Value::String(k) => v.get_mut(k.as_str()),
        _ => v.get_mut(k.as_u64()? as usize),
    })
}

fn remove_at(v: &mut Value, path: &[Value]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    match (at(v, parent), last) {
        (Some(Value::Object(m)), Value::String(k)) => {
            m.remove(k);
        }
        (Some(Value::Array(a)), Value::Number(i)) => {
            if let Some(i) = i.as_u64().map(|i| i as usize).filter(|i| *i < a.len()) {
                a.remove(i);
            }
        }
        _ => {}
    }
}
