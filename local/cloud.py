"""What the local-cloud Python scripts share: the run files and the clients of the two emulators.

moto serves ELBv2 and the EC2 network its load balancer sits in (the only emulator that keeps listener
weights); ministack serves everything else. Endpoints and dummy credentials come from local/env.sh.

Both emulators keep each region apart by the region a request is signed for, so the local cloud holds
several regions (LOCAL_REGIONS, the home region first): a script works in LOCAL_REGION (default the
home one), and its run files carry the region in their name outside the home region
(seed-us-west-2.json), so the home region's keep the names every test reads.
"""

import json
import os
import sys

import boto3

LOCAL_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT_DIR = os.path.dirname(LOCAL_DIR)
RUN_DIR = os.path.join(LOCAL_DIR, ".run")
BIN_DIR = os.environ.get("CUTOVER_BIN_DIR") or os.path.join(ROOT_DIR, "target", "debug")
MINISTACK_URL = os.environ["MINISTACK_URL"]
MOTO_URL = os.environ["MOTO_URL"]
ROUTE53_CHECKER_URL = os.environ.get("ROUTE53_CHECKER_URL", "")
STACK_NAME = os.environ.get("STACK_NAME", "cutover")
ON_MOTO = {"elbv2", "ec2"}
REGIONS = os.environ.get("LOCAL_REGIONS", "us-east-1").split()
HOME = REGIONS[0]
REGION = os.environ.get("LOCAL_REGION", HOME)


def client(service, region=None):
    url = MOTO_URL if service in ON_MOTO else MINISTACK_URL
    return boto3.client(service, endpoint_url=url, region_name=region or REGION)


def run_name(name, region=None):
    """`seed.json` in the home region, `seed-<region>.json` in another."""
    region = region or REGION
    if region == HOME:
        return name
    stem, ext = os.path.splitext(name)
    return f"{stem}-{region}{ext}"


def read_run(name, region=None):
    path = os.path.join(RUN_DIR, run_name(name, region))
    if not os.path.exists(path):
        sys.exit(f"local: {path} missing; bring the cloud up with local/up.sh")
    with open(path) as f:
        return json.load(f)


def write_run(name, value, region=None):
    os.makedirs(RUN_DIR, exist_ok=True)
    with open(os.path.join(RUN_DIR, run_name(name, region)), "w") as f:
        json.dump(value, f, indent=2)


def binaries(*names):
    """Paths of the test build's binaries; exits naming every one that is missing."""
    paths = [os.path.join(BIN_DIR, n) for n in names]
    missing = [p for p in paths if not os.access(p, os.X_OK)]
    if missing:
        sys.exit(f"local: missing {', '.join(missing)}; build them with `make build`")
    return paths
