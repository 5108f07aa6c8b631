//! The experiment's primary metric, as `NAMESPACE:NAME:STAT[:DIM=VALUE,…]`. Each variant's series is
//! that metric with one more dimension, `TargetGroup`, set to the variant's target group (as ALB
//! names it: `targetgroup/<name>/<id>`), so the application publishes it per target group.

use serde::{Deserialize, Serialize};
use std::fmt;

/// CloudWatch's limits: 255 characters for a namespace, a metric or a dimension name, 1024 for a
/// dimension value, 30 dimensions per metric (one is the variant's).
const MAX_NAME: usize = 255;
const MAX_VALUE: usize = 1024;
const MAX_DIMENSIONS: usize = 29;
pub const VARIANT_DIMENSION: &str = "TargetGroup";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricRef {
    pub namespace: String,
    pub name: String,
    pub stat: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<(String, String)>,
}

/// How a statistic grows with traffic: a mean (or a percentile, a minimum, a maximum) does not, a
/// total grows with the variant's share, so totals compare only across an even split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatKind {
    PerRequest,
    Total,
}

fn valid_stat(s: &str) -> bool {
    if matches!(s, "Average" | "Minimum" | "Maximum" | "Sum" | "SampleCount") {
        return true;
    }
    // Percentiles p0..p100 with up to two decimals, as CloudWatch spells them (p95, p99.9).
    s.strip_prefix('p').is_some_and(|p| {
        let (int, frac) = p.split_once('.').unwrap_or((p, ""));
        !int.is_empty()
            && int.len() <= 3
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.len() <= 2
            && frac.bytes().all(|b| b.is_ascii_digit())
            && (!p.contains('.') || !frac.is_empty())
            && p.parse::<f64>().is_ok_and(|v| v <= 100.0)
    })
}

fn printable(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| !c.is_control())
}

impl MetricRef {
    pub fn parse(text: &str) -> Result<MetricRef, String> {
        let shape = "must be NAMESPACE:NAME:STAT or NAMESPACE:NAME:STAT:DIM=VALUE,…";
        let mut parts = text.splitn(4, ':');
        let (Some(namespace), Some(name), Some(stat)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("{shape}, got \"{text}\""));
        };
        for (what, v) in [("namespace", namespace), ("metric name", name)] {
            if !printable(v) || v.len() > MAX_NAME {
                return Err(format!(
                    "the {what} must be 1 to {MAX_NAME} printable characters"
                ));
            }
        }
        if namespace.starts_with("AWS/") && namespace != "AWS/ApplicationELB" {
            return Err(
                "only custom namespaces or AWS/ApplicationELB hold per-target-group series".into(),
            );
        }
        if !valid_stat(stat) {
            return Err(format!(
                "statistic \"{stat}\" is not one of Average, Sum, SampleCount, Minimum, Maximum, pNN or pNN.NN"
            ));
        }
        let mut dimensions = Vec::new();
        if let Some(dims) = parts.next() {
            for pair in dims.split(',') {
                let Some((k, v)) = pair.split_once('=') else {
                    return Err(format!("dimension \"{pair}\" must be NAME=VALUE"));
                };
                if !printable(k) || k.len() > MAX_NAME || !printable(v) || v.len() > MAX_VALUE {
                    return Err(format!(
                        "dimension \"{pair}\": a name of 1 to {MAX_NAME} and a value of 1 to {MAX_VALUE} printable characters"
                    ));
                }
                if k == VARIANT_DIMENSION || dimensions.iter().any(|(d, _)| d == k) {
                    return Err(format!(
                        "dimension {k} is given twice ({VARIANT_DIMENSION} is the variant's, set by Cutover)"
                    ));
                }
                dimensions.push((k.to_string(), v.to_string()));
            }
            if dimensions.len() > MAX_DIMENSIONS {
                return Err(format!(
                    "at most {MAX_DIMENSIONS} dimensions besides {VARIANT_DIMENSION}"
                ));
            }
        }
        Ok(MetricRef {
            namespace: namespace.into(),
            name: name.into(),
            stat: stat.into(),
            dimensions,
        })
    }

    pub fn kind(&self) -> StatKind {
        match self.stat.as_str() {
            "Sum" | "SampleCount" => StatKind::Total,
            _ => StatKind::PerRequest,
        }
    }
}

impl fmt::Display for MetricRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.namespace, self.name, self.stat)?;
        if !self.dimensions.is_empty() {
            let dims: Vec<String> = self
                .dimensions
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            write!(f, ":{}", dims.join(","))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_reference_round_trips() {
        let m = MetricRef::parse("LiveEvent/Business:Conversion:Average:Service=live,Stage=prod")
            .unwrap();
        assert_eq!(m.namespace, "LiveEvent/Business");
        assert_eq!(
            m.dimensions,
            vec![
                ("Service".into(), "live".into()),
                ("Stage".into(), "prod".into())
            ]
        );
        assert_eq!(
            m.to_string(),
            "LiveEvent/Business:Conversion:Average:Service=live,Stage=prod"
        );
        assert_eq!(m.kind(), StatKind::PerRequest);
        assert_eq!(MetricRef::parse("A:B:Sum").unwrap().kind(), StatKind::Total);
    }

    #[test]
    fn statistics_are_cloudwatchs() {
        for ok in ["p95", "p99.9", "p100", "p0", "Maximum", "SampleCount"] {
            assert!(valid_stat(ok), "{ok}");
        }
        for bad in ["p101", "p", "p9.", "p99.999", "Avg", "average", "tm99", ""] {
            assert!(!valid_stat(bad), "{bad}");
        }
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (text, says) in [
            ("Ns:Name", "must be NAMESPACE"),
            ("Ns::Average", "metric name"),
            ("Ns:Name:Mean", "statistic"),
            ("Ns:Name:Average:TargetGroup=x", "given twice"),
            ("Ns:Name:Average:A=1,A=2", "given twice"),
            ("Ns:Name:Average:A", "NAME=VALUE"),
            ("AWS/EC2:CPUUtilization:Average", "custom namespaces"),
        ] {
            let e = MetricRef::parse(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
        assert!(MetricRef::parse(&format!("{}:N:Sum", "n".repeat(256))).is_err());
    }
}
