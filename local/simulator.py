"""Traffic simulator: stands in for the users of the Live Event Service and for the ALB's metrics.

Every tick (one second, in the middle of the second so each one-second period gets exactly one) it
reads the production listener's weights (moto), splits the request rate between the two target groups,
draws each group's 5XX count and response times from the profile of the image its ECS service runs
(ministack), and publishes AWS/ApplicationELB RequestCount, HTTPCode_Target_5XX_Count (only when
non-zero, as the ALB does) and TargetResponseTime (Values/Counts) with LoadBalancer + TargetGroup
dimensions, all in one PutMetricData call.

Profiles are chosen by image tag: a tag containing "bad" gets BAD, anything else GOOD, except that
"badin-<region>" is BAD in that region only (a release whose second wave fails); a revision
whose container carries CUTOVER_DRILL_FAULT (a `cutover drill`'s candidate) gets the fault it names:
errors → BAD's error rate with GOOD's latency, latency → GOOD's error rate with BAD's latency.

A business metric per version, for experiments: each request that did not fail converts with
probability 25 % (a viewer who joins the live chat, say), or 25 % × (1 + N/100) when the image tag
contains "conv+N" or "conv-N" (conv+10: 10 % more conversions). Requests and Conversions go to the
LiveEvent/Business namespace with TargetGroup and Version (the image tag) dimensions, and Conversion
— one value per served request, 1 or 0, as Values/Counts, so its Average is the conversion rate — with
the TargetGroup dimension alone (what `cutover experiment --metric LiveEvent/Business:Conversion:Average`
compares), in a second PutMetricData call.
Every local region with a seed gets its own world (its listener, services and metrics, in that
region). The service's health, as Route 53 checks it, is served at http://127.0.0.1:SIM_HEALTH_PORT/
health/<region>: 200, or 503 while local/.run/outage-<region> exists (a regional outage a scenario
sets and lifts).
Environment: SIM_RATE (requests/s, default 500), SIM_TICK (seconds, default 1), SIM_HEALTH_PORT.
"""
import math
import os
import random
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cloud import REGIONS, RUN_DIR, client, read_run, run_name

RATE = float(os.environ.get("SIM_RATE", "500"))
TICK = float(os.environ.get("SIM_TICK", "1"))

GOOD = {"errors": 0.001, "median_ms": 60.0, "p95_ms": 120.0}
BUSINESS_NAMESPACE = "LiveEvent/Business"
BASE_CONVERSION = 0.25
BAD = {"errors": 0.08, "median_ms": 400.0, "p95_ms": 900.0}


DRILL = {
    "errors": {**GOOD, "errors": BAD["errors"]},
    "latency": {**GOOD, "median_ms": BAD["median_ms"], "p95_ms": BAD["p95_ms"]},
}


def profile_for(image, fault=None, region=None):
    if fault in DRILL:
        return f"drill-{fault}", DRILL[fault]
    tag = tag_of(image)
    scoped = re.search(r"badin-([a-z]{2}(?:-[a-z]+)+-\d+)", tag)
    if scoped:
        return ("bad", BAD) if scoped.group(1) == region else ("good", GOOD)
    return ("bad", BAD) if "bad" in tag else ("good", GOOD)


def tag_of(image):
    return image.rsplit(":", 1)[-1] if ":" in image else ""


def conversion_rate(image):
    """The share of served requests that convert for this image: conv+N / conv-N in its tag moves the
    base rate by N % of itself (bounded to 0..1)."""
    match = re.search(r"conv([+-]\d{1,3})", tag_of(image))
    uplift = int(match.group(1)) if match else 0
    return min(1.0, max(0.0, BASE_CONVERSION * (1 + uplift / 100)))


def conversion_values(served, conversions):
    """One Conversion value per served request as PutMetricData Values/Counts: 1 for each that
    converted, 0 for the rest (a value with count 0 is left out)."""
    pairs = [(1.0, float(conversions)), (0.0, float(served - conversions))]
    pairs = [(v, c) for v, c in pairs if c > 0]
    return [v for v, _ in pairs], [c for _, c in pairs]


def poisson(lam):
    if lam <= 0:
        return 0
    if lam < 30:
        # Knuth: exact for small means.
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= random.random()
            if p <= limit:
                return k
            k += 1
    return max(0, round(random.gauss(lam, math.sqrt(lam))))


def latencies(n, prof):
    """n response times in seconds, lognormal with the profile's median and p95, as (value, count)
    pairs on a 5 ms grid (PutMetricData takes at most 150 distinct values per datum)."""
    sigma = math.log(prof["p95_ms"] / prof["median_ms"]) / 1.645
    mu = math.log(prof["median_ms"])
    hist = {}
    for _ in range(n):
        ms = max(1.0, round(random.lognormvariate(mu, sigma) / 5.0) * 5.0)
        hist[ms] = hist.get(ms, 0) + 1
    items = sorted(hist.items())[:150]
    return [v / 1000.0 for v, _ in items], [float(c) for _, c in items]


