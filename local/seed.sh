#!/usr/bin/env bash
set -euo pipefail
source "$(dirname "$0")/env.sh"
RUN_DIR="$RUN_DIR" "$TOOLS_VENV/bin/python" "$LOCAL_DIR/seed.py"
