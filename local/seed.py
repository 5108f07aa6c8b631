"""Seed the application's own infrastructure, as its owners run it today, into the local cloud.

ECS cluster and the two services (ministack), the ALB with two target groups and a production listener
forwarding 100/0 (moto, the only emulator that keeps listener weights), an SNS topic for alarms.
Idempotent: existing resources are found by name and reused, never recreated or reset.
Writes the ARNs to local/.run/seed.json for deploy.py, the simulator, the demo and the tests.
"""

import io
import json
import os
import sys
import zipfile

from cloud import HOME, REGION, REGIONS, client, write_run

APP = "live-event-service"
CLUSTER = "live-event"
CONTAINER = "app"
IMAGE = "public.ecr.aws/live-event/service:1.0.0"
LB_NAME = "live-event-alb"


# Longer than a local canary's last verification, so scale-down visibly waits for the rest (a Wait the
# local cloud compresses like any other); AWS's default is 300 s.
DEREGISTRATION_DELAY_SECONDS = 30


def seed_network_and_alb():
    ec2, elb = client("ec2"), client("elbv2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["live-event"]}])["Vpcs"]
    if vpcs:
        vpc_id = vpcs[0]["VpcId"]
        subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]]
    else:
        vpc_id = ec2.create_vpc(
            CidrBlock="10.20.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "live-event"}]}],
        )["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
            for cidr, az in [("10.20.1.0/24", f"{REGION}a"), ("10.20.2.0/24", f"{REGION}b")]
        ]

    lbs = [lb for lb in elb.describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"] == LB_NAME]
    lb = lbs[0] if lbs else elb.create_load_balancer(
        Name=LB_NAME, Subnets=subnets, Scheme="internet-facing", Type="application"
    )["LoadBalancers"][0]

    existing = {tg["TargetGroupName"]: tg["TargetGroupArn"] for tg in elb.describe_target_groups()["TargetGroups"]}
    tgs = {}
    for colour in ("blue", "green"):
        name = f"live-event-{colour}"
        tgs[colour] = existing.get(name) or elb.create_target_group(
            Name=name, Protocol="HTTP", Port=8080, VpcId=vpc_id, TargetType="ip",
            HealthCheckPath="/health", Matcher={"HttpCode": "200"},
        )["TargetGroups"][0]["TargetGroupArn"]
        # finalize waits this out before scaling the old colour down (AWS's default is 300 s).
        elb.modify_target_group_attributes(TargetGroupArn=tgs[colour], Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": str(DEREGISTRATION_DELAY_SECONDS)},
        ])

    def listener_on(port):
        """The listener on `port`, created forwarding 100/0 to blue/green when missing."""
        found = [l for l in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"] if l["Port"] == port]
        return found[0] if found else elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
            DefaultActions=[{
                "Type": "forward",
                "ForwardConfig": {"TargetGroups": [
                    {"TargetGroupArn": tgs["blue"], "Weight": 100},
                    {"TargetGroupArn": tgs["green"], "Weight": 0},
                ]},
            }],
        )["Listeners"][0]

    listener = listener_on(80)
    # The test route's second port: it forwards to the live colour, and to the candidate while a
    # deployment runs (the target configuration's testListenerArn).
    test_listener = listener_on(8081)
    # ECS would register each task's IP in its service's target group; the emulators do not, so both
    # groups get two static IP targets (moto reports them healthy at once).
    for i, colour in enumerate(("blue", "green")):
        elb.register_targets(TargetGroupArn=tgs[colour], Targets=[
            {"Id": f"10.20.{i + 1}.{n}", "Port": 8080} for n in (10, 11)
        ])
    # The CloudWatch dimension value is the ARN's tail after "loadbalancer/".
    dimension = lb["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
    return {
        "vpcId": vpc_id,
        "subnets": subnets,
        "loadBalancerArn": lb["LoadBalancerArn"],
        "loadBalancer": dimension,
        "listenerArn": listener["ListenerArn"],
        "testListenerArn": test_listener["ListenerArn"],
        "targetGroups": tgs,
    }


def seed_ecs(net):
    ecs = client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    registered = _task_defs(ecs)
    task_def = registered[-1] if registered else ecs.register_task_definition(
        family=APP, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{
            "name": CONTAINER, "image": IMAGE, "essential": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
        }],
    )["taskDefinition"]["taskDefinitionArn"]
    services = {}
    for colour, desired in (("blue", 2), ("green", 0)):
        name = f"{APP}-{colour}"
        found = [s for s in ecs.describe_services(cluster=CLUSTER, services=[name]).get("services", [])
                 if s.get("status") == "ACTIVE"]
        if not found:
            ecs.create_service(
                cluster=CLUSTER, serviceName=name, taskDefinition=task_def, desiredCount=desired,
                launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {"subnets": net["subnets"], "assignPublicIp": "DISABLED"}},
                loadBalancers=[{"targetGroupArn": net["targetGroups"][colour], "containerName": CONTAINER, "containerPort": 8080}],
            )
        services[colour] = name
    return {"cluster": CLUSTER, "services": services, "containerName": CONTAINER, "taskDefinitionArn": task_def}


