//! Rollout strategies and the step plans they expand to.
//!
//! A plan is the list of candidate weights to shift to, each followed by a bake. CodeDeploy's presets
//! are spelled as CodeDeploy spells them, so the names people know carry over.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest bake of one step; Step Functions can wait longer, but a day-long bake is a typo.
pub const MAX_BAKE_SECONDS: u32 = 24 * 3600;
/// More steps than this is not a rollout, it is a traffic drip that nobody will watch.
pub const MAX_STEPS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanStep {
    /// Percentage of production traffic on the candidate after this step.
    pub weight: u8,
    /// Seconds to bake at this weight before verifying and moving on.
    pub bake_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    AllAtOnce,
    Canary { percent: u8, bake_seconds: u32 },
    Linear { percent: u8, bake_seconds: u32 },
    Custom(Vec<PlanStep>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    #[error("unknown strategy \"{0}\"; known: {known}", known = PRESETS.join(", "))]
    UnknownPreset(String),
    #[error(
        "strategy must be a preset name or {{\"steps\": [{{\"weight\", \"bakeSeconds\"}}, ...]}}"
    )]
    BadShape,
    #[error("a custom strategy needs at least one step")]
    Empty,
    #[error("a custom strategy has at most {MAX_STEPS} steps, got {0}")]
    TooManySteps(usize),
    #[error("steps[{index}].{field}: {problem}")]
    BadStep {
        index: usize,
        field: &'static str,
        problem: String,
    },
    #[error("steps[{index}].weight {weight} must be greater than the previous step's {previous}")]
    NotRising {
        index: usize,
        weight: u8,
        previous: u8,
    },
    #[error("the last step must send 100% to the candidate, got {0}")]
    LastNot100(u8),
}

pub const PRESETS: [&str; 5] = [
    "AllAtOnce",
    "Canary10Percent5Minutes",
    "Canary10Percent15Minutes",
    "Linear10PercentEvery1Minute",
    "Linear10PercentEvery3Minutes",
];

impl Strategy {
    pub fn preset(name: &str) -> Result<Strategy, StrategyError> {
        Ok(match name {
            "AllAtOnce" => Strategy::AllAtOnce,
            "Canary10Percent5Minutes" => Strategy::Canary {
                percent: 10,
                bake_seconds: 300,
            },
            "Canary10Percent15Minutes" => Strategy::Canary {
                percent: 10,
                bake_seconds: 900,
            },
            "Linear10PercentEvery1Minute" => Strategy::Linear {
                percent: 10,
                bake_seconds: 60,
            },
            "Linear10PercentEvery3Minutes" => Strategy::Linear {
                percent: 10,
                bake_seconds: 180,
            },
            other => return Err(StrategyError::UnknownPreset(other.to_string())),
        })
    }

    /// A preset name (`"Canary10Percent5Minutes"`) or `{"steps": [{"weight": 25, "bakeSeconds": 60}, ...]}`.
    pub fn from_json(value: &Value) -> Result<Strategy, StrategyError> {
        if let Some(name) = value.as_str() {
            return Strategy::preset(name);
        }
        let steps = value
            .as_object()
            .and_then(|o| o.get("steps"))
            .and_then(Value::as_array)
            .ok_or(StrategyError::BadShape)?;
        let mut parsed = Vec::with_capacity(steps.len());
        for (index, step) in steps.iter().enumerate() {
            let field = |field: &'static str, max: u64| -> Result<u64, StrategyError> {
                let v = step.get(field).ok_or_else(|| StrategyError::BadStep {
                    index,
                    field,
                    problem: "missing".into(),
                })?;
                v.as_u64()
                    .filter(|n| *n <= max)
                    .ok_or_else(|| StrategyError::BadStep {
                        index,
                        field,
                        problem: format!("must be an integer from 0 to {max}, got {v}"),
                    })
            };
            let weight = field("weight", 100)? as u8;
            let bake_seconds = field("bakeSeconds", MAX_BAKE_SECONDS.into())? as u32;
            parsed.push(PlanStep {
                weight,
                bake_seconds,
            });
        }
        Strategy::custom(parsed)
    }

    pub fn custom(steps: Vec<PlanStep>) -> Result<Strategy, StrategyError> {
        validate_plan(&steps)?;
        Ok(Strategy::Custom(steps))
    }

    /// The steps to run. Every plan rises strictly and ends at 100; the last step has no bake because
    /// verification follows it directly and then the deployment is finalised.
    pub fn plan(&self) -> Vec<PlanStep> {
        match self {
            Strategy::AllAtOnce => vec![PlanStep {
                weight: 100,
                bake_seconds: 0,
            }],
            Strategy::Canary {
                percent,
                bake_seconds,
            } => vec![
                PlanStep {
                    weight: *percent,
                    bake_seconds: *bake_seconds,
                },
                PlanStep {
                    weight: 100,
                    bake_seconds: 0,
                },
            ],
            Strategy::Linear {
                percent,
                bake_seconds,
            } => {
                let mut steps: Vec<PlanStep> = (1..)
                    .map(|i| u32::from(*percent) * i)
                    .take_while(|w| *w < 100)
                    .map(|w| PlanStep {
                        weight: w as u8,
                        bake_seconds: *bake_seconds,
                    })
                    .collect();
                steps.push(PlanStep {
                    weight: 100,
                    bake_seconds: 0,
                });
                steps
            }
            Strategy::Custom(steps) => steps.clone(),
        }
    }
}

