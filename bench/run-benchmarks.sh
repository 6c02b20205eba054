#!/usr/bin/env bash
# Runs the benchmark suite of BENCHMARKS.md and keeps every output under $OUT.
#
#   bench/run-benchmarks.sh [OUT=/tmp/eventbank-bench-results]
#
# About 20 minutes on 2 cores. Disk: up to about 2 GB at a time in /tmp (each benchmark
# deletes its data directory when it ends). Build the jar first:
#   ./mvnw -q -B -o -pl bench -am package -DskipTests
#
# PRIO=1 runs each benchmark in a session of its own whose autogroup gets nice -10
# (bench/run-lib.sh says why). Needs root.
set -u
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/eventbank-bench-results}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
JAR=bench/target/benchmarks.jar
JMH="-f 1 -wi 2 -i 3 -w 2s -r 3s"
mkdir -p "$OUT"

SUMMARY='thrpt|median|p50|transfers/s|per second'
. bench/run-lib.sh

run fsync-40k "$JAVA" -cp $JAR eventbank.bench.FsyncLatency 40000 5
for n in 1 2 3; do
    run decide-$n "$JAVA" -jar $JAR 'DecideEvolveBenchmark' $JMH
    run durable-$n "$JAVA" -jar $JAR 'DurableTransferBenchmark' $JMH
    run replay-$n "$JAVA" -jar $JAR 'ReplayBenchmark.replay$' -f 1 -wi 2 -i 3 -w 3s -r 5s
    run latency-$n "$JAVA" -cp $JAR eventbank.bench.CommitLatency --fractions 0.5,0.25
done
run readdecode "$JAVA" -jar $JAR 'ReplayBenchmark.readDecode$' -f 1 -wi 2 -i 3 -w 3s -r 5s
run heap-g1 "$JAVA" -cp $JAR eventbank.bench.HeapPerAccount 1000000 5
run heap-serial "$JAVA" -XX:+UseSerialGC -cp $JAR eventbank.bench.HeapPerAccount 1000000 5
run startup "$JAVA" -cp $JAR eventbank.bench.StartupTime --events 10000000 --accounts 100000 --runs 5 --cold-runs 5
run startup-small-batches "$JAVA" -cp $JAR eventbank.bench.StartupTime --events 2500000 --accounts 10000 \
    --batch-events 1 --runs 3 --cold-runs 2
# The read side (issue 5): time travel, what-if and reports over a 10M-event journal (about
# 450 MB), then durable transfers with the four read models subscribed against without.
run read-side "$JAVA" -Xmx4g -cp $JAR eventbank.bench.ReadSideBenchmark --events 10000000 --accounts 100000 \
    --points 20 --runs 3
run durable-read-models "$JAVA" -jar $JAR 'DurableTransferBenchmark' -p inFlight=16384 -p readModels=none,all -f 3
echo "outputs in $OUT"
