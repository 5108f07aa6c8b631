#!/usr/bin/env bash
# Create the two venvs (ministack pins a boto3 that moto cannot share) from the pinned requirements.
# Idempotent: a venv is rebuilt only when its requirements file changed.
set -euo pipefail
source "$(dirname "$0")/env.sh"

make_venv() { # dir requirements
  local dir=$1 req=$2 stamp="$1/.requirements.sha256"
  local want; want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  echo "local: installing $(basename "$req") into $(basename "$dir")"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
}
make_venv "$MINISTACK_VENV" "$LOCAL_DIR/requirements-ministack.txt"
make_venv "$TOOLS_VENV" "$LOCAL_DIR/requirements-tools.txt"
# PostgreSQL for the migration tests: the Debian package, installed only when missing (needs root).
"$LOCAL_DIR/postgres.sh" install || echo "local: without PostgreSQL the migration tests cannot run" >&2
