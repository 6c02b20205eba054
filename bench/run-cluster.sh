#!/usr/bin/env bash
# Cluster mode's benchmarks (BENCHMARKS.md "Issue 12: cluster mode"), in one session, every
# output kept under $OUT:
#   1. HTTP through each journal: `eventbank serve` on the file journal, then as a single leader
#      node on PostgreSQL (HttpLoad --journal postgres), single transfers and batches of BATCH,
#      file and postgres alternating, ROUNDS rounds;
#   2. DurableTransferBenchmark file vs postgres (JMH, the command of "Issue 12, first part"),
#      JMH_RUNS times;
#   3. ReaderLag: a leader and a reader engine on one PostgreSQL at RATE transfers/s, LAG_RUNS
#      times with the default poll interval (PT0.1S), and once with PT0.01S.
#
#   bench/run-cluster.sh [OUT=/tmp/eventbank-cluster-results]
#
# About 25 minutes on 2 cores. Disk: up to about 1 GB at a time under /tmp (a JMH trial at 16,384
# in flight: the journal's files, or PostgreSQL's database and write-ahead log); each program
# deletes its directory when it ends. Build the jars first:
#   ./mvnw -q -B -o -pl bench -am package -DskipTests
# PRIO=1: each program in a session of its own whose autogroup gets nice -10 (bench/run-lib.sh;
# needs root).
set -u
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/eventbank-cluster-results}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
JAR=bench/target/benchmarks.jar
ROUNDS=${ROUNDS:-3}; JMH_RUNS=${JMH_RUNS:-3}; LAG_RUNS=${LAG_RUNS:-3}
BATCH=${BATCH:-100}; RATE=${RATE:-100000}
HTTP="--target eventbank --jar server/target/eventbank.jar --accounts 2000 --seconds 10 --warmup 5 --client wrk --conns 128"
mkdir -p "$OUT"

SUMMARY='^128,|thrpt|reader lag|offered|### (start|end)'
. bench/run-lib.sh

for r in $(seq 1 "$ROUNDS"); do
    for journal in file postgres; do
        run "http-single-$journal-$r" "$JAVA" -cp $JAR eventbank.bench.HttpLoad $HTTP --journal $journal
    done
    for journal in postgres file; do
        run "http-batch-$journal-$r" "$JAVA" -cp $JAR eventbank.bench.HttpLoad $HTTP --batch "$BATCH" \
            --journal $journal
    done
done
for r in $(seq 1 "$JMH_RUNS"); do
    run "jmh-$r" "$JAVA" -jar $JAR DurableTransferBenchmark -p journal=file,postgres -p readModels=none \
        -f 1 -wi 2 -i 3 -w 2s -r 3s
done
for r in $(seq 1 "$LAG_RUNS"); do
    run "reader-lag-$r" "$JAVA" -cp $JAR eventbank.bench.ReaderLag --rate "$RATE" --seconds 20
done
run "reader-lag-poll-10ms" "$JAVA" -cp $JAR eventbank.bench.ReaderLag --rate "$RATE" --seconds 20 \
    --poll-interval PT0.01S
