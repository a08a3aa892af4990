-- Parquet export memory: the open row group holds at most ROW_GROUP_SIZE_BYTES
-- (plus one row, and one page while it is written out).  Measured as this
-- backend's peak resident memory (VmHWM) above a CSV export of the same query,
-- which needs the query's own memory: the writer may add the row group's
-- 16 MiB, plus its per-column state (about 0.5 kB a column), the footer
-- metadata and the codec's state; 8 MiB covers those here.
\ir test/setup.sql
CREATE FUNCTION pg_temp.peak_kb() RETURNS bigint LANGUAGE sql AS $$
    SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s*(\d+) kB'))[1]::bigint $$;
-- 1,664 columns (the most a query can return), int and text, new values in
-- every row: each column's levels, dictionary, hash table and indices grow
SELECT string_agg(CASE WHEN i % 2 = 0 THEN format('g + %s AS c%s', i, i)
                       ELSE format('''v'' || (g + %s) AS c%s', i, i) END, ', ' ORDER BY i) AS cols
  FROM generate_series(0, 1663) i \gset
COPY (SELECT :cols FROM generate_series(1, 4096) g) TO STDOUT (FORMAT csv) \g /dev/null
SELECT pg_temp.peak_kb() AS csv_peak_kb \gset
COPY (SELECT :cols FROM generate_series(1, 4096) g) TO STDOUT (FORMAT parquet, ROW_GROUP_SIZE_BYTES 16777216) \g /dev/null
SELECT CASE WHEN pg_temp.peak_kb() - :csv_peak_kb < 16384 + 8192 THEN 'within 16 MiB + 8 MiB'
            ELSE format('%s kB over the CSV export', pg_temp.peak_kb() - :csv_peak_kb) END AS parquet_peak;
-- the same through a server file, and arrays (repetition levels) too, in a
-- new session, since the peak is the process's
\c -
LOAD 'obs';
CREATE FUNCTION pg_temp.peak_kb() RETURNS bigint LANGUAGE sql AS $$
    SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s*(\d+) kB'))[1]::bigint $$;
SELECT string_agg(format('ARRAY[g + %s, NULL, g] AS a%s', i, i), ', ' ORDER BY i) AS acols
  FROM generate_series(0, 1663) i \gset
COPY (SELECT :acols FROM generate_series(1, 2048) g) TO '/tmp/obs_parquet_memory.csv' (FORMAT csv);
SELECT pg_temp.peak_kb() AS csv_peak_kb \gset
COPY (SELECT :acols FROM generate_series(1, 2048) g) TO '/tmp/obs_parquet_memory.parquet' (ROW_GROUP_SIZE_BYTES 16777216);
SELECT CASE WHEN pg_temp.peak_kb() - :csv_peak_kb < 16384 + 8192 THEN 'within 16 MiB + 8 MiB'
            ELSE format('%s kB over the CSV export', pg_temp.peak_kb() - :csv_peak_kb) END AS parquet_list_peak;
-- jsonb columns keep the text of recent values: all their caches share a
-- budget of 4 MiB (1,664 columns of distinct values), in a new session
\c -
LOAD 'obs';
CREATE FUNCTION pg_temp.peak_kb() RETURNS bigint LANGUAGE sql AS $$
    SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s*(\d+) kB'))[1]::bigint $$;
SELECT string_agg(format('jsonb_build_object(''k'', g + %s) AS j%s', i, i), ', ' ORDER BY i) AS jcols
  FROM generate_series(0, 1663) i \gset
COPY (SELECT :jcols FROM generate_series(1, 1024) g) TO STDOUT (FORMAT csv) \g /dev/null
SELECT pg_temp.peak_kb() AS csv_peak_kb \gset
COPY (SELECT :jcols FROM generate_series(1, 1024) g) TO STDOUT (FORMAT parquet, ROW_GROUP_SIZE_BYTES 16777216) \g /dev/null
SELECT CASE WHEN pg_temp.peak_kb() - :csv_peak_kb < 16384 + 8192 THEN 'within 16 MiB + 8 MiB'
            ELSE format('%s kB over the CSV export', pg_temp.peak_kb() - :csv_peak_kb) END AS parquet_jsonb_peak;
COPY (SELECT 1 WHERE false) TO PROGRAM 'rm -f /tmp/obs_parquet_memory.csv /tmp/obs_parquet_memory.parquet';
