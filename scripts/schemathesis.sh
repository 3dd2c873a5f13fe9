#!/usr/bin/env bash
# Tests the running local stack against its published OpenAPI document
# (infra/openapi.json) with schemathesis: no 5xx, every status, content type,
# header and body as documented, invalid input refused with 4xx.
# Builds the local stack (embedded backend, no AWS), starts it on a free port
# with a fresh data directory and some stock, runs `st run`, stops it.
#
#   scripts/schemathesis.sh                 # schemathesis from ./.venv (scripts/venv.sh)
#   ST_EXAMPLES=50 scripts/schemathesis.sh  # more cases per operation (default 25)
#
# Auth: schemathesis fills each operation's security scheme by name
# (schemathesis.toml below): a staff admin JWT minted here with the secret the
# stack is started with, the service token. Order tokens cannot be known in
# advance, so GET /orders/{order_id} is tried without a valid one (404, as
# documented).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

[[ -x .venv/bin/st ]] || scripts/venv.sh
st=.venv/bin/st
python=.venv/bin/python

say "building the local stack (embedded backend)"
# The binary's path from cargo itself, whatever the package names it.
bin=$(cargo build -p local --no-default-features --message-format=json-render-diagnostics |
  "$python" -c '
import json, sys
exes = [m["executable"] for m in map(json.loads, sys.stdin)
        if m.get("reason") == "compiler-artifact" and m.get("executable") and "bin" in m["target"]["kind"]]
print(exes[-1] if exes else "")')
[[ -x "$bin" ]] || { echo "no local stack binary found" >&2; exit 1; }

work=$(mktemp -d)
pid=
stop() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT

port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
export STOCKROOM_JWT_SECRET=schemathesis-jwt-secret STOCKROOM_SERVICE_TOKEN=schemathesis-service-token
# Stock, so that checkouts can succeed (adopted at startup).
mkdir -p "$work/data/files/unused"
for i in $(seq -w 1 60); do echo "account $i" >"$work/data/files/unused/acct-$i.session"; done

say "starting the local stack on $url (data in $work/data)"
PORT=$port STOCKROOM_DATA="$work/data" STOCKROOM_PUBLIC_URL="$url" RUST_LOG=error \
  "$bin" >"$work/stack.log" 2>&1 &
pid=$!
for _ in $(seq 200); do
  if "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$url/products" 2>/dev/null; then
    break
  fi
  kill -0 "$pid" 2>/dev/null || { cat "$work/stack.log" >&2; echo "the local stack exited" >&2; exit 1; }
  sleep 0.1
done

# The document the stack serves is the checked-in one (the Rust test checks
# the code against the file; this checks the running stack against it).
"$python" - "$url/openapi.json" infra/openapi.json <<'PY'
import json, sys, urllib.request
served = json.load(urllib.request.urlopen(sys.argv[1]))
if served != json.load(open(sys.argv[2])):
    sys.exit("GET /openapi.json differs from infra/openapi.json")
print("GET /openapi.json is infra/openapi.json")
PY

# HS256 staff JWT (admin, one hour), with the standard library.
STAFF_TOKEN=$("$python" - <<'PY'
import base64, hashlib, hmac, json, os, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
now = int(time.time())
body = b64(json.dumps({"sub": "schemathesis", "role": "admin", "iat": now, "exp": now + 3600}).encode())
sig = hmac.new(os.environ["STOCKROOM_JWT_SECRET"].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
print(f"{head}.{body}.{b64(sig)}")
PY
)
export STAFF_TOKEN SERVICE_TOKEN=$STOCKROOM_SERVICE_TOKEN

# Real data for the routes that need an id: paid orders (one to read, one to
# refund, one whose subscription is revoked, one whose subscription is
# deleted, a per-seat plan for usage and seats), one pending order for the
# sandbox to pay, and a credits gift to the reader's email. Their ids go into
# the config, so those operations answer 200 and their bodies are checked too.
"$python" - "$url" "$STAFF_TOKEN" >"$work/ids.env" <<'PY'
import json, sys, time, urllib.request
url = sys.argv[1]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    return json.load(urllib.request.urlopen(req, timeout=10))
def order(i, pay=True, product="bronze"):
    o = call("POST", "/checkout", {"email": f"st{i}@example.com", "product_id": product, "provider": "stripe"})
    if pay:
        call("POST", f"/sandbox/pay/{o['order_id']}", {})
    return o
def subscription(o):
    for _ in range(100):
        view = call("GET", f"/orders/{o['order_id']}", token=o["order_token"])
        if view.get("subscription"):
            return view["subscription"]["id"]
        time.sleep(0.1)
    sys.exit(f"order {o['order_id']} was not fulfilled")
read, refund, revoke, pending = order(1), order(2), order(3), order(4, pay=False)
delete, seats = order(5), order(6, product="basic")
print(f"READ_ORDER={read['order_id']} READ_TOKEN={read['order_token']} READ_SUB={subscription(read)}")
print(f"REFUND_ORDER={refund['order_id']} REVOKE_SUB={subscription(revoke)} PENDING_ORDER={pending['order_id']}")
staff = sys.argv[2]
gift = call("POST", "/admin/credits/gifts", {"email": "st1@example.com", "amount": 500, "reason": "schemathesis"}, staff)
print(f"DELETE_SUB={subscription(delete)} SEATS_SUB={subscription(seats)} SEATS_ORDER={seats['order_id']}")
print(f"CREDITS_EMAIL=st1@example.com GIFT_ID={gift['id']}")
PY
set -a
# shellcheck disable=SC1091
source "$work/ids.env"
set +a
cat >"$work/schemathesis.toml" <<'TOML'
[auth.openapi.staff_jwt]
bearer = "${STAFF_TOKEN}"

[auth.openapi.service_token]
bearer = "${SERVICE_TOKEN}"

[[operations]]
include-name = "GET /orders/{order_id}"
parameters = { "path.order_id" = "${READ_ORDER}" }
headers = { Authorization = "Bearer ${READ_TOKEN}" }

[[operations]]
include-name = "GET /subscriptions/{id}/entitlement"
parameters = { "path.id" = "${READ_SUB}" }

[[operations]]
include-name = "POST /admin/orders/{id}/refund"
parameters = { "path.id" = "${REFUND_ORDER}" }

[[operations]]
include-name = "POST /admin/subscriptions/{id}/revoke"
parameters = { "path.id" = "${REVOKE_SUB}" }

[[operations]]
include-name = "POST /sandbox/pay/{order_id}"
parameters = { "path.order_id" = "${PENDING_ORDER}" }

[[operations]]
include-name = "DELETE /admin/subscriptions/{id}"
parameters = { "path.id" = "${DELETE_SUB}" }

[[operations]]
include-name = "POST /subscriptions/{id}/usage"
parameters = { "path.id" = "${SEATS_SUB}" }

[[operations]]
include-name = "GET /admin/subscriptions/{id}/usage"
parameters = { "path.id" = "${SEATS_SUB}" }

[[operations]]
include-name = "POST /admin/subscriptions/{id}/seats/remove"
parameters = { "path.id" = "${SEATS_SUB}" }

[[operations]]
include-name = "GET /admin/customers/{email}/credits"
parameters = { "path.email" = "${CREDITS_EMAIL}" }

[[operations]]
include-name = "POST /admin/credits/gifts/{id}/deactivate"
parameters = { "path.id" = "${GIFT_ID}" }

[[operations]]
include-name = "POST /admin/orders/{id}/deactivate"
parameters = { "path.id" = "${SEATS_ORDER}" }
TOML

# Checks: the response ones (server errors, documented statuses, content
# types, headers, bodies) and that invalid input is refused. Not
# positive_data_acceptance (valid-looking bodies are refused for reasons a
# schema cannot say: an unknown product, a bad signature), nor ignored_auth
# (a missing order token answers 404 by contract, not 401).
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection
say "schemathesis: $checks"
start=$SECONDS
status=0
"$st" --config-file "$work/schemathesis.toml" run infra/openapi.json --url "$url" \
  --checks "$checks" --phases examples,coverage,fuzzing \
  --max-examples "${ST_EXAMPLES:-25}" --seed "${ST_SEED:-1}" --workers 2 \
  --request-timeout 10 --generation-database none --no-color || status=$?
echo "schemathesis took $((SECONDS - start)) s"
if ((status != 0)); then
  echo "--- local stack log (tail)" >&2
  tail -40 "$work/stack.log" >&2
fi
exit "$status"
