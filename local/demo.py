"""The main job, locally, through the `cutover` CLI as CI would run it:

1. a good release, `cutover deploy --strategy Canary10Percent5Minutes --wait` (Waits at 3 % of real
   time): the canary judge passes both steps and it is promoted (exit 0);
2. a bad release: while its canary bakes at 10 %, the load balancer's 5XX alarm fires; CloudWatch
   tells SNS, SNS invokes Cutover's rollback function, which puts 100 % back on the live colour and
   stops the execution (`cutover deploy --wait` exits 2).

Then a short summary from the cloud: what shifted when, the verdicts, the time to rollback, and
`cutover report` over both releases, written to local/.run/report.html (with a screenshot,
report.png, when the browser test's Chromium is installed: local/browser.sh).
Exits non-zero unless both outcomes happened and the report was written.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import cloud

MINISTACK = cloud.MINISTACK_URL
CUTOVER = os.environ.get("CUTOVER_BIN") or cloud.binaries("cutover")[0]
seed = cloud.read_run("seed.json")
APP, ENV = seed["app"], seed["env"]
cw = cloud.client("cloudwatch")
CLI_ENV = {**os.environ, "AWS_ENDPOINT_URL": MINISTACK, "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2": cloud.MOTO_URL}


def cutover(*args, check=True):
    out = subprocess.run([CUTOVER, *args], env=CLI_ENV, capture_output=True, text=True)
    if check and out.returncode != 0:
        sys.exit(f"cutover {' '.join(args)} failed ({out.returncode}): {out.stderr}")
    return out


def status():
    return json.loads(cutover("status", "--app", APP, "--env", ENV, "--output", "json").stdout)


def deploy(tag):
    """`cutover deploy --wait`, its lines shown as they come; returns the exit code."""
    deployment_id = f"{tag}-{int(time.time())}"
    print(f"$ cutover deploy --app {APP} --env {ENV} --image public.ecr.aws/live-event/service:{tag} "
          f"--id {deployment_id} --strategy Canary10Percent5Minutes --wait", flush=True)
    proc = subprocess.Popen(
        [CUTOVER, "deploy", "--app", APP, "--env", ENV, "--image", f"public.ecr.aws/live-event/service:{tag}",
         "--id", deployment_id, "--strategy", "Canary10Percent5Minutes", "--wait"],
        env=CLI_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, deployment_id


def stream(proc):
    for line in proc.stdout:
        print("  " + line.rstrip(), flush=True)
    return proc.wait()


def breach_when_canary_is_live(deployment_id, fired):
    """At 10 %, one load-balancer 5XX datapoint far above the alarm's threshold."""
    while True:
        s = status()
        d = s.get("deployment") or {}
        if d.get("id") == deployment_id and d.get("status") in ("Shifting", "Verifying") and 0 < min(s["loadBalancerWeights"].values()):
            break
        time.sleep(0.2)
    cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=[{
        "MetricName": "HTTPCode_ELB_5XX_Count", "Value": 500.0,
        "Dimensions": [{"Name": "LoadBalancer", "Value": seed["loadBalancer"]}],
        # 50 s ago: inside the alarm's 60 s window now, out of it seconds later.
        "Timestamp": datetime.now(timezone.utc) - timedelta(seconds=50)}])
    fired.append(time.time())
    print(f"  !! published 500 load-balancer 5XX at 10 %: alarm {seed['alarmName']} → SNS → rollback", flush=True)


def report():
    """`cutover report` over the two releases; a screenshot of it when Chromium is there."""
    page = os.path.join(cloud.RUN_DIR, "report.html")
    print(f"$ cutover report --app {APP} --env {ENV} --limit 2 --out {page}", flush=True)
    written = json.loads(cutover("report", "--app", APP, "--env", ENV, "--limit", "2", "--out", page,
                                 "--output", "json").stdout)
    print(f"  wrote {written['out']}: {written['deployments']} deployments, {written['bytes']} bytes", flush=True)
    browser = os.path.join(cloud.LOCAL_DIR, "browser.sh")
    if subprocess.run([browser, "check"]).returncode == 0:
        script = os.path.join(cloud.ROOT_DIR, "tests", "browser", "report.mjs")
        seen = subprocess.run(["node", script, page], capture_output=True, text=True)
        if seen.returncode == 0:
            print(f"  screenshot: {json.loads(seen.stdout)['screenshot']}", flush=True)
        else:
            print(f"  no screenshot: {seen.stderr.strip()}", flush=True)
    return written


def main():
    req = urllib.request.Request(f"{MINISTACK}/_ministack/config", method="POST",
                                 data=json.dumps({"stepfunctions._SFN_WAIT_SCALE": 0.03}).encode(),
                                 headers={"content-type": "application/json"})
    urllib.request.urlopen(req).read()
    print("$ cutover status", flush=True)
    print("  " + cutover("status", "--app", APP, "--env", ENV).stdout.replace("\n", "\n  ").rstrip(), flush=True)

    good_proc, good_id = deploy("good")
    good = stream(good_proc)
    promoted = status()

    bad_proc, bad_id = deploy("bad")
    fired = []
    threading.Thread(target=breach_when_canary_is_live, args=(bad_id, fired), daemon=True).start()
    bad = stream(bad_proc)
    after = status()
    time.sleep(12)  # let the datapoint leave the alarm's window before resetting it
    cw.set_alarm_state(AlarmName=seed["alarmName"], StateValue="OK", StateReason="demo over")

    d = after.get("deployment") or {}
    r = d.get("rollback") or {}
    good_verdicts = [f'{v["candidateWeight"]}%: {v["verdict"]} score {v["score"]:.0f}'
                     for v in (promoted.get("deployment") or {}).get("verdicts", [])]
    summary = {
        "good": {"exitCode": good, "status": (promoted.get("deployment") or {}).get("status"),
                 "verdicts": good_verdicts, "liveColour": promoted.get("liveColour")},
        "bad": {"exitCode": bad, "status": d.get("status"), "trigger": r.get("trigger"), "sources": r.get("sources"),
                "timeToRollbackMs": (r["trafficRestoredAtMs"] - r["requestedAtMs"]) if r.get("trafficRestoredAtMs") else None,
                "alarmToTrafficRestoredMs": round(r["trafficRestoredAtMs"] - fired[0] * 1000) if fired and r.get("trafficRestoredAtMs") else None,
                "loadBalancerAfter": after["loadBalancerWeights"]},
    }
    print("demo summary: " + json.dumps(summary, indent=2))
    written = report()
    ok = (good == 0 and summary["good"]["status"] == "Promoted" and bad == 2 and d.get("status") == "RolledBack"
          and r.get("trigger") == "alarm" and after["loadBalancerWeights"][after["liveColour"]] == 100
          and written.get("deployments") == 2)
    print("demo: " + ("both outcomes observed" if ok else "FAILED: an outcome is missing"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
