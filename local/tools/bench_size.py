#!/usr/bin/env python3
"""`make bench-size`: what AWS runs. Builds every function with the shipping release profile, as
`sam build` does (cargo-lambda), and prints:

- per function, the arm64 binary's and zip's size (arm64 is the template's default);
- a cold-start figure: process spawn -> the first `GET /runtime/invocation/next` under a minimal Lambda
  Runtime API emulator (this file), median and p90 of RUNS spawns, side by side with a minimal
  Python/boto3 function that builds the same SDK clients. This machine is x86_64 and cannot run arm64
  natively, so cold starts are timed on the x86_64 build of the same code.

Figures only; nothing is asserted. Set SKIP_BUILD=1 to time binaries already built.
"""
import http.server
import io
import os
import statistics
import subprocess
import sys
import threading
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUNCTIONS = ["prepare", "shift-traffic", "verify-health", "finalize", "rollback", "migrate"]
RUNS = int(os.environ.get("RUNS", "20"))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
# The clients AwsCloud builds (crates/aws/src/aws_cloud.rs), for the Python side of the comparison.
BOTO_CLIENTS = ["elbv2", "dynamodb", "ssm", "ecs", "appconfigdata", "appconfig", "stepfunctions",
                "cloudwatch", "secretsmanager"]
PYTHON_FUNCTION = f"""
import json, os, urllib.request
import boto3
clients = [boto3.client(name) for name in {BOTO_CLIENTS!r}]
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
urllib.request.urlopen(f"http://{{api}}/2018-06-01/runtime/invocation/next").read()
"""


def build(arch):
    """cargo lambda build --release for `arch`, into target/lambda-<arch>/<function>/bootstrap."""
    out = os.path.join(TARGET, f"lambda-{arch}")
    packages = [a for f in FUNCTIONS for a in ("-p", f)]
    flag = "--arm64" if arch == "arm64" else "--x86-64"
    env = {k: v for k, v in os.environ.items() if k not in ("RUSTC_WORKSPACE_WRAPPER", "CLIPPY_ARGS")}
    started = time.monotonic()
    subprocess.run(["cargo", "lambda", "build", "--release", flag, "--lambda-dir", out, *packages],
                   cwd=ROOT, env=env, check=True)
    print(f"build {arch}: {time.monotonic() - started:.0f} s", flush=True)
    return out


def zipped_size(path):
    """The deployment package as `sam build` uploads it: `bootstrap`, executable, deflated."""
    buf = io.BytesIO()
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr, info.compress_type = 0o100755 << 16, zipfile.ZIP_DEFLATED
    with open(path, "rb") as f, zipfile.ZipFile(buf, "w") as z:
        z.writestr(info, f.read(), compresslevel=9)
    return len(buf.getvalue())


class RuntimeApi(http.server.ThreadingHTTPServer):
    """Answers nothing: it only notes when the first `/next` arrives, then drops the connection."""
    daemon_threads = True

    def __init__(self):
        self.first_next = None
        self.arrived = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(h):
                if h.path.endswith("/runtime/invocation/next") and not self.arrived.is_set():
                    self.first_next = time.monotonic()
                    self.arrived.set()
                h.close_connection = True

            def log_message(h, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def lambda_env(api):
    """What Lambda sets for a function, and what Cutover's template gives every function."""
    return {
        "PATH": os.environ["PATH"],
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
        "LEDGER_TABLE": "cutover-ledger", "APPCONFIG_APPLICATION": "a", "APPCONFIG_ENVIRONMENT": "e",
        "APPCONFIG_PROFILE": "p", "FLAG_DEPLOYMENT_STRATEGY": "s",
    }


def cold_start_ms(command):
    """Spawn -> first /next, in ms, for each of RUNS fresh processes."""
    times = []
    for _ in range(RUNS):
        api = RuntimeApi()
        threading.Thread(target=api.serve_forever, daemon=True).start()
        started = time.monotonic()
        proc = subprocess.Popen(command, env=lambda_env(api), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        if not api.arrived.wait(30):
            proc.kill()
            api.shutdown()
            raise SystemExit(f"{command[0]} never asked for an invocation")
        times.append((api.first_next - started) * 1000)
        proc.kill()
        proc.wait()
        api.shutdown()
        api.server_close()
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def main():
    skip = os.environ.get("SKIP_BUILD") == "1"
    arm = os.path.join(TARGET, "lambda-arm64") if skip else build("arm64")
    x86 = os.path.join(TARGET, "lambda-x86_64") if skip else build("x86_64")
    print(f"\n| function | arm64 binary | arm64 zip | cold start x86_64, median / p90 ({RUNS} spawns) |")
    print("|---|---|---|---|")
    for f in FUNCTIONS:
        binary = os.path.join(arm, f, "bootstrap")
        size, packed = os.path.getsize(binary), zipped_size(binary)
        p50, p90 = cold_start_ms([os.path.join(x86, f, "bootstrap")])
        print(f"| {f} | {size / 2**20:.2f} MiB | {packed / 2**20:.2f} MiB | {p50:.1f} / {p90:.1f} ms |",
              flush=True)
    p50, p90 = cold_start_ms([sys.executable, "-c", PYTHON_FUNCTION])
    print(f"| Python {sys.version.split()[0]} + boto3, {len(BOTO_CLIENTS)} clients | — | — | "
          f"{p50:.1f} / {p90:.1f} ms |")


if __name__ == "__main__":
    main()
