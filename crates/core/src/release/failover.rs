//! The failover gate: before a region of a Route 53 failover pair is deployed, the other half must be
//! healthy by its health check, so that the deployment can never take down the only healthy half.
//! Route 53's `GetHealthCheckStatus` answers one observation per checker, its status a text that
//! starts `Success:` or `Failure:`; Route 53 itself calls an endpoint healthy when more than 18 % of
//! checkers say so, the gate asks for a larger share (default a majority), since it decides whether
//! the other half can carry everything.

use super::plan::{is_region_code, FailoverPair};
use crate::fields::Reader;
use serde::{Deserialize, Serialize};

/// A majority of checkers by default; configurable per record (0 < share ≤ 1).
pub const DEFAULT_HEALTHY_SHARE: f64 = 0.5;
/// Route 53 health check ids are UUIDs (36 characters); hosted zone ids at most 32.
const MAX_ID_LEN: usize = 64;
/// A DNS name is at most 255 octets; a set identifier 1 to 128 characters.
const MAX_RECORD_NAME: usize = 255;
const MAX_SET_IDENTIFIER: usize = 128;

/// One half of a failover record: the region behind it, its record set and its health check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverHalf {
    pub region: String,
    pub set_identifier: String,
    pub health_check_id: String,
}

/// A Route 53 failover record (PRIMARY and SECONDARY), named in the release plan's `failover` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverRecord {
    pub hosted_zone_id: String,
    pub record_name: String,
    pub primary: FailoverHalf,
    pub secondary: FailoverHalf,
    pub min_healthy_share: f64,
}

impl FailoverRecord {
    pub fn pair(&self) -> FailoverPair {
        FailoverPair {
            primary: self.primary.region.clone(),
            secondary: self.secondary.region.clone(),
        }
    }

    /// The half deployed in `region`, if this record has one there.
    pub fn half(&self, region: &str) -> Option<&FailoverHalf> {
        [&self.primary, &self.secondary]
            .into_iter()
            .find(|h| h.region == region)
    }

    /// The other half of the pair `region` belongs to.
    pub fn partner(&self, region: &str) -> Option<&FailoverHalf> {
        match (
            self.primary.region == region,
            self.secondary.region == region,
        ) {
            (true, _) => Some(&self.secondary),
            (_, true) => Some(&self.primary),
            _ => None,
        }
    }

    /// Read one record from `r` (a reader of the record's object); problems go to the reader.
    pub fn read(r: &mut Reader<'_>) -> Option<FailoverRecord> {
        let hosted_zone_id = bounded(r, "hostedZoneId", MAX_ID_LEN);
        let record_name = bounded(r, "recordName", MAX_RECORD_NAME);
        let primary = half(&mut r.child("primary", true));
        let secondary = half(&mut r.child("secondary", true));
        let share = r.number("minHealthyShare", 0.01, 1.0, DEFAULT_HEALTHY_SHARE);
        let (primary, secondary) = (primary?, secondary?);
        if primary.region == secondary.region {
            r.fail(
                "secondary.region",
                format!("is the primary's region {} too", primary.region),
            );
            return None;
        }
        Some(FailoverRecord {
            hosted_zone_id: hosted_zone_id?,
            record_name: record_name?,
            primary,
            secondary,
            min_healthy_share: share,
        })
    }
}

fn bounded(r: &mut Reader<'_>, key: &str, max: usize) -> Option<String> {
    let s = r.string(key, true)?;
    if s.len() > max || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        r.fail(
            key,
            format!("must be at most {max} characters without spaces"),
        );
        return None;
    }
    Some(s)
}

fn half(r: &mut Reader<'_>) -> Option<FailoverHalf> {
    let region = r.string("region", true);
    let set_identifier = bounded(r, "setIdentifier", MAX_SET_IDENTIFIER);
    let health_check_id = bounded(r, "healthCheckId", MAX_ID_LEN);
    let region = region?;
    if !is_region_code(&region) {
        r.fail("region", format!("\"{region}\" is not an AWS region code"));
        return None;
    }
    Some(FailoverHalf {
        region,
        set_identifier: set_identifier?,
        health_check_id: health_check_id?,
    })
}

