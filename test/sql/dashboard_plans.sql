-- dashboard and health queries use the time indexes at 120k rows (issue 7,
-- item 18), and the per-name health views do not read a whole table through
-- an index to feed their aggregate (item 26).  Plans are asserted on EXPLAIN
-- (FORMAT JSON): the functions are inlinable SQL, so EXPLAIN of a call shows
-- the plan of their query; jaeger_json() is not, so its own query text
-- (pg_proc.prosrc) is prepared and planned generically, as a SQL function's
-- query is.
\ir test/setup.sql
SET timezone = 'UTC';
SET max_parallel_workers_per_gather = 0;

-- 120k rows per table, one a second from 2024-01-01 00:00 UTC (33 hours)
INSERT INTO obs.logs (ts, level, logger, message, backend_pid)
SELECT '2024-01-01'::timestamptz + i * interval '1 second',
       (ARRAY['INFO', 'WARNING', 'ERROR'])[1 + i % 3]::obs.log_level, 'bench', 'message ' || i, 1
  FROM generate_series(1, 120000) i;
INSERT INTO obs.spans (trace_id, span_id, parent_span_id, operation, service_type, service_name,
                       start_time, end_time, duration_us, status)
SELECT md5((i / 4)::text)::obs.trace_id, substr(md5(i::text), 1, 16)::obs.span_id, NULL, 'op',
       'PIPELINE', 'svc-' || i % 5,
       '2024-01-01'::timestamptz + i * interval '1 second',
       '2024-01-01'::timestamptz + i * interval '1 second' + interval '1 ms', 1000,
       (CASE WHEN i % 10 = 0 THEN 'error' ELSE 'ok' END)::obs.span_status
  FROM generate_series(1, 120000) i;
INSERT INTO obs.metric_series (name, kind, tags)
SELECT 'lat', 'gauge', jsonb_build_object('endpoint', '/e' || e) FROM generate_series(1, 4) e;
INSERT INTO obs.metric_points (series_id, ts, value)
SELECT s.series_id, '2024-01-01'::timestamptz + i * interval '1 second', i % 3000
  FROM generate_series(1, 30000) i, obs.metric_series s;
INSERT INTO obs.flow_runs (flow_run_id, flow_name, status, start_time, end_time, updated_at)
SELECT 'fr-' || i, 'flow_' || i % 7, (CASE WHEN i % 9 = 0 THEN 'Failed' ELSE 'Completed' END)::obs.run_state,
       '2024-01-01'::timestamptz + i * interval '1 second',
       '2024-01-01'::timestamptz + i * interval '1 second' + (i % 50) * interval '1 second', now()
  FROM generate_series(1, 120000) i;
INSERT INTO obs.task_runs (task_run_id, task_name, flow_run_id, status, start_time, end_time,
                           inputs_processed, outputs_produced, updated_at)
SELECT 'tr-' || i, 'task_' || (hashint4(i) & 15), 'fr-' || i / 3,
       (CASE WHEN i % 9 = 0 THEN 'Failed' ELSE 'Completed' END)::obs.run_state,
       '2024-01-01'::timestamptz + i * interval '1 second',
       '2024-01-01'::timestamptz + i * interval '1 second' + (i % 50) * interval '1 second',
       i % 100, i % 90, now()
  FROM generate_series(1, 120000) i;
ANALYZE obs.logs, obs.spans, obs.metric_series, obs.metric_points, obs.flow_runs, obs.task_runs;

-- every scan node of a plan: node type, relation, index, whether it has an index condition
CREATE FUNCTION pg_temp.scans(plan jsonb)
RETURNS TABLE(node text, rel text, idx text, has_cond boolean) LANGUAGE sql AS $$
    SELECT n->>'Node Type', n->>'Relation Name', n->>'Index Name', n ? 'Index Cond'
      FROM jsonb_path_query(plan, 'strict $.**') n
     WHERE jsonb_typeof(n) = 'object' AND n ? 'Node Type'
