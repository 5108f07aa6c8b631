"""Deploy template.yaml into ministack, wired to the seeded ALB, then point the seeded alarms at it.

ministack runs each Lambda as a process on this host, so the x86_64 binaries the test build already
made run as they are: each is zipped as `bootstrap` into ministack's S3 and a copy of the template
(local/.run/template.yaml) points CodeUri there. `sam build` would compile all six again in release
(12-15 min on CI) for nothing the tests need, and `sam deploy` of these binaries takes 23 s where
this takes 4 to 7.
LOCAL_SAM_BUILD=1 takes the users' path instead: `sam build` of the real template (cargo-lambda and
zig from local/requirements-sam-build.txt), then `sam deploy`.

The ELBv2 endpoint override reaches the functions only through LocalElbv2Endpoint (empty, so absent,
on AWS). Writes the stack's outputs to local/.run/stack.json.
"""

import hashlib
import io
import os
import re
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

import cloud

BUCKET = "cutover-local-artifacts"


def bucket():
    """The artifacts bucket of the region being deployed (bucket names are global)."""
    return BUCKET if cloud.REGION == cloud.HOME else f"{BUCKET}-{cloud.REGION}"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
CODE_URI = re.compile(r"^(\s*CodeUri:\s*)functions/([\w-]+)\s*$", re.M)
DEFINITION_URI = re.compile(r"^(\s*DefinitionUri:\s*)(\S+)\s*$", re.M)


def parameters(seed):
    return {
        "Architecture": "x86_64",
        "ListenerArn": seed["listenerArn"],
        "TestListenerArn": seed["testListenerArn"],
        "BlueTargetGroupArn": seed["targetGroups"]["blue"],
        "GreenTargetGroupArn": seed["targetGroups"]["green"],
        # Through the fault proxy in front of moto (up.sh), as ministack's calls go through the other.
        "LocalElbv2Endpoint": os.environ.get("FAULT_PROXY_ELBV2_URL", cloud.MOTO_URL),
        # Local functions answer in milliseconds; a shorter watch keeps the race tests quick.
        "RollbackReassertMs": os.environ.get("ROLLBACK_REASSERT_MS", "300"),
        # The dashboard of the seeded service, with its alarms in the status widget.
        "DashboardApp": seed["app"],
        "DashboardEnv": seed["env"],
        "DashboardAlarmArns": ",".join(alarm_arns(seed["alarmNames"])),
        # The home region's stack runs the multi-region releases over every local region; the
        # Route 53 health checks' statuses come from the local checker (route53_checker.py).
        "ReleaseRegions": ",".join(cloud.REGIONS) if cloud.REGION == cloud.HOME and len(cloud.REGIONS) > 1 else "",
        "LocalRoute53Endpoint": cloud.ROUTE53_CHECKER_URL,
    }


def alarm_arns(names):
    alarms = cloud.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    return [a["AlarmArn"] for a in alarms]


def upload(s3, path, bootstrap=False):
    """s3:// URI of the file, or of a zip holding it as an executable `bootstrap`; keyed by content, so
    an unchanged binary leaves its function alone."""
    with open(path, "rb") as f:
        body = f.read()
    if bootstrap:
        out, info = io.BytesIO(), zipfile.ZipInfo("bootstrap")
        info.external_attr, info.compress_type = 0o100755 << 16, zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(out, "w") as z:
            z.writestr(info, body, compresslevel=1)  # level 6 triples the time for a 12 % smaller zip
        body = out.getvalue()
    key = f"{os.path.basename(path)}-{hashlib.md5(body).hexdigest()}"
    s3.put_object(Bucket=bucket(), Key=key, Body=body)
    return f"s3://{bucket()}/{key}"


def package():
    """The template with every local path replaced by its upload."""
    with open(os.path.join(cloud.ROOT_DIR, "template.yaml")) as f:
        template = f.read()
    names = [m.group(2) for m in CODE_URI.finditer(template)]
    binaries = cloud.binaries(*names)
    # CloudFormation reads a function's code from a bucket in its own region, as on AWS.
    s3 = cloud.client("s3")
    try:
        where = {} if cloud.REGION == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": cloud.REGION}}
        s3.create_bucket(Bucket=bucket(), **where)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    with ThreadPoolExecutor(2) as pool:  # zlib lets go of the GIL: one zip per core
        code = dict(zip(names, pool.map(lambda b: upload(s3, b, bootstrap=True), binaries)))
    template = CODE_URI.sub(lambda m: m.group(1) + code[m.group(2)], template)
    template = DEFINITION_URI.sub(
        lambda m: m.group(1) + upload(s3, os.path.join(cloud.ROOT_DIR, m.group(2))), template)
    with open(os.path.join(cloud.RUN_DIR, "template.yaml"), "w") as f:
        f.write(template)
    return template


