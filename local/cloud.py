"""What the local-cloud Python scripts share: the run files and the clients of the two emulators.

moto serves ELBv2 and the EC2 network its load balancer sits in (the only emulator that keeps listener
weights); ministack serves everything else. Endpoints and dummy credentials come from local/env.sh.
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
STACK_NAME = os.environ.get("STACK_NAME", "cutover")
ON_MOTO = {"elbv2", "ec2"}


def client(service):
    url = MOTO_URL if service in ON_MOTO else MINISTACK_URL
    return boto3.client(service, endpoint_url=url, region_name="us-east-1")


def read_run(name):
    path = os.path.join(RUN_DIR, name)
    if not os.path.exists(path):
        sys.exit(f"local: {path} missing; bring the cloud up with local/up.sh")
    with open(path) as f:
        return json.load(f)


def write_run(name, value):
    os.makedirs(RUN_DIR, exist_ok=True)
    with open(os.path.join(RUN_DIR, name), "w") as f:
        json.dump(value, f, indent=2)


def binaries(*names):
    """Paths of the test build's binaries; exits naming every one that is missing."""
    paths = [os.path.join(BIN_DIR, n) for n in names]
    missing = [p for p in paths if not os.access(p, os.X_OK)]
    if missing:
        sys.exit(f"local: missing {', '.join(missing)}; build them with `make build`")
    return paths
