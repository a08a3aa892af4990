#!/usr/bin/env bash
# bench/parquet_size.sh: obs's Parquet file size and write speed against
# DuckDB and against COPY ... (FORMAT csv), all measured in the same run,
# on five tables:
#   - t14: 300k rows of 14 types (bigint id, timestamptz, boolean, smallint,
#     integer, numeric(12,2), real, double, two texts, date, uuid, jsonb,
#     integer[]), shaped like application data: ascending ids, times and
#     dates, a smallint counter that wraps (distinct enough that a
#     dictionary falls back), small quantities and prices, sensor-like
#     doubles, related-row ids in the array, random UUIDs;
#   - t14_noise: the same 14 types filled with uniform random values,
#     where no encoding gets much below the entropy of the data (the worst
#     case, shown for honesty);
#   - obs.logs, obs.spans and obs.metric_points filled with obs-like data
#     (ids and timestamps ascending, trace and span ids random).
# For each table it prints:
#   - obs's zstd file size / DuckDB's zstd file size of the same rows
#     (target <= 0.80x); DuckDB loads the CSV that COPY wrote, each column
#     cast back to its type, and writes it with COPY ... (FORMAT parquet,
#     COMPRESSION zstd), 2 threads.  obs's trace and span ids reach DuckDB
#     as their hex text (as from the CSV or DuckDB's postgres scanner,
#     which know no obs types): that is the main baseline; a second one
#     gives DuckDB the ids as BLOBs (unhex), the same bytes obs writes;
#   - obs's COPY ... parquet rows/s / COPY ... csv rows/s (target >= 1.2x),
#     by wall time and by the backend's CPU time (user + system, from
#     /proc): on a loaded machine the CPU figure is the steadier one;
#   - DuckDB's write time / obs's write time;
#   - per column: compressed bytes and encodings of both files.
# Asserts nothing.  BENCH_ROWS (default 300000) rows per table,
# BENCH_METRIC_ROWS (default 1000000) for obs.metric_points, BENCH_REPEAT
# (default 3, best of).  BENCH_LEVELS="6 9" also times obs at those zstd
# levels (COMPRESSION_LEVEL), each against CSV again, interleaved.  About
# 3 minutes on 2 cores, 2 more per level.
LEVELS=${BENCH_LEVELS:-}
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
ROWS=${BENCH_ROWS:-300000}
MROWS=${BENCH_METRIC_ROWS:-1000000}
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
       (g % 32000)::int2 AS small,
       (1 + random() * random() * 100)::int4 AS qty,
       round((random() * 500)::numeric, 2)::numeric(12,2) AS amount,
       (round(random() * 100) / 100)::float4 AS ratio,
       20 + 5 * sin(g / 1000.0) + random() / 2 AS value,
       (ARRAY['alpha', 'beta', 'gamma', 'delta', 'epsilon'])[1 + (random() * 4)::int] AS category,
       'item ' || (random() * 50000)::int || ' of order ' || (g / 3) AS note,
       date '2020-01-01' + g / 200 AS day,
       gen_random_uuid() AS uid,
       jsonb_build_object('k', (random() * 100)::int, 'ok', random() < 0.9) AS attrs,
       ARRAY(SELECT (g - random() * 1000)::int4
               FROM generate_series(1, (random() * 8)::int + (g - g))) AS nums
FROM generate_series(1, $ROWS) g;

CREATE TABLE t14_noise AS
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
FROM (SELECT g, timestamptz '2026-01-01 00:00:00+00' + g * interval '5 ms'
                    + (random() * 2000)::int * interval '1 us' AS st,
             (exp(random() * 10) * 10)::int8 AS d
        FROM generate_series(1, $ROWS) g) s;

INSERT INTO obs.metric_points (series_id, ts, value)
SELECT 1 + g % 200,
       timestamptz '2026-01-01 00:00:00+00' + (g / 200) * interval '10 s'
           + ((g % 200) * 100 + (random() * 99)::int) * interval '1 us',
       CASE WHEN g % 200 < 100 THEN ((g / 200) * (1 + g % 7))::float8
            ELSE round((50 + 20 * sin(g / 20000.0) + random() * 5)::numeric, 2)::float8 END
FROM generate_series(0, $MROWS - 1) g;
VACUUM ANALYZE;
SQL

