# Sourced by every local-cloud script: where things live and how to reach them. All on 127.0.0.1.
LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(dirname "$LOCAL_DIR")"
RUN_DIR="$LOCAL_DIR/.run"
TOOLS_VENV="$LOCAL_DIR/.venv"
MINISTACK_VENV="$LOCAL_DIR/.venv-ministack"
CHECKOV_VENV="$LOCAL_DIR/.venv-checkov"
export MINISTACK_PORT="${MINISTACK_PORT:-4566}"
export MOTO_PORT="${MOTO_PORT:-4567}"
export MINISTACK_URL="http://127.0.0.1:$MINISTACK_PORT"
export MOTO_URL="http://127.0.0.1:$MOTO_PORT"
export STACK_NAME="${STACK_NAME:-cutover}"
# The regions the local cloud holds, the home one (where releases run) first; the emulators keep
# them apart by the region a request is signed for. LOCAL_REGIONS=us-east-1 gives one region.
export LOCAL_REGIONS="${LOCAL_REGIONS:-us-east-1 us-west-2}"
# Route 53's health checkers (local/route53_checker.py) and the service health they probe (the simulator).
export ROUTE53_CHECKER_PORT="${ROUTE53_CHECKER_PORT:-4568}"
export ROUTE53_CHECKER_URL="http://127.0.0.1:$ROUTE53_CHECKER_PORT"
export SIM_HEALTH_PORT="${SIM_HEALTH_PORT:-4569}"
# The fault-injecting proxies (microburst) between the functions and the emulators: pass-through until a
# chaos run (tests/chaos.rs, make chaos) gives them rules. The functions reach ministack through the
# first (ministack's AWS_ENDPOINT_URL for the processes it runs) and moto through the second.
export FAULT_PROXY_PORT="${FAULT_PROXY_PORT:-4570}"
export FAULT_PROXY_URL="http://127.0.0.1:$FAULT_PROXY_PORT"
export FAULT_PROXY_ELBV2_PORT="${FAULT_PROXY_ELBV2_PORT:-4571}"
export FAULT_PROXY_ELBV2_URL="http://127.0.0.1:$FAULT_PROXY_ELBV2_PORT"
# Dummy credentials: nothing here talks to AWS.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export SAM_CLI_TELEMETRY=0
export PATH="$TOOLS_VENV/bin:$PATH"
mkdir -p "$RUN_DIR"
# The throwaway PostgreSQL cluster (local/postgres.sh) that migrations run against.
export PG_PORT="${PG_PORT:-55432}"
export PG_DATABASE="${PG_DATABASE:-live_event}"
export PG_DIR="${PG_DIR:-/tmp/cutover-pg-$PG_PORT}"
# The CLI checks target configurations as the local functions do: 1-second metric periods allowed.
export METRIC_PERIOD_FLOOR_SECONDS=1
