#!/usr/bin/env bash
# Start ministack (everything but ELBv2) and moto (ELBv2 only) on 127.0.0.1, each tracked by the PID
# of the server process itself. Idempotent: a server already up is left running.
set -euo pipefail
source "$(dirname "$0")/env.sh"

alive() { [[ -f "$RUN_DIR/$1.pid" ]] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }

t0=$(date +%s%N)
if ! alive ministack; then
  mkdir -p "$RUN_DIR/ministack-tmp"
  # `ministack` runs the server in the foreground in its own process, so $! is the server.
  GATEWAY_PORT=$MINISTACK_PORT BIND_HOST=127.0.0.1 MINISTACK_HOST=127.0.0.1 \
    AWS_ENDPOINT_URL=$MINISTACK_URL TMPDIR="$RUN_DIR/ministack-tmp" \
    nohup "$MINISTACK_VENV/bin/ministack" > "$RUN_DIR/ministack.log" 2>&1 &
  echo $! > "$RUN_DIR/ministack.pid"
fi
if ! alive moto; then
  nohup "$TOOLS_VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" > "$RUN_DIR/moto.log" 2>&1 &
  echo $! > "$RUN_DIR/moto.pid"
fi
"$LOCAL_DIR/ready.sh"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "local: cloud ready in ${ms} ms (ministack $MINISTACK_URL, moto $MOTO_URL)"