def create_or_update(template, params):
    cfn = cloud.client("cloudformation")
    # From S3, as `sam deploy` does: an inline TemplateBody may be at most 51 200 bytes, and the
    # packaged template (long S3 URIs) is larger than that.
    key = f"template-{hashlib.md5(template.encode()).hexdigest()}.yaml"
    cloud.client("s3").put_object(Bucket=bucket(), Key=key, Body=template.encode())
    url = f"{cloud.MINISTACK_URL}/{bucket()}/{key}"
    args = {"StackName": cloud.STACK_NAME, "TemplateURL": url, "Capabilities": CAPABILITIES,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()]}
    try:
        cfn.update_stack(**args)
    except ClientError as e:
        message = e.response["Error"]["Message"]
        if "does not exist" in message:
            cfn.create_stack(**args)
        elif "No updates" in message:
            return
        else:
            raise
    while (status := cfn.describe_stacks(StackName=cloud.STACK_NAME)["Stacks"][0]["StackStatus"]).endswith("_IN_PROGRESS"):
        time.sleep(0.2)
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        events = cfn.describe_stack_events(StackName=cloud.STACK_NAME)["StackEvents"]
        reasons = [f"  {e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events
                   if e["ResourceStatus"].endswith("FAILED")]
        sys.exit(f"local: stack {cloud.STACK_NAME} is {status}\n" + "\n".join(reasons))


def sam(*args, **env):
    subprocess.run(["sam", *args], cwd=cloud.ROOT_DIR, check=True, env={**os.environ, **env})


def sam_build_and_deploy(params):
    overrides = ["--parameter-overrides", *(f"{k}={v}" for k, v in params.items())]
    # The shipping profile (opt-level s, fat LTO, one codegen unit) costs minutes of linking per
    # function; the local cloud tests behaviour, not size, so LTO is off unless LAMBDA_PROFILE=aws.
    fast = {} if os.environ.get("LAMBDA_PROFILE") == "aws" else {
        "CARGO_PROFILE_RELEASE_LTO": "false", "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "16",
        "CARGO_PROFILE_RELEASE_OPT_LEVEL": "1"}
    sam("build", *overrides, **fast)
    sam("deploy", "--stack-name", cloud.STACK_NAME, "--resolve-s3", "--capabilities", *CAPABILITIES,
        "--no-confirm-changeset", "--no-fail-on-empty-changeset", *overrides, AWS_ENDPOINT_URL=cloud.MINISTACK_URL)


def point_alarms_at(topic, alarm_names):
    """The application's alarms act through Cutover's topic, as their owners would point them."""
    cw = cloud.client("cloudwatch")
    keep = ["AlarmName", "Namespace", "MetricName", "Dimensions", "Statistic", "ExtendedStatistic", "Period",
            "EvaluationPeriods", "Threshold", "ComparisonOperator", "TreatMissingData"]
    for alarm in cw.describe_alarms(AlarmNames=alarm_names)["MetricAlarms"]:
        cw.put_metric_alarm(**{k: alarm[k] for k in keep if alarm.get(k) is not None}, AlarmActions=[topic])
        print(f"local: alarm {alarm['AlarmName']} acts through {topic}")


def main():
    seed = cloud.read_run("seed.json")
    params = parameters(seed)
    if os.environ.get("LOCAL_SAM_BUILD") == "1":
        how = "sam build + sam deploy"
        try:
            sam_build_and_deploy(params)
        except subprocess.CalledProcessError as e:
            sys.exit(f"local: {' '.join(e.cmd[:2])} failed ({e.returncode})")
    else:
        t0 = time.monotonic()
        template = package()
        t1 = time.monotonic()
        create_or_update(template, params)
        how = f"packaged {cloud.BIN_DIR} in {t1 - t0:.1f} s, stack in {time.monotonic() - t1:.1f} s"
    stack = cloud.client("cloudformation").describe_stacks(StackName=cloud.STACK_NAME)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    cloud.write_run("stack.json", outputs)
    point_alarms_at(outputs["RollbackTopicArn"], seed["alarmNames"])
    print(f"local: deployed in {cloud.REGION} ({how}); outputs in {cloud.RUN_DIR}/{cloud.run_name('stack.json')}")


if __name__ == "__main__":
    main()
