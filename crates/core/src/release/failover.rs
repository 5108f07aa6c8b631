//! The failover gate: before a region of a Route 53 failover pair is deployed, the other half must be
//! healthy by its health check, so that the deployment can never take down the only healthy half.
//! Route 53's `GetHealthCheckStatus` answers one observation per checker, its status a text that
//! starts `Success:` or `Failure:`; Route 53 itself calls an endpoint healthy when more than 18 % of
//! checkers say so, the gate asks for a larger share (default a majority), since it decides whether
//! the other half can carry everything.

use super::plan::FailoverPair;

/// A majority of checkers by default; configurable per target (0 < share ≤ 1).
pub const DEFAULT_HEALTHY_SHARE: f64 = 0.5;

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
