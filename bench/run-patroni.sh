#!/usr/bin/env bash
# The loss of the PostgreSQL primary under real Patroni (docs/OPERATIONS.md, "PostgreSQL high
# availability"; BENCHMARKS.md, "The primary lost under Patroni"): one etcd
# and two Patroni-managed PostgreSQL 15 in strict synchronous mode, configured by
# bench/patroni/{etcd,pg1,pg2}.yml exactly; two eventbank writers
# and a reader on a multi-host journal.url with journal.require_sync_standby=true; clients
# committing with Idempotency-Keys; the primary's postmaster and its children SIGKILLed round after
# round. Runs eventbank.bench.PatroniFailoverBenchmark with the arguments given, e.g.
#   bench/run-patroni.sh --rounds 12
# and keeps its whole output, with Patroni's and etcd's logs, under $OUT
# (/tmp/eventbank-patroni-results unless set).
#
# Needs Debian's patroni, etcd-server and PostgreSQL 15 (apt-get install -y patroni etcd-server
# postgresql-15), and root (Patroni and etcd then run as the postgres user) or the postgres user.
# Uses /tmp/eventbank-patroni and the ports the YAML files name: one run at a time. About 20 s a
# round on 2 cores. PRIO=1: the run in an autogroup of nice -10 (bench/run-lib.sh; root).
set -u
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
OUT=${OUT:-/tmp/eventbank-patroni-results}
for tool in patroni etcd setpriv /usr/lib/postgresql/15/bin/pg_rewind; do
    if ! command -v "$tool" > /dev/null; then
        echo "run-patroni.sh: $tool is missing: apt-get install -y patroni etcd-server postgresql-15" >&2
        exit 2
    fi
done
if [ ! -f bench/target/benchmarks.jar ]; then
    ./mvnw -B -q -pl bench -am package -DskipTests >&2 || exit 2
fi
mkdir -p "$OUT"
SUMMARY='^patroni|^round|^over|^the old|acknowledged|^mail|^  |### (start|end)'
. bench/run-lib.sh
run patroni-failover "$JAVA_HOME/bin/java" -cp bench/target/benchmarks.jar eventbank.bench.PatroniFailoverBenchmark "$@"
status=$(grep -c "^acknowledged but lost: 0; disagreements found by the checks (the lost among them): 0$" \
    "$OUT/patroni-failover.txt")
cp /tmp/eventbank-patroni/*.log "$OUT/" 2> /dev/null
echo "output and Patroni's logs in $OUT"
[ "$status" = 1 ]
