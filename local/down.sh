#!/usr/bin/env bash
# Stop what up.sh started, by PID file: the steps named (emf, simulator, postgres, cloud; seed and deploy
# leave nothing running), all of them when none is. The PostgreSQL cluster is deleted. Idempotent.
set -uo pipefail
source "$(dirname "$0")/env.sh"
asked=" ${*:-emf simulator postgres cloud} "
# The simulator first: it would log failures against a cloud already gone.
for step in emf simulator postgres cloud; do
  [[ $asked == *" $step "* ]] || continue
  case $step in
    simulator) "$LOCAL_DIR/simulator.sh" stop ;;
    emf)
      if [[ -f "$RUN_DIR/emf.pid" ]] && kill "$(cat "$RUN_DIR/emf.pid")" 2>/dev/null; then
        echo "local: EMF forwarder stopped"
      fi
      rm -f "$RUN_DIR/emf.pid" ;;
    postgres) "$LOCAL_DIR/postgres.sh" stop ;;
    cloud)
      for name in route53 moto ministack faults faults-elbv2; do
        pidfile="$RUN_DIR/$name.pid"
        [[ -f "$pidfile" ]] || continue
        pid=$(cat "$pidfile")
        if kill "$pid" 2>/dev/null; then
          for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
          kill -9 "$pid" 2>/dev/null || true
          echo "local: stopped $name (PID $pid)"
        fi
        rm -f "$pidfile"
      done ;;
  esac
done
