#!/usr/bin/env bash
# Builds Tuilerie with AddressSanitizer and UndefinedBehaviorSanitizer (gcc), runs the unit, cache,
# MVT and integration tests there, then builds with ThreadSanitizer and runs the cache, concurrency,
# render pool and coalescing tests. Any sanitizer report fails the run.
#
# Usage: scripts/run-sanitizers.sh [asan] [tsan]    (both, in that order, when none is given)
# Environment:
#   ASAN_BUILD_DIR, TSAN_BUILD_DIR  build directories (default build/asan and build/tsan, the presets' ones)
#   BUILD_JOBS                      compile jobs (default 2)
#   TEST_JOBS                       tests run at once by ctest (default 2)
#   TEST_TIMEOUT                    seconds after which ctest stops one test (default 600)
# It prints how long each configure, build and test step took.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
readonly root
readonly asan_build_dir=${ASAN_BUILD_DIR:-$root/build/asan}
readonly tsan_build_dir=${TSAN_BUILD_DIR:-$root/build/tsan}
readonly build_jobs=${BUILD_JOBS:-2}
readonly test_jobs=${TEST_JOBS:-2}
# The slowest test, Zooms/FloodFidelity, took 64 s under AddressSanitizer on 2 shared cores. 600 s only
# stops a hung one, such as a test whose server process outlives it and keeps ctest's output pipe open.
readonly test_timeout=${TEST_TIMEOUT:-600}

# ctest labels run under each sanitizer. The browser and features suites are left out of the
# AddressSanitizer run to keep it short; add "features" to cover the feature API's parsers and handlers.
readonly asan_labels='unit|cache|mvt|integration'
readonly tsan_labels='cache|concurrency'
# Tests that share state between threads but carry another label: the render pool and request
# coalescing seen through a real server, and the feature API's worker pool. ctest -R takes this
# regular expression; tsan_extra_targets are the executables that contain those tests.
readonly tsan_extra_names='^CacheBehaviour\.|^RenderPool|^WorkerPool\.'
readonly tsan_extra_targets=(cache_behaviour_test feature_parsers_test)

# halt_on_error makes the first report end the process with a failure instead of a warning.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=1:strict_init_order=1}
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/scripts/tsan.supp"

timings=()
failed_steps=()

# Runs a command and records how long it took under the given step name. A failed build stops the
# script; a failed test step is recorded, and the other runs still go ahead.
timed() {
  local step=$1
  shift
  local start=$SECONDS status=0
  echo "run-sanitizers: $step"
  "$@" || status=$?
  timings+=("$(printf '%-28s %6d s' "$step" $((SECONDS - start)))")
  if [ "$status" -ne 0 ]; then
    failed_steps+=("$step")
    if [[ $step != *tests* ]]; then exit "$status"; fi
  fi
}

print_timings() {
  [ ${#timings[@]} -eq 0 ] && return
  echo "run-sanitizers: step durations (machine: $(nproc) cores, build jobs $build_jobs, test jobs $test_jobs)"
  printf '  %s\n' "${timings[@]}"
}
trap print_timings EXIT

configure() {
  local build_dir=$1 sanitizers=$2
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTUILERIE_SANITIZE="$sanitizers" \
    -DTUILERIE_BUILD_TESTS=ON
}

# Prints the test executables whose ctest labels match the regular expression, one a line. gtest_discover_tests
# (CMake 3.25) writes each executable's path and labels into a "NAME[1]_include.cmake" file at configure time.
targets_with_labels() {
  local build_dir=$1 labels=$2
  # shellcheck disable=SC2016 # the $ signs belong to the awk program, not to the shell
  find "$build_dir/tests" -name '*_include.cmake' -print0 |
    xargs -0 awk -v labels="^($labels)\$" '
      /TEST_EXECUTABLE/ { match($0, /\[==\[[^]]*\]==\]/); executable = substr($0, RSTART + 4, RLENGTH - 8) }
      /TEST_PROPERTIES/ {
        match($0, /\[==\[[^]]*\]==\]/)
        count = split(substr($0, RSTART + 4, RLENGTH - 8), properties, ";")
        in_labels = 0
        for (i = 1; i <= count; ++i) {
          if (properties[i] == "LABELS") { in_labels = 1; continue }
          if (in_labels && properties[i] ~ labels) { sub(/.*\//, "", executable); print executable; break }
        }
      }' |
    sort -u
}

build_targets() {
  local build_dir=$1
  shift
  cmake --build "$build_dir" -j "$build_jobs" --target "$@"
}

# Runs ctest and fails when a test fails, when none matches (--no-tests=error: a suite that failed to
# register) or when one is skipped. gtest_discover_tests marks a test skipped when its output contains
# "[  SKIPPED ]", and GoogleTest prints that for every test of a suite whose SetUpTestSuite threw, for
# example because a sanitizer stopped the server process that the suite starts.
run_ctest() {
  local build_dir=$1
  shift
  local log status=0
  log=$(mktemp)
  ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j "$test_jobs" --timeout "$test_timeout" \
    "$@" 2>&1 | tee "$log" || status=$?
  if grep -q '^The following tests did not run:' "$log"; then
    echo "run-sanitizers: some tests were skipped, which hides a failure under a sanitizer; see the list above" >&2
    status=1
  fi
  rm -f "$log"
  return "$status"
}

run_asan() {
  timed "asan configure" configure "$asan_build_dir" "address;undefined"
  local targets
  mapfile -t targets < <(targets_with_labels "$asan_build_dir" "$asan_labels")
  if [ ${#targets[@]} -eq 0 ]; then
    echo "run-sanitizers: no test executable has a label matching '$asan_labels'" >&2
    exit 1
  fi
  timed "asan build" build_targets "$asan_build_dir" "${targets[@]}"
  timed "asan tests" run_ctest "$asan_build_dir" -L "$asan_labels"
}

run_tsan() {
  timed "tsan configure" configure "$tsan_build_dir" "thread"
  local targets
  mapfile -t targets < <(targets_with_labels "$tsan_build_dir" "$tsan_labels")
  timed "tsan build" build_targets "$tsan_build_dir" "${targets[@]}" "${tsan_extra_targets[@]}"
  timed "tsan tests (labels)" run_ctest "$tsan_build_dir" -L "$tsan_labels"
  timed "tsan tests (pools)" run_ctest "$tsan_build_dir" -R "$tsan_extra_names" -LE "$tsan_labels"
}

main() {
  local runs=("$@")
  [ ${#runs[@]} -eq 0 ] && runs=(asan tsan)
  local run
  for run in "${runs[@]}"; do
    case $run in
      asan) run_asan ;;
      tsan) run_tsan ;;
      *)
        echo "run-sanitizers: unknown run '$run'; give asan, tsan or nothing for both" >&2
        exit 2
        ;;
    esac
  done
  if [ ${#failed_steps[@]} -gt 0 ]; then
    echo "run-sanitizers: FAILED: ${failed_steps[*]}" >&2
    exit 1
  fi
  echo "run-sanitizers: no sanitizer report and no test failure"
}

main "$@"
