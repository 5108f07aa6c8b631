"""The main job, locally: two deployments of the Live Event Service through the deploy state machine.

1. a good release, Canary10Percent5Minutes (Waits compressed 100x): promoted;
2. a bad release: its 5XX alarm fires during the canary bake and Cutover rolls it back.

Every line is read from the cloud: listener weights from the load balancer, outcomes from Step
Functions and the ledger. Exits non-zero unless both outcomes happened.
"""

import json
import os
import sys
import time
import urllib.request

import boto3

RUN_DIR = os.environ["RUN_DIR"]
MINISTACK = os.environ["MINISTACK_URL"]
seed = json.load(open(os.path.join(RUN_DIR, "seed.json")))
stack = json.load(open(os.path.join(RUN_DIR, "stack.json")))
sfn = boto3.client("stepfunctions", endpoint_url=MINISTACK)
cw = boto3.client("cloudwatch", endpoint_url=MINISTACK)
ddb = boto3.client("dynamodb", endpoint_url=MINISTACK)
elb = boto3.client("elbv2", endpoint_url=os.environ["MOTO_URL"])
APP, ENV = seed["app"], seed["env"]
T0 = time.monotonic()


def say(msg):
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def weights():
    actions = elb.describe_listeners(ListenerArns=[seed["listenerArn"]])["Listeners"][0]["DefaultActions"]
    groups = {g["TargetGroupArn"]: g.get("Weight", 1) for a in actions for g in a["ForwardConfig"]["TargetGroups"]}
    return groups.get(seed["targetGroups"]["blue"], 0), groups.get(seed["targetGroups"]["green"], 0)


def bar(blue, green):
    return "blue " + "#" * (blue // 5) + "|" + "=" * (green // 5) + " green"


def ledger():
    item = ddb.get_item(TableName=stack["LedgerTableName"], ConsistentRead=True,
                        Key={"pk": {"S": f"{APP}#{ENV}"}, "sk": {"S": "LEDGER"}}).get("Item")
    if not item:
        return None
    d = item.get("deployment", {}).get("M", {})
    verdicts = [
        f'{v["M"]["candidateWeight"]["N"]}%: {v["M"]["verdict"]["S"]} score {v["M"].get("score", {}).get("N", "-")}'
        for v in d.get("verdicts", {}).get("L", [])
    ]
    return {"live": item["liveColour"]["S"], "status": d.get("status", {}).get("S"),
            "reason": d.get("reason", {}).get("S"), "verdicts": verdicts}


def deploy(tag, strategy, on_canary=None):
    deployment_id = f"{tag}{int(time.time() * 1000)}"
    image = f"public.ecr.aws/live-event/service:{tag}"
    arn = sfn.start_execution(
        stateMachineArn=stack["DeployStateMachineArn"], name=f"{APP}-{ENV}-{deployment_id}",
        input=json.dumps({"app": APP, "env": ENV, "image": image, "deploymentId": deployment_id, "strategy": strategy}),
    )["executionArn"]
    say(f"deploy {image} ({strategy}) as {deployment_id}")
    last, fired = None, None
    while True:
        now = weights()
        if now != last:
            say(f"  listener {now[0]:>3}/{now[1]:<3} {bar(*now)}")
            last = now
        if on_canary and fired is None and 0 < min(now):
            fired = on_canary()
        ex = sfn.describe_execution(executionArn=arn)
        if ex["status"] != "RUNNING":
            return ex, fired, weights()
        time.sleep(0.05)


def fire_alarm():
    cw.set_alarm_state(AlarmName=seed["alarmName"], StateValue="ALARM", StateReason="demo: 5XX spike on the canary")
    say(f"  !! alarm {seed['alarmName']} set to ALARM during the bake")
    return time.monotonic()


def main():
    req = urllib.request.Request(f"{MINISTACK}/_ministack/config", method="POST",
                                 data=json.dumps({"stepfunctions._SFN_WAIT_SCALE": 0.03}).encode(),
                                 headers={"content-type": "application/json"})
    urllib.request.urlopen(req).read()
    say(f"ledger before: {ledger()}")

    good, _, good_end = deploy("good", "Canary10Percent5Minutes")
    after_good = ledger()
    say(f"-> {good['status']}; ledger {after_good}")

    bad, fired_at, bad_end = deploy("bad", "Canary10Percent5Minutes", on_canary=fire_alarm)
    after_bad = ledger()
    cw.set_alarm_state(AlarmName=seed["alarmName"], StateValue="OK", StateReason="demo over")
    say(f"-> {bad['status']} {bad.get('error')}: {bad.get('cause', '')[:160]}")
    say(f"   ledger {after_bad}")

    live_split = (100, 0) if after_bad and after_bad["live"] == "blue" else (0, 100)
    ok = (good["status"] == "SUCCEEDED" and after_good["status"] == "Promoted"
          and bad["status"] in ("FAILED", "ABORTED") and after_bad["status"] == "RolledBack" and bad_end == live_split)
    summary = {
        "promoted": good["status"] == "SUCCEEDED",
        "rolledBack": after_bad["status"] == "RolledBack",
        "secondsFromAlarmToExecutionEnd": round(time.monotonic() - fired_at, 2) if fired_at else None,
        "listenerAfterRollback": bad_end,
    }
    print("demo summary: " + json.dumps(summary))
    print("demo: " + ("both outcomes observed" if ok else "FAILED: an outcome is missing"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
