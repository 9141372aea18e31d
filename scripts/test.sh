#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this):
#   1. install what is missing, build with warnings as errors;
#   2. run every test (unit and integration) on the plain build;
#   3. run them again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   4. the integration tests and the threaded modules' unit tests under
#      ThreadSanitizer;
#   5. every test again with the PostgreSQL store, on a throwaway server
#      started here (scripts/pg.sh) and stopped at the end;
#   6. a short libFuzzer run of every fuzz target over its corpus.
# Usage: bash scripts/test.sh   (FUZZ_SECONDS=N to change the fuzz run, default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

jobs=$(nproc)
passed=0
failed=0
run_suite() {
  local dir=$1; shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null
  ninja -C "$dir" -j "$jobs"
  local log
  log=$(mktemp)
  # shellcheck disable=SC2086 # TEST_ARGS is a list of words
  meson test -C "$dir" --print-errorlogs --num-processes "$jobs" ${TEST_ARGS:-} | tee "$log"
  passed=$((passed + $(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log")))
  failed=$((failed + $(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log")))
  rm -f "$log"
}

echo "== formatting (clang-format, .clang-format)"
mapfile -t sources < <(find core crypto store audit policy service http cli bench fuzz tests -name '*.[ch]')
clang-format --style=file --dry-run --Werror "${sources[@]}"

echo "== banned functions"
bash scripts/check-banned.sh

echo "== build and test (debugoptimized)"
run_suite build

echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

echo "== under ThreadSanitizer: the integration tests (the import reads files on a second thread), and the"
echo "   unit tests of what has threads of its own (audit group commit, store checkpoints)"
export TSAN_OPTIONS=halt_on_error=1
[ -f build-tsan/build.ninja ] || meson setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug >/dev/null
ninja -C build-tsan -j "$jobs"
for selection in "--suite integration" "audit service_audit store"; do
  log=$(mktemp)
  # shellcheck disable=SC2086 # the selection is a list of words
  meson test -C build-tsan $selection --print-errorlogs --num-processes "$jobs" | tee "$log"
  passed=$((passed + $(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log")))
  failed=$((failed + $(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log")))
  rm -f "$log"
done

echo "== the whole suite again with the PostgreSQL store (a throwaway server on 127.0.0.1)"
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
trap pg_stop EXIT
pg_start
export AMANA_TEST_STORE=postgresql
TEST_ARGS="--no-suite plaintext" run_suite build
pg_stop
# The plaintext search reads the server's whole write-ahead log, which is
# shared by every database: on a server of its own, so that only this
# test's registry is in it (the store tests' byte patterns would match).
pg_start
TEST_ARGS="--suite plaintext" run_suite build
unset AMANA_TEST_STORE
pg_stop
trap - EXIT

echo "== fuzz smoke run"

[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false >/dev/null
ninja -C build-fuzz -j "$jobs"
seconds=${FUZZ_SECONDS:-30}
for target in build-fuzz/fuzz/fuzz_*; do
  [ -f "$target" ] && [ -x "$target" ] || continue
  name=$(basename "$target")
  corpus="fuzz/corpus/${name#fuzz_}"
  work=$(mktemp -d)
  cp -r "$corpus"/. "$work"/
  "$target" -max_total_time="$seconds" -print_final_stats=0 "$work" 2>&1 | tail -n 3
  rm -rf "$work"
done
echo "all tests passed"
echo "tests: $passed passed, $failed failed"
