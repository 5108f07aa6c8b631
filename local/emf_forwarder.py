"""Forward the functions' EMF log lines to the local CloudWatch as metrics.

On AWS, CloudWatch Logs turns every log event that carries an `_aws.CloudWatchMetrics` directive into
metrics. ministack keeps the functions' stdout in `/aws/lambda/<name>` but extracts nothing from it
(docs/local-cloud.md, "EMF"), so the dashboard's queries would come back empty. This stands in for that
extraction, outside the product: it reads each log group with FilterLogEvents and sends each metric of
each dimension set with PutMetricData, at the line's own timestamp.

usage: emf_forwarder.py [--once]   (--once: one pass, for a test that wants everything sent now)
"""

import json
import sys
import time

import cloud

PREFIX = "/aws/lambda/"
POLL_SECONDS = 0.5
BATCH = 500  # PutMetricData: at most 1000 metrics a call


def emf_of(message):
    """The EMF object in a log event: the line itself, or the `message` of a JSON-format log record."""
    try:
        doc = json.loads(message)
    except ValueError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("message"), str) and "_aws" not in doc:
        return emf_of(doc["message"])
    if isinstance(doc, dict) and isinstance(doc.get("_aws"), dict):
        return doc
    return None


def metric_data(doc):
    """(namespace, datum) for each metric of each dimension set, as CloudWatch extracts them."""
    aws = doc["_aws"]
    at = aws.get("Timestamp", time.time() * 1000) / 1000
    for directive in aws.get("CloudWatchMetrics", []):
        for metric in directive.get("Metrics", []):
            name = metric["Name"]
            value = doc.get(name)
            values = value if isinstance(value, list) else [value]
            for dims in directive.get("Dimensions", []):
                dimensions = [{"Name": d, "Value": str(doc[d])} for d in dims]
                for v in values:
                    if not isinstance(v, (int, float)):
                        continue
                    yield directive["Namespace"], {
                        "MetricName": name, "Dimensions": dimensions, "Value": float(v),
                        "Unit": metric.get("Unit", "None"), "Timestamp": at,
                        "StorageResolution": 1 if metric.get("StorageResolution") == 1 else 60,
                    }


class Forwarder:
    def __init__(self):
        self.logs = cloud.client("logs")
        self.cw = cloud.client("cloudwatch")
        self.since = {}  # log group -> the newest timestamp read
        self.seen = set()  # event ids already sent (FilterLogEvents' startTime is inclusive)

    def groups(self):
        pages = self.logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=PREFIX)
        return [g["logGroupName"] for p in pages for g in p["logGroups"]]

    def events(self, group):
        kwargs = {"logGroupName": group, "startTime": self.since.get(group, 0)}
        while True:
            out = self.logs.filter_log_events(**kwargs)
            yield from out.get("events", [])
            token = out.get("nextToken")
            if not token:
                return
            kwargs["nextToken"] = token

    def once(self):
        by_namespace, lines = {}, 0
        for group in self.groups():
            for e in self.events(group):
                key = (group, e.get("logStreamName"), e.get("eventId"), e["timestamp"], e["message"])
                if key in self.seen:
                    continue
                self.seen.add(key)
                self.since[group] = max(self.since.get(group, 0), e["timestamp"])
                doc = emf_of(e["message"])
                if doc is None:
                    continue
                lines += 1
                for ns, datum in metric_data(doc):
                    by_namespace.setdefault(ns, []).append(datum)
        for ns, data in by_namespace.items():
            for i in range(0, len(data), BATCH):
                self.cw.put_metric_data(Namespace=ns, MetricData=data[i:i + BATCH])
        return lines, sum(len(d) for d in by_namespace.values())


def main():
    f = Forwarder()
    if "--once" in sys.argv:
        print("local: emf: %d lines, %d metric values" % f.once())
        return
    while True:
        try:
            lines, values = f.once()
            if lines:
                print(f"local: emf: {lines} lines, {values} metric values", flush=True)
        except Exception as e:  # the emulator restarting must not end the forwarder
            print(f"local: emf: {e}", flush=True)
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    main()
