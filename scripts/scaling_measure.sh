#!/usr/bin/env bash
# Measurements behind docs/scaling.md, on a PostgreSQL copy of the 10M-row benchmark database.
# Usage: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_ops flock /work/bench.lock scripts/scaling_measure.sh OUT_DIR
set -euo pipefail
OUT=${1:-docs/scaling-data}
mkdir -p "$OUT"
DB=${DATABASE_URL:?}
PSQL=(psql "${DB/postgresql+psycopg2/postgresql}" -X -q -A -F $'\t')
AI=.venv/bin/ai-usage
{
  echo "# $(date -u +%FT%TZ) uptime: $(uptime)"
  echo "## sizes (pg_total_relation_size = heap + indexes + toast), rows"
  "${PSQL[@]}" -c "VACUUM ANALYZE token_usage_logs" 2>/dev/null || true
  for t in token_usage_logs agents rollup_total rollup_action rollup_model rollup_agent; do
    "${PSQL[@]}" -t -c "SELECT '$t', COUNT(*), pg_total_relation_size('$t'), pg_relation_size('$t'),
        round(pg_total_relation_size('$t')::numeric / GREATEST(COUNT(*),1), 1) FROM $t"
  done
  echo "## rollup rows per org (the bench org spans 365 days)"
  for t in rollup_total rollup_action rollup_model rollup_agent; do
    "${PSQL[@]}" -t -c "SELECT '$t', org_id, COUNT(*), MIN(t), MAX(t) FROM $t GROUP BY org_id ORDER BY 3 DESC LIMIT 3"
  done
  "${PSQL[@]}" -t -c "SELECT 'raw', org_id, COUNT(*), MIN(created_at), MAX(created_at) FROM token_usage_logs GROUP BY org_id ORDER BY 3 DESC LIMIT 3"
  echo "## rollup rows per grain (rollup_model)"
  "${PSQL[@]}" -t -c "SELECT grain, COUNT(*) FROM rollup_model GROUP BY grain ORDER BY grain"
} > "$OUT/sizes.txt" 2>&1
# Incremental catch-up: 500k new rows of a new org appended (COPY), then one `ai-usage refresh`.
{
  echo "# $(date -u +%FT%TZ) uptime: $(uptime)"
  echo "## AI_USAGE_REFRESH_SECONDS=0 ai-usage demo-data --orgs 1 --rows 500000 --days 30 --org-prefix inc-\$RANDOM --seed 11 --no-progress"
  /usr/bin/time -f "wall %e s, max RSS %M KB" env AI_USAGE_REFRESH_SECONDS=0 $AI demo-data --orgs 1 --rows 500000 --days 30 --org-prefix "inc-$RANDOM" --seed 11 --no-progress
  echo "## ai-usage refresh (incremental catch-up of those rows)"
  /usr/bin/time -f "wall %e s, max RSS %M KB" $AI refresh
  echo "## ai-usage refresh (nothing new)"
  /usr/bin/time -f "wall %e s, max RSS %M KB" $AI refresh
  echo "# $(date -u +%FT%TZ) uptime: $(uptime)"
} > "$OUT/incremental.txt" 2>&1
# Full rebuild of every rollup table from the raw table, in one transaction.
{
  echo "# $(date -u +%FT%TZ) uptime: $(uptime)"
  "${PSQL[@]}" -t -c "SELECT 'raw rows', COUNT(*) FROM token_usage_logs"
  echo "## ai-usage refresh --full"
  /usr/bin/time -f "wall %e s, max RSS %M KB" $AI refresh --full
  echo "# $(date -u +%FT%TZ) uptime: $(uptime)"
} > "$OUT/full.txt" 2>&1
echo done
