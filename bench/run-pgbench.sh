#!/usr/bin/env bash
# pgbench TPC-B with PostgreSQL's durable defaults (fsync on, synchronous_commit on), BENCHMARKS.md "HTTP".
# Debian's postgresql package; a throwaway cluster under /tmp, deleted at the end.
set -u
PG=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
D=/tmp/pgbench-cluster; PORT=${PORT:-55432}; RUNS=${RUNS:-2}; T=${T:-30}
rm -rf "$D"; mkdir -p "$D"; chown postgres "$D"
as() { su postgres -s /bin/bash -c "$*"; }
as "$PG/initdb -D $D/data -A trust" >/dev/null
as "$PG/pg_ctl -D $D/data -o '-p $PORT -k $D -c listen_addresses=127.0.0.1 -c max_connections=200' -l $D/log -w start" >/dev/null
as "$PG/psql -h 127.0.0.1 -p $PORT -d postgres -Atc 'show fsync; show synchronous_commit; show wal_sync_method; show shared_buffers'"
as "$PG/pgbench -h 127.0.0.1 -p $PORT -i -s 10 -q postgres" 2>&1 | tail -1
for r in $(seq 1 "$RUNS"); do
  for c in 8 32 128; do
    echo "== run $r clients $c $(date -u +%T)"
    as "$PG/pgbench -h 127.0.0.1 -p $PORT -c $c -j 2 -T $T -M prepared postgres" 2>&1 | grep -E '^(tps|latency|number of failed)'
  done
done
as "$PG/pg_ctl -D $D/data -m fast -w stop" >/dev/null
rm -rf "$D"