def _task_defs(ecs):
    return ecs.list_task_definitions(familyPrefix=APP)["taskDefinitionArns"]


def seed_alarm_and_target(net, ecs, topic):
    """The load balancer's 5XX alarm, and the target configuration Cutover reads from SSM.

    The alarm watches the balancer's own 5XX (HTTPCode_ELB_5XX_Count), which the traffic simulator does
    not publish: ministack evaluates alarms without their dimensions, so an alarm on the targets' 5XX
    would fire on any bad canary and hide whether the judge caught it."""
    alarm, slow = "live-event-5xx", "live-event-p99"
    cw = client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName=alarm, Namespace="AWS/ApplicationELB", MetricName="HTTPCode_ELB_5XX_Count",
        Dimensions=[{"Name": "LoadBalancer", "Value": net["loadBalancer"]}],
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=50, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching", AlarmActions=[topic],
    )
    # A second guard, far above anything the simulator's profiles reach (bad: p99 ~1.3 s).
    cw.put_metric_alarm(
        AlarmName=slow, Namespace="AWS/ApplicationELB", MetricName="TargetResponseTime",
        Dimensions=[{"Name": "LoadBalancer", "Value": net["loadBalancer"]}],
        ExtendedStatistic="p99", Period=60, EvaluationPeriods=1, Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching", AlarmActions=[topic],
    )
    target = {
        "cluster": ecs["cluster"],
        "services": ecs["services"],
        "containerName": ecs["containerName"],
        "listenerArn": net["listenerArn"],
        # The candidate is reachable before production traffic: on the test port, and on the
        # production port for requests with the header (a rule Cutover creates and deletes).
        "testListenerArn": net["testListenerArn"],
        "testHeader": {"name": "X-Cutover-Candidate", "value": "1", "priority": 10},
        "targetGroups": net["targetGroups"],
        "loadBalancer": net["loadBalancer"],
        "alarms": [alarm, slow],
        # One-second periods (the functions' METRIC_PERIOD_FLOOR_SECONDS allows them locally): the local
        # cloud compresses waits, so a bake lasts seconds, not minutes. The simulator's datapoints reach
        # CloudWatch within a second, not ALB's minutes.
        "healthPolicy": {"max5xxRate": 0.02, "maxP95Ms": 500, "minRequestCount": 50, "periodSeconds": 1,
                         "metricDelaySeconds": 1, "verifyTimeoutSeconds": 30, "judge": {"minSamples": 6}},
        "defaultStrategy": "Canary10Percent5Minutes",
        "terminationWaitSeconds": 60,
        "hooks": {
            "beforeAllowTraffic": {"function": "cutover-hook-scripted", "timeoutSeconds": HOOK_TIMEOUT_SECONDS},
            "afterRollback": {"function": "cutover-hook-scripted"},
            "testEndpoint": "http://live-event-alb.local:8081",
        },
    }
    name = f"/cutover/{APP}/prod/target"
    client("ssm").put_parameter(Name=name, Value=json.dumps(target), Type="String", Overwrite=True)
    return {"alarmName": alarm, "alarmNames": [alarm, slow], "targetParameter": name, "app": APP, "env": "prod"}


