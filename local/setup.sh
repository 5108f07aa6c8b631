#!/usr/bin/env bash
# Create the two venvs (ministack pins a boto3 that moto cannot share) from the pinned requirements.
# Idempotent: a venv is rebuilt only when its requirements file changed.
# LOCAL_SAM_BUILD=1 also adds `sam build`'s tools (cargo-lambda, zig) to the tools venv.
set -euo pipefail
source "$(dirname "$0")/env.sh"

install() { # venv requirements [fresh]: pip install when the file changed; fresh rebuilds the venv first
  local dir=$1 req=$2 stamp; stamp="$1/.$(basename "$2" .txt).sha256"
  local want; want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  echo "local: installing $(basename "$req") into $(basename "$dir")"
  if [[ ${3:-} == fresh ]]; then rm -rf "$dir" && python3 -m venv "$dir"; fi
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
}
install "$MINISTACK_VENV" "$LOCAL_DIR/requirements-ministack.txt" fresh
install "$TOOLS_VENV" "$LOCAL_DIR/requirements-tools.txt" fresh
install "$CHECKOV_VENV" "$LOCAL_DIR/requirements-checkov.txt" fresh
[[ ${LOCAL_SAM_BUILD:-0} != 1 ]] || install "$TOOLS_VENV" "$LOCAL_DIR/requirements-sam-build.txt"
# PostgreSQL for the migration tests: the Debian package, installed only when missing (needs root).
"$LOCAL_DIR/postgres.sh" install || echo "local: without PostgreSQL the migration tests cannot run" >&2
# Chromium and playwright-core for the report's browser test (Chromium's package needs root).
"$LOCAL_DIR/browser.sh" install || echo "local: without Chromium the report's browser test cannot run" >&2
