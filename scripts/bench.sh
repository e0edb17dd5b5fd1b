#!/usr/bin/env bash
# `make bench`: every benchmark, each figure next to a floor measured in this same
# invocation, then one summary table (scripts/bench_table.py). The full output is kept in
# target/bench/last.txt.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p target/bench
OUT=target/bench/last.txt
: >"$OUT"
status=0
run() {
  echo "==> $*" | tee -a "$OUT"
  "$@" 2>&1 | tee -a "$OUT"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    echo "bench: '$*' failed (exit $rc)" | tee -a "$OUT"
    status=1
  fi
}
if [[ -z "${DATABASE_URL:-}" ]]; then
  DATABASE_URL="$(scripts/pg.sh start | tail -n1)"
fi
export DATABASE_URL
run bash scripts/race-bench.sh
for extra in scripts/bench-availability.sh scripts/bench-functions.sh; do
  if [ -f "$extra" ]; then run bash "$extra"; fi
done
if [ "${BENCH_MICRO:-1}" = 1 ]; then
  run cargo bench -p gomomo --bench slots
  run cargo bench -p gomomo-voice --bench voice_turn
  run cargo bench -p gomomo --features llm --bench chat_turn
fi
python3 scripts/bench_table.py <"$OUT" | tee target/bench/summary.md
exit "$status"
