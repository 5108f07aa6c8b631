#!/usr/bin/env bash
# Bring the local cloud up, timing each step:
#   cloud      ministack (everything but ELBv2) and moto (ELBv2) on 127.0.0.1, the Route 53
#              health checker (route53_checker.py) in front of ministack, and the fault proxies
#              (microburst) the functions reach both through
#   postgres   the throwaway PostgreSQL the migrations run against (postgres.sh)
#   seed       the application's own infrastructure (seed.py), in each of LOCAL_REGIONS
#   deploy     template.yaml, with the test build's function binaries (deploy.py), in each region
#   simulator  the traffic simulator (simulator.sh)
#   emf        the functions' EMF log lines forwarded to CloudWatch as metrics (emf_forwarder.py), which
#              the emulator does not do
# usage: up.sh [STEP...] [-- COMMAND...]   STEPs in the order given, all six when none is named.
# With a COMMAND, runs it once the steps are done, then stops what those steps run (down.sh STEP...)
# unless KEEP_CLOUD=1; exits with the command's status. Idempotent: a step reuses what is already up.
set -euo pipefail
source "$(dirname "$0")/env.sh"

steps=()
while (( $# )) && [[ $1 != -- ]]; do steps+=("$1"); shift; done
(( $# )) && shift
(( ${#steps[@]} )) || steps=(cloud postgres seed deploy simulator emf)

alive() { [[ -f "$RUN_DIR/$1.pid" ]] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }

wait_for() { # name url: 30 s at most, naming the server that did not answer
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
    if ! alive "$1"; then
      echo "local: $1 exited; see $RUN_DIR/$1.log" >&2; tail -20 "$RUN_DIR/$1.log" >&2; return 1
    fi
    sleep 0.1
  done
  echo "local: $1 did not answer at $2 within 30 s" >&2
  return 1
}

proxy() { # name port upstream: a microburst instance, pass-through while it has no rules
  if ! alive "$1"; then
    nohup "$TOOLS_VENV/bin/microburst" --upstream "$3" --port "$2" --no-resign > "$RUN_DIR/$1.log" 2>&1 &
    echo $! > "$RUN_DIR/$1.pid"
  fi
}

cloud() { # each server tracked by the PID of its own process
  proxy faults "$FAULT_PROXY_PORT" "$MINISTACK_URL"
  proxy faults-elbv2 "$FAULT_PROXY_ELBV2_PORT" "$MOTO_URL"
  if ! alive ministack; then
    mkdir -p "$RUN_DIR/ministack-tmp"
    # `ministack` runs the server in the foreground in its own process, so $! is the server.
    GATEWAY_PORT=$MINISTACK_PORT BIND_HOST=127.0.0.1 MINISTACK_HOST=127.0.0.1 \
      AWS_ENDPOINT_URL=$FAULT_PROXY_URL TMPDIR="$RUN_DIR/ministack-tmp" \
      nohup "$MINISTACK_VENV/bin/ministack" > "$RUN_DIR/ministack.log" 2>&1 &
    echo $! > "$RUN_DIR/ministack.pid"
  fi
  if ! alive moto; then
    nohup "$TOOLS_VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" > "$RUN_DIR/moto.log" 2>&1 &
    echo $! > "$RUN_DIR/moto.pid"
  fi
  wait_for ministack "$MINISTACK_URL/_ministack/health"
  wait_for moto "$MOTO_URL/moto-api/"
  if ! alive route53; then
    nohup "$TOOLS_VENV/bin/python" -u "$LOCAL_DIR/route53_checker.py" > "$RUN_DIR/route53.log" 2>&1 &
    echo $! > "$RUN_DIR/route53.pid"
  fi
  wait_for route53 "$ROUTE53_CHECKER_URL/2013-04-01/healthcheck"
  wait_for faults "$FAULT_PROXY_URL/_microburst/health"
  wait_for faults-elbv2 "$FAULT_PROXY_ELBV2_URL/_microburst/health"
  echo "local: ministack $MINISTACK_URL, moto $MOTO_URL, Route 53 checker $ROUTE53_CHECKER_URL"
}
postgres() { "$LOCAL_DIR/postgres.sh" start; }
# One region after the other: each region's stack is independent of the others'.
seed() { for r in $LOCAL_REGIONS; do LOCAL_REGION=$r "$TOOLS_VENV/bin/python" "$LOCAL_DIR/seed.py"; done; }
deploy() { for r in $LOCAL_REGIONS; do LOCAL_REGION=$r "$TOOLS_VENV/bin/python" "$LOCAL_DIR/deploy.py"; done; }
simulator() { "$LOCAL_DIR/simulator.sh" start; }
emf() {
  if ! alive emf; then
    nohup "$TOOLS_VENV/bin/python" -u "$LOCAL_DIR/emf_forwarder.py" >> "$RUN_DIR/emf.log" 2>&1 &
    echo $! > "$RUN_DIR/emf.pid"
    echo "local: EMF forwarder started (PID $(cat "$RUN_DIR/emf.pid"), log $RUN_DIR/emf.log)"
  fi
}

for step in "${steps[@]}"; do
  case $step in cloud|postgres|seed|deploy|simulator|emf) ;; *) echo "local: no step '$step'" >&2; exit 2 ;; esac
done
if (( $# )) && [[ ${KEEP_CLOUD:-0} != 1 ]]; then trap '"$LOCAL_DIR/down.sh" "${steps[@]}"' EXIT; fi
start=$(date +%s%N)
for step in "${steps[@]}"; do
  t0=$(date +%s%N)
  "$step"
  echo "local: up: $step in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
done
echo "local: up in $(( ($(date +%s%N) - start) / 1000000 )) ms (${steps[*]})"
(( $# )) || exit 0
"$@"