$$;
-- 'index' when the plan reads table tbl through index idx with a condition
-- and never sequentially; otherwise the plan's scans, to show what it did
CREATE FUNCTION pg_temp.uses_index(plan jsonb, tbl text, idx text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_temp.scans(plan) s
                              WHERE s.idx = idx AND s.node IN ('Index Scan', 'Index Only Scan', 'Bitmap Index Scan')
                                AND s.has_cond)
                 AND NOT EXISTS (SELECT 1 FROM pg_temp.scans(plan) s WHERE s.rel = tbl AND s.node = 'Seq Scan')
                THEN 'index'
                ELSE (SELECT string_agg(s.node || coalesce(' on ' || s.rel, '') || coalesce(' using ' || s.idx, '')
                                        || CASE WHEN s.has_cond THEN ' (cond)' ELSE '' END, ', ')
                        FROM pg_temp.scans(plan) s WHERE s.node LIKE '%Scan') END
$$;
CREATE FUNCTION pg_temp.plan(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE p json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO p;
    RETURN p::jsonb;
END $$;
-- the generic plan of a SQL function's own query text, its arguments as
-- parameters $1, $2, ... (what a SQL function that is not inlined runs)
CREATE FUNCTION pg_temp.function_plan(f regprocedure, args text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    body text;
    names text[];
    types text;
    p json;
BEGIN
    SELECT pr.prosrc, pr.proargnames,
           (SELECT string_agg(format_type(t, NULL), ', ' ORDER BY o)
              FROM unnest(pr.proargtypes::oid[]) WITH ORDINALITY u(t, o))
      INTO body, names, types
      FROM pg_proc pr WHERE pr.oid = f;
    FOR i IN 1 .. cardinality(names) LOOP
        body := regexp_replace(body, '\m' || (SELECT proname FROM pg_proc WHERE oid = f) || '\.' || names[i] || '\M',
                               '$' || i, 'g');
    END LOOP;
    EXECUTE format('PREPARE pg_temp_fplan(%s) AS %s', types, body);
    SET LOCAL plan_cache_mode = force_generic_plan;
    EXECUTE format('EXPLAIN (FORMAT JSON) EXECUTE pg_temp_fplan(%s)', args) INTO p;
    DEALLOCATE pg_temp_fplan;
    RETURN p::jsonb;
END $$;

-- the per-minute figures over one hour, through the ts / start_time indexes
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.log_volume('2024-01-01 10:00+00', '2024-01-01 11:00+00')$$),
                          'logs', 'logs_ts_idx') AS log_volume;
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.log_volume('2024-01-02 08:00+00', NULL, '5 minutes')$$),
                          'logs', 'logs_ts_idx') AS log_volume_since;
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.throughput('2024-01-01 10:00+00', '2024-01-01 11:00+00')$$),
                          'spans', 'spans_start_idx') AS throughput;
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.service_performance('2024-01-01 10:00+00', '2024-01-01 11:00+00')$$),
                          'spans', 'spans_start_idx') AS service_performance;
-- metric samples: per series and time through (series_id, ts)
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.high_latency_by_endpoint(100, 'lat', '2024-01-01 05:00+00', '2024-01-01 06:00+00')$$),
                          'metric_points', 'metric_points_series_ts_idx') AS high_latency;
-- latency_heatmap() checks its arguments, then returns this query
SELECT prosrc LIKE '%RETURN QUERY SELECT * FROM obs._latency_heatmap($1, $2, $3, $4, $5);%' AS heatmap_query
  FROM pg_proc WHERE oid = 'obs.latency_heatmap'::regproc;
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs._latency_heatmap('lat', '1 minute', '{10,100,1000}', '2024-01-01 05:00+00', '2024-01-01 06:00+00')$$),
                          'metric_points', 'metric_points_series_ts_idx') AS latency_heatmap;
-- pipeline health over a range: start_time, or (name, start_time) for one name
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.get_flow_health(NULL, '2024-01-01 10:00+00', '2024-01-01 11:00+00')$$),
                          'flow_runs', 'flow_runs_start_idx') AS flow_health;
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.get_flow_health('flow_3', '2024-01-01 10:00+00', '2024-01-01 11:00+00')$$),
                          'flow_runs', 'flow_runs_name_start_idx') AS flow_health_one;
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.get_task_performance(NULL, '2024-01-01 10:00+00', '2024-01-01 11:00+00')$$),
                          'task_runs', 'task_runs_start_idx') AS task_performance;
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.get_task_summary('2024-01-01 10:00+00', '2024-01-01 11:00+00')$$),
                          'task_runs', 'task_runs_start_idx') AS task_summary;
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.get_task_summary('2024-01-02 08:00+00')$$),
                          'task_runs', 'task_runs_start_idx') AS task_summary_since;
