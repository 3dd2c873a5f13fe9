#!/usr/bin/env bash
# The buyer's pages in a real browser: builds the local stack (embedded
# backend), makes sure Debian's Chromium is installed, and runs
# tests/browser/pages.py and console.py (playwright from ./.venv driving /usr/bin/chromium;
# playwright never downloads a browser of its own). Screenshots go to docs/.
#
# Under CI=true a browser that cannot be installed is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${STOCKROOM_CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$chromium" ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing chromium from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  if [[ ! -x "$chromium" ]]; then
    if [[ "${CI:-}" == "true" ]]; then
      echo "no Chromium at $chromium and it could not be installed" >&2
      exit 1
    fi
    echo "SKIPPED: no Chromium at $chromium (apt-get install chromium, or set STOCKROOM_CHROMIUM)" >&2
    exit 0
  fi
fi

[[ -x .venv/bin/python ]] && .venv/bin/python -c 'import playwright' 2>/dev/null || scripts/venv.sh
python=.venv/bin/python

# The binary's path from cargo itself, whatever the package names it.
bin=$(cargo build -p local --no-default-features --message-format=json-render-diagnostics |
  "$python" -c '
import json, sys
exes = [m["executable"] for m in map(json.loads, sys.stdin)
        if m.get("reason") == "compiler-artifact" and m.get("executable") and "bin" in m["target"]["kind"]]
print(exes[-1] if exes else "")')
[[ -x "$bin" ]] || { echo "no local stack binary found" >&2; exit 1; }

STOCKROOM_CHROMIUM="$chromium" "$python" tests/browser/pages.py "$bin" --shots "${STOCKROOM_SHOTS:-docs}"
STOCKROOM_CHROMIUM="$chromium" "$python" tests/browser/console.py "$bin" --shots "${STOCKROOM_SHOTS:-docs}"
