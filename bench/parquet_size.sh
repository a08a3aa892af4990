#!/usr/bin/env bash
# bench/parquet_size.sh: obs's Parquet file size and write speed against
# DuckDB and against COPY ... (FORMAT csv), all measured in the same run,
# on four tables:
#   - t14: 300k rows of 14 types (bigint id, timestamptz, boolean, smallint,
#     integer, numeric(12,2), real, double, two texts, date, uuid, jsonb,
#     integer[]);
#   - obs.logs, obs.spans and obs.metric_points filled with obs-like data
#     (ids and timestamps ascending, trace and span ids random).
# For each table it prints:
#   - obs's zstd file size / DuckDB's zstd file size of the same rows
#     (target <= 0.80x); DuckDB loads the CSV that COPY wrote, each column
#     cast back to its type (obs's trace and span ids as BLOBs), and writes
#     it with COPY ... (FORMAT parquet, COMPRESSION zstd), 2 threads;
#   - obs's COPY ... parquet rows/s / COPY ... csv rows/s (target >= 1.2x);
#   - DuckDB's write time / obs's write time;
#   - per column: compressed bytes and encodings of both files.
# Asserts nothing.  BENCH_ROWS (default 300000) rows per table,
# BENCH_METRIC_ROWS (default 2000000) for obs.metric_points, BENCH_REPEAT
# (default 3, best of).  About 3 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
ROWS=${BENCH_ROWS:-300000}
MROWS=${BENCH_METRIC_ROWS:-2000000}
REPEAT=${BENCH_REPEAT:-3}

obs_install_deps
obs_take_install_lock
obs_build_install
# obs's own tables need the extension, so obs is preloaded by name: run
# this with OBS_PG_ROOT set, so that no other worktree installs over it.
W=$(mktemp -d /tmp/obs-bench-pqsize.XXXXXX)
chmod 755 "$W"
mkdir -m 777 "$W/out"
trap 'obs_cluster_stop; rm -rf "$W"' EXIT
obs_cluster_start "session_preload_libraries = 'obs'
shared_buffers = '1GB'
max_wal_size = '8GB'
synchronous_commit = off"
exec 9>&-
if [ ! -d test/parquet/node_modules ]; then
    (cd test/parquet && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d postgres)
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }

echo "building the tables ($ROWS rows each, $MROWS metric points) ..."
"${PSQL[@]}" <<SQL
CREATE EXTENSION obs;
SELECT setseed(0.42);
CREATE TABLE t14 AS
SELECT g::int8 AS id,
       timestamptz '2026-01-01 00:00:00+00' + g * interval '100 ms'
           + (random() * 50)::int * interval '1 ms' AS ts,
       random() < 0.3 AS flag,
       (random() * 20000)::int2 AS small,
       (random() * 1000000)::int4 AS qty,
       round((random() * 10000)::numeric, 2)::numeric(12,2) AS amount,
       (random() * 100)::float4 AS ratio,
       random() * 1000 AS value,
       (ARRAY['alpha', 'beta', 'gamma', 'delta', 'epsilon'])[1 + (random() * 4)::int] AS category,
       'item ' || (random() * 50000)::int || ' of order ' || (g / 3) AS note,
       date '2020-01-01' + (random() * 2000)::int AS day,
       gen_random_uuid() AS uid,
       jsonb_build_object('k', (random() * 100)::int, 'ok', random() < 0.9) AS attrs,
       ARRAY(SELECT (random() * 100000)::int4
               FROM generate_series(1, (random() * 8)::int + (g - g))) AS nums
FROM generate_series(1, $ROWS) g;

