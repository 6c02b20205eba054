#!/usr/bin/env bash
# Issue 17's spike (BENCHMARKS.md "Issue 17: HTTP cost per request"), RUNS rounds, each round:
#   the bare durable handler on each of STACKS, eventbank single transfers (each jar of JARS),
#   then pgbench TPC-B (bench/run-pgbench.sh, RUNS=1, T=SECONDS_PER) unless PGBENCH=0.
# The client is wrk (apt-get install wrk). Each program runs under WRAP, e.g.
#   WRAP="flock /work/notes/bench.lock nice -n -5" so that benchmarks on a shared machine never overlap.
# Needs the jars: ./mvnw -q -B -o -pl bench -am package -DskipTests
set -u
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
J="$JAVA_HOME/bin/java -cp bench/target/benchmarks.jar eventbank.bench.HttpLoad"
RUNS=${RUNS:-3}; WARMUP=${WARMUP:-5}; ACCOUNTS=${ACCOUNTS:-2000}; SECONDS_PER=${SECONDS_PER:-10}
CONNS=${CONNS:-8,32,128,512}; STACKS=${STACKS:-javalin jetty helidon netty netty-vt}
JARS=${JARS:-server/target/eventbank.jar}; PGBENCH=${PGBENCH:-1}; WRAP=${WRAP:-}
COMMON="--accounts $ACCOUNTS --conns $CONNS --seconds $SECONDS_PER --warmup $WARMUP --client wrk"
for r in $(seq 1 "$RUNS"); do
  for s in $STACKS; do
    echo "== run $r bare-$s $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    $WRAP timeout 600 $J --target "bare-$s" $COMMON 2>&1 | grep -v '^[0-9-]*T[0-9:.]*Z '
  done
  for jar in $JARS; do
    echo "== run $r eventbank $jar $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    $WRAP timeout 900 $J --target eventbank --jar "$jar" $COMMON 2>&1 | grep -v '^[0-9-]*T[0-9:.]*Z '
  done
  if [ "$PGBENCH" = 1 ]; then
    echo "== run $r pgbench $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    $WRAP env RUNS=1 T="$SECONDS_PER" bench/run-pgbench.sh
  fi
done
