#!/usr/bin/env bash
# Runs the fuzz targets of fuzz/ with cargo-fuzz (libFuzzer, nightly).
#
#   scripts/fuzz.sh                  # every target, 60 s each
#   scripts/fuzz.sh review 900       # one target for 15 minutes
#   JOBS=2 scripts/fuzz.sh lint 900  # two fuzzing processes
#
# Each run starts from the seeds (fuzz/seeds/<target>/) and what earlier runs
# found (fuzz/corpus/<target>/, not committed), and prints libFuzzer's final
# statistics: executions and coverage (libFuzzer's whole output is in
# fuzz/logs/<target>/). A failing input is written to
# fuzz/artifacts/<target>/: copy it to testdata/fuzz/<target>/, where
# `cargo test` replays it through the same check, and fix the defect.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

TARGETS=(lint review policy fix_roundtrip)
SECONDS_EACH=${2:-60}
JOBS=${JOBS:-1}
if [[ $# -ge 1 && "$1" != "all" ]]; then
  TARGETS=("$1")
fi

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "--- installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

for target in "${TARGETS[@]}"; do
  mkdir -p "corpus/$target" "logs/$target"
  echo "--- $target for ${SECONDS_EACH}s (jobs: $JOBS)"
  # With several jobs libFuzzer writes each one's log to fuzz-N.log in the
  # working directory: give each target its own.
  parallel=()
  if [[ "$JOBS" -gt 1 ]]; then
    parallel=(-jobs="$JOBS" -workers="$JOBS")
  fi
  (cd "logs/$target" && cargo +nightly fuzz run --fuzz-dir ../.. "$target" \
    "../../corpus/$target" "../../seeds/$target" -- \
    -max_total_time="$SECONDS_EACH" -max_len=262144 -rss_limit_mb=4096 \
    -timeout=30 -print_final_stats=1 "${parallel[@]}" > run.log 2>&1) || true
  cat "logs/$target"/*.log |
    grep -E '^(stat::|==[0-9]+== ERROR|SUMMARY|Test unit written|Done [0-9]+ runs)' || true
  if compgen -G "artifacts/$target/*" >/dev/null; then
    echo "!!! $target: failing inputs in fuzz/artifacts/$target/"
  fi
done
