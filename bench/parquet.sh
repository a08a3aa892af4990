#!/usr/bin/env bash
# bench/parquet.sh: obs's Parquet export against COPY ... CSV and against
# DuckDB, on a logs-like table, all measured in the same run.
#   - COPY t TO '.parquet' (zstd) rows/s vs COPY t TO '.csv' rows/s
#   - file size vs DuckDB's zstd Parquet of the same rows (DuckDB reads the
#     CSV that COPY wrote, types cast back)
#   - obs's time vs DuckDB writing that Parquet (2 threads, and 1 thread)
#   - peak RSS (VmHWM) of the backend exporting 1M and 10M rows
# Prints figures and ratios; asserts nothing.  BENCH_ROWS (default 1000000),
# BENCH_BIG_ROWS (default 10000000, 0 skips the memory run), BENCH_REPEAT
# (default 3, best of).  Takes about 5-8 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
ROWS=${BENCH_ROWS:-1000000}
BIG=${BENCH_BIG_ROWS:-10000000}
REPEAT=${BENCH_REPEAT:-3}

obs_install_deps
obs_take_install_lock
obs_build_install
# A private copy of the library, preloaded by path, so that another
# worktree installing its obs.so while this runs changes nothing here.
W=$(mktemp -d /tmp/obs-bench-parquet.XXXXXX)
chmod 755 "$W"
cp obs.so "$W/obs.so"
mkdir -m 777 "$W/out"
trap 'obs_cluster_stop; rm -rf "$W"' EXIT
obs_cluster_start "session_preload_libraries = '$W/obs.so'
shared_buffers = '1GB'
max_wal_size = '8GB'
synchronous_commit = off"
exec 9>&-    # the cluster is up: let others install again
if [ ! -d test/parquet/node_modules ]; then
    (cd test/parquet && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d postgres)
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }

echo "building the ${ROWS}-row table ..."
"${PSQL[@]}" <<SQL
CREATE TABLE bench_logs (
    id        bigint,
    ts        timestamptz,
    level     smallint,
    logger    text,
    message   text,
    context   jsonb,
    tags      jsonb,
    trace_id  uuid,
    span_id   bytea
);
INSERT INTO bench_logs
SELECT g,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '37 ms',
       (ARRAY[10, 20, 20, 20, 20, 30, 40])[1 + g % 7],
       'app.' || (ARRAY['api', 'db', 'worker', 'scheduler', 'auth', 'billing'])[1 + g % 6],
       'request ' || (g::bigint * 7919 % 1000003) || ' handled in ' || (g % 997) || ' ms for user ' || (g % 5003),
       jsonb_build_object('user_id', g % 5003, 'duration_ms', g % 997,
                          'path', '/api/v1/items/' || (g % 211), 'ok', g % 13 <> 0),
       jsonb_build_object('env', 'prod', 'region', (ARRAY['eu-west-1', 'us-east-1', 'ap-south-1'])[1 + g % 3]),
       md5((g / 8)::text)::uuid,
       decode(substr(md5(g::text), 1, 16), 'hex')
FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE bench_logs;
SQL
table_mb=$("${PSQL[@]}" -Atc "SELECT pg_total_relation_size('bench_logs') / 1048576")

# best-of-$REPEAT wall time of one COPY (server side, one backend)
time_copy() {
    local target=$1 opts=$2 best=""
    for _ in $(seq "$REPEAT"); do
        rm -f "$target"
        local t0 t1 d
        t0=$(now)
        "${PSQL[@]}" -c "COPY bench_logs TO '$target' WITH ($opts)"
        t1=$(now)
        d=$(secs "$t0" "$t1")
        if [ -z "$best" ] || awk -v d="$d" -v b="$best" 'BEGIN {exit !(d < b)}'; then best=$d; fi
    done
    echo "$best"
}

"${PSQL[@]}" -c "SELECT count(*) FROM bench_logs" >/dev/null    # warm the cache
echo "timing COPY ... csv and COPY ... parquet (best of $REPEAT) ..."
t_csv=$(time_copy "$W/out/logs.csv" "FORMAT csv, HEADER")
t_pq=$(time_copy "$W/out/logs.parquet" "FORMAT parquet, COMPRESSION zstd")
t_pq_snappy=$(time_copy "$W/out/logs_snappy.parquet" "FORMAT parquet, COMPRESSION snappy")
sz_csv=$(stat -c %s "$W/out/logs.csv")
sz_pq=$(stat -c %s "$W/out/logs.parquet")
sz_pq_snappy=$(stat -c %s "$W/out/logs_snappy.parquet")

echo "DuckDB: CSV -> zstd Parquet ..."
declare -A D1 D2
while read -r k v; do D2[$k]=$v; done < <(node bench/parquet-duckdb.mjs "$W/out/logs.csv" "$W/out/duck.parquet" 2 "$W/out/logs.parquet")
while read -r k v; do D1[$k]=$v; done < <(node bench/parquet-duckdb.mjs "$W/out/logs.csv" "$W/out/duck1.parquet" 1)

