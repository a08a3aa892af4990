#!/usr/bin/env bash
# bench/archive.sh: the archive (obs.set_archive, obs.run_maintenance)
# writing one day's partition of obs.logs to a server directory, against
# DuckDB writing the same rows, measured in the same run, interleaved
# (obs, DuckDB, obs, DuckDB, ...) so that load from other processes
# weighs on both.
#   - obs: obs._archive_write(), the archive step of one partition:
#     SELECT * FROM the partition through the Parquet writer (zstd) to a
#     temporary file, fsync, rename, then the whole file read back for its
#     size and SHA-256 (the confirmation); rows/s by wall time;
#   - DuckDB: loads the CSV that COPY wrote of the same partition (not
#     timed), then COPY t TO ... (FORMAT parquet, COMPRESSION zstd) with
#     BENCH_DUCKDB_THREADS threads (default 1, as one backend writes);
#     DuckDB writes no fsync and reads nothing back.
# Prints, per round and as medians: rows/s of each and the ratio obs/DuckDB,
# and the file sizes and their ratio.  Asserts nothing.
# BENCH_ROWS (default 500000) logs in the partition, BENCH_ROUNDS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
ROWS=${BENCH_ROWS:-500000}
ROUNDS=${BENCH_ROUNDS:-3}
THREADS=${BENCH_DUCKDB_THREADS:-1}

obs_install_deps
obs_take_install_lock
obs_build_install
W=$(mktemp -d /tmp/obs-bench-archive.XXXXXX)
chmod 755 "$W"
mkdir -m 777 "$W/out" "$W/lake"
trap 'obs_cluster_stop; rm -rf "$W"' EXIT
obs_cluster_start "session_preload_libraries = 'obs'
shared_buffers = '512MB'
max_wal_size = '8GB'
synchronous_commit = off"
exec 9>&-
if [ ! -d test/parquet/node_modules ]; then
    (cd test/parquet && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d postgres)

echo "building one day's partition of obs.logs ($ROWS rows) ..."
"${PSQL[@]}" <<SQL
CREATE EXTENSION obs;
SELECT count(*) FROM obs.run_maintenance('2026-01-01 12:00+00') \g /dev/null
SELECT setseed(0.42) \g /dev/null
INSERT INTO obs.logs (ts, level, logger, message, context, tags, trace_id, span_id, error, backend_pid)
SELECT timestamptz '2026-01-01 00:00:00+00' + g * (interval '86000 s' / $ROWS),
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
VACUUM ANALYZE obs.logs;
SELECT obs.set_archive('logs', '$W/lake', '1 hour') \g /dev/null
COPY obs.logs_p20260101 TO '$W/out/logs.csv' WITH (FORMAT csv, HEADER);
SQL
n=$("${PSQL[@]}" -Atc "SELECT count(*) FROM obs.logs_p20260101")
SEL="CAST(log_id AS BIGINT) AS log_id, CAST(ts AS TIMESTAMPTZ) AS ts, level, logger, message,
  CAST(context AS JSON) AS context, CAST(tags AS JSON) AS tags, trace_id,
  span_id, CAST(error AS JSON) AS error, CAST(backend_pid AS INTEGER) AS backend_pid,
  CAST(txid AS UBIGINT) AS txid"
FILE="$W/lake/signal=logs/date=2026-01-01/part-0.parquet"

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
obs_s=(); duck_s=()
for r in $(seq "$ROUNDS"); do
    rm -rf "$W/lake/signal=logs"
    t=$("${PSQL[@]}" -At <<SQL
\timing on
SELECT row_count FROM obs._archive_write((SELECT c FROM obs.archive_config c WHERE c.signal = 'logs'),
                                         'obs.logs_p20260101', 'signal=logs/date=2026-01-01/part-0.parquet');
SQL
)
    os=$(echo "$t" | awk '/^Time:/ {print $2 / 1000}')
    rows_written=$(echo "$t" | head -n 1)
    out=$(node bench/archive-duckdb.mjs "$W/out/logs.csv" "$SEL" "$W/out/duck.parquet" "$THREADS" "$FILE")
    ds=$(echo "$out" | awk '$1 == "duckdb_write_s" {print $2}')
    obs_s+=("$os"); duck_s+=("$ds")
    printf 'round %d: obs %s rows in %.3f s (%.0f rows/s), DuckDB %.3f s (%.0f rows/s): obs/DuckDB speed %.2fx\n' \
        "$r" "$rows_written" "$os" "$(awk -v n="$n" -v s="$os" 'BEGIN {print n / s}')" \
        "$ds" "$(awk -v n="$n" -v s="$ds" 'BEGIN {print n / s}')" "$(awk -v a="$os" -v b="$ds" 'BEGIN {print b / a}')"
done
obs_b=$(stat -c %s "$FILE")
duck_b=$(echo "$out" | awk '$1 == "duckdb_bytes" {print $2}')
echo "$out" | grep -E '^(duckdb_rows|obs_file_rows) '
om=$(printf '%s\n' "${obs_s[@]}" | median)
dm=$(printf '%s\n' "${duck_s[@]}" | median)
echo "rows in the partition: $n"
printf 'median archive speed: obs %.0f rows/s, DuckDB (%s thread(s)) %.0f rows/s: obs/DuckDB %.2fx\n' \
    "$(awk -v n="$n" -v s="$om" 'BEGIN {print n / s}')" "$THREADS" \
    "$(awk -v n="$n" -v s="$dm" 'BEGIN {print n / s}')" "$(awk -v a="$om" -v b="$dm" 'BEGIN {print b / a}')"
printf 'file size: obs %d bytes, DuckDB %d bytes: obs/DuckDB %.2fx\n' "$obs_b" "$duck_b" \
    "$(awk -v a="$obs_b" -v b="$duck_b" 'BEGIN {print a / b}')"
