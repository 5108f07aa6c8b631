//! Colours, weights and the forward action of a listener, as Cutover sees them.
//!
//! Cutover always writes percentages: two integers that sum to 100, even though an ALB would accept
//! any pair in 0..=999 (and the local emulator accepts anything at all).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Blue,
    Green,
}

impl Colour {
    pub const BOTH: [Colour; 2] = [Colour::Blue, Colour::Green];

    pub fn other(self) -> Colour {
        match self {
            Colour::Blue => Colour::Green,
            Colour::Green => Colour::Blue,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Blue => "blue",
            Colour::Green => "green",
        }
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated split of production traffic between the two colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawWeights")]
pub struct Weights {
    blue: u8,
    green: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    #[error("weights must be an object with the keys \"blue\" and \"green\"")]
    NotAnObject,
    #[error("weight \"{0}\" is missing")]
    Missing(&'static str),
    #[error("unknown colour \"{0}\" in weights (only \"blue\" and \"green\")")]
    UnknownColour(String),
    #[error("weight \"{colour}\" must be an integer from 0 to 100, got {value}")]
    NotAPercentage { colour: &'static str, value: String },
    #[error("weights must sum to 100, got {blue} + {green} = {sum}")]
    BadSum { blue: u64, green: u64, sum: u64 },
}

/// Stored weights are validated again when read back: a hand-edited record cannot smuggle in 60/60.
#[derive(Deserialize)]
struct RawWeights {
    blue: u64,
    green: u64,
}

impl TryFrom<RawWeights> for Weights {
    type Error = WeightsError;
    fn try_from(r: RawWeights) -> Result<Weights, WeightsError> {
        Weights::new(r.blue, r.green)
    }
}

impl Weights {
    pub fn new(blue: u64, green: u64) -> Result<Weights, WeightsError> {
        for (colour, value) in [("blue", blue), ("green", green)] {
            if value > 100 {
                return Err(WeightsError::NotAPercentage {
                    colour,
                    value: value.to_string(),
                });
            }
        }
        if blue + green != 100 {
            return Err(WeightsError::BadSum {
                blue,
                green,
                sum: blue + green,
            });
        }
        Ok(Weights {
            blue: blue as u8,
            green: green as u8,
        })
    }

    /// All traffic on one colour.
    pub fn all_on(colour: Colour) -> Weights {
        Weights::with_candidate(colour.other(), 0)
    }

    /// `candidate_percent` on the candidate colour, the rest on the other one.
    /// Panics when the percentage is over 100: plans are validated before they get here.
    pub fn with_candidate(candidate: Colour, candidate_percent: u8) -> Weights {
        assert!(
            candidate_percent <= 100,
            "candidate percent {candidate_percent} > 100"
        );
        let rest = 100 - candidate_percent;
        match candidate {
            Colour::Blue => Weights {
                blue: candidate_percent,
                green: rest,
            },
            Colour::Green => Weights {
                blue: rest,
                green: candidate_percent,
            },
        }
    }

    /// Parse untrusted JSON (an event field) so that each way it can be wrong has its own error:
    /// 10.5, "10", -1 and 101 are all refused, not coerced.
    pub fn from_json(value: &Value) -> Result<Weights, WeightsError> {
        let obj = value.as_object().ok_or(WeightsError::NotAnObject)?;
        if let Some(k) = obj.keys().find(|k| *k != "blue" && *k != "green") {
            return Err(WeightsError::UnknownColour(k.clone()));
        }
        let get = |colour: &'static str| -> Result<u64, WeightsError> {
            let v = obj.get(colour).ok_or(WeightsError::Missing(colour))?;
            v.as_u64()
                .filter(|n| *n <= 100)
                .ok_or_else(|| WeightsError::NotAPercentage {
                    colour,
                    value: v.to_string(),
                })
        };
        Weights::new(get("blue")?, get("green")?)
    }

    pub fn of(&self, colour: Colour) -> u8 {
        match colour {
            Colour::Blue => self.blue,
            Colour::Green => self.green,
        }
    }

    pub fn blue(&self) -> u8 {
        self.blue
    }

    pub fn green(&self) -> u8 {
        self.green
    }
}

impl fmt::Display for Weights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "blue {} / green {}", self.blue, self.green)
    }
}

