#!/usr/bin/env bash
# The failover benchmark with the PostgreSQL primary killed (issue 13; CRASH-TESTING.md, "Cluster
# mode: the PostgreSQL primary lost"): builds bench/target/benchmarks.jar when it is missing, then
# runs eventbank.bench.FailoverBenchmark --kills postgres with the arguments given, e.g.
#   bench/run-pg-failover.sh --rounds 20
# Needs Debian's PostgreSQL server (apt-get install postgresql); as root, PostgreSQL runs as the
# postgres user. About 5 s a round on 2 cores (most of it the new standby's copy). Disk: two
# PostgreSQL data directories of about 40 MB at a time in /tmp, deleted at the end.
set -eu
cd "$(dirname "$0")/.."
exec bench/run-failover.sh --kills postgres "$@"
