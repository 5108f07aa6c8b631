"""Drive the deployed shift-traffic function through a canary and a rollback, reading the listener
back from the load balancer after every step. Exits non-zero if any step did not do what it says."""

import json
import os
import sys
import time

import boto3

RUN_DIR = os.environ["RUN_DIR"]
seed = json.load(open(os.path.join(RUN_DIR, "seed.json")))
stack = json.load(open(os.path.join(RUN_DIR, "stack.json")))
lam = boto3.client("lambda", endpoint_url=os.environ["MINISTACK_URL"])
elb = boto3.client("elbv2", endpoint_url=os.environ["MOTO_URL"])
BLUE, GREEN = seed["targetGroups"]["blue"], seed["targetGroups"]["green"]


def listener():
    actions = elb.describe_listeners(ListenerArns=[seed["listenerArn"]])["Listeners"][0]["DefaultActions"]
    groups = {g["TargetGroupArn"]: g.get("Weight", 1) for a in actions for g in a["ForwardConfig"]["TargetGroups"]}
    return groups.get(BLUE, 0), groups.get(GREEN, 0)


def bar(blue, green):
    return "[" + "B" * (blue // 5) + "g" * (green // 5) + "]"


def shift(blue, green, label):
    t0 = time.monotonic()
    out = lam.invoke(FunctionName=stack["ShiftTrafficFunctionName"],
                     Payload=json.dumps({"weights": {"blue": blue, "green": green}}))
    ms = (time.monotonic() - t0) * 1000
    body = json.loads(out["Payload"].read() or b"null")
    error = out.get("FunctionError") and body.get("errorType")
    now = listener()
    print(f"{label:<28} asked {blue:>3}/{green:<3} -> listener {now[0]:>3}/{now[1]:<3} {bar(*now)} "
          f"{'refused: ' + error if error else 'ok'} ({ms:.0f} ms)")
    return error, now


def main():
    print(f"listener {seed['listenerArn']}\nstart: blue/green = {listener()[0]}/{listener()[1]}")
    failures = []
    for blue, green, label in [(100, 0, "baseline"), (90, 10, "canary 10%"), (50, 50, "linear 50%")]:
        error, now = shift(blue, green, label)
        if error or now != (blue, green):
            failures.append(label)
    error, now = shift(100, 0, "rollback to blue")
    if error or now != (100, 0):
        failures.append("rollback")
    error, now = shift(60, 60, "bad weights 60/60")
    if error != "InvalidInput" or now != (100, 0):
        failures.append("bad weights were not refused cleanly")
    print("demo: " + ("FAILED: " + ", ".join(failures) if failures else "every step observed on the load balancer"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
