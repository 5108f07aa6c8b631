"""An example Cutover lifecycle hook: a smoke test of the candidate through the test route.

Deploy it as a Lambda function named cutover-hook-<something> (python3.12 or later; Cutover may invoke
only that prefix) and name it in the target configuration's hooks.beforeAllowTraffic. Cutover sends
{app, env, deploymentId, image, candidateColour, testEndpoint, stage, attempt}; this answers
{status: Succeeded|Failed|InProgress, reason?, retryAfterSeconds?}.

It GETs each of SMOKE_PATHS (comma-separated, default /health) on testEndpoint, with the candidate
header when SMOKE_HEADER ("Name: value") is set. Every path 2xx: Succeeded. A connection that fails
while the candidate's targets may still be registering: InProgress, asked again in 10 s (Cutover
stops at the hook's timeout). Any other status: Failed, naming the path and the status, nothing of
the body. Idempotent: it only reads, so a retry or a second run does no harm.
"""

import os
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5


def check(url, header):
    request = urllib.request.Request(url, method="GET")
    if header:
        name, _, value = header.partition(":")
        request.add_header(name.strip(), value.strip())
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, None
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, OSError) as e:
        return None, type(e).__name__


def handler(event, context=None):
    endpoint = (event.get("testEndpoint") or "").rstrip("/")
    if not endpoint:
        return {"status": "Failed", "reason": "no testEndpoint: set hooks.testEndpoint in the target configuration"}
    paths = [p.strip() for p in os.environ.get("SMOKE_PATHS", "/health").split(",") if p.strip()]
    header = os.environ.get("SMOKE_HEADER", "")
    for path in paths:
        status, error = check(endpoint + path, header)
        if error:
            return {"status": "InProgress", "retryAfterSeconds": 10,
                    "reason": f"GET {path}: {error}"}
        if not 200 <= status < 300:
            return {"status": "Failed", "reason": f"GET {path} on the candidate answered {status}"}
    return {"status": "Succeeded", "reason": f"{len(paths)} path(s) answered 2xx"}
