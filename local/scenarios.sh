#!/usr/bin/env bash
# Bring the local cloud up, seed it, deploy the template, start the traffic simulator, run the scenario
# tests, stop everything.
# KEEP_CLOUD=1 leaves it running afterwards for poking at.
set -euo pipefail
source "$(dirname "$0")/env.sh"
[[ "${KEEP_CLOUD:-0}" == 1 ]] || trap '"$LOCAL_DIR/stop.sh"' EXIT
"$LOCAL_DIR/start.sh"
"$LOCAL_DIR/postgres.sh" start
"$LOCAL_DIR/seed.sh"
"$LOCAL_DIR/deploy.sh"
"$LOCAL_DIR/simulator.sh" start
cd "$ROOT_DIR"
cargo build -q -p cutover-cli
cargo test -p cutover-scenarios
