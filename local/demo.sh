#!/usr/bin/env bash
# The main job, locally: bring up the cloud with Cutover deployed and the traffic simulator running,
# then with the cutover CLI (the test build's) promote a good canary and watch an alarm roll a bad one
# back (demo.py). KEEP_CLOUD=1 leaves the cloud up afterwards.
set -euo pipefail
source "$(dirname "$0")/env.sh"
exec "$LOCAL_DIR/up.sh" -- "$TOOLS_VENV/bin/python" "$LOCAL_DIR/demo.py"
