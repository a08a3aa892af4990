-- performance metrics: obs.record_metric() and metric series
\ir test/setup.sql

-- the seed's metrics need no special casing
SELECT obs.record_metric('api_latency_ms', 123.5, '{"endpoint": "/data", "method": "GET", "status": 200}');
SELECT obs.record_metric('request_latency_ms', 450, ts => '2026-01-01 12:00:00+00');
SELECT obs.record_metric('records_per_second', 800);
SELECT obs.record_metric('error_rate', 0.05);
SELECT obs.record_metric('records_processed', 1000, kind => 'counter');
SELECT obs.record_metric('records_processed', 250, kind => 'COUNTER');
SELECT name, kind, tags, value FROM obs.metrics ORDER BY name, value;
SELECT ts FROM obs.metrics WHERE name = 'request_latency_ms';

-- one series per name and tag set, whatever the key order
SELECT obs.record_metric('db_query_ms', 10, '{"db": "main", "table": "users"}');
SELECT obs.record_metric('db_query_ms', 20, '{"table": "users", "db": "main"}');
SELECT obs.record_metric('db_query_ms', 30, '{"table": "orders", "db": "main"}');
SELECT tags, count(*) AS points, sum(value) AS total
  FROM obs.metrics WHERE name = 'db_query_ms' GROUP BY tags ORDER BY tags;
SELECT count(*) AS series FROM obs.metric_series WHERE name = 'db_query_ms';
-- tag filters use jsonb containment
SELECT sum(value) FROM obs.metrics WHERE name = 'db_query_ms' AND tags @> '{"table": "users"}';

-- a series created in a rolled-back transaction is created again, not dangling
BEGIN;
SELECT obs.record_metric('rolled_back_metric', 1);
ROLLBACK;
SELECT obs.record_metric('rolled_back_metric', 2);
SELECT count(*) AS points, sum(value) AS total FROM obs.metrics WHERE name = 'rolled_back_metric';
SELECT count(*) AS orphans FROM obs.metric_points p
  WHERE NOT EXISTS (SELECT 1 FROM obs.metric_series s WHERE s.series_id = p.series_id);
-- the same inside a savepoint
BEGIN;
SAVEPOINT sp;
SELECT obs.record_metric('savepoint_metric', 1);
ROLLBACK TO sp;
SELECT obs.record_metric('savepoint_metric', 5);
COMMIT;
SELECT count(*) AS points, sum(value) AS total FROM obs.metrics WHERE name = 'savepoint_metric';

-- bad input
SELECT count(*) AS before FROM obs.metric_points \gset
SELECT pg_temp.err($$SELECT obs.record_metric('x', 'NaN')$$);
SELECT pg_temp.err($$SELECT obs.record_metric('x', 'Infinity')$$);
SELECT pg_temp.err($$SELECT obs.record_metric('x', '-Infinity')$$);
SELECT pg_temp.err($$SELECT obs.record_metric('x', NULL)$$);
SELECT pg_temp.err($$SELECT obs.record_metric(NULL, 1)$$);
SELECT pg_temp.err($$SELECT obs.record_metric('', 1)$$);
SELECT pg_temp.err($$SELECT obs.record_metric('x', 1, kind => 'histogram')$$);
SELECT pg_temp.err($$SELECT obs.record_metric('x', 1, kind => NULL)$$);
SELECT pg_temp.err($$SELECT obs.record_metric('records_processed', -5, kind => 'counter')$$);
SELECT pg_temp.err($$SELECT obs.record_metric('records_processed', 5, kind => 'gauge')$$);
SELECT pg_temp.err($$SELECT obs.record_metric('x', 1, tags => '["a"]')$$);
SELECT pg_temp.err($$SELECT obs.record_metric('x', 1, ts => 'infinity')$$);
-- past the latest timestamp Parquet export can write (year 294247)
SELECT pg_temp.err($$SELECT obs.record_metric('x', 1, ts => '294247-01-10 04:00:54.775807+00')$$);
SELECT pg_temp.err($$SELECT obs.record_metric('x', 1, ts => '294276-12-31 23:59:59+00')$$);
SELECT count(*) = :before AS nothing_stored FROM obs.metric_points;
SELECT count(*) AS no_series_for_bad_input FROM obs.metric_series WHERE name = 'x';

-- TRUNCATE of the series drops the session's cache: no orphan points
SELECT obs.record_metric('cached', 1);
TRUNCATE obs.metric_series, obs.metric_points;
SELECT obs.record_metric('cached', 2);
SELECT name, value FROM obs.metrics;

-- a series created by another session is found inside REPEATABLE READ
CREATE EXTENSION dblink;
SELECT format('host=%s port=%s dbname=%s', current_setting('unix_socket_directories'),
              current_setting('port'), current_database()) AS conn \gset
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) AS before FROM obs.metric_series;
SELECT * FROM dblink(:'conn', $$SELECT obs.record_metric('rr_metric', 1)$$) AS t(x text);
SELECT obs.record_metric('rr_metric', 2);
COMMIT;
SELECT count(*) AS series, sum(value) AS total FROM obs.metrics WHERE name = 'rr_metric';

-- TRUNCATE ... RESTART IDENTITY while another session, with its series
-- cached, waits to store a sample: the sample keeps its own metric name and
-- does not land under the series that takes the old id
CREATE FUNCTION pg_temp.waits_for_lock(p int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..600 LOOP
        IF EXISTS (SELECT 1 FROM pg_locks WHERE pid = p AND NOT granted) THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN false;
END $$;
TRUNCATE obs.metric_series, obs.metric_points RESTART IDENTITY;
SELECT dblink_connect('race', :'conn');
SELECT * FROM dblink('race', $$SELECT obs.record_metric('race_a', 1)$$) AS t(x text);
SELECT * FROM dblink('race', $$SELECT pg_backend_pid()$$) AS t(pid int) \gset race_
BEGIN;
TRUNCATE obs.metric_series, obs.metric_points RESTART IDENTITY;
SELECT dblink_send_query('race', $$SELECT obs.record_metric('race_a', 2)$$);
SELECT pg_temp.waits_for_lock(:race_pid) AS other_session_waits;
SELECT obs.record_metric('race_b', 3);
COMMIT;
SELECT * FROM dblink_get_result('race') AS t(x text);
SELECT dblink_disconnect('race');
SELECT name, value, series_id FROM obs.metrics ORDER BY value;
SELECT count(*) AS points, count(*) FILTER (WHERE s.series_id IS NULL) AS orphans
  FROM obs.metric_points p LEFT JOIN obs.metric_series s USING (series_id);
DROP EXTENSION dblink;

-- the latest timestamp obs stores is one that Parquet export can write
SELECT obs.record_metric('ts_limit', 1, ts => '294247-01-10 04:00:54.775806+00');
SELECT '/tmp/obs_ts_limit_metric_' || pg_backend_pid() || '.parquet' AS pq_file \gset
SELECT pg_temp.err(format($$COPY (SELECT * FROM obs.metrics WHERE name = 'ts_limit') TO %L (FORMAT parquet)$$,
                          :'pq_file')) AS export;
-- one microsecond later is what Parquet export cannot write
SELECT pg_temp.err(format($$COPY (SELECT '294247-01-10 04:00:54.775807+00'::timestamptz AS ts) TO %L (FORMAT parquet)$$,
                          :'pq_file')) AS export_past_limit;
SELECT pg_temp.err(format('COPY (SELECT 1 WHERE false) TO PROGRAM %L', 'rm -f ' || :'pq_file')) AS cleanup;
