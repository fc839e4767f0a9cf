#!/usr/bin/env bash
# Run every benchmark in turn, each bounded in time, appending its tables to docs/benchmarks.md.
# TUILERIE_BIN picks the server binary (build/release/tuilerie by default); BENCH_RUNS, BENCH_SECONDS and
# SOAK_SECONDS shorten or lengthen the runs (bench/README.md).
set -euo pipefail

bench_dir=$(cd "$(dirname "$0")" && pwd)
# Upper bounds per benchmark, in seconds, well above their usual duration on 2 cores.
readonly limits=(
  "warm_cache.py 1800"
  "cold_raster.py 2700"
  "cold_mvt.py 2700"
  "memory.py 1200"
  "freshness.py 600"
)

failed=()
for entry in "${limits[@]}"; do
  read -r script seconds <<<"$entry"
  echo "== bench/$script (at most $seconds s)"
  if ! BENCH_COMMAND="bench/$script" timeout --kill-after=30 "$seconds" python3 "$bench_dir/$script"; then
    failed+=("$script")
  fi
done

soak_seconds=${SOAK_SECONDS:-600}
echo "== bench/soak.sh (SOAK_SECONDS=$soak_seconds)"
if ! BENCH_COMMAND="bench/soak.sh" SOAK_SECONDS=$soak_seconds \
  timeout --kill-after=30 $((soak_seconds + 600)) "$bench_dir/soak.sh"; then
  failed+=("soak.sh")
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "run-all: failed: ${failed[*]}" >&2
  exit 1
fi
echo "run-all: every benchmark ran; tables appended to docs/benchmarks.md"