# peak RSS of the backend running one export
peak_rss() {
    local table=$1 target=$2 opts=$3
    "${PSQL[@]}" <<SQL | grep -E '^(Vm|Rss)' | tr '\n' ' '
SELECT pg_backend_pid() AS pid \gset
\setenv BPID :pid
COPY $table TO '$target' WITH ($opts);
\! grep -E '^(VmHWM|RssShmem)' /proc/\$BPID/status
SQL
    rm -f "$target"
}
mem_1m_pq=$(peak_rss bench_logs "$W/out/m.parquet" "FORMAT parquet, COMPRESSION zstd")
mem_1m_csv=$(peak_rss bench_logs "$W/out/m.csv" "FORMAT csv")
mem_big_pq=""
t_big=""
if [ "$BIG" -gt 0 ]; then
    echo "building the ${BIG}-row table for the memory run ..."
    reps=$(( (BIG + ROWS - 1) / ROWS ))
    "${PSQL[@]}" <<SQL
CREATE TABLE bench_big AS
SELECT id + k * $ROWS AS id, ts + k * interval '1 day' AS ts, level, logger, message, context, tags, trace_id, span_id
FROM bench_logs, generate_series(0, $reps - 1) k
LIMIT $BIG;
SQL
    t0=$(now)
    mem_big_pq=$(peak_rss bench_big "$W/out/big.parquet" "FORMAT parquet, COMPRESSION zstd")
    t_big=$(secs "$t0" "$(now)")
    mem_big_csv=$(peak_rss bench_big "$W/out/big.csv" "FORMAT csv")
    "${PSQL[@]}" -c "DROP TABLE bench_big"
fi

kb() { echo "$1" | sed -E 's/.*VmHWM:[[:space:]]*([0-9]+) kB.*/\1/'; }
shm() { echo "$1" | sed -E 's/.*RssShmem:[[:space:]]*([0-9]+) kB.*/\1/'; }
memline() {
    local hwm shm
    hwm=$(kb "$2"); shm=$(shm "$2")
    printf '  %-30s VmHWM %8s kB  RssShmem %8s kB  VmHWM-RssShmem %8s kB%s\n' "$1" "$hwm" "$shm" "$((hwm - shm))" "${3:-}"
}

echo
echo "obs Parquet export benchmark: $ROWS rows ($table_mb MB table), $(nproc) cores, PostgreSQL $("${PSQL[@]}" -Atc 'SHOW server_version')"
printf '%-52s %12s %14s %10s\n' "run" "seconds" "rows/s" "bytes"
row() { printf '%-52s %12s %14s %10s\n' "$1" "$2" "$(awk -v n="$ROWS" -v t="$2" 'BEGIN {printf "%d", n / t}')" "$3"; }
row "COPY TO .csv (HEADER)" "$t_csv" "$sz_csv"
row "COPY TO .parquet (obs, zstd)" "$t_pq" "$sz_pq"
row "COPY TO .parquet (obs, snappy)" "$t_pq_snappy" "$sz_pq_snappy"
row "DuckDB CSV -> Parquet zstd, 2 threads" "${D2[duckdb_csv_to_parquet_s]}" "${D2[duckdb_parquet_bytes]}"
row "DuckDB table -> Parquet zstd, 2 threads" "${D2[duckdb_table_to_parquet_s]}" "${D2[duckdb_parquet_bytes]}"
row "DuckDB table -> Parquet zstd, 1 thread" "${D1[duckdb_table_to_parquet_s]}" "${D1[duckdb_parquet_bytes]}"
echo
echo "ratios (> 1.00x: obs is faster / smaller)"
printf '  %-62s %s\n' "obs parquet rows/s / COPY csv rows/s (target >= 1.0x)" "$(ratio "$t_csv" "$t_pq")"
printf '  %-62s %s\n' "DuckDB zstd file size / obs zstd file size (target >= 1.0x)" "$(ratio "${D2[duckdb_parquet_bytes]}" "$sz_pq")"
printf '  %-62s %s\n' "DuckDB CSV->Parquet time / obs time (2 threads)" "$(ratio "${D2[duckdb_csv_to_parquet_s]}" "$t_pq")"
printf '  %-62s %s\n' "DuckDB table->Parquet time / obs time (2 threads)" "$(ratio "${D2[duckdb_table_to_parquet_s]}" "$t_pq")"
printf '  %-62s %s\n' "DuckDB table->Parquet time / obs time (1 thread)" "$(ratio "${D1[duckdb_table_to_parquet_s]}" "$t_pq")"
echo "  same rows: obs file holds ${D2[obs_rows]} rows, ${D2[obs_rows_not_in_duckdb]} not in DuckDB's; row groups obs ${D2[obs_row_groups]}, DuckDB ${D2[duckdb_row_groups]}"
echo
echo "peak memory of the exporting backend (VmHWM = peak RSS; RssShmem = shared memory it"
echo "has mapped at the end, shared buffers included; their difference ~ its private peak)"
memline "$ROWS rows, COPY parquet" "$mem_1m_pq"
memline "$ROWS rows, COPY csv" "$mem_1m_csv"
if [ -n "$mem_big_pq" ]; then
    memline "$BIG rows, COPY parquet" "$mem_big_pq" "  ($t_big s)"
    memline "$BIG rows, COPY csv" "$mem_big_csv"
fi
