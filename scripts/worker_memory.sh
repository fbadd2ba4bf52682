#!/usr/bin/env bash
# Issue 12's memory target (≤ 300 MB RSS per worker at 10M rows), in the heaviest sequence
# measured: a fresh `ai-usage serve --workers 2` (default in-process answer cache), the distinct
# load test for 90 s, then the page's test (every filter change, twice, compare=previous);
# prints each worker's VmHWM (its peak RSS) and VmRSS after each step, then stops the server.
#
# Usage: DATABASE_URL=… AI_USAGE_SECRET=… scripts/worker_memory.sh [port] [org]
# (the 10M-row database of `make bench`, org bench; Chromium for the page's test; the
# load test's extra: `.venv/bin/python -m pip install -e '.[loadtest]'`).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-8072}
ORG=${2:-bench}
: "${DATABASE_URL:?set DATABASE_URL to the benchmark database}"
: "${AI_USAGE_SECRET:?set AI_USAGE_SECRET}"
unset AI_USAGE_CACHE_URL  # the default cache: the answers the page and the API keep count

.venv/bin/ai-usage serve --workers 2 --port "$PORT" > "/tmp/worker_memory_$PORT.log" 2>&1 &
MASTER=$!
trap 'kill -TERM $MASTER 2>/dev/null || true; wait $MASTER 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1 && break
  sleep 1
done

peaks() {
  echo "$1:"
  for pid in $(pgrep -P "$MASTER"); do
    echo "  worker $pid: $(grep -E 'VmHWM|VmRSS' "/proc/$pid/status" | tr -s ' \t' ' ' | tr '\n' ' ')"
  done
}

peaks "started"
make --no-print-directory loadtest PORT="$PORT" \
  LOADTEST_ARGS="--scenario refresh --users 20 --orgs $ORG --run-time 90s" | grep -E "REFRESH|errors"
peaks "after the distinct load test (90 s)"
TOKEN=$(.venv/bin/ai-usage token --org "$ORG" --ttl 1h | tail -n 1)
.venv/bin/python scripts/page_timing.py "http://127.0.0.1:$PORT/?token=$TOKEN&compare=previous" --runs 2 --all \
  | grep -A8 "painted"
peaks "after the page's test"
