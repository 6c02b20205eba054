#!/usr/bin/env bash
# The fault harness (docs/RELIABILITY.md): builds bench/target/benchmarks.jar when it is missing,
# then runs eventbank.bench.faults.FaultHarness with the arguments given, for example
#   bench/run-faults.sh --seed 20261126 --runs 20 --faults 16 --disk-runs 2
# Full-disk runs (--disk-runs) loop-mount an ext4 image: they need root and a loop device.
set -eu
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ ! -f bench/target/benchmarks.jar ]; then
  ./mvnw -B -q -pl bench -am package -DskipTests >&2
fi
exec "$JAVA_HOME/bin/java" -cp bench/target/benchmarks.jar eventbank.bench.faults.FaultHarness "$@"
