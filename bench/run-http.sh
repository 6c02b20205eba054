#!/usr/bin/env bash
# HTTP load comparison (BENCHMARKS.md "HTTP"), one round after the other, RUNS rounds:
#   eventbank single transfers, the bare durable handler, eventbank batches of BATCH,
#   then pgbench TPC-B (bench/run-pgbench.sh, RUNS=1) unless PGBENCH=0.
# The client is wrk (Debian's package: apt-get install wrk) unless CLIENT=java.
# Needs the jars: ./mvnw -q -B -o -pl bench -am package -DskipTests
# Disk: under 1 GB in /tmp at a time, deleted after each program.
set -u
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
J="$JAVA_HOME/bin/java -cp bench/target/benchmarks.jar eventbank.bench.HttpLoad"
RUNS=${RUNS:-3}; WARMUP=${WARMUP:-10}; ACCOUNTS=${ACCOUNTS:-10000}; SECONDS_PER=${SECONDS_PER:-15}
CLIENT=${CLIENT:-wrk}; BATCH=${BATCH:-100}; PGBENCH=${PGBENCH:-1}
COMMON="--accounts $ACCOUNTS --conns 8,32,128 --seconds $SECONDS_PER --warmup $WARMUP --client $CLIENT"
for r in $(seq 1 "$RUNS"); do
  echo "== run $r eventbank single $(date -u +%T)"
  timeout 900 $J --target eventbank $COMMON 2>&1 | grep -v '^[0-9-]*T[0-9:.]*Z '
  echo "== run $r bare $(date -u +%T)"
  timeout 600 $J --target bare $COMMON 2>&1 | grep -v '^[0-9-]*T[0-9:.]*Z '
  echo "== run $r eventbank batch $BATCH $(date -u +%T)"
  timeout 900 $J --target eventbank $COMMON --batch "$BATCH" 2>&1 | grep -v '^[0-9-]*T[0-9:.]*Z '
  if [ "$PGBENCH" = 1 ]; then
    echo "== run $r pgbench $(date -u +%T)"
    RUNS=1 bench/run-pgbench.sh
  fi
done
