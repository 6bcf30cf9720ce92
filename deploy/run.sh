#!/usr/bin/env bash
# The run command (README): install what is missing, start everything with `passage up` in the
# background, wait until the gateway and the query API are ready, publish a demo and print its
# summary, then keep running in the foreground until Ctrl-C (or SIGTERM), which stops every part.
# Options: --gateway-port P, --query-port Q (default 8080, 8081), --migrants N (default 200).
# PASSAGE_* variables pass through (e.g. PASSAGE_DATABASE_URL for PostgreSQL, see the README).
set -euo pipefail
cd "$(dirname "$0")/.."

gateway_port=8080
query_port=8081
migrants=200
while [ $# -gt 0 ]; do
  case "$1" in
    --gateway-port) gateway_port=${2:?--gateway-port needs a port}; shift 2 ;;
    --query-port) query_port=${2:?--query-port needs a port}; shift 2 ;;
    --migrants) migrants=${2:?--migrants needs a number}; shift 2 ;;
    *) echo "run.sh: unknown option '$1'; use --gateway-port P, --query-port Q, --migrants N" >&2; exit 2 ;;
  esac
done

bash deploy/install.sh

# Its own session: a Ctrl-C in the terminal reaches only this script, which asks `passage up`
# once (SIGTERM) to stop; a second signal would tell it to kill its parts at once.
setsid .venv/bin/passage up --gateway-port "$gateway_port" --query-port "$query_port" &
up_pid=$!

stop() {
  trap - INT TERM
  echo "run.sh: stopping Passage" >&2
  kill -TERM "$up_pid" 2>/dev/null || true
  code=0
  wait "$up_pid" || code=$?
  exit "$code"
}
trap stop INT TERM

if ! .venv/bin/python - "$up_pid" "$gateway_port" "$query_port" <<'EOF'
import os, sys, time
import httpx

pid, ports = int(sys.argv[1]), sys.argv[2:]
deadline = time.monotonic() + 600  # the first run fetches the Kafka jars with Maven
pending = {f"http://127.0.0.1:{port}/readyz" for port in ports}
while pending:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("run.sh: `passage up` exited before it was ready; see its output above")
    if time.monotonic() > deadline:
        sys.exit(f"run.sh: not ready within 600s: {', '.join(sorted(pending))}; see the output above")
    for url in list(pending):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                pending.discard(url)
        except httpx.TransportError:
            pass
    time.sleep(1)
EOF
then
  kill -TERM "$up_pid" 2>/dev/null || true
  wait "$up_pid" || true
  exit 1
fi

if ! .venv/bin/passage demo --migrants "$migrants" \
     --gateway-url "http://127.0.0.1:$gateway_port" --query-url "http://127.0.0.1:$query_port"; then
  echo "run.sh: the demo failed (reason above); stopping Passage" >&2
  kill -TERM "$up_pid" 2>/dev/null || true
  wait "$up_pid" || true
  exit 1
fi

echo "run.sh: Passage keeps running (gateway http://127.0.0.1:$gateway_port, query http://127.0.0.1:$query_port);" \
     "demo credentials in var/demo-credentials.json; Ctrl-C stops everything" >&2
code=0
wait "$up_pid" || code=$?
exit "$code"
