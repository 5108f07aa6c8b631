#!/usr/bin/env bash
# `sam build` + `sam deploy` of the real template.yaml into ministack, wired to the seeded ALB.
# x86_64 because ministack runs the bootstrap binaries on this host; the ELBv2 endpoint override
# reaches the functions only through the LocalElbv2Endpoint parameter (empty, so absent, on AWS).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT_DIR"

seed="$RUN_DIR/seed.json"
[[ -f "$seed" ]] || { echo "local: $seed missing; run local/seed.sh first" >&2; exit 1; }
field() { # a dotted path into seed.json
  "$TOOLS_VENV/bin/python" -c 'import functools, json, sys
print(functools.reduce(lambda d, k: d[k], sys.argv[2].split("."), json.load(open(sys.argv[1]))))' "$seed" "$1"
}

params=(
  Architecture=x86_64
  ListenerArn="$(field listenerArn)"
  BlueTargetGroupArn="$(field targetGroups.blue)"
  GreenTargetGroupArn="$(field targetGroups.green)"
  LocalElbv2Endpoint="$MOTO_URL"
  # Local functions answer in milliseconds; a shorter watch keeps the race tests quick.
  RollbackReassertMs="${ROLLBACK_REASSERT_MS:-300}"
)
# The shipping profile (opt-level s, fat LTO, one codegen unit) costs minutes of linking per function;
# the local cloud tests behaviour, not size, so it builds without LTO unless LAMBDA_PROFILE=aws.
if [[ "${LAMBDA_PROFILE:-local}" != aws ]]; then
  export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1
fi
t0=$(date +%s)
sam build --parameter-overrides "${params[@]}"
t1=$(date +%s)
AWS_ENDPOINT_URL=$MINISTACK_URL sam deploy --stack-name "$STACK_NAME" --resolve-s3 \
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-confirm-changeset --no-fail-on-empty-changeset \
  --parameter-overrides "${params[@]}"
t2=$(date +%s)
"$TOOLS_VENV/bin/python" - <<PY
import boto3, json
cfn = boto3.client("cloudformation", endpoint_url="$MINISTACK_URL")
outputs = cfn.describe_stacks(StackName="$STACK_NAME")["Stacks"][0].get("Outputs", [])
stack = {o["OutputKey"]: o["OutputValue"] for o in outputs}
json.dump(stack, open("$RUN_DIR/stack.json", "w"), indent=2)
# The application's alarms now act through Cutover's topic, as their owners would point them.
seed = json.load(open("$seed"))
cw = boto3.client("cloudwatch", endpoint_url="$MINISTACK_URL")
keep = ["AlarmName", "Namespace", "MetricName", "Dimensions", "Statistic", "ExtendedStatistic", "Period",
        "EvaluationPeriods", "Threshold", "ComparisonOperator", "TreatMissingData"]
for alarm in cw.describe_alarms(AlarmNames=seed["alarmNames"])["MetricAlarms"]:
    cw.put_metric_alarm(**{k: alarm[k] for k in keep if alarm.get(k) is not None},
                        AlarmActions=[stack["RollbackTopicArn"]])
    print(f"local: alarm {alarm['AlarmName']} acts through {stack['RollbackTopicArn']}")
PY
echo "local: sam build $((t1 - t0)) s, sam deploy $((t2 - t1)) s; outputs in $RUN_DIR/stack.json"
