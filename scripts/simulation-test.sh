#!/usr/bin/env bash
# The conversation simulation alone (functions/chat-http/tests/simulation.rs): every persona
# through the REST chat route, on the rules engine and on the LLM path with a scripted
# model, with the table printed (`make test` runs it inside `cargo test --workspace` and
# prints the same table from target/simulation.md afterwards).
#
#   scripts/simulation-test.sh                          the table
#   SIMULATION_TRANSCRIPTS=1 scripts/simulation-test.sh  every conversation in target/simulation.md
#
# Postgres: DATABASE_URL when set, otherwise the private cluster (scripts/pg.sh), started on
# demand. `--workspace` keeps the features of `cargo test --workspace`, so nothing is rebuilt
# after it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL="$(bash scripts/pg.sh start)"
  export DATABASE_URL
fi
started=$(date +%s)
cargo test --workspace --test simulation -- --nocapture
echo "simulation-test: $(($(date +%s) - started)) s including the build; table and failed transcripts in target/simulation.md"
