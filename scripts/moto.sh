#!/usr/bin/env bash
# Starts or stops a moto server (AWS emulator) for the AWS tests.
#   scripts/moto.sh start [PORT]   prints AWS_ENDPOINT_URL=http://127.0.0.1:PORT (default 5000)
#   export "$(scripts/moto.sh start)"
#   scripts/moto.sh stop
# moto_server is taken from $MOTO_BIN, else PATH, else ./.venv/bin.
set -euo pipefail

cd "$(dirname "$0")/.."
dir=.moto
pidfile="$dir/pid"

find_moto() {
  if [[ -n "${MOTO_BIN:-}" ]]; then echo "$MOTO_BIN"
  elif command -v moto_server >/dev/null; then command -v moto_server
  elif [[ -x .venv/bin/moto_server ]]; then echo .venv/bin/moto_server
  else echo "moto_server not found: pip install 'moto[server]' or set MOTO_BIN" >&2; return 1
  fi
}

answers() {
  local url="http://127.0.0.1:$1/moto-api/"
  if command -v curl >/dev/null; then curl -fsS -o /dev/null "$url" 2>/dev/null
  else python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url" 2>/dev/null
  fi
}

# The python that runs moto_server ($MOTO_PYTHON, else the one beside it).
find_python() {
  local bin="$1" py
  for py in "${MOTO_PYTHON:-}" "$(dirname "$bin")/python" "$(dirname "$bin")/python3" python3; do
    if [[ -n "$py" ]] && "$py" -c 'import moto.server' 2>/dev/null; then echo "$py"; return 0; fi
  done
  echo "no python with moto found for $bin; set MOTO_PYTHON" >&2
  return 1
}

# moto_server, but one request per AWS service at a time: moto's backends take
# no locks, so concurrent requests interleave inside one read-modify-write
# (lost ADD updates, two winners of one conditional put), which DynamoDB never does.
read -r -d '' serve <<'PY' || true
import re, sys, threading
import moto.server as server
from werkzeug.serving import run_simple

scope = re.compile(r"Credential=[^/]*/[^/]*/[^/]*/([^/]*)/")
locks, guard = {}, threading.Lock()

def serialised(app):
    def call(environ, start_response):
        m = scope.search(environ.get("HTTP_AUTHORIZATION", ""))
        with guard:
            lock = locks.setdefault(m.group(1) if m else "", threading.Lock())
        with lock:
            return list(app(environ, start_response))
    return call

server.run_simple = lambda host, port, app, **kw: run_simple(host, port, serialised(app), **kw)
server.main(sys.argv[1:])
PY

start() {
  local port="${1:-5000}" bin py
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "moto already running (pid $(cat "$pidfile"))" >&2
  else
    bin="$(find_moto)"
    py="$(find_python "$bin")"
    mkdir -p "$dir"
    "$py" -c "$serve" -H 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 &
    echo $! >"$pidfile"
    echo "$port" >"$dir/port"
  fi
  port="$(cat "$dir/port")"
  for _ in $(seq 100); do
    if answers "$port"; then echo "AWS_ENDPOINT_URL=http://127.0.0.1:$port"; return 0; fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    sleep 0.1
  done
  echo "moto did not answer on port $port; see $dir/server.log" >&2
  stop
  return 1
}

# The emulator's state is thrown away, so it need not exit politely: a
# moto holding many GB can take minutes to unwind on SIGTERM, keeping the
# memory the next stage needs.
stop() {
  [[ -f "$pidfile" ]] || return 0
  local pid
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile" "$dir/port"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop ;;
  *) echo "usage: $0 start [PORT] | stop" >&2; exit 2 ;;
esac