# one COPY in its own session: "wall_s cpu_s", the backend's CPU time
# (utime + stime of /proc/<pid>/stat) around the COPY alone
copy_once() {
    local table=$1 target=$2 opts=$3
    rm -f "$target"
    "${PSQL[@]}" -At <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv BPID :pid
\! awk '{print \$14 + \$15}' /proc/\$BPID/stat > $W/cpu0
\setenv T0 \`date +%s.%N\`
COPY $table TO '$target' WITH ($opts);
\! awk -v t0=\$T0 -v c0=\$(cat $W/cpu0) -v hz=\$(getconf CLK_TCK) -v t1=\$(date +%s.%N) '{printf "%.3f %.3f\\n", t1 - t0, (\$14 + \$15 - c0) / hz}' /proc/\$BPID/stat
SQL
}
# best of $REPEAT for csv and parquet, runs interleaved: "csv_wall csv_cpu pq_wall pq_cpu";
# $3: the parquet COPY's options
time_pair() {
    local table=$1 key=$2 pqopts=$3 cw="" cc="" pw="" pc="" w c
    for _ in $(seq "$REPEAT"); do
        read -r w c < <(copy_once "$table" "$W/out/$key.csv" "FORMAT csv, HEADER")
        cw=$(awk -v a="$w" -v b="${cw:-1e9}" 'BEGIN {print (a < b) ? a : b}')
        cc=$(awk -v a="$c" -v b="${cc:-1e9}" 'BEGIN {print (a < b) ? a : b}')
        read -r w c < <(copy_once "$table" "$W/out/$key.parquet" "$pqopts")
        pw=$(awk -v a="$w" -v b="${pw:-1e9}" 'BEGIN {print (a < b) ? a : b}')
        pc=$(awk -v a="$c" -v b="${pc:-1e9}" 'BEGIN {print (a < b) ? a : b}')
    done
    echo "$cw $cc $pw $pc"
}

SEL_t14_noise="CAST(id AS BIGINT) AS id, CAST(ts AS TIMESTAMPTZ) AS ts, CAST(flag AS BOOLEAN) AS flag,
  CAST(small AS SMALLINT) AS small, CAST(qty AS INTEGER) AS qty, CAST(amount AS DECIMAL(12,2)) AS amount,
  CAST(ratio AS FLOAT) AS ratio, CAST(value AS DOUBLE) AS value, category, note, CAST(day AS DATE) AS day,
  CAST(uid AS UUID) AS uid, CAST(attrs AS JSON) AS attrs,
  CASE WHEN nums = '{}' THEN CAST([] AS INTEGER[]) ELSE CAST(string_split(trim(nums, '{}'), ',') AS INTEGER[]) END AS nums"
SEL_t14=$SEL_t14_noise
SEL_logs="CAST(log_id AS BIGINT) AS log_id, CAST(ts AS TIMESTAMPTZ) AS ts, level, logger, message,
  CAST(context AS JSON) AS context, CAST(tags AS JSON) AS tags, trace_id,
  span_id, CAST(error AS JSON) AS error, CAST(backend_pid AS INTEGER) AS backend_pid,
  CAST(txid AS BIGINT) AS txid"
SEL_spans="trace_id, span_id, parent_span_id,
  operation, service_type, service_name, CAST(start_time AS TIMESTAMPTZ) AS start_time,
  CAST(end_time AS TIMESTAMPTZ) AS end_time, CAST(duration_us AS BIGINT) AS duration_us, status, error,
  CAST(tags AS JSON) AS tags, CAST(span_seq AS BIGINT) AS span_seq, CAST(txid AS BIGINT) AS txid"
SEL_metric_points="CAST(series_id AS INTEGER) AS series_id, CAST(ts AS TIMESTAMPTZ) AS ts, CAST(value AS DOUBLE) AS value,
  CAST(txid AS BIGINT) AS txid"

# DuckDB with obs's ids as BLOBs: the same bytes obs writes
blob_ids() { sed -E 's/(^|[ ,])(trace_id|span_id|parent_span_id),/\1unhex(\2) AS \2,/g' <<<"$1"; }
summary=()
for t in t14 t14_noise obs.logs obs.spans obs.metric_points; do
    key=${t#obs.}
    sel_var="SEL_$key"
    n=$("${PSQL[@]}" -Atc "SELECT count(*) FROM $t")
    echo "timing $t ($n rows) ..."
    # a partitioned table (obs's own) is copied through a query, both ways
    src=$t
    [ "$("${PSQL[@]}" -Atc "SELECT relkind FROM pg_class WHERE oid = '$t'::regclass")" = p ] &&
        src="(SELECT * FROM $t)"
    read -r t_csv c_csv t_pq c_pq < <(time_pair "$src" "$key" "FORMAT parquet, COMPRESSION zstd")
    sz_csv=$(stat -c %s "$W/out/$key.csv")
    sz_pq=$(stat -c %s "$W/out/$key.parquet")
    declare -A D=()
    cols=()
    while read -r k v rest; do
        if [ "$k" = col ]; then cols+=("$v $rest"); else D[$k]=$v; fi
    done < <(node bench/parquet-size-duckdb.mjs "$W/out/$key.csv" "$(blob_ids "${!sel_var}")" "$W/out/$key.duck.parquet" "$W/out/$key.parquet")
    duck_blob=${D[duckdb_bytes]}
    duck_blob_s=${D[duckdb_write_s]}
    if [ "$(blob_ids "${!sel_var}")" != "${!sel_var}" ]; then
        while read -r k v rest; do
            # the same-rows check stands from the first run: hex text and bytes differ
            [ "$k" = col ] || [[ $k == obs_rows* ]] || D[$k]=$v
        done < <(node bench/parquet-size-duckdb.mjs "$W/out/$key.csv" "${!sel_var}" "$W/out/$key.duck.parquet" "$W/out/$key.parquet")
    fi
    echo
    echo "$t: $n rows"
    printf '  %-38s %10s %10s %12s %12s\n' "run" "seconds" "CPU s" "rows/s" "bytes"
    row() { printf '  %-38s %10s %10s %12s %12s\n' "$1" "$2" "$3" "$(awk -v n="$n" -v t="$2" 'BEGIN {printf "%d", n / t}')" "$4"; }
    row "COPY TO .csv (HEADER)" "$t_csv" "$c_csv" "$sz_csv"
    row "COPY TO .parquet (obs, zstd)" "$t_pq" "$c_pq" "$sz_pq"
    row "DuckDB table -> Parquet zstd (2 thr)" "${D[duckdb_write_s]}" "-" "${D[duckdb_bytes]}"
    [ "$duck_blob" = "${D[duckdb_bytes]}" ] ||
        row "  the same, ids as BLOBs" "$duck_blob_s" "-" "$duck_blob"
    printf '  %-34s %12s %12s  %s | %s\n' "column" "obs bytes" "DuckDB bytes" "obs encodings" "DuckDB encodings"
    for c in "${cols[@]}"; do
        set -- $c
        printf '  %-34s %12s %12s  %s | %s\n' "$1" "$2" "$3" "$4" "$5"
    done
    echo "  same rows: obs file holds ${D[obs_rows]} rows, ${D[obs_rows_not_in_duckdb]} not in DuckDB's"
    blob=""
    [ "$duck_blob" = "${D[duckdb_bytes]}" ] || blob=" ($(ratio "$sz_pq" "$duck_blob") vs ids as BLOBs)"
    summary+=("$(printf '  %-18s %-8s %-14s %-14s %-15s%s' "$t" "$(ratio "$sz_pq" "${D[duckdb_bytes]}")" \
        "$(ratio "$t_csv" "$t_pq")" "$(ratio "$c_csv" "$c_pq")" "$(ratio "${D[duckdb_write_s]}" "$t_pq")" "$blob")")
    for lv in $LEVELS; do
        read -r lt_csv lc_csv lt_pq lc_pq < <(time_pair "$src" "$key" "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL $lv")
        lsz=$(stat -c %s "$W/out/$key.parquet")
        row "  COPY TO .csv again" "$lt_csv" "$lc_csv" "$(stat -c %s "$W/out/$key.csv")"
        row "  COPY TO .parquet, zstd level $lv" "$lt_pq" "$lc_pq" "$lsz"
        summary+=("$(printf '  %-18s %-8s %-14s %-14s' "  level $lv" "$(ratio "$lsz" "${D[duckdb_bytes]}")" \
            "$(ratio "$lt_csv" "$lt_pq")" "$(ratio "$lc_csv" "$lc_pq")")")
    done
    rm -f "$W/out/$key.csv" "$W/out/$key.parquet" "$W/out/$key.duck.parquet"
done
echo
echo "summary ($(nproc) cores, PostgreSQL $("${PSQL[@]}" -Atc 'SHOW server_version'), one run; load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "  size: obs's zstd file / DuckDB's (target <= 0.80x); speed: COPY csv time / COPY parquet time"
echo "  (target >= 1.20x), by wall clock and by the backend's CPU time; DuckDB's write time / obs's"
printf '  %-18s %-8s %-14s %-14s %-15s\n' "table" "size" "speed (wall)" "speed (CPU)" "DuckDB/obs time"
printf '%s\n' "${summary[@]}"