/// The records of a plan's `failover` list (absent: none).
pub fn read_records(r: &mut Reader<'_>) -> Vec<FailoverRecord> {
    let Some(v) = r.value("failover", false) else {
        return Vec::new();
    };
    let Some(items) = v.as_array() else {
        r.fail(
            "failover",
            format!("must be a list of failover records, got {v}"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut child = r.child_at("failover", i);
        if let Some(rec) = FailoverRecord::read(&mut child) {
            out.push(rec);
        }
    }
    out
}

/// The share of checkers that report success; `None` when none reported (unknown is not healthy).
pub fn healthy_share(statuses: &[String]) -> Option<f64> {
    if statuses.is_empty() {
        return None;
    }
    let ok = statuses
        .iter()
        .filter(|s| s.trim_start().starts_with("Success"))
        .count();
    Some(ok as f64 / statuses.len() as f64)
}

/// `Ok` when `region` may be deployed now: it is in no pair, or its other half's checkers (`other`)
/// report it healthy in at least `min_share`. The error names the unhealthy region and the figures.
pub fn gate(
    region: &str,
    pairs: &[FailoverPair],
    other: impl Fn(&str) -> Vec<String>,
    min_share: f64,
) -> Result<(), String> {
    let Some(peer) = pairs.iter().find_map(|p| p.other(region)) else {
        return Ok(());
    };
    let statuses = other(peer);
    match healthy_share(&statuses) {
        Some(share) if share >= min_share => Ok(()),
        Some(share) => Err(format!(
            "{region} is not deployed: its failover partner {peer} is unhealthy ({:.0} % of {} Route 53 checkers report success, {:.0} % needed), and deploying {region} could leave no healthy half",
            share * 100.0,
            statuses.len(),
            min_share * 100.0
        )),
        None => Err(format!(
            "{region} is not deployed: no Route 53 checker reports on its failover partner {peer}'s health check, so {peer} cannot be shown healthy"
        )),
    }
}

/// Why `region`, one half of `record`, must not be deployed now given what Route 53's checkers say
/// of its partner (`None`: the partner's health check does not exist), if it must not.
pub fn health_refusal(
    region: &str,
    record: &FailoverRecord,
    observations: Option<&[String]>,
) -> Option<String> {
    let partner = record.partner(region)?;
    let Some(observations) = observations else {
        return Some(format!(
            "{region} is not deployed: its failover partner {}'s health check {} does not exist in Route 53",
            partner.region, partner.health_check_id
        ));
    };
    gate(
        region,
        &[record.pair()],
        |_| observations.to_vec(),
        record.min_healthy_share,
    )
    .err()
}

/// The refusal of `region` while its partner is in deployment `id` (status `status`) itself.
pub fn busy_refusal(
    region: &str,
    partner: &str,
    id: &str,
    status: impl std::fmt::Display,
) -> String {
    format!(
        "{region} is not deployed: its failover partner {partner} is being deployed itself (deployment {id}, {status}); both halves never move at once"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs() -> Vec<FailoverPair> {
        vec![FailoverPair {
            primary: "us-east-2".into(),
            secondary: "us-west-2".into(),
        }]
    }

    fn checkers(ok: usize, failing: usize) -> Vec<String> {
        let mut v = vec!["Success: HTTP Status Code 200, OK".to_string(); ok];
        v.extend(vec!["Failure: Connection timed out.".to_string(); failing]);
        v
    }

    #[test]
    fn a_healthy_partner_lets_the_region_go() {
        assert!(gate(
            "us-east-2",
            &pairs(),
            |_| checkers(15, 1),
            DEFAULT_HEALTHY_SHARE
        )
        .is_ok());
        assert!(
            gate("eu-west-1", &pairs(), |_| Vec::new(), DEFAULT_HEALTHY_SHARE).is_ok(),
            "not in a pair"
        );
    }

    #[test]
    fn an_unhealthy_or_silent_partner_refuses_naming_it() {
        let asked = std::cell::RefCell::new(Vec::new());
        let e = gate(
            "us-east-2",
            &pairs(),
            |r| {
                asked.borrow_mut().push(r.to_string());
                checkers(3, 13)
            },
            DEFAULT_HEALTHY_SHARE,
        )
        .unwrap_err();
        assert_eq!(asked.into_inner(), ["us-west-2"]);
        assert!(
            e.contains("failover partner us-west-2 is unhealthy (19 % of 16"),
            "{e}"
        );
        let e = gate("us-west-2", &pairs(), |_| Vec::new(), DEFAULT_HEALTHY_SHARE).unwrap_err();
        assert!(
            e.contains("no Route 53 checker reports on its failover partner us-east-2"),
            "{e}"
        );
    }

    #[test]
    fn the_share_is_of_checkers_reporting_success() {
        assert_eq!(healthy_share(&checkers(1, 3)), Some(0.25));
        assert_eq!(healthy_share(&[]), None);
        assert!(
            gate("us-east-2", &pairs(), |_| checkers(8, 8), 0.5).is_ok(),
            "exactly the share passes"
        );
    }
}
