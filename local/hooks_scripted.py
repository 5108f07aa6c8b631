"""The local cloud's beforeAllowTraffic hook, which the hook scenarios steer by deployment id (a test
fixture; hooks/smoke is the example to start from):

- an id containing "hook-fail": Failed, with a reason;
- "hook-slow": InProgress (retry after 1 s) on attempts 1 and 2, Succeeded on the third;
- "hook-hang": no answer for 15 s, longer than the seeded 6 s timeout lets Cutover wait;
- anything else: Succeeded.

Each answer is appended to the function's log as one JSON line, for a person reading the local
cloud's logs.
"""

import json
import time


def handler(event, context=None):
    deployment = event.get("deploymentId", "")
    attempt = int(event.get("attempt", 1))
    if "hook-fail" in deployment:
        answer = {"status": "Failed", "reason": f"scripted failure at {event.get('stage')}"}
    elif "hook-slow" in deployment and attempt < 3:
        answer = {"status": "InProgress", "retryAfterSeconds": 1}
    elif "hook-hang" in deployment:
        time.sleep(15)
        answer = {"status": "Succeeded"}
    else:
        answer = {"status": "Succeeded"}
    print(json.dumps({"deploymentId": deployment, "stage": event.get("stage"), "attempt": attempt, **answer}))
    return answer
