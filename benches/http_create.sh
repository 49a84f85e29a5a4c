#!/usr/bin/env bash
# Durable ticket creation through the HTTP API on loopback, side by side with GET /healthz in
# the same run (wrk and the server share the machine's cores), then the POST → SSE latency.
#   benches/http_create.sh            (DURATION=10s, CONNECTIONS=32 by default)
# Needs wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "benches/http_create.sh needs wrk (apt-get install wrk)" >&2; exit 2; }
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
BIN="$TARGET/release/opsdesk"
DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
TOKEN=$("$BIN" admin user add h_bench --role handler --data "$DATA" 2>/dev/null | tail -n 1)
OPSDESK_LOG=warn "$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done

run() { wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s benches/wrk.lua "$@" | grep '^RESULT' | sed 's/^RESULT //'; }
echo "wrk -t2 -c$CONNECTIONS -d$DURATION on $(nproc) cores, data in $DATA (synchronous=FULL)"
health=$(run "$BASE/healthz")
echo "GET  /healthz           $health"
create=$(OPSDESK_TOKEN="$TOKEN" run "$BASE/api/v1/tickets")
echo "POST /api/v1/tickets    $create"
stored=$(curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tickets"])')
echo "tickets stored: $stored (every acknowledged create is committed before its 201)"
python3 - "$health" "$create" <<'PY'
import sys
def rps(s): return float(dict(kv.split("=") for kv in s.split())["rps"])
h, c = rps(sys.argv[1]), rps(sys.argv[2])
print(f"durable creates/s: {c:.0f} = {c / h:.2f} x GET /healthz")
PY
kill $PID; wait $PID 2>/dev/null || true
echo
cargo bench --quiet --bench sse_latency 2>/dev/null | grep -v '^$'
