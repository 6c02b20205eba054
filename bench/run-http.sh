#!/usr/bin/env bash
# HTTP load comparison (BENCHMARKS.md "HTTP"): eventbank, bare handler, alternately, RUNS times.
set -u
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
J="$JAVA_HOME/bin/java -cp bench/target/benchmarks.jar eventbank.bench.HttpLoad"
RUNS=${RUNS:-2}; WARMUP=${WARMUP:-5}; ACCOUNTS=${ACCOUNTS:-10000}; SECONDS_PER=${SECONDS_PER:-15}
for r in $(seq 1 "$RUNS"); do
  echo "== run $r eventbank $(date -u +%T)"
  timeout 600 $J --target eventbank --accounts "$ACCOUNTS" --conns 8,32,128 --seconds "$SECONDS_PER" --warmup "$WARMUP"
  echo "== run $r bare $(date -u +%T)"
  timeout 300 $J --target bare --accounts "$ACCOUNTS" --conns 8,32,128 --seconds "$SECONDS_PER" --warmup "$WARMUP"
done
