#!/usr/bin/env bash
# Wait until both servers answer (30 s at most); exit 1 naming the one that did not.
set -euo pipefail
source "$(dirname "$0")/env.sh"

wait_for() { # name url
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$2" 2>/dev/null; then return 0; fi
    if ! kill -0 "$(cat "$RUN_DIR/$1.pid" 2>/dev/null)" 2>/dev/null; then
      echo "local: $1 exited; see $RUN_DIR/$1.log" >&2; tail -20 "$RUN_DIR/$1.log" >&2; return 1
    fi
    sleep 0.1
  done
  echo "local: $1 did not answer at $2 within 30 s" >&2
  return 1
}
wait_for ministack "$MINISTACK_URL/_ministack/health"
wait_for moto "$MOTO_URL/moto-api/"
