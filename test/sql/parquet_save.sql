-- obs.save_*_to_parquet(): one file per table, named by UTC timestamp
\ir test/setup.sql
CREATE FUNCTION pg_temp.is_parquet(p text) RETURNS boolean LANGUAGE sql AS $$
    SELECT coalesce(s.size >= 12 AND pg_read_binary_file(p, 0, 4) = '\x50415231'::bytea
        AND pg_read_binary_file(p, s.size - 4, 4) = '\x50415231'::bytea, false)
    FROM pg_stat_file(p, true) s $$;

COPY (SELECT 1 WHERE false) TO PROGRAM 'rm -rf /tmp/obs_parquet_regress_save && mkdir -p /tmp/obs_parquet_regress_save';

-- rows written directly, one of each
INSERT INTO obs.metric_series (series_id, name, kind, tags) VALUES (1, 'latency_ms', 'gauge', '{"endpoint": "/a"}');
INSERT INTO obs.metric_points VALUES (1, '2024-05-01 10:00:00+00', 12.5), (1, '2024-05-01 10:01:00+00', 250);
INSERT INTO obs.alerts (metric_name, series_id, tags, observed_at, value, threshold, comparison, severity)
    VALUES ('latency_ms', 1, '{"endpoint": "/a"}', '2024-05-01 10:01:00+00', 250, 100, 'gt', 'high');
INSERT INTO obs.flow_runs (flow_run_id, flow_name, status, start_time, end_time, num_tasks, updated_at)
    VALUES ('run-1', 'scrape', 'Completed', '2024-05-01 10:00:00+00', '2024-05-01 10:05:00+00', 2, now());
INSERT INTO obs.task_runs (task_run_id, task_name, flow_run_id, status, start_time, end_time, updated_at)
    VALUES ('run-1:fetch', 'fetch', 'run-1', 'Completed', '2024-05-01 10:00:00+00', '2024-05-01 10:01:00+00', now()),
           ('run-1:parse', 'parse', 'run-1', 'Failed', '2024-05-01 10:01:00+00', NULL, now());
INSERT INTO obs.logs (ts, level, logger, message, context, trace_id, backend_pid)
    VALUES ('2024-05-01 10:00:00+00', 'INFO', 'etl', 'started', '{"n": 1}', '4bf92f3577b34da6a3ce929d0e0e4736', 1);
INSERT INTO obs.spans (trace_id, span_id, operation, service_type, service_name, start_time, end_time, duration_us, status)
    VALUES ('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 'fetch', 'DATA_FETCH', 'etl',
            '2024-05-01 10:00:00+00', '2024-05-01 10:00:01+00', 1000000, 'ok');

-- each call returns the paths it wrote
CREATE TEMP TABLE written AS
    SELECT 'metrics' AS fn, p FROM obs.save_metrics_to_parquet('/tmp/obs_parquet_regress_save') p
    UNION ALL SELECT 'runs', p FROM obs.save_to_parquet('/tmp/obs_parquet_regress_save/') p
    UNION ALL SELECT 'logs', p FROM obs.save_logs_to_parquet('/tmp/obs_parquet_regress_save') p
    UNION ALL SELECT 'spans', p FROM obs.save_spans_to_parquet('/tmp/obs_parquet_regress_save') p;
SELECT fn, regexp_replace(p, '\d{8}T\d{6}\.\d{6}Z', '<ts>') AS path, pg_temp.is_parquet(p) AS ok
  FROM written ORDER BY fn, path;
-- the files of one call share their timestamp
SELECT fn, count(DISTINCT substring(p FROM '\d{8}T\d{6}\.\d{6}Z')) AS stamps FROM written GROUP BY fn ORDER BY fn;
-- two calls in a row never collide, and a missing directory is created
SELECT count(*) AS files, count(DISTINCT p) AS distinct_paths
  FROM (SELECT obs.save_logs_to_parquet('/tmp/obs_parquet_regress_save/again') AS p
        FROM generate_series(1, 3)) s;

-- errors
SELECT pg_temp.err($$SELECT obs.save_to_parquet('db/prefect_dashboards')$$);
COPY (SELECT 1) TO '/tmp/obs_parquet_regress_save/a_file';
SELECT pg_temp.err($$SELECT obs.save_to_parquet('/tmp/obs_parquet_regress_save/a_file')$$);
SELECT count(*) AS null_dir_rows FROM obs.save_to_parquet(NULL);
CREATE ROLE regress_obs_parquet_save;
GRANT USAGE ON SCHEMA obs TO regress_obs_parquet_save;
SET ROLE regress_obs_parquet_save;
SELECT pg_temp.err($$SELECT obs.save_logs_to_parquet('/tmp/obs_parquet_regress_save')$$);
RESET ROLE;
GRANT pg_write_server_files TO regress_obs_parquet_save;
SET ROLE regress_obs_parquet_save;
SELECT pg_temp.err($$SELECT obs.save_logs_to_parquet('/tmp/obs_parquet_regress_save')$$);
RESET ROLE;
-- a call that fails half-way removes the files it had already written:
-- this role may read obs.metrics but not obs.alerts
GRANT SELECT ON obs.metrics, obs.metric_points, obs.metric_series TO regress_obs_parquet_save;
SET ROLE regress_obs_parquet_save;
SELECT pg_temp.err($$SELECT obs.save_metrics_to_parquet('/tmp/obs_parquet_regress_save/partial')$$);
RESET ROLE;
SELECT count(*) AS files_left FROM pg_ls_dir('/tmp/obs_parquet_regress_save/partial', true, false);
-- a directory it creates is as readable as the files in it
SELECT (pg_stat_file('/tmp/obs_parquet_regress_save/again')).isdir AS is_dir;
COPY (SELECT 1 WHERE false) TO PROGRAM 'test "$(stat -c %a /tmp/obs_parquet_regress_save/again)" = 755';
REVOKE SELECT ON obs.metrics, obs.metric_points, obs.metric_series FROM regress_obs_parquet_save;
REVOKE USAGE ON SCHEMA obs FROM regress_obs_parquet_save;
DROP ROLE regress_obs_parquet_save;
