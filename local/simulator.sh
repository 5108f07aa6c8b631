#!/usr/bin/env bash
# Start or stop the traffic simulator (local/simulator.py), tracked by its PID. Needs a seeded cloud.
set -euo pipefail
source "$(dirname "$0")/env.sh"
pidfile="$RUN_DIR/simulator.pid"
alive() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "${1:-start}" in
  start)
    if ! alive; then
      nohup "$TOOLS_VENV/bin/python" -u "$LOCAL_DIR/simulator.py" \
        >> "$RUN_DIR/simulator.log" 2>&1 &
      echo $! > "$pidfile"
      echo "local: simulator started (PID $(cat "$pidfile"), log $RUN_DIR/simulator.log)"
    fi ;;
  stop)
    if alive; then
      kill "$(cat "$pidfile")" && echo "local: simulator stopped (PID $(cat "$pidfile"))"
    fi
    rm -f "$pidfile" ;;
  *) echo "usage: $0 start|stop" >&2; exit 1 ;;
esac
