use super::*;
use proptest::prelude::*;
use serde_json::json;

#[test]
fn parses_integer_percentages() {
    let w = Weights::from_json(&json!({"blue": 90, "green": 10})).unwrap();
    assert_eq!((w.blue(), w.green()), (90, 10));
    assert_eq!(w.of(Colour::Green), 10);
}

#[test]
fn each_bad_shape_has_its_own_error() {
    let cases = [
        (json!([90, 10]), WeightsError::NotAnObject),
        (json!({"blue": 100}), WeightsError::Missing("green")),
        (
            json!({"blue": 90, "green": 10, "red": 0}),
            WeightsError::UnknownColour("red".into()),
        ),
        (
            json!({"blue": 89.5, "green": 10.5}),
            WeightsError::NotAPercentage {
                colour: "blue",
                value: "89.5".into(),
            },
        ),
        (
            json!({"blue": "90", "green": 10}),
            WeightsError::NotAPercentage {
                colour: "blue",
                value: "\"90\"".into(),
            },
        ),
        (
            json!({"blue": -10, "green": 110}),
            WeightsError::NotAPercentage {
                colour: "blue",
                value: "-10".into(),
            },
        ),
        (
            json!({"blue": 0, "green": 1000}),
            WeightsError::NotAPercentage {
                colour: "green",
                value: "1000".into(),
            },
        ),
        (
            json!({"blue": 60, "green": 60}),
            WeightsError::BadSum {
                blue: 60,
                green: 60,
                sum: 120,
            },
        ),
        (
            json!({"blue": 0, "green": 0}),
            WeightsError::BadSum {
                blue: 0,
                green: 0,
                sum: 0,
            },
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(Weights::from_json(&input), Err(expected), "input {input}");
    }
}

#[test]
fn route_reads_weights_and_lone_group() {
    let r = ForwardRoute::for_weights("b", "g", Weights::new(70, 30).unwrap());
    assert_eq!(r.weights("b", "g").unwrap(), Weights::new(70, 30).unwrap());
    let lone = ForwardRoute {
        groups: vec![WeightedGroup {
            target_group_arn: "g".into(),
            weight: 1,
        }],
        stickiness: None,
    };
    assert_eq!(
        lone.weights("b", "g").unwrap(),
        Weights::all_on(Colour::Green)
    );
}

#[test]
fn route_refuses_foreign_groups_and_non_percentages() {
    let foreign = ForwardRoute {
        groups: vec![
            WeightedGroup {
                target_group_arn: "b".into(),
                weight: 50,
            },
            WeightedGroup {
                target_group_arn: "x".into(),
                weight: 50,
            },
        ],
        stickiness: None,
    };
    assert!(matches!(
        foreign.weights("b", "g"),
        Err(RouteError::UnexpectedGroups { .. })
    ));
    let odd = ForwardRoute {
        groups: vec![
            WeightedGroup {
                target_group_arn: "b".into(),
                weight: 1,
            },
            WeightedGroup {
                target_group_arn: "g".into(),
                weight: 1,
            },
        ],
        stickiness: None,
    };
    assert_eq!(
        odd.weights("b", "g"),
        Err(RouteError::NotPercentages { blue: 1, green: 1 })
    );
    assert!(ForwardRoute {
        groups: vec![],
        stickiness: None
    }
    .weights("b", "g")
    .is_err());
}

proptest! {
    #[test]
    fn accepts_exactly_the_pairs_summing_to_100(blue in 0u64..1200, green in 0u64..1200) {
        let r = Weights::from_json(&json!({"blue": blue, "green": green}));
        prop_assert_eq!(r.is_ok(), blue + green == 100);
    }

    #[test]
    fn candidate_split_always_sums_to_100(p in 0u8..=100, green in any::<bool>()) {
        let c = if green { Colour::Green } else { Colour::Blue };
        let w = Weights::with_candidate(c, p);
        prop_assert_eq!(w.of(c), p);
        prop_assert_eq!(u32::from(w.blue()) + u32::from(w.green()), 100);
    }

    #[test]
    fn route_round_trips(blue in 0u64..=100) {
        let w = Weights::new(blue, 100 - blue).unwrap();
        prop_assert_eq!(ForwardRoute::for_weights("b", "g", w).weights("b", "g").unwrap(), w);
    }
}
