//! A function's calls held against its inline policy in template.yaml, with the template's intrinsic
//! functions resolved for the [`SAMPLE`](super::SAMPLE) deployment.

use super::{resolve, widest, Needs, Permission, SAMPLE};
use serde_yaml::Value;
use std::collections::BTreeSet;

/// Logical ids of the template's resources as AWS would name them in the sample deployment.
fn physical(name: &str) -> Option<String> {
    let sample = |k: &str| {
        SAMPLE
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    Some(match name {
        "AWS::Partition" => sample("partition")?,
        "AWS::Region" => sample("region")?,
        "AWS::AccountId" => sample("account")?,
        "AWS::StackName" => sample("stack")?,
        "ListenerArn" => sample("listener")?,
        "ListenerRuleArn" => sample("rule")?,
        "TestListenerArn" => sample("test_listener")?,
        "ClusterName" => sample("cluster")?,
        "TaskRoleArns" => sample("task_role")?,
        "DatabaseSecretArns" => sample("database_secret")?,
        "SwitchParameterPrefix" => "/live-event/".into(),
        "LedgerTable" => sample("ledger_table")?,
        "LedgerTable.Arn" => resolve("arn:aws:dynamodb:{region}:{account}:table/{ledger_table}"),
        "FlagsApplication" => sample("flags_application")?,
        "FlagsEnvironment" => sample("flags_environment")?,
        "FlagsProfile" => sample("flags_profile")?,
        "FlagsDeploymentStrategy" => sample("flags_strategy")?,
        "ReleaseRegions" => sample("release_region")?,
        _ => return None,
    })
}

/// The sample deployment gives a listener rule, a test listener, task roles and an RDS-managed secret, and no VPC; it
/// is not the local cloud.
fn condition(name: &str) -> bool {
    matches!(
        name,
        "HasListenerRule"
            | "HasTestListener"
            | "HasTaskRoles"
            | "HasDatabaseSecrets"
            | "IsReleaseHome"
            | "HasDrillExperiment"
    )
}

fn tagged<'a>(v: &'a Value, tag: &str) -> Option<&'a Value> {
    match v {
        Value::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

fn sub(template: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').ok_or("unclosed ${ in !Sub")? + start;
        let name = &rest[start + 2..end];
        out.push_str(&physical(name).ok_or(format!("!Sub names unknown {name}"))?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A value with `!Ref`, `!Sub`, `!GetAtt` and `!If` resolved; `None` for `AWS::NoValue`.
fn eval(v: &Value) -> Result<Option<Value>, String> {
    if let Some(name) = tagged(v, "!Ref").and_then(Value::as_str) {
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        return physical(name)
            .map(|s| Some(Value::String(s)))
            .ok_or(format!("!Ref to unknown {name}"));
    }
    if let Some(t) = tagged(v, "!Sub").and_then(Value::as_str) {
        return Ok(Some(Value::String(sub(t)?)));
    }
    if let Some(t) = tagged(v, "!GetAtt").and_then(Value::as_str) {
        return physical(t)
            .map(|s| Some(Value::String(s)))
            .ok_or(format!("!GetAtt of unknown {t}"));
    }
    if let Some(args) = tagged(v, "!If").and_then(Value::as_sequence) {
        let name = args
            .first()
            .and_then(Value::as_str)
            .ok_or("!If without a condition")?;
        let pick = if condition(name) {
            args.get(1)
        } else {
            args.get(2)
        };
        return eval(pick.ok_or("!If without branches")?);
    }
    match v {
        Value::Sequence(items) => {
            let mut out = Vec::new();
            for item in items {
                if let Some(x) = eval(item)? {
                    out.push(x);
                }
            }
            Ok(Some(Value::Sequence(out)))
        }
        Value::Mapping(m) => {
            let mut out = serde_yaml::Mapping::new();
            for (k, x) in m {
                if let Some(x) = eval(x)? {
                    out.insert(k.clone(), x);
                }
            }
            Ok(Some(Value::Mapping(out)))
        }
        other => Ok(Some(other.clone())),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM's wildcards: `*` any run of characters (including `/` and `:`), `?` one.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi].eq_ignore_ascii_case(&t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

struct Statement {
    actions: Vec<String>,
    resources: Vec<String>,
    /// `StringEquals` and `StringLike` keys and the values each allows; empty when unconditional.
    conditions: Vec<(String, Vec<String>)>,
}

impl Statement {
    fn grants(&self, p: &Permission, resource: &str) -> bool {
        let conditions_hold = self.conditions.iter().all(|(key, allowed)| {
            p.condition
                .is_some_and(|(k, v)| k == key && allowed.iter().any(|a| glob(a, &resolve(v))))
        });
        // A resource pattern of "*" grants what IAM checks as "*" too.
        self.actions.iter().any(|a| glob(a, p.action))
            && self.resources.iter().any(|r| glob(r, resource))
            && conditions_hold
    }
}

fn statements(template: &Value, function: &str) -> Result<Vec<Statement>, String> {
    let policies = template["Resources"][function]["Properties"]["Policies"]
        .as_sequence()
        .ok_or(format!("{function} has no Policies list"))?;
    let mut out = Vec::new();
    for policy in policies {
        let Some(mut policy) = eval(policy)? else {
            continue;
        };
        // A plain IAM role's inline policies are {PolicyName, PolicyDocument}; a SAM function's
        // are the documents themselves.
        if let Some(document) = policy.get("PolicyDocument").cloned() {
            policy = document;
        }
        for s in policy["Statement"].as_sequence().into_iter().flatten() {
            if s["Effect"].as_str() != Some("Allow") {
                continue;
            }
            // StringLike's patterns are globs; StringEquals' values match themselves.
            let conditions = ["StringEquals", "StringLike"]
                .iter()
                .filter_map(|op| s["Condition"][op].as_mapping())
                .flat_map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), strings(Some(v)))))
                })
                .collect();
            out.push(Statement {
                actions: strings(s.get("Action")),
                resources: strings(s.get("Resource")),
                conditions,
            });
        }
    }
    Ok(out)
}

