#!/usr/bin/env bash
# The main job, locally: bring up the cloud, deploy Cutover, shift the live service's traffic to a
# canary step by step, roll it back, and show that a bad request changes nothing.
set -euo pipefail
source "$(dirname "$0")/env.sh"
[[ "${KEEP_CLOUD:-0}" == 1 ]] || trap '"$LOCAL_DIR/stop.sh"' EXIT
"$LOCAL_DIR/start.sh"
"$LOCAL_DIR/seed.sh"
"$LOCAL_DIR/deploy.sh"
RUN_DIR="$RUN_DIR" "$TOOLS_VENV/bin/python" "$LOCAL_DIR/demo.py"
