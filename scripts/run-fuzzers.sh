#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang and runs each one for SECONDS (default 30), starting
# from its seed corpus in fuzz/corpus/<target>/. New corpus entries go to a temporary directory, never
# into the repository. Exits non-zero when any target crashes, leaks, times out or runs out of memory,
# and prints where the input that did it was saved.
#
# Usage: scripts/run-fuzzers.sh [SECONDS]
# Environment:
#   FUZZ_BUILD_DIR  build directory (default build/fuzz)
#   FUZZ_TARGETS    targets to run, separated by spaces (default: all four)
#   FUZZ_WORK_DIR   where corpora, logs and crash inputs go (default: a new temporary directory, removed
#                   after a run without findings)
#   BUILD_JOBS      compile jobs (default 2)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
readonly root
readonly seconds=${1:-30}
readonly build_dir=${FUZZ_BUILD_DIR:-$root/build/fuzz}
readonly build_jobs=${BUILD_JOBS:-2}
read -r -a targets <<< "${FUZZ_TARGETS:-tile_path query_parameters config mvt_geometry}"
readonly targets

if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "run-fuzzers: SECONDS must be a positive whole number, got '$seconds'" >&2
  exit 2
fi

# libFuzzer's own limits per input: 10 s of run time and 2 GiB of resident memory, far above what any
# parser or one tile's geometry needs, so that hitting either one is a finding.
readonly per_input_timeout=10
readonly rss_limit_mb=2048
# A fuzzer stops by itself after -max_total_time. This margin covers its start-up and final corpus pass,
# and `timeout` ends a process that is still running after it.
readonly stop_margin=120

configure_and_build() {
  local start=$SECONDS
  # -O1 with asserts (no NDEBUG): fast enough to fuzz, and every assert of the code under test stays on.
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DTUILERIE_BUILD_FUZZERS=ON -DTUILERIE_BUILD_TESTS=OFF
  cmake --build "$build_dir" -j "$build_jobs" --target tuilerie_fuzzers
  echo "run-fuzzers: configure and build took $((SECONDS - start)) s"
}

# Runs one target; returns libFuzzer's exit status (0 when it found nothing).
run_target() {
  local target=$1 work_dir=$2
  local fuzzer="$build_dir/fuzz/${target}_fuzzer"
  local corpus="$work_dir/corpus/$target"
  local log="$work_dir/$target.log"
  local options=(-max_total_time="$seconds" -timeout="$per_input_timeout" -rss_limit_mb="$rss_limit_mb"
                 -artifact_prefix="$work_dir/artifacts/$target-" -print_final_stats=1)
  if [ -f "$root/fuzz/$target.dict" ]; then options+=(-dict="$root/fuzz/$target.dict"); fi
  mkdir -p "$corpus"

  echo "run-fuzzers: $target for $seconds s (log: $log)"
  local status=0
  # The first corpus directory receives the new entries; the seed corpus is only read.
  timeout --kill-after=10 $((seconds + stop_margin)) \
    "$fuzzer" "${options[@]}" "$corpus" "$root/fuzz/corpus/$target" > "$log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' "$log" |
    sed 's/^/  /' || true
  if [ "$status" -ne 0 ]; then
    echo "run-fuzzers: $target FAILED with status $status; the end of its log:" >&2
    tail -n 40 "$log" >&2
  fi
  return "$status"
}

main() {
  configure_and_build

  local work_dir keep_work_dir=false
  if [ -n "${FUZZ_WORK_DIR:-}" ]; then
    work_dir=$FUZZ_WORK_DIR
    keep_work_dir=true
  else
    work_dir=$(mktemp -d "${TMPDIR:-/tmp}/tuilerie-fuzz.XXXXXX")
  fi
  mkdir -p "$work_dir/artifacts"

  local target failed=()
  for target in "${targets[@]}"; do
    if [ ! -x "$build_dir/fuzz/${target}_fuzzer" ]; then
      echo "run-fuzzers: unknown target '$target'; the targets are the fuzz/*_fuzzer.cpp names" >&2
      exit 2
    fi
    run_target "$target" "$work_dir" || failed+=("$target")
  done

  if [ ${#failed[@]} -gt 0 ]; then
    echo "run-fuzzers: findings in ${failed[*]}; inputs saved in $work_dir/artifacts:" >&2
    ls -l "$work_dir/artifacts" >&2
    echo "run-fuzzers: replay one with: $build_dir/fuzz/TARGET_fuzzer FILE" >&2
    exit 1
  fi
  echo "run-fuzzers: no findings in ${targets[*]} ($seconds s each)"
  if [ "$keep_work_dir" = false ]; then rm -rf "$work_dir"; fi
}

main
