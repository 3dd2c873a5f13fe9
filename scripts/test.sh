#!/usr/bin/env bash
# Runs every test: unit tests, the black-box suites on the embedded backend,
# the port conformance suite and the black-box suites again on the AWS
# emulator (moto server, installed into ./.venv), the local stack against
# its OpenAPI document (schemathesis), the shop and account pages in Debian's
# Chromium (installed when missing), the SAM template lint, and each
# function's work under only its template role (moto enforcing IAM).
# Starts what it needs and stops it again.
#
# Under CI=true a missing emulator or browser is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

say "python tools (moto server, cfn-lint, checkov, schemathesis, playwright) in ./.venv"
scripts/venv.sh
export PATH="$PWD/.venv/bin:$PATH"

# A fresh emulator on a free port: moto keeps every table and bucket the
# tests made in memory (about 10 GB after the first stage), so each stage
# that needs it starts a new one.
fresh_moto() {
  scripts/moto.sh stop >/dev/null 2>&1 || true
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  AWS_ENDPOINT_URL=$(scripts/moto.sh start "$port" | sed -n 's/^AWS_ENDPOINT_URL=//p')
  export AWS_ENDPOINT_URL
  echo "moto at $AWS_ENDPOINT_URL"
}

say "AWS emulator"
trap 'scripts/moto.sh stop >/dev/null 2>&1 || true' EXIT
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
fresh_moto

say "all crates: unit tests, embedded suites, AWS conformance on moto"
cargo test --workspace --all-targets

say "the local stack against its OpenAPI document (schemathesis)"
scripts/schemathesis.sh

say "black-box suites on the AWS emulator (a fresh emulator for each)"
# moto keeps every table of every test, and each TransactWriteItems copies
# them all: one emulator for all suites grew to 24 GB on a 24 GB machine.
suites=$(awk '/^\[\[test\]\]/ { t = 1; next } t && /^name *=/ { gsub(/"/, "", $3); print $3; t = 0 }' tests/Cargo.toml)
[[ -n "$suites" ]] || { echo "no [[test]] suites found in tests/Cargo.toml" >&2; exit 1; }
fresh_moto
STOCKROOM_TEST_BACKEND=aws cargo test -p stockroom-tests --features aws --lib
for suite in $suites; do
  fresh_moto
  STOCKROOM_TEST_BACKEND=aws cargo test -p stockroom-tests --features aws --test "$suite"
done
# The stages below start their own emulators or none; give the memory back.
scripts/moto.sh stop
unset AWS_ENDPOINT_URL

say "the buyer's pages in Chromium (playwright; screenshots in docs/)"
scripts/browser-test.sh

say "SAM template lint"
scripts/lint-infra.sh

say "the template's IAM roles against the code (each function's work on moto enforcing IAM)"
scripts/iam-moto.sh

say "fuzz smoke: each target for 20 s (scripts/fuzz.sh SECONDS for longer)"
scripts/fuzz.sh 20

say "all tests passed"