class World:
    def __init__(self, seed, region):
        self.seed, self.region = seed, region
        self.elb, self.ecs, self.cw = client("elbv2", region), client("ecs", region), client("cloudwatch", region)
        self.image_of = {}  # task definition ARN -> (image, drill fault); a revision never changes

    def weights(self):
        listener = self.elb.describe_listeners(ListenerArns=[self.seed["listenerArn"]])["Listeners"][0]
        forward = next(a for a in listener["DefaultActions"] if a["Type"] == "forward")
        groups = forward.get("ForwardConfig", {}).get("TargetGroups") or [
            {"TargetGroupArn": forward["TargetGroupArn"], "Weight": 1}]
        total = sum(g.get("Weight", 1) for g in groups) or 1
        return {g["TargetGroupArn"]: g.get("Weight", 1) / total for g in groups}

    def image_by_group(self):
        """Which image each target group serves, read every tick: the local ECS is stable the moment a
        service is updated, so a cached answer would score the first judged second of a new candidate
        with the image it replaced (a 2 s cache rolled good canaries back that way)."""
        names = self.seed["services"]
        out = self.ecs.describe_services(cluster=self.seed["cluster"], services=list(names.values()))
        by_service = {s["serviceName"]: s["taskDefinition"] for s in out["services"]}
        images = {}
        for colour, service in names.items():
            arn = by_service[service]
            if arn not in self.image_of:
                td = self.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
                c = next(c for c in td["containerDefinitions"] if c["name"] == self.seed["containerName"])
                env = {v.get("name"): v.get("value") for v in c.get("environment") or []}
                self.image_of[arn] = (c["image"], env.get("CUTOVER_DRILL_FAULT"))
            images[self.seed["targetGroups"][colour]] = self.image_of[arn]
        return images

    def tick(self):
        now = time.time()
        images = self.image_by_group()
        data, business, summary = [], [], []
        for arn, share in self.weights().items():
            n = poisson(RATE * TICK * share)
            if n == 0:
                continue
            image, fault = images.get(arn, ("", None))
            name, prof = profile_for(image, fault, self.region)
            errors = sum(1 for _ in range(n) if random.random() < prof["errors"])
            dims = [{"Name": "LoadBalancer", "Value": self.seed["loadBalancer"]},
                    {"Name": "TargetGroup", "Value": arn.split(":", 5)[5]}]
            common = {"Dimensions": dims, "Timestamp": now, "StorageResolution": 1}
            data.append({"MetricName": "RequestCount", "Value": n, "Unit": "Count", **common})
            if errors:
                data.append({"MetricName": "HTTPCode_Target_5XX_Count", "Value": errors, "Unit": "Count", **common})
            values, counts = latencies(n, prof)
            data.append({"MetricName": "TargetResponseTime", "Values": values, "Counts": counts,
                         "Unit": "Seconds", **common})
            rate = conversion_rate(image)
            conversions = sum(1 for _ in range(n - errors) if random.random() < rate)
            version = [{"Name": "TargetGroup", "Value": arn.split(":", 5)[5]},
                       {"Name": "Version", "Value": tag_of(image) or "unknown"}]
            for metric, value in (("Requests", n), ("Conversions", conversions)):
                business.append({"MetricName": metric, "Value": value, "Unit": "Count",
                                 "Dimensions": version, "Timestamp": now, "StorageResolution": 1})
            if n - errors > 0:
                values, counts = conversion_values(n - errors, conversions)
                business.append({"MetricName": "Conversion", "Values": values, "Counts": counts,
                                 "Unit": "None", "Dimensions": version[:1], "Timestamp": now,
                                 "StorageResolution": 1})
            summary.append(f"{arn.rsplit('/', 2)[-2]} {share:.0%} {name} n={n} 5xx={errors} conv={conversions}")
        if data:
            self.cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)
        if business:
            self.cw.put_metric_data(Namespace=BUSINESS_NAMESPACE, MetricData=business)
        return summary


class Health(BaseHTTPRequestHandler):
    """A region's service health as Route 53's checkers see it."""

    def do_GET(self):
        m = re.match(r"^/health/([a-z0-9-]+)$", self.path)
        region = m.group(1) if m else None
        if region not in REGIONS:
            status, text = 404, "no such region"
        elif os.path.exists(os.path.join(RUN_DIR, f"outage-{region}")):
            status, text = 503, f"{region}: outage"
        else:
            status, text = 200, f"{region}: ok"
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


def main():
    seeded = [r for r in REGIONS if os.path.exists(os.path.join(RUN_DIR, run_name("seed.json", r)))]
    worlds = [World(read_run("seed.json", r), r) for r in seeded]
    port = int(os.environ.get("SIM_HEALTH_PORT", "0"))
    if port:
        server = ThreadingHTTPServer(("127.0.0.1", port), Health)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"simulator: {RATE:.0f} req/s per region ({', '.join(seeded)}), tick {TICK}s, "
          f"health on port {port}, profiles good={GOOD} bad={BAD}", flush=True)
    ticks = 0
    while True:
        # Mid-period ticks: exactly one per one-second CloudWatch period.
        t = time.time()
        delay = (math.floor(t / TICK) + 0.5) * TICK - t
        time.sleep(delay if delay > 0 else delay + TICK)
        summary = []
        for world in worlds:
            try:
                summary += [f"{world.region} {s}" for s in world.tick()]
            except Exception as e:  # the cloud restarting under us is not a reason to die
                print(f"simulator: tick failed in {world.region}: {e}", flush=True)
        ticks += 1
        if ticks % 10 == 0:
            print(f"simulator: {time.strftime('%H:%M:%S')} " + "; ".join(summary), flush=True)


if __name__ == "__main__":
    sys.exit(main())
