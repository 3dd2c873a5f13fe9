#!/usr/bin/env bash
# Checks the template's IAM roles against the code on an IAM-enforcing moto:
# each function's work, signed as a user holding only its role's policy
# (scripts/iam-moto.py says how and what moto can check).
#
#   scripts/iam-moto.sh [TEMPLATE]    # default infra/template.yaml; non-zero on a denied call
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
exec .venv/bin/python scripts/iam-moto.py "$@"
