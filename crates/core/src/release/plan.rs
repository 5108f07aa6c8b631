//! The release plan, stored at `/cutover/<app>/<env>/release` next to the target configuration or
//! given on the command line: `{"waves": [["us-east-2"], ["us-west-2", "eu-west-1"]],
//! "bakeSeconds": 3600, "onFailure": "stop" | "rollbackAll"}`, or as `--waves "us-east-2;us-west-2,eu-west-1"`.
//! Every problem is reported at once, each naming its field.

use super::failover::{read_records, FailoverRecord};
use crate::fields::{document, FieldError, Reader};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The Builders' Library bakes an hour between waves by default; a day is the most a plan may ask.
pub const DEFAULT_BAKE_SECONDS: u64 = 3600;
pub const MAX_BAKE_SECONDS: u64 = 24 * 3600;
/// A release of more waves than this is a calendar, not a plan.
pub const MAX_WAVES: usize = 20;
const FIELDS: [&str; 4] = ["waves", "bakeSeconds", "onFailure", "failover"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OnFailure {
    /// Stop the next waves; regions already promoted keep the new version.
    Stop,
    /// Stop, and return every region this release promoted to its previous colour.
    RollbackAll,
}

/// The two regions behind one Route 53 failover record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverPair {
    pub primary: String,
    pub secondary: String,
}

impl FailoverPair {
    /// The other half of the pair `region` belongs to, if it belongs to this one.
    pub fn other(&self, region: &str) -> Option<&str> {
        if self.primary == region {
            Some(&self.secondary)
        } else if self.secondary == region {
            Some(&self.primary)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleasePlan {
    pub waves: Vec<Vec<String>>,
    pub bake_seconds: u64,
    pub on_failure: OnFailure,
    /// The Route 53 failover records whose halves the release must keep apart and gate.
    #[serde(default)]
    pub failover: Vec<FailoverRecord>,
}

/// An AWS region code as AWS spells them: `us-east-2`, `eu-central-1`, `us-gov-west-1`, `ap-southeast-5`.
pub fn is_region_code(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let (head, tail) = match parts.as_slice() {
        [area, dir, n] => (vec![*area, *dir], *n),
        [area, gov, dir, n] if *gov == "gov" || *gov == "iso" || *gov == "isob" => {
            (vec![*area, *gov, *dir], *n)
        }
        _ => return false,
    };
    head[0].len() == 2
        && head
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && !tail.is_empty()
        && tail.len() <= 2
        && tail.bytes().all(|b| b.is_ascii_digit())
}

/// `"us-east-2;us-west-2,eu-west-1"`: waves separated by `;`, regions of a wave by `,`.
pub fn waves_from_text(text: &str) -> Vec<Vec<String>> {
    text.split(';')
        .map(|w| {
            w.split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(String::from)
                .collect()
        })
        .collect()
}

impl ReleasePlan {
    /// Read and validate a plan. `known` are the regions the release can reach (where a regional
    /// stack was found; empty: not checked).
    pub fn from_json(value: &Value, known: &[String]) -> Result<ReleasePlan, Vec<FieldError>> {
        let obj = document(value)?;
        let mut errors = Vec::new();
        let mut r = Reader::new(&mut errors, Some(obj));
        let waves = match r.value("waves", true) {
            Some(Value::Array(ws)) => {
                let mut waves = Vec::new();
                for (i, w) in ws.iter().enumerate() {
                    match w
                        .as_array()
                        .map(|rs| rs.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
                    {
                        Some(Some(rs)) => waves.push(rs.into_iter().map(String::from).collect()),
                        _ => r.fail(
                            &format!("waves[{i}]"),
                            format!("must be a list of region codes, got {w}"),
                        ),
                    }
                }
                waves
            }
            Some(other) => {
                r.fail(
                    "waves",
                    format!("must be a list of waves, each a list of regions, got {other}"),
                );
                Vec::new()
            }
            None => Vec::new(),
        };
        let bake_seconds = r.integer("bakeSeconds", MAX_BAKE_SECONDS, DEFAULT_BAKE_SECONDS);
        let on_failure = match r.string("onFailure", false).as_deref() {
            None | Some("stop") => OnFailure::Stop,
            Some("rollbackAll") => OnFailure::RollbackAll,
            Some(other) => {
                r.fail(
                    "onFailure",
                    format!("must be stop or rollbackAll, got \"{other}\""),
                );
                OnFailure::Stop
            }
        };
        let failover = read_records(&mut r);
        if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            r.fail(k, format!("is not one of {}", FIELDS.join(", ")));
        }
        let plan = ReleasePlan {
            waves,
            bake_seconds,
            on_failure,
            failover,
        };
        if value.get("waves").is_some_and(Value::is_array) {
            errors.extend(plan.problems(known));
        }
        if errors.is_empty() {
            Ok(plan)
        } else {
            Err(errors)
        }
    }

    /// The plan with other waves (`--waves` on the command line), checked again.
    pub fn with_waves(
        &self,
        waves: Vec<Vec<String>>,
        known: &[String],
    ) -> Result<ReleasePlan, Vec<FieldError>> {
        let plan = ReleasePlan {
            waves,
            ..self.clone()
        };
        let problems = plan.problems(known);
        if problems.is_empty() {
            Ok(plan)
        } else {
            Err(problems)
        }
    }

    pub fn pairs(&self) -> Vec<FailoverPair> {
        self.failover.iter().map(FailoverRecord::pair).collect()
    }

    /// What is wrong with the waves: every problem, each naming where it is.
    pub fn problems(&self, known: &[String]) -> Vec<FieldError> {
        let pairs = self.pairs();
        let mut out = Vec::new();
        let mut fail = |field: String, problem: String| out.push(FieldError { field, problem });
        if self.waves.is_empty() {
            fail("waves".into(), "needs at least one wave".into());
        }
        if self.waves.len() > MAX_WAVES {
            fail(
                "waves".into(),
                format!("has {} waves; at most {MAX_WAVES}", self.waves.len()),
            );
        }
        let mut seen: Vec<(&str, String)> = Vec::new();
        for (i, wave) in self.waves.iter().enumerate() {
            if wave.is_empty() {
                fail(
                    format!("waves[{i}]"),
                    "is empty: a wave needs at least one region".into(),
                );
            }
            for (j, region) in wave.iter().enumerate() {
                let at = format!("waves[{i}][{j}]");
                if !is_region_code(region) {
                    fail(
                        at.clone(),
                        format!("\"{region}\" is not an AWS region code (like us-east-2)"),
                    );
                } else if !known.is_empty() && !known.contains(region) {
                    fail(
                        at.clone(),
                        format!(
                            "unknown region {region}: the release knows {}",
                            known.join(", ")
                        ),
                    );
                }
                if let Some((_, first)) = seen.iter().find(|(r, _)| r == region) {
                    fail(
                        at.clone(),
                        format!("{region} is listed twice (first at {first})"),
                    );
                } else {
                    seen.push((region, at.clone()));
                }
            }
            for pair in &pairs {
                if wave.contains(&pair.primary) && wave.contains(&pair.secondary) {
                    fail(
                        format!("waves[{i}]"),
                        format!(
                            "holds both halves of the failover pair {} / {}: they must be deployed in different waves",
                            pair.primary, pair.secondary
                        ),
                    );
                }
            }
        }
        out
    }

    /// Every region of the plan, in the order the release reaches them.
    pub fn regions(&self) -> impl Iterator<Item = &str> {
        self.waves.iter().flatten().map(String::as_str)
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
