#!/usr/bin/env bash
# Time to rollback over 50 runs in the local cloud (tests/bench/rollback.rs). Figures, not a test.
set -euo pipefail
source "$(dirname "$0")/env.sh"
[[ "${KEEP_CLOUD:-0}" == 1 ]] || trap '"$LOCAL_DIR/stop.sh"' EXIT
"$LOCAL_DIR/start.sh"
"$LOCAL_DIR/seed.sh"
"$LOCAL_DIR/deploy.sh"
cd "$ROOT_DIR"
cargo run -q -p cutover-scenarios --example rollback_bench
