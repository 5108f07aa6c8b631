#!/usr/bin/env bash
# Stop what start.sh started, by PID file. Idempotent.
set -uo pipefail
source "$(dirname "$0")/env.sh"
"$LOCAL_DIR/simulator.sh" stop
"$LOCAL_DIR/postgres.sh" stop

for name in moto ministack; do
  pidfile="$RUN_DIR/$name.pid"
  [[ -f "$pidfile" ]] || continue
  pid=$(cat "$pidfile")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    echo "local: stopped $name (PID $pid)"
  fi
  rm -f "$pidfile"
done