/// Every call of `calls` (port methods, `"Port::method"`) is granted by `function`'s policy in
/// `template`, and every action the policy grants is needed by one of them. The problems, one a line.
pub fn check(template: &str, function: &str, calls: &[&str], needs: &[Needs]) -> Vec<String> {
    let parsed: Value = match serde_yaml::from_str(template) {
        Ok(v) => v,
        Err(e) => return vec![format!("template.yaml does not parse: {e}")],
    };
    let statements = match statements(&parsed, function) {
        Ok(s) => s,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    let mut needed_actions = BTreeSet::new();
    for call in calls {
        let Some((_, perms)) = needs.iter().find(|(name, _)| name == call) else {
            problems.push(format!("{call}: no adapter lists what it needs"));
            continue;
        };
        for p in *perms {
            needed_actions.insert(p.action);
            let resource = resolve(p.resource);
            if !statements.iter().any(|s| s.grants(p, &resource)) {
                let when = p
                    .condition
                    .map_or(String::new(), |(k, v)| format!(" when {k} = {v}"));
                problems.push(format!(
                    "{function} is not granted {} on {resource}{when} ({call})",
                    p.action
                ));
            }
        }
    }
    let needed: Vec<&Permission> = calls
        .iter()
        .filter_map(|c| needs.iter().find(|(name, _)| name == c))
        .flat_map(|(_, perms)| perms.iter())
        .collect();
    for s in &statements {
        for a in &s.actions {
            if !needed_actions.iter().any(|n| glob(a, n)) {
                problems.push(format!(
                    "{function} grants {a}, which none of its calls needs"
                ));
                continue;
            }
            // Least privilege: each granted resource lies within what some call of this action
            // needs (the needed pattern matches the granted one, its `*` taken literally).
            for r in &s.resources {
                let within = needed
                    .iter()
                    .filter(|p| glob(a, p.action))
                    .any(|p| glob(&widest(p.resource), r));
                if !within {
                    problems.push(format!(
                        "{function} grants {a} on {r}, more than its calls need"
                    ));
                }
            }
        }
    }
    problems
}

/// [`check`] against the repository's template.yaml and every adapter's list; panics naming each
/// problem.
#[cfg(feature = "all")]
pub fn check_template_file(function: &str, calls: &[&str]) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    let template = std::fs::read_to_string(path).expect("template.yaml");
    let problems = check(&template, function, calls, &super::all());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_wildcards_match_as_aws_does() {
        assert!(glob(
            "arn:aws:ssm:*:*:parameter/cutover/*",
            "arn:aws:ssm:eu-west-1:1:parameter/cutover/a/b/target"
        ));
        assert!(glob("ecs:Describe*", "ecs:DescribeServices"));
        assert!(!glob(
            "arn:aws:ssm:r:1:parameter/cutover/*",
            "arn:aws:ssm:r:1:parameter/cutover"
        ));
        assert!(glob("*", "arn:anything"));
        assert!(!glob(
            "ecs:UpdateService",
            "ecs:UpdateServicePrimaryTaskSet"
        ));
    }

    const POLICY: &str = r#"
Resources:
  Fn:
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [ecs:DescribeServices]
              Resource: !Sub "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/${ClusterName}/*"
            - Effect: Allow
              Action: iam:PassRole
              Resource: !Ref TaskRoleArns
              Condition:
                StringEquals:
                  iam:PassedToService: ecs-tasks.amazonaws.com
            - !If
              - IsLocalCloud
              - Effect: Allow
                Action: ecs:UpdateService
                Resource: "*"
              - !Ref AWS::NoValue
"#;

    const NEEDS: &[Needs] = &[
        (
            "Services::service",
            &[super::super::allow(
                "ecs:DescribeServices",
                "arn:{partition}:ecs:{region}:{account}:service/{cluster}/{service}",
            )],
        ),
        (
            "Services::update_service",
            &[super::super::allow(
                "ecs:UpdateService",
                "arn:{partition}:ecs:{region}:{account}:service/{cluster}/{service}",
            )],
        ),
        (
            "Pass",
            &[super::super::allow_if(
                "iam:PassRole",
                "{task_role}",
                "iam:PassedToService",
                "ecs-tasks.amazonaws.com",
            )],
        ),
        (
            "PassElsewhere",
            &[super::super::allow_if(
                "iam:PassRole",
                "{task_role}",
                "iam:PassedToService",
                "lambda.amazonaws.com",
            )],
        ),
    ];

    #[test]
    fn a_granted_call_passes_and_a_missing_one_is_named() {
        assert_eq!(
            check(POLICY, "Fn", &["Services::service", "Pass"], NEEDS),
            Vec::<String>::new()
        );
        let problems = check(
            POLICY,
            "Fn",
            &["Services::service", "Services::update_service", "Pass"],
            NEEDS,
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("ecs:UpdateService on arn:aws:ecs:eu-west-1:123456789012:service/live-event/live-event-service-green"), "{problems:?}");
    }

    #[test]
    fn conditions_must_allow_the_value_and_unneeded_grants_are_named() {
        let problems = check(POLICY, "Fn", &["Services::service", "PassElsewhere"], NEEDS);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("iam:PassedToService = lambda.amazonaws.com"),
            "{problems:?}"
        );
        let problems = check(POLICY, "Fn", &["Services::service"], NEEDS);
        assert_eq!(
            problems,
            vec!["Fn grants iam:PassRole, which none of its calls needs".to_string()]
        );
        let problems = check(POLICY, "Fn", &["Nothing"], NEEDS);
        assert!(problems[0].contains("no adapter lists"), "{problems:?}");
    }

    #[test]
    fn a_grant_wider_than_the_calls_need_is_named() {
        // Passing any role, or reading every parameter under /cutover, where the calls need the
        // stack's roles and the target configurations.
        let wide = POLICY
            .replace("!Ref TaskRoleArns", "\"*\"")
            .replace("service/${ClusterName}/*", "service/*");
        let problems = check(&wide, "Fn", &["Services::service", "Pass"], NEEDS);
        assert_eq!(
            problems,
            vec![
                "Fn grants ecs:DescribeServices on arn:aws:ecs:eu-west-1:123456789012:service/*, \
                 more than its calls need"
                    .to_string(),
                "Fn grants iam:PassRole on *, more than its calls need".to_string(),
            ]
        );
    }
}
