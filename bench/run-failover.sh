#!/usr/bin/env bash
# The failover benchmark (BENCHMARKS.md, "Issue 12: failover"): builds bench/target/benchmarks.jar
# when it is missing, then runs eventbank.bench.FailoverBenchmark with the arguments given, e.g.
#   bench/run-failover.sh --rounds 50 --lease PT2S
# About 10 s a round on 2 cores (most of it the killed node's restart). Disk: under 200 MB in /tmp,
# deleted at the end.
set -eu
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ ! -f bench/target/benchmarks.jar ]; then
  ./mvnw -B -q -pl bench -am package -DskipTests >&2
fi
exec "$JAVA_HOME/bin/java" -cp bench/target/benchmarks.jar eventbank.bench.FailoverBenchmark "$@"