def seed_database_secret():
    """The migrate function reads the database password from Secrets Manager, as on AWS (RDS's JSON
    shape). The local cluster trusts 127.0.0.1, so the value only has to be there."""
    sm = client("secretsmanager")
    name, value = "cutover/live-event/db", json.dumps({"username": "postgres", "password": "local-only"})
    try:
        sm.create_secret(Name=name, SecretString=value)
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=name, SecretString=value)
    return {"databaseSecret": name}


ZONE = "live-event.example.com."


def seed_failover():
    """The service's failover record over the first two regions (PRIMARY the home one), a Route 53
    health check per region on the simulator's /health/<region>, and the release plan that pairs
    them. Route 53 is global: its resources live once, in the home region's seed."""
    r53 = client("route53")
    zones = [z for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == ZONE]
    zone = zones[0]["Id"] if zones else r53.create_hosted_zone(
        Name=ZONE, CallerReference="cutover-local-zone")["HostedZone"]["Id"]
    zone = zone.rsplit("/", 1)[-1]
    port = int(os.environ["SIM_HEALTH_PORT"])
    checks = {}
    for region in REGIONS[:2]:
        checks[region] = r53.create_health_check(
            CallerReference=f"cutover-local-{region}",  # the same reference again returns the same check
            HealthCheckConfig={"Type": "HTTP", "IPAddress": "127.0.0.1", "Port": port,
                               "ResourcePath": f"/health/{region}", "RequestInterval": 10, "FailureThreshold": 3},
        )["HealthCheck"]["Id"]
    halves = []
    for region, role in zip(REGIONS[:2], ("PRIMARY", "SECONDARY")):
        ident = f"{APP}-{region}"
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
            "Action": "UPSERT", "ResourceRecordSet": {
                "Name": f"live.{ZONE}", "Type": "CNAME", "SetIdentifier": ident, "Failover": role, "TTL": 60,
                "HealthCheckId": checks[region], "ResourceRecords": [{"Value": f"{LB_NAME}.{region}.elb.local"}]}}]})
        halves.append({"region": region, "setIdentifier": ident, "healthCheckId": checks[region]})
    plan = {"waves": [[r] for r in REGIONS], "bakeSeconds": 60, "onFailure": "stop",
            "failover": [{"hostedZoneId": zone, "recordName": f"live.{ZONE}",
                          "primary": halves[0], "secondary": halves[1]}]}
    name = f"/cutover/{APP}/prod/release"
    client("ssm").put_parameter(Name=name, Value=json.dumps(plan), Type="String", Overwrite=True)
    return {"hostedZoneId": zone, "healthChecks": checks, "releasePlanParameter": name, "releasePlan": plan}


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The team's lifecycle hooks, outside Cutover's stack: the example smoke test, and the scripted hook
# the seeded target runs at beforeAllowTraffic (it succeeds unless the deployment id says otherwise).
HOOKS = {"cutover-hook-smoke": "hooks/smoke/app.py", "cutover-hook-scripted": "local/hooks_scripted.py"}
# Warm functions cache the target configuration for a minute, so the hook scenarios cannot switch
# hooks on and off: every local deployment runs this one, and the scenarios steer it by id.
HOOK_TIMEOUT_SECONDS = 6


def seed_hooks():
    lam = client("lambda")
    for name, path in HOOKS.items():
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.write(os.path.join(ROOT, path), "app.py")
        code = buf.getvalue()
        try:
            lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                                Role="arn:aws:iam::000000000000:role/live-event-hooks",
                                Code={"ZipFile": code}, Timeout=150)
        except lam.exceptions.ResourceConflictException:
            lam.update_function_code(FunctionName=name, ZipFile=code)
    return {"hookFunctions": sorted(HOOKS)}


def main():
    net = seed_network_and_alb()
    ecs = seed_ecs(net)
    topic = client("sns").create_topic(Name="live-event-alarms")["TopicArn"]
    seed = {**net, **ecs, "alarmTopicArn": topic, **seed_alarm_and_target(net, ecs, topic),
            **seed_database_secret(), **seed_hooks(), "region": REGION}
    if REGION == HOME and len(REGIONS) > 1:
        seed.update(seed_failover())
    write_run("seed.json", seed)
    print(f"local: seeded listener {seed['listenerArn']} ({REGION})")


if __name__ == "__main__":
    sys.exit(main())
