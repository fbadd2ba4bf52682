#!/usr/bin/env bash
# What migration 0013 (long rows read apart) costs: an earlier revision against this checkout,
# alternating, on the same database.
#
# Usage: DATABASE_URL=…/wt_slice_bench scripts/long_rows_ab.sh REV_BEFORE [ROUNDS=2]
# The database must be at 0013 (partial user and agent indexes). The code before 0013 reads
# the user's and the agent's rows without the short-row predicate, so it cannot use partial
# indexes: this script builds full copies of both beside them (ab_user_full, ab_agent_full:
# ~1.8 GB and ~0.5 GB and ~45 s at 10M rows, dropped at the end, also on failure), then runs
# scripts/refresh_timing.py and scripts/filtered_page_timing.py from REV_BEFORE (a temporary
# worktree, PYTHONPATH set to it) and from this checkout, ROUNDS times, alternating. Run it
# on a quiet machine: single runs here differ by up to a third.
set -euo pipefail
before=${1:?revision before 0013}; rounds=${2:-2}
root=$(git rev-parse --show-toplevel)
py="$root/.venv/bin/python"
tmp=$(mktemp -d)
sql() { "$py" - "$1" <<'PY'
import os, sys
import sqlalchemy as sa
from storage.engine import make_engine
with make_engine(os.environ["DATABASE_URL"], 0).begin() as c:
    c.execute(sa.text(sys.argv[1]))
PY
}
cleanup() {
  (cd "$root" && sql "DROP INDEX IF EXISTS ab_user_full" && sql "DROP INDEX IF EXISTS ab_agent_full") || true
  git -C "$root" worktree remove --force "$tmp/before" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$root"
sql "CREATE INDEX ab_user_full ON token_usage_logs (org_id, user_id, created_at) INCLUDE (id, source, agent_id,
  action_type, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, latency_ms)"
sql "CREATE INDEX ab_agent_full ON token_usage_logs (org_id, agent_id, created_at)"
sql "ANALYZE token_usage_logs"
git worktree add -q --detach "$tmp/before" "$before"
for mo in layouts/locale/*/LC_MESSAGES/messages.mo; do cp "$mo" "$tmp/before/$mo"; done
for i in $(seq 1 "$rounds"); do
  for side in before after; do
    dir=$root; [ "$side" = before ] && dir=$tmp/before
    echo "--- round $i: $side ($( [ "$side" = before ] && echo "$before" || git rev-parse --short HEAD )$( [ "$side" = after ] && [ -n "$(git status --porcelain)" ] && echo ' + uncommitted'))"
    (cd "$dir" && PYTHONPATH="$dir" "$py" scripts/refresh_timing.py --runs 7 | tail -3)
    # filtered_page_timing.py is new with 0013: the earlier revision runs this checkout's copy.
    (cd "$dir" && PYTHONPATH="$dir" "$py" "$root/scripts/filtered_page_timing.py")
  done
done