INSERT INTO obs.logs (ts, level, logger, message, context, tags, trace_id, span_id, error, backend_pid)
SELECT timestamptz '2026-01-01 00:00:00+00' + g * interval '20 ms' + (random() * 15)::int * interval '1 ms',
       (ARRAY['DEBUG', 'INFO', 'INFO', 'INFO', 'INFO', 'WARNING', 'ERROR'])[1 + (random() * 6)::int]::obs.log_level,
       'etl.' || (ARRAY['extract', 'transform', 'load', 'api', 'db', 'scheduler', 'cache', 'auth'])[1 + (random() * 7)::int],
       (ARRAY['row batch written', 'fetched page', 'retrying request', 'cache miss for key',
              'task finished', 'connection reset'])[1 + (random() * 5)::int] || ' ' || (random() * 100000)::int,
       jsonb_build_object('rows', (random() * 10000)::int, 'duration_ms', round((random() * 500)::numeric, 1),
                          'page', (random() * 100)::int),
       jsonb_build_object('env', 'prod', 'host', 'worker-' || (random() * 8)::int),
       CASE WHEN random() < 0.8 THEN md5((g / 10)::text)::text::obs.trace_id END,
       CASE WHEN random() < 0.8 THEN substr(md5(g::text), 1, 16)::obs.span_id END,
       CASE WHEN random() < 0.02 THEN jsonb_build_object('type', 'TimeoutError', 'message', 'timed out after 30s') END,
       1000 + (random() * 20)::int
FROM generate_series(1, $ROWS) g;

INSERT INTO obs.spans (trace_id, span_id, parent_span_id, operation, service_type, service_name,
                       start_time, end_time, duration_us, status, error, tags)
SELECT md5((g / 8)::text)::text::obs.trace_id,
       substr(md5(g::text || 's'), 1, 16)::obs.span_id,
       CASE WHEN g % 8 = 0 THEN NULL ELSE substr(md5(((g / 8) * 8)::text || 's'), 1, 16)::obs.span_id END,
       (ARRAY['fetch_orders', 'parse', 'validate', 'write_batch', 'http GET /api/items', 'SELECT orders',
              'cache.get', 'publish', 'train_step', 'score'])[1 + (random() * 9)::int],
       (ARRAY['DATA_FETCH', 'TRANSFORM', 'VALIDATION', 'DATABASE', 'API', 'CACHE'])[1 + (random() * 5)::int]::obs.service_type,
       'svc-' || (random() * 10)::int,
       st, st + d * interval '1 microsecond', d,
       (CASE WHEN random() < 0.03 THEN 'error' ELSE 'ok' END)::obs.span_status,
       CASE WHEN random() < 0.03 THEN 'TimeoutError: timed out after 30s' END,
       jsonb_build_object('rows', (random() * 1000)::int, 'region', 'eu-west-' || (random() * 3)::int)
FROM (SELECT g, timestamptz '2026-01-01 00:00:00+00' + g * interval '5 ms' AS st,
             (exp(random() * 10) * 10)::int8 AS d
        FROM generate_series(1, $ROWS) g) s;

INSERT INTO obs.metric_points (series_id, ts, value)
SELECT 1 + g % 200,
       timestamptz '2026-01-01 00:00:00+00' + (g / 200) * interval '10 s',
       CASE WHEN g % 200 < 100 THEN ((g / 200) * (1 + g % 7))::float8
            ELSE round((50 + 20 * sin(g / 20000.0) + random() * 5)::numeric, 2)::float8 END
FROM generate_series(0, $MROWS - 1) g;
VACUUM ANALYZE;
SQL

# best-of-$REPEAT wall time of one COPY (server side, one backend)
time_copy() {
    local table=$1 target=$2 opts=$3 best=""
    for _ in $(seq "$REPEAT"); do
        rm -f "$target"
        local t0 t1 d
        t0=$(now)
        "${PSQL[@]}" -c "COPY $table TO '$target' WITH ($opts)"
        t1=$(now)
        d=$(secs "$t0" "$t1")
        if [ -z "$best" ] || awk -v d="$d" -v b="$best" 'BEGIN {exit !(d < b)}'; then best=$d; fi
    done
    echo "$best"
}

SEL_t14="CAST(id AS BIGINT) AS id, CAST(ts AS TIMESTAMPTZ) AS ts, CAST(flag AS BOOLEAN) AS flag,
  CAST(small AS SMALLINT) AS small, CAST(qty AS INTEGER) AS qty, CAST(amount AS DECIMAL(12,2)) AS amount,
  CAST(ratio AS FLOAT) AS ratio, CAST(value AS DOUBLE) AS value, category, note, CAST(day AS DATE) AS day,
  CAST(uid AS UUID) AS uid, CAST(attrs AS JSON) AS attrs,
  CASE WHEN nums = '{}' THEN CAST([] AS INTEGER[]) ELSE CAST(string_split(trim(nums, '{}'), ',') AS INTEGER[]) END AS nums"