-- a range written relative to now() is not a constant at plan time: it must
-- still be an index condition (a (since IS NULL OR ...) filter is not)
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.get_task_summary(now() - interval '1 hour')$$),
                          'task_runs', 'task_runs_start_idx') AS task_summary_now;
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.get_task_performance(NULL, now() - interval '1 hour', now())$$),
                          'task_runs', 'task_runs_start_idx') AS task_performance_now;
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.get_flow_health(NULL, now() - interval '1 hour', now())$$),
                          'flow_runs', 'flow_runs_start_idx') AS flow_health_now;
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.high_latency_by_endpoint(100, 'lat', now() - interval '1 hour')$$),
                          'metric_points', 'metric_points_series_ts_idx') AS high_latency_now;
SELECT pg_temp.uses_index(pg_temp.plan($$SELECT * FROM obs.log_volume(now() - interval '1 hour', now())$$),
                          'logs', 'logs_ts_idx') AS log_volume_now;
-- jaeger_json's query, planned with its arguments as parameters: by id
-- through the primary key, by time through spans_start_idx
SELECT pg_temp.uses_index(pg_temp.function_plan('obs.jaeger_json(obs.trace_id[], timestamptz, timestamptz)',
                              $$ARRAY[md5('7')]::obs.trace_id[], NULL, NULL$$),
                          'spans', 'spans_pkey') AS jaeger_by_id;
SELECT pg_temp.uses_index(pg_temp.function_plan('obs.jaeger_json(obs.trace_id[], timestamptz, timestamptz)',
                              $$NULL, '2024-01-01 10:00+00', '2024-01-01 10:05+00'$$),
                          'spans', 'spans_start_idx') AS jaeger_by_time;
-- and the export itself: one trace by id, the traces of five minutes
SELECT jsonb_array_length(obs.jaeger_json(ARRAY[md5('7')]::obs.trace_id[]) #> '{data,0,spans}') AS spans_of_trace_7;
SELECT jsonb_array_length(obs.jaeger_json(NULL, '2024-01-01 10:00+00', '2024-01-01 10:05+00') -> 'data') AS traces_in_5_min;

-- item 26: the per-name views sort what they read; no Index Scan without a
-- condition (a read of every row in index order) feeds their aggregate
SELECT coalesce(string_agg(s.node || ' using ' || s.idx, ', '), 'none') AS full_index_scans
  FROM pg_temp.scans(pg_temp.plan('SELECT * FROM obs.task_performance')) s
 WHERE s.idx IS NOT NULL AND NOT s.has_cond;
SELECT coalesce(string_agg(s.node || ' using ' || s.idx, ', '), 'none') AS full_index_scans
  FROM pg_temp.scans(pg_temp.plan('SELECT * FROM obs.flow_health')) s
 WHERE s.idx IS NOT NULL AND NOT s.has_cond;
SELECT coalesce(string_agg(s.node || ' using ' || s.idx, ', '), 'none') AS full_index_scans
  FROM pg_temp.scans(pg_temp.plan('SELECT * FROM obs.task_summary')) s
 WHERE s.idx IS NOT NULL AND NOT s.has_cond;
-- the views' figures are the functions' figures, name by name
SELECT count(*) AS tasks,
       bool_and(v IS NOT DISTINCT FROM f) AS same_as_get_task_performance
  FROM obs.task_performance v,
       LATERAL (SELECT * FROM obs.get_task_performance(v.task_name)) f;
SELECT count(*) AS flows,
       bool_and(v IS NOT DISTINCT FROM f) AS same_as_get_flow_health
  FROM obs.flow_health v, LATERAL (SELECT * FROM obs.get_flow_health(v.flow_name)) f;