fn validate_plan(steps: &[PlanStep]) -> Result<(), StrategyError> {
    if steps.is_empty() {
        return Err(StrategyError::Empty);
    }
    if steps.len() > MAX_STEPS {
        return Err(StrategyError::TooManySteps(steps.len()));
    }
    let mut previous = 0u8;
    for (index, step) in steps.iter().enumerate() {
        if step.weight > 100 {
            return Err(StrategyError::BadStep {
                index,
                field: "weight",
                problem: format!("must be at most 100, got {}", step.weight),
            });
        }
        if step.bake_seconds > MAX_BAKE_SECONDS {
            return Err(StrategyError::BadStep {
                index,
                field: "bakeSeconds",
                problem: format!(
                    "must be at most {MAX_BAKE_SECONDS}, got {}",
                    step.bake_seconds
                ),
            });
        }
        if step.weight <= previous {
            return Err(StrategyError::NotRising {
                index,
                weight: step.weight,
                previous,
            });
        }
        previous = step.weight;
    }
    match previous {
        100 => Ok(()),
        last => Err(StrategyError::LastNot100(last)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{prop_assert, prop_assert_eq, proptest};
    use serde_json::json;

    fn weights(s: &Strategy) -> Vec<u8> {
        s.plan().iter().map(|p| p.weight).collect()
    }

    #[test]
    fn presets_expand_as_codedeploy_does() {
        let s = |n| Strategy::preset(n).unwrap();
        assert_eq!(
            s("AllAtOnce").plan(),
            vec![PlanStep {
                weight: 100,
                bake_seconds: 0
            }]
        );
        assert_eq!(
            s("Canary10Percent5Minutes").plan(),
            vec![
                PlanStep {
                    weight: 10,
                    bake_seconds: 300
                },
                PlanStep {
                    weight: 100,
                    bake_seconds: 0
                }
            ]
        );
        assert_eq!(s("Canary10Percent15Minutes").plan()[0].bake_seconds, 900);
        assert_eq!(
            weights(&s("Linear10PercentEvery1Minute")),
            vec![10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
        );
        assert!(s("Linear10PercentEvery1Minute").plan()[..9]
            .iter()
            .all(|p| p.bake_seconds == 60));
        assert!(s("Linear10PercentEvery3Minutes").plan()[..9]
            .iter()
            .all(|p| p.bake_seconds == 180));
        for name in PRESETS {
            assert!(validate_plan(&s(name).plan()).is_ok(), "{name}");
        }
    }

    #[test]
    fn parses_preset_and_custom_json() {
        assert_eq!(
            Strategy::from_json(&json!("AllAtOnce")).unwrap(),
            Strategy::AllAtOnce
        );
        let custom = Strategy::from_json(&json!({"steps": [
            {"weight": 5, "bakeSeconds": 120}, {"weight": 50, "bakeSeconds": 60}, {"weight": 100, "bakeSeconds": 0}
        ]}))
        .unwrap();
        assert_eq!(weights(&custom), vec![5, 50, 100]);
    }

    #[test]
    fn refuses_bad_strategies_with_the_reason() {
        let err = |v: Value| Strategy::from_json(&v).unwrap_err();
        assert_eq!(
            err(json!("Canary50Percent")),
            StrategyError::UnknownPreset("Canary50Percent".into())
        );
        assert_eq!(err(json!(42)), StrategyError::BadShape);
        assert_eq!(err(json!({"steps": []})), StrategyError::Empty);
        assert_eq!(
            err(
                json!({"steps": [{"weight": 50, "bakeSeconds": 1}, {"weight": 50, "bakeSeconds": 1}]})
            ),
            StrategyError::NotRising {
                index: 1,
                weight: 50,
                previous: 50
            }
        );
        assert_eq!(
            err(json!({"steps": [{"weight": 50, "bakeSeconds": 1}]})),
            StrategyError::LastNot100(50)
        );
        assert_eq!(
            err(json!({"steps": [{"weight": 0, "bakeSeconds": 1}]})),
            StrategyError::NotRising {
                index: 0,
                weight: 0,
                previous: 0
            }
        );
        assert!(matches!(
            err(json!({"steps": [{"weight": 100}]})),
            StrategyError::BadStep {
                index: 0,
                field: "bakeSeconds",
                ..
            }
        ));
        assert!(matches!(
            err(json!({"steps": [{"weight": 100.0, "bakeSeconds": 1}]})),
            StrategyError::BadStep {
                index: 0,
                field: "weight",
                ..
            }
        ));
        assert!(matches!(
            err(json!({"steps": [{"weight": 100, "bakeSeconds": 86401}]})),
            StrategyError::BadStep {
                index: 0,
                field: "bakeSeconds",
                ..
            }
        ));
    }

    proptest! {
        #[test]
        fn any_custom_plan_that_validates_rises_strictly_to_100(
            ws in proptest::collection::vec(0u8..=100, 0..12),
            bake in 0u32..=MAX_BAKE_SECONDS,
        ) {
            let steps: Vec<PlanStep> = ws.iter().map(|w| PlanStep { weight: *w, bake_seconds: bake }).collect();
            let rising_to_100 = !ws.is_empty() && ws.windows(2).all(|p| p[0] < p[1]) && ws[0] > 0 && *ws.last().unwrap() == 100;
            match Strategy::custom(steps) {
                Ok(s) => {
                    prop_assert!(rising_to_100);
                    let plan = s.plan();
                    prop_assert!(plan.windows(2).all(|p| p[0].weight < p[1].weight));
                    prop_assert_eq!(plan.last().unwrap().weight, 100);
                }
                Err(_) => prop_assert!(!rising_to_100),
            }
        }

        #[test]
        fn linear_plans_of_any_percent_end_at_100(percent in 1u8..=100, bake in 0u32..1000) {
            let plan = Strategy::Linear { percent, bake_seconds: bake }.plan();
            prop_assert!(validate_plan(&plan).is_ok());
        }
    }
}
