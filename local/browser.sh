#!/usr/bin/env bash
# What the report's browser test (tests/browser) needs: Debian's Chromium, run headless, and the
# playwright-core package that drives it. `install` puts in what is missing (the package needs root)
# and runs `npm ci` only when the lock file changed; `check` says whether the test can run.
set -euo pipefail
source "$(dirname "$0")/env.sh"
BROWSER_DIR="$ROOT_DIR/tests/browser"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

case "${1:-install}" in
install)
  if [[ ! -x "$CHROMIUM" ]]; then
    [[ $(id -u) == 0 ]] || { echo "local: Chromium is missing; as root run: local/browser.sh install" >&2; exit 1; }
    t0=$(date +%s)
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
    echo "local: installed Chromium in $(( $(date +%s) - t0 )) s"
  fi
  stamp="$BROWSER_DIR/node_modules/.lock.sha256"
  want=$(sha256sum "$BROWSER_DIR/package-lock.json" | cut -d' ' -f1)
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
  ;;
check)
  [[ -x "$CHROMIUM" && -d "$BROWSER_DIR/node_modules/playwright-core" ]]
  ;;
*) echo "usage: $0 install|check" >&2; exit 64 ;;
esac