/// Where the production split lives: the listener's default action, or one listener rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteRef {
    Listener(String),
    Rule(String),
}

impl RouteRef {
    pub fn arn(&self) -> &str {
        match self {
            RouteRef::Listener(a) | RouteRef::Rule(a) => a,
        }
    }
}

/// One target group in a forward action, with its weight as the load balancer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightedGroup {
    pub target_group_arn: String,
    pub weight: i32,
}

/// Target-group stickiness of a forward action (ALB's `TargetGroupStickinessConfig`): a client that
/// got one group keeps it for `duration_seconds`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stickiness {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u32>,
}

/// Whether the stickiness read from a listener (`None`: none configured) is `wanted`. Disabled is
/// disabled whatever duration is left on it.
pub fn same_stickiness(read: Option<&Stickiness>, wanted: &Stickiness) -> bool {
    match read {
        None => !wanted.enabled,
        Some(r) if !r.enabled => !wanted.enabled,
        Some(r) => wanted.enabled && r.duration_seconds == wanted.duration_seconds,
    }
}

/// The forward action of a listener (or rule): where traffic goes today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardRoute {
    pub groups: Vec<WeightedGroup>,
    /// Read: the listener's stickiness, `None` when it has none configured. Written: `None` keeps
    /// what the listener has, `Some` replaces it in the same write as the weights (a client must
    /// never stay stuck to a group that a rollback just emptied).
    pub stickiness: Option<Stickiness>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("the listener forwards to {found:?}, not to exactly the blue and green target groups")]
    UnexpectedGroups { found: Vec<String> },
    #[error("the listener's weights {blue}/{green} are not a percentage split")]
    NotPercentages { blue: i32, green: i32 },
}

impl ForwardRoute {
    /// The current split, if the route forwards to exactly our two groups with percentage weights.
    /// A group that is absent counts as weight 0 (a listener forwarding only to blue is 100/0).
    pub fn weights(&self, blue_tg: &str, green_tg: &str) -> Result<Weights, RouteError> {
        let foreign: Vec<String> = self
            .groups
            .iter()
            .filter(|g| g.target_group_arn != blue_tg && g.target_group_arn != green_tg)
            .map(|g| g.target_group_arn.clone())
            .collect();
        if !foreign.is_empty() || self.groups.is_empty() {
            return Err(RouteError::UnexpectedGroups {
                found: self
                    .groups
                    .iter()
                    .map(|g| g.target_group_arn.clone())
                    .collect(),
            });
        }
        let weight = |arn: &str| {
            self.groups
                .iter()
                .find(|g| g.target_group_arn == arn)
                .map_or(0, |g| g.weight)
        };
        let (blue, green) = (weight(blue_tg), weight(green_tg));
        // A lone group forwards everything whatever its weight says.
        if self.groups.len() == 1 {
            return Ok(if blue_tg == self.groups[0].target_group_arn {
                Weights::all_on(Colour::Blue)
            } else {
                Weights::all_on(Colour::Green)
            });
        }
        let to_u64 = |w: i32| u64::try_from(w).ok();
        match (to_u64(blue), to_u64(green)) {
            (Some(b), Some(g)) => {
                Weights::new(b, g).map_err(|_| RouteError::NotPercentages { blue, green })
            }
            _ => Err(RouteError::NotPercentages { blue, green }),
        }
    }

    /// The route that sends `weights` to the two groups, blue first.
    pub fn for_weights(blue_tg: &str, green_tg: &str, weights: Weights) -> ForwardRoute {
        ForwardRoute {
            groups: vec![
                WeightedGroup {
                    target_group_arn: blue_tg.to_string(),
                    weight: weights.blue.into(),
                },
                WeightedGroup {
                    target_group_arn: green_tg.to_string(),
                    weight: weights.green.into(),
                },
            ],
            stickiness: None,
        }
    }

    /// The same route, written with `stickiness`.
    pub fn with_stickiness(mut self, stickiness: Option<Stickiness>) -> ForwardRoute {
        self.stickiness = stickiness;
        self
    }
}

#[cfg(test)]
mod tests;
