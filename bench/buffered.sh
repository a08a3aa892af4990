#!/usr/bin/env bash
# bench/buffered.sh: the buffered write path against the transactional one
# and a bare INSERT, and the per-call cost of function instrumentation.
# One throwaway cluster with obs preloaded, synchronous_commit at its
# default (on) and fsync on, as in production (BENCH_FSYNC=off to compare).
# Prints figures and ratios; asserts nothing.
#   BENCH_SECONDS=10 BENCH_FSYNC=on bash bench/buffered.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CALLS=${BENCH_CALLS:-20000}

obs_install_deps
obs_take_install_lock
obs_build_install
trap obs_cluster_stop EXIT
obs_cluster_start "shared_preload_libraries = 'pg_cron,obs'
fsync = ${BENCH_FSYNC:-on}
shared_buffers = '512MB'
max_wal_size = '4GB'"
exec 9>&-    # the cluster is up: let others install again

W=$(mktemp -d /tmp/obs-bench.XXXXXX)
psql -X -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
CREATE EXTENSION obs;
CREATE TABLE bare_logs (LIKE obs.logs INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES);
SQL
echo "fsync = $(psql -X -Atq -d postgres -c 'SHOW fsync'), synchronous_commit = $(psql -X -Atq -d postgres -c 'SHOW synchronous_commit')"

cat >"$W/bare.sql" <<'SQL'
INSERT INTO bare_logs (ts, level, logger, message, context, tags, backend_pid) VALUES (clock_timestamp(), 'INFO', 'bench', 'User data loaded', '{"user_id": 123, "records": 1000}', '{"environment": "production"}', pg_backend_pid());
SQL
cat >"$W/buffered.sql" <<'SQL'
SELECT obs.info('User data loaded', '{"user_id": 123, "records": 1000}', '{"environment": "production"}', 'bench');
SQL
cat >"$W/transactional.sql" <<'SQL'
SET obs.write_path = 'transactional';
SELECT obs.info('User data loaded', '{"user_id": 123, "records": 1000}', '{"environment": "production"}', 'bench');
SQL

# tps of one script at $2 clients
rate() {
    pgbench -n -c "$2" -j "$2" -T "$SECONDS_PER_RUN" -f "$W/$1.sql" postgres 2>/dev/null |
        awk '/^tps/ {print int($3)}'
}

echo
echo "== obs.info() per-call rate, pgbench ${SECONDS_PER_RUN}s per run"
printf '%8s %14s %14s %14s %10s %10s\n' clients "buffered/s" "transact./s" "bare ins/s" "buf/bare" "buf/tx"
for c in 1 2; do
    psql -X -q -d postgres -c "SELECT obs.flush('5 min')" -c "CHECKPOINT" >/dev/null
    b=$(rate bare "$c")
    t=$(rate transactional "$c")
    o=$(rate buffered "$c")
    printf '%8s %14s %14s %14s %10s %10s\n' "$c" "$o" "$t" "$b" \
        "$(awk -v o="$o" -v b="$b" 'BEGIN {printf "%.2fx", o / b}')" \
        "$(awk -v o="$o" -v t="$t" 'BEGIN {printf "%.2fx", o / t}')"
done
psql -X -q -d postgres -c "SELECT obs.flush('5 min')" >/dev/null
psql -X -d postgres -c "SELECT signal, accepted, stored, dropped_full, pending, batches FROM obs.ingest_stats WHERE signal = 'log'"

echo
echo "== instrumentation: $CALLS calls of a trivial PL/pgSQL function in one statement (best of 5)"
psql -X -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
CREATE FUNCTION bench_traced(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN x + 1; END $$;
CREATE FUNCTION bench_untraced(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN x + 1; END $$;
CREATE FUNCTION bench_time(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best float8;
BEGIN
  FOR i IN 1..5 LOOP
    PERFORM obs.flush('5 min');
    t0 := clock_timestamp();
    EXECUTE q;
    best := least(best, extract(epoch FROM clock_timestamp() - t0) * 1e6);
  END LOOP;
  RETURN best;
END $$;
SQL
# us per call for function $1 with obs.instrument_functions = $2
percall() {
    psql -X -Atq -d postgres -c "SET obs.instrument_functions = '$2'" \
        -c "SELECT round((bench_time('SELECT sum($1(g)) FROM generate_series(1, $CALLS) g') / $CALLS)::numeric, 3)"
}
u0=$(percall bench_untraced '')
u1=$(percall bench_untraced 'bench_traced')
t1=$(percall bench_traced 'bench_traced')
printf '%-58s %10s\n' "case" "us/call"
printf '%-58s %10s\n' "untraced function, instrumentation off" "$u0"
printf '%-58s %10s\n' "untraced function, another function instrumented" "$u1"
printf '%-58s %10s\n' "traced function (span + duration metric, buffered)" "$t1"
echo "overhead of tracing: $(awk -v a="$t1" -v b="$u0" 'BEGIN {printf "%.3f", a - b}') us/call;" \
     "untraced function while instrumentation is on: $(awk -v a="$u1" -v b="$u0" 'BEGIN {printf "%+.3f", a - b}') us/call"
psql -X -q -d postgres -c "SELECT obs.flush('5 min')" >/dev/null
psql -X -d postgres -c "SELECT signal, accepted, stored, dropped_full, pending FROM obs.ingest_stats WHERE signal IN ('span', 'metric') ORDER BY signal"
rm -rf "$W"
