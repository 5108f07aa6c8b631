#!/usr/bin/env bash
# The main job, locally: bring up the cloud, deploy Cutover, start the traffic simulator, then with the
# cutover CLI promote a good canary and watch an alarm roll a bad one back.
set -euo pipefail
source "$(dirname "$0")/env.sh"
[[ "${KEEP_CLOUD:-0}" == 1 ]] || trap '"$LOCAL_DIR/stop.sh"' EXIT
"$LOCAL_DIR/start.sh"
"$LOCAL_DIR/seed.sh"
"$LOCAL_DIR/deploy.sh"
"$LOCAL_DIR/simulator.sh" start
cargo build -q -p cutover-cli --manifest-path "$ROOT_DIR/Cargo.toml"
RUN_DIR="$RUN_DIR" CUTOVER_BIN="$ROOT_DIR/target/debug/cutover" "$TOOLS_VENV/bin/python" "$LOCAL_DIR/demo.py"
