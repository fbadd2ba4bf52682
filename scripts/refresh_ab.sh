#!/usr/bin/env bash
# Two revisions' full refresh, alternating: CPU and wall per 365-day refresh.
#
# Usage: DATABASE_URL=… scripts/refresh_ab.sh REV_A REV_B [ROUNDS=6] [RUNS=7]
# Checks out each revision into a temporary worktree and runs scripts/refresh_timing.py
# from it (PYTHONPATH set to the worktree, so its own queries/ are imported, not the
# installed checkout's), A then B, ROUNDS times; then prints, per revision and zone, the
# median over rounds of each run's median wall time and median CPU time (this process's
# Python: time.process_time). Alternating spreads the machine's drift over both.
set -euo pipefail
a=${1:?revision A}; b=${2:?revision B}; rounds=${3:-6}; runs=${4:-7}
root=$(git rev-parse --show-toplevel)
py="$root/.venv/bin/python"
tmp=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$tmp/a" 2>/dev/null || true; git -C "$root" worktree remove --force "$tmp/b" 2>/dev/null || true; rm -rf "$tmp"' EXIT
git -C "$root" worktree add -q --detach "$tmp/a" "$a"
git -C "$root" worktree add -q --detach "$tmp/b" "$b"
for _ in $(seq 1 "$rounds"); do
  for side in a b; do
    (cd "$tmp/$side" && PYTHONPATH="$tmp/$side" "$py" scripts/refresh_timing.py --runs "$runs" | sed "s/^/$side /")
  done
done | tee "$tmp/log"
"$py" - "$tmp/log" "$a" "$b" <<'EOF'
import re, statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    m = re.match(r"(a|b) (\S+)\s+\d+ d: median (\d+) ms, max \d+ ms .*CPU median (\d+) ms", line)
    if m:
        runs[(m[2], m[1])].append((int(m[3]), int(m[4])))
name = {"a": sys.argv[2], "b": sys.argv[3]}
print(f"\n{'zone':<20} {'revision':<12} wall ms   CPU ms   (median over rounds of each run's median)")
for (zone, side), v in sorted(runs.items()):
    wall = statistics.median(x[0] for x in v)
    cpu = statistics.median(x[1] for x in v)
    print(f"{zone:<20} {name[side][:12]:<12} {wall:7.0f}  {cpu:7.0f}   CPU per round: {[x[1] for x in v]}")
EOF
