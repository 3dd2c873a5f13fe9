#!/usr/bin/env bash
# Creates ./.venv with the Python tools the tests use, from PyPI, pinned
# (playwright drives the system Chromium; it never downloads a browser).
# Does nothing when they are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
want="moto[server]==5.2.5 cfn-lint==1.58.0 PyYAML==6.0.3 schemathesis==4.32.5 checkov==3.3.30 aws-sam-translator==1.115.0 standardwebhooks==1.3.0 playwright==1.65.2 aiosmtpd==1.4.6"
stamp=.venv/.installed
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check $want
echo "$want" >"$stamp"
echo "installed: $want"