SEL_logs="CAST(log_id AS BIGINT) AS log_id, CAST(ts AS TIMESTAMPTZ) AS ts, level, logger, message,
  CAST(context AS JSON) AS context, CAST(tags AS JSON) AS tags, unhex(trace_id) AS trace_id,
  unhex(span_id) AS span_id, CAST(error AS JSON) AS error, CAST(backend_pid AS INTEGER) AS backend_pid"
SEL_spans="unhex(trace_id) AS trace_id, unhex(span_id) AS span_id, unhex(parent_span_id) AS parent_span_id,
  operation, service_type, service_name, CAST(start_time AS TIMESTAMPTZ) AS start_time,
  CAST(end_time AS TIMESTAMPTZ) AS end_time, CAST(duration_us AS BIGINT) AS duration_us, status, error,
  CAST(tags AS JSON) AS tags, CAST(span_seq AS BIGINT) AS span_seq"
SEL_metric_points="CAST(series_id AS INTEGER) AS series_id, CAST(ts AS TIMESTAMPTZ) AS ts, CAST(value AS DOUBLE) AS value"

summary=()
for t in t14 obs.logs obs.spans obs.metric_points; do
    key=${t#obs.}
    sel_var="SEL_$key"
    n=$("${PSQL[@]}" -Atc "SELECT count(*) FROM $t")
    echo "timing $t ($n rows) ..."
    t_csv=$(time_copy "$t" "$W/out/$key.csv" "FORMAT csv, HEADER")
    t_pq=$(time_copy "$t" "$W/out/$key.parquet" "FORMAT parquet, COMPRESSION zstd")
    sz_csv=$(stat -c %s "$W/out/$key.csv")
    sz_pq=$(stat -c %s "$W/out/$key.parquet")
    declare -A D=()
    cols=()
    while read -r k v rest; do
        if [ "$k" = col ]; then cols+=("$v $rest"); else D[$k]=$v; fi
    done < <(node bench/parquet-size-duckdb.mjs "$W/out/$key.csv" "${!sel_var}" "$W/out/$key.duck.parquet" "$W/out/$key.parquet")
    echo
    echo "$t: $n rows"
    printf '  %-34s %10s %12s %12s\n' "run" "seconds" "rows/s" "bytes"
    row() { printf '  %-34s %10s %12s %12s\n' "$1" "$2" "$(awk -v n="$n" -v t="$2" 'BEGIN {printf "%d", n / t}')" "$3"; }
    row "COPY TO .csv (HEADER)" "$t_csv" "$sz_csv"
    row "COPY TO .parquet (obs, zstd)" "$t_pq" "$sz_pq"
    row "DuckDB table -> Parquet zstd (2 thr)" "${D[duckdb_write_s]}" "${D[duckdb_bytes]}"
    printf '  %-34s %12s %12s  %s | %s\n' "column" "obs bytes" "DuckDB bytes" "obs encodings" "DuckDB encodings"
    for c in "${cols[@]}"; do
        set -- $c
        printf '  %-34s %12s %12s  %s | %s\n' "$1" "$2" "$3" "$4" "$5"
    done
    echo "  same rows: obs file holds ${D[obs_rows]} rows, ${D[obs_rows_not_in_duckdb]} not in DuckDB's"
    summary+=("$(printf '  %-20s size obs/DuckDB %s (target <= 0.80x)   speed obs/csv %s (target >= 1.20x)   DuckDB time/obs time %s' \
        "$t" "$(ratio "$sz_pq" "${D[duckdb_bytes]}")" "$(ratio "$t_csv" "$t_pq")" "$(ratio "${D[duckdb_write_s]}" "$t_pq")")")
    rm -f "$W/out/$key.csv" "$W/out/$key.parquet" "$W/out/$key.duck.parquet"
done
echo
echo "summary ($(nproc) cores, PostgreSQL $("${PSQL[@]}" -Atc 'SHOW server_version'), one run)"
printf '%s\n' "${summary[@]}"
