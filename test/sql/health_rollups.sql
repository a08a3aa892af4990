-- the health figures come from rollups (obs.flow_run_rollup,
-- obs.task_run_rollup, the duration sketches) kept by triggers on the runs:
-- on random runs, written by every path (the C upsert, state changes,
-- retries, a user's INSERT/UPDATE/DELETE, COPY, purge), each figure equals
-- a direct aggregate over the runs; the all-history percentiles are within
-- the sketch's 1% bound
\ir test/setup.sql
SET timezone = 'UTC';
SELECT setseed(0.4242);

-- the rollups are off by default (every figure comes from the runs), and
-- there is nothing to rebuild; obs.enable_rollups() turns them on once
SELECT count(*) AS rollups_on FROM obs.health_rollups;
SELECT pg_temp.err($$SELECT obs.rebuild_rollups()$$);
SELECT obs.enable_rollups() AS turned_on;
SELECT obs.enable_rollups() AS turned_on_again;

-- the figures, straight from the runs (the definitions README "Pipeline
-- health" gives; the average is the exact sum of end_time - start_time over
-- the count)
CREATE FUNCTION pg_temp.direct_tasks(p_name text, p_since timestamptz, p_until timestamptz, p_per boolean)
RETURNS TABLE(task_name text, total_runs bigint, failure_count bigint, success_rate double precision,
              avg_duration_seconds double precision, p50 double precision, p95 double precision,
              max_duration_seconds double precision, total_inputs bigint, total_outputs bigint,
              throughput double precision)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_per THEN r.task_name END, count(*),
           count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')),
           count(*) FILTER (WHERE r.status = 'Completed')::double precision
               / NULLIF(count(*) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0),
           (sum(extract(epoch FROM r.end_time - r.start_time)) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')))::double precision
               / NULLIF(count(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0)::double precision,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           sum(r.inputs_processed)::bigint, sum(r.outputs_produced)::bigint,
           (sum(r.inputs_processed) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed') AND r.duration_seconds IS NOT NULL))::double precision
               / NULLIF((sum(extract(epoch FROM r.end_time - r.start_time))
                             FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed') AND r.inputs_processed IS NOT NULL))::double precision, 0)
      FROM obs.task_runs r
     WHERE (p_name IS NULL OR r.task_name = p_name)
       AND r.start_time >= coalesce(p_since, '-infinity') AND r.start_time < coalesce(p_until, 'infinity')
     GROUP BY 1
$$;
CREATE FUNCTION pg_temp.direct_flows(p_name text, p_since timestamptz, p_until timestamptz, p_per boolean)
RETURNS TABLE(flow_name text, total_runs bigint, success_count bigint, failure_count bigint,
              cancelled_count bigint, running_count bigint, success_rate double precision,
              avg_duration_seconds double precision, p50 double precision, p95 double precision,
              max_duration_seconds double precision, last_run_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_per THEN r.flow_name END, count(*),
           count(*) FILTER (WHERE r.status = 'Completed'),
           count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')),
           count(*) FILTER (WHERE r.status = 'Cancelled'),
           count(*) FILTER (WHERE r.status IN ('Scheduled', 'Pending', 'Running', 'Paused', 'Cancelling')),
           count(*) FILTER (WHERE r.status = 'Completed')::double precision
               / NULLIF(count(*) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0),
           (sum(extract(epoch FROM r.end_time - r.start_time)) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')))::double precision
               / NULLIF(count(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0)::double precision,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           max(r.start_time)
      FROM obs.flow_runs r
     WHERE (p_name IS NULL OR r.flow_name = p_name)
       AND r.start_time >= coalesce(p_since, '-infinity') AND r.start_time < coalesce(p_until, 'infinity')
     GROUP BY 1
$$;

-- ranges: open, aligned to the hour, inside one hour, across days, random
CREATE TEMP TABLE ranges (since timestamptz, until timestamptz);
CREATE FUNCTION pg_temp.make_ranges() RETURNS void LANGUAGE sql AS $$
    DELETE FROM ranges;
    INSERT INTO ranges VALUES (NULL, NULL),
        (date_trunc('hour', now()) - interval '2 days', NULL),
        (NULL, date_trunc('hour', now()) - interval '1 day'),
        (date_trunc('hour', now()) - interval '30 hours', date_trunc('hour', now()) - interval '5 hours'),
        (date_trunc('hour', now()) - interval '30 hours' + interval '10 minutes',
         date_trunc('hour', now()) - interval '30 hours' + interval '50 minutes');
    INSERT INTO ranges
    SELECT s, s + random() * interval '2 days'
      FROM (SELECT now() - random() * interval '4 days' AS s FROM generate_series(1, 15)) x;
    INSERT INTO ranges
    SELECT s, s + random() * interval '90 minutes'
      FROM (SELECT now() - random() * interval '4 days' AS s FROM generate_series(1, 10)) x;
    INSERT INTO ranges SELECT now() - random() * interval '4 days', NULL FROM generate_series(1, 5);
    INSERT INTO ranges SELECT NULL, now() - random() * interval '4 days' FROM generate_series(1, 5);
$$;

-- rows of a function's result that differ from the direct aggregate, both
-- ways; all-history percentiles (p50, p95 when no range is given) are left
-- to the bound check
CREATE FUNCTION pg_temp.mismatches() RETURNS TABLE(figure text, differing bigint) LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE t ON COMMIT DROP AS
        SELECT r.since, r.until, n.name, f.*
          FROM ranges r, (SELECT DISTINCT task_name AS name FROM obs.task_runs UNION ALL SELECT NULL) n,
               obs._task_figures(n.name, r.since, r.until, n.name IS NULL) f;
    CREATE TEMP TABLE d ON COMMIT DROP AS
        SELECT r.since, r.until, n.name, f.*
          FROM ranges r, (SELECT DISTINCT task_name AS name FROM obs.task_runs UNION ALL SELECT NULL) n,
               pg_temp.direct_tasks(n.name, r.since, r.until, n.name IS NULL) f;
    CREATE TEMP TABLE ft ON COMMIT DROP AS
        SELECT r.since, r.until, n.name, f.*
          FROM ranges r, (SELECT DISTINCT flow_name AS name FROM obs.flow_runs UNION ALL SELECT NULL) n,
               obs._flow_health(n.name, r.since, r.until, n.name IS NULL) f;
    CREATE TEMP TABLE fd ON COMMIT DROP AS
        SELECT r.since, r.until, n.name, f.*
          FROM ranges r, (SELECT DISTINCT flow_name AS name FROM obs.flow_runs UNION ALL SELECT NULL) n,
               pg_temp.direct_flows(n.name, r.since, r.until, n.name IS NULL) f;
    RETURN QUERY
    WITH tx AS (SELECT since, until, name, task_name, total_runs, failure_count, success_rate, avg_duration_seconds,
                  CASE WHEN since IS NULL AND until IS NULL THEN 0 ELSE p50_duration_seconds END AS p50,
                  CASE WHEN since IS NULL AND until IS NULL THEN 0 ELSE p95_duration_seconds END AS p95,
                  max_duration_seconds, total_inputs, total_outputs, throughput FROM t),
    dx AS (SELECT since, until, name, task_name, total_runs, failure_count, success_rate, avg_duration_seconds,
                  CASE WHEN since IS NULL AND until IS NULL THEN 0 ELSE p50 END,
                  CASE WHEN since IS NULL AND until IS NULL THEN 0 ELSE p95 END,
                  max_duration_seconds, total_inputs, total_outputs, throughput FROM d),
    ftx AS (SELECT since, until, name, flow_name, total_runs, success_count, failure_count, cancelled_count,
                   running_count, success_rate, avg_duration_seconds,
                   CASE WHEN since IS NULL AND until IS NULL THEN 0 ELSE p50_duration_seconds END,
                   CASE WHEN since IS NULL AND until IS NULL THEN 0 ELSE p95_duration_seconds END,
                   max_duration_seconds, last_run_at FROM ft),
    fdx AS (SELECT since, until, name, flow_name, total_runs, success_count, failure_count, cancelled_count,
                   running_count, success_rate, avg_duration_seconds,
                   CASE WHEN since IS NULL AND until IS NULL THEN 0 ELSE p50 END,
                   CASE WHEN since IS NULL AND until IS NULL THEN 0 ELSE p95 END,
                   max_duration_seconds, last_run_at FROM fd)
    SELECT 'task figures', (SELECT count(*) FROM (SELECT * FROM tx EXCEPT SELECT * FROM dx) a)
                          + (SELECT count(*) FROM (SELECT * FROM dx EXCEPT SELECT * FROM tx) b)
    UNION ALL
    SELECT 'flow figures', (SELECT count(*) FROM (SELECT * FROM ftx EXCEPT SELECT * FROM fdx) a)
                          + (SELECT count(*) FROM (SELECT * FROM fdx EXCEPT SELECT * FROM ftx) b)
    UNION ALL
    -- the all-history percentiles: within 1% of the exact ones (plus rounding)
    SELECT 'percentiles beyond 1%', count(*)
      FROM (SELECT t.p50_duration_seconds AS a50, d.p50 AS e50, t.p95_duration_seconds AS a95, d.p95 AS e95
              FROM (SELECT * FROM t WHERE since IS NULL AND until IS NULL) t
              JOIN (SELECT * FROM d WHERE since IS NULL AND until IS NULL) d
                ON coalesce(t.name, '-') = coalesce(d.name, '-') AND coalesce(t.task_name, '-') = coalesce(d.task_name, '-')
            UNION ALL
            SELECT t.p50_duration_seconds, d.p50, t.p95_duration_seconds, d.p95
              FROM (SELECT * FROM ft WHERE since IS NULL AND until IS NULL) t
              JOIN (SELECT * FROM fd WHERE since IS NULL AND until IS NULL) d
                ON coalesce(t.name, '-') = coalesce(d.name, '-') AND coalesce(t.flow_name, '-') = coalesce(d.flow_name, '-')) x
     WHERE (a50 IS NULL) <> (e50 IS NULL) OR (a95 IS NULL) <> (e95 IS NULL)
        OR abs(a50 - e50) > 0.01 * abs(e50) + 1e-9 OR abs(a95 - e95) > 0.01 * abs(e95) + 1e-9
    UNION ALL
    -- the views and the get_ functions are the same figures
    SELECT 'views', (SELECT count(*) FROM (
        SELECT task_name, total_runs, avg_duration_seconds, p50_duration_seconds, p95_duration_seconds,
               max_duration_seconds, total_inputs, total_outputs, throughput, failure_count FROM obs.task_performance
        EXCEPT SELECT task_name, total_runs, avg_duration_seconds, p50_duration_seconds, p95_duration_seconds,
               max_duration_seconds, total_inputs, total_outputs, throughput, failure_count
          FROM obs._task_figures(NULL, NULL, NULL, true)) a)
      + (SELECT count(*) FROM (
        SELECT task_name, runs, failures, success_rate, duration_seconds, max_duration_seconds, throughput,
               inputs_processed, outputs_produced FROM obs.task_summary
        EXCEPT SELECT task_name, total_runs, failure_count, success_rate, avg_duration_seconds, max_duration_seconds,
               throughput, total_inputs, total_outputs FROM pg_temp.direct_tasks(NULL, NULL, NULL, true)) b)
      + (SELECT count(*) FROM (
        SELECT * FROM obs.flow_health EXCEPT SELECT * FROM obs._flow_health(NULL, NULL, NULL, true)) c);
END $$;

-- the rollups as the triggers left them equal a rebuild from the runs (the
-- sketches' bounds may be wider than the values left: compare the counts)
CREATE FUNCTION pg_temp.rebuild_differs() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    CREATE TEMP TABLE fr AS SELECT * FROM obs.flow_run_rollup;
    CREATE TEMP TABLE tr AS SELECT * FROM obs.task_run_rollup;
    CREATE TEMP TABLE fs AS SELECT flow_name, key, runs FROM obs.flow_run_sketch;
    CREATE TEMP TABLE ts AS SELECT task_name, key, runs FROM obs.task_run_sketch;
    PERFORM obs.rebuild_rollups();
    SELECT (SELECT count(*) FROM (SELECT * FROM fr EXCEPT SELECT * FROM obs.flow_run_rollup) a)
         + (SELECT count(*) FROM (SELECT * FROM obs.flow_run_rollup EXCEPT SELECT * FROM fr) a)
         + (SELECT count(*) FROM (SELECT * FROM tr EXCEPT SELECT * FROM obs.task_run_rollup) a)
         + (SELECT count(*) FROM (SELECT * FROM obs.task_run_rollup EXCEPT SELECT * FROM tr) a)
         + (SELECT count(*) FROM (SELECT * FROM fs EXCEPT SELECT flow_name, key, runs FROM obs.flow_run_sketch) a)
         + (SELECT count(*) FROM (SELECT flow_name, key, runs FROM obs.flow_run_sketch EXCEPT SELECT * FROM fs) a)
         + (SELECT count(*) FROM (SELECT * FROM ts EXCEPT SELECT task_name, key, runs FROM obs.task_run_sketch) a)
         + (SELECT count(*) FROM (SELECT task_name, key, runs FROM obs.task_run_sketch EXCEPT SELECT * FROM ts) a)
      INTO n;
    DROP TABLE fr, tr, fs, ts;
    RETURN n;
END $$;

-- 1. random runs through the C upsert: 6 flows, 8 tasks, over 4 days, with
-- microsecond start times, every status, open runs, NULL inputs/outputs
CREATE TEMP TABLE plan AS
SELECT i, 'flow_' || (random() * 5)::int AS flow, 'task_' || (random() * 7)::int AS task,
       now() - random() * interval '4 days' AS st,
       (ARRAY['Scheduled', 'Pending', 'Running', 'Paused', 'Cancelling', 'Completed', 'Completed',
              'Completed', 'Completed', 'Failed', 'Crashed', 'Cancelled'])[1 + (random() * 11)::int] AS status,
       CASE WHEN random() < 0.1 THEN 0 ELSE round((random() ^ 3 * 3600)::numeric, 6) END AS secs,
       CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 1000)::bigint END AS inputs,
       CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 1000)::bigint END AS outputs
  FROM generate_series(1, 1500) i;
SELECT count(obs.record_flow_execution(flow, 'fr-' || i, st,
           CASE WHEN status IN ('Scheduled', 'Pending', 'Running') THEN NULL ELSE st + secs * interval '1 second' END,
           status)) AS flows_recorded
  FROM plan WHERE i <= 600;
SELECT count(obs.record_task_execution(task, 'fr-' || (i % 600), st,
           CASE WHEN status IN ('Scheduled', 'Pending', 'Running') THEN NULL ELSE st + secs * interval '1 second' END,
           status, inputs, outputs, task_run_id => 'tr-' || i)) AS tasks_recorded
  FROM plan;
SELECT pg_temp.make_ranges();
SELECT * FROM pg_temp.mismatches();

-- 2. state changes: open runs finish or fail (a run counts under its new
-- status), finished runs are retried with another end time and status, and
-- a longest run becomes short (the bucket's maximum is taken again)
SELECT count(obs.record_task_execution(task, 'fr-' || (i % 600), st,
           st + (secs + 5) * interval '1 second', CASE WHEN i % 3 = 0 THEN 'Failed' ELSE 'Completed' END,
           task_run_id => 'tr-' || i)) AS tasks_finished
  FROM plan WHERE status IN ('Scheduled', 'Pending', 'Running', 'Paused');
SELECT count(obs.record_task_execution(task, 'fr-' || (i % 600), st,
           st + random() * interval '10 seconds', 'Crashed', task_run_id => 'tr-' || i)) AS tasks_retried
  FROM plan WHERE status = 'Completed' AND i % 5 = 0;
SELECT count(obs.record_task_execution(p.task, 'fr-' || (p.i % 600), p.st,
           p.st + interval '1 millisecond', 'Completed', task_run_id => 'tr-' || p.i)) AS longest_shortened
  FROM plan p
  JOIN (SELECT DISTINCT ON (task_name) task_run_id FROM obs.task_runs
         WHERE status = 'Completed' ORDER BY task_name, duration_seconds DESC) m ON m.task_run_id = 'tr-' || p.i;
SELECT count(obs.record_flow_execution(flow, 'fr-' || i, st,
           st + (secs + 1) * interval '1 second', 'Completed')) AS flows_finished
  FROM plan WHERE i <= 600 AND status IN ('Scheduled', 'Pending', 'Running', 'Paused', 'Cancelling');
SELECT pg_temp.make_ranges();
SELECT * FROM pg_temp.mismatches();

-- 3. a user's own writes fire the same triggers: UPDATE (a rename moves
-- runs to another name), DELETE, INSERT ... SELECT, COPY
UPDATE obs.task_runs SET task_name = 'task_renamed' WHERE task_name = 'task_3' AND start_time < now() - interval '2 days';
UPDATE obs.task_runs SET start_time = start_time - interval '90 minutes' WHERE task_run_id LIKE 'tr-1%';
DELETE FROM obs.task_runs WHERE task_run_id LIKE 'tr-2%';
DELETE FROM obs.flow_runs WHERE flow_run_id LIKE 'fr-3%';
INSERT INTO obs.task_runs (task_run_id, task_name, flow_run_id, status, start_time, end_time, inputs_processed, updated_at)
SELECT 'bulk-' || i, 'task_bulk', 'fr-bulk', 'Completed', now() - i * interval '7 minutes',
       now() - i * interval '7 minutes' + (i % 13) * interval '1.5 seconds', i, now()
  FROM generate_series(1, 300) i;
COPY obs.flow_runs (flow_run_id, flow_name, status, start_time, end_time, updated_at) FROM stdin;
copy-1	flow_copy	Completed	2026-11-30 10:00:00+00	2026-11-30 10:00:07.25+00	2026-11-30 10:00:00+00
copy-2	flow_copy	Failed	2026-11-30 10:10:00+00	2026-11-30 10:12:00+00	2026-11-30 10:00:00+00
copy-3	flow_copy	Running	2026-11-30 11:10:00+00	\N	2026-11-30 10:00:00+00
\.
-- a run that started at -infinity (possible only by a direct write) counts
-- in ranges open at the start, like in the direct aggregate
INSERT INTO obs.task_runs (task_run_id, task_name, flow_run_id, status, start_time, updated_at)
VALUES ('far-past', 'task_bulk', 'fr-bulk', 'Running', '-infinity', now());
SELECT pg_temp.make_ranges();
SELECT * FROM pg_temp.mismatches();
SELECT pg_temp.rebuild_differs() AS rebuild_differs;

-- 4. purge deletes old runs: the rollups lose them too (the figures stay
-- those of the runs that are left)
SELECT table_name, deleted > 0 AS deleted_some FROM obs.purge('2 days')
 WHERE table_name IN ('task_runs', 'flow_runs') ORDER BY 1;
SELECT pg_temp.make_ranges();
SELECT * FROM pg_temp.mismatches();
SELECT pg_temp.rebuild_differs() AS rebuild_differs;
-- no rollup row is left for a bucket without runs
SELECT count(*) AS empty_rollup_rows
  FROM (SELECT runs FROM obs.task_run_rollup UNION ALL SELECT runs FROM obs.flow_run_rollup
        UNION ALL SELECT runs FROM obs.task_run_sketch UNION ALL SELECT runs FROM obs.flow_run_sketch) r
 WHERE runs <= 0;
SELECT count(*) AS hourly_rows_without_runs
  FROM obs.task_run_rollup r
 WHERE NOT r.all_time
   AND r.runs <> (SELECT count(*) FROM obs.task_runs t
                   WHERE t.task_name = r.task_name AND t.status = r.status
                     AND (t.start_time >= r.bucket AND t.start_time < r.bucket + interval '1 hour'
                          OR t.start_time = r.bucket));

-- 5. row-level security: a role that sees some runs gets figures over
-- those only (from the runs, not the rollups)
CREATE ROLE regress_obs_rollup_reader;
SELECT obs.grant_reader('regress_obs_rollup_reader');
ALTER TABLE obs.task_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY regress_some ON obs.task_runs FOR SELECT TO regress_obs_rollup_reader USING (task_name IN ('task_1', 'task_2'));
SELECT pg_temp.make_ranges();
GRANT SELECT ON ranges TO regress_obs_rollup_reader;
SET ROLE regress_obs_rollup_reader;
SELECT count(*) AS ranges_differing
  FROM ranges r
 WHERE EXISTS (SELECT * FROM obs._task_figures(NULL, r.since, r.until, true)
               EXCEPT SELECT * FROM pg_temp.direct_tasks(NULL, r.since, r.until, true))
    OR EXISTS (SELECT * FROM pg_temp.direct_tasks(NULL, r.since, r.until, true)
               EXCEPT SELECT * FROM obs._task_figures(NULL, r.since, r.until, true));
SELECT task_name FROM obs.task_summary ORDER BY 1;
RESET ROLE;
DROP POLICY regress_some ON obs.task_runs;
ALTER TABLE obs.task_runs DISABLE ROW LEVEL SECURITY;
DROP OWNED BY regress_obs_rollup_reader;
DROP ROLE regress_obs_rollup_reader;

-- 6. the duration sketch: every value within 1% of its bucket's estimate,
-- keys ordered like the values, zero and negative durations apart
SELECT count(*) AS beyond_one_percent
  FROM (SELECT exp(ln(1e-6) + random() * (ln(1e9) - ln(1e-6))) AS x FROM generate_series(1, 20000)) v
 WHERE abs(obs._duration_of_key(obs._duration_key(x)) - x) > 0.01 * x + 1e-12;
SELECT count(*) AS misordered
  FROM (SELECT x, lead(x) OVER (ORDER BY x) AS y
          FROM (SELECT (random() - 0.5) * 1e4 AS x FROM generate_series(1, 5000)) v) p
 WHERE y IS NOT NULL AND obs._duration_key(x) > obs._duration_key(y);
SELECT obs._duration_key(0) AS zero_key, obs._duration_of_key(0) AS zero,
       obs._duration_of_key(obs._duration_key(-2.5)) BETWEEN -2.5 * 1.01 AND -2.5 * 0.99 AS negative_mirrored;

-- 7. TRUNCATE empties the rollups; a bulk load with the triggers off is
-- caught up by obs.rebuild_rollups()
TRUNCATE obs.task_runs;
SELECT (SELECT count(*) FROM obs.task_run_rollup) AS rollup_rows, (SELECT count(*) FROM obs.task_run_sketch) AS sketch_rows;
SET session_replication_role = replica;
INSERT INTO obs.task_runs (task_run_id, task_name, flow_run_id, status, start_time, end_time, updated_at)
SELECT 'r-' || i, 'task_' || (i % 4), 'fr', 'Completed', now() - i * interval '1 minute',
       now() - i * interval '1 minute' + i * interval '1 second', now()
  FROM generate_series(1, 200) i;
RESET session_replication_role;
SELECT count(*) AS rollup_rows_before_rebuild FROM obs.task_run_rollup;
SELECT obs.rebuild_rollups();
SELECT pg_temp.make_ranges();
SELECT * FROM pg_temp.mismatches();

-- 8. off: the rollups are emptied and no longer kept, the figures come from
-- the runs (still equal to the direct aggregates); on again: rebuilt from
-- the runs, the ones written meanwhile included
SELECT obs.disable_rollups() AS turned_off;
SELECT obs.disable_rollups() AS turned_off_again;
SELECT (SELECT count(*) FROM obs.flow_run_rollup) + (SELECT count(*) FROM obs.task_run_rollup)
     + (SELECT count(*) FROM obs.flow_run_sketch) + (SELECT count(*) FROM obs.task_run_sketch) AS rollup_rows;
SELECT count(obs.record_task_execution('task_off', 'fr-off', now() - i * interval '7 minutes',
                                       now() - i * interval '7 minutes' + i * interval '1 second',
                                       'Completed', task_run_id => 'off-' || i)) AS written_while_off
  FROM generate_series(1, 50) i;
SELECT count(*) AS rollup_rows_while_off FROM obs.task_run_rollup;
SELECT pg_temp.make_ranges();
SELECT * FROM pg_temp.mismatches();
SELECT obs.enable_rollups() AS turned_on;
SELECT runs AS task_off_runs FROM obs.task_run_rollup WHERE all_time AND task_name = 'task_off';
SELECT * FROM pg_temp.mismatches();
SELECT pg_temp.rebuild_differs() AS differs_from_rebuild;

-- 9. a role let write the runs directly (not through obs's functions): with
-- the rollups off it writes them as with 0.1.0 (it may see the switch, no
-- more); with them on it needs privileges on the rollups (README), and then
-- keeps them exact
CREATE ROLE regress_obs_rollup_direct;
GRANT USAGE ON SCHEMA obs TO regress_obs_rollup_direct;
GRANT SELECT, INSERT, UPDATE, DELETE ON obs.task_runs TO regress_obs_rollup_direct;
SELECT obs.disable_rollups() AS turned_off;
SET ROLE regress_obs_rollup_direct;
INSERT INTO obs.task_runs (task_run_id, flow_run_id, task_name, status, start_time, end_time, updated_at)
VALUES ('direct-1', 'fr-direct', 'task_direct', 'Running', now() - interval '1 hour', NULL, now());
UPDATE obs.task_runs SET status = 'Completed', end_time = start_time + interval '90 seconds'
 WHERE task_run_id = 'direct-1';
SELECT enabled FROM obs.health_rollups;
SELECT has_table_privilege('obs.health_rollups', 'INSERT') AS switch_insertable,
       has_table_privilege('obs.health_rollups', 'DELETE') AS switch_deletable;
RESET ROLE;
SELECT obs.enable_rollups() AS turned_on;
SET ROLE regress_obs_rollup_direct;
\set VERBOSITY terse
INSERT INTO obs.task_runs (task_run_id, flow_run_id, task_name, status, start_time, end_time, updated_at)
VALUES ('direct-2', 'fr-direct', 'task_direct', 'Completed', now() - interval '2 hours', now(), now());
\set VERBOSITY default
RESET ROLE;
GRANT SELECT, INSERT, UPDATE, DELETE ON obs.task_run_rollup, obs.task_run_sketch TO regress_obs_rollup_direct;
SET ROLE regress_obs_rollup_direct;
INSERT INTO obs.task_runs (task_run_id, flow_run_id, task_name, status, start_time, end_time, updated_at)
VALUES ('direct-2', 'fr-direct', 'task_direct', 'Completed', now() - interval '2 hours', now(), now());
DELETE FROM obs.task_runs WHERE task_run_id = 'direct-1';
RESET ROLE;
SELECT runs, timed_runs FROM obs.task_run_rollup WHERE all_time AND task_name = 'task_direct';
SELECT pg_temp.make_ranges();
SELECT * FROM pg_temp.mismatches();
SELECT pg_temp.rebuild_differs() AS differs_from_rebuild;
DELETE FROM obs.task_runs WHERE task_name = 'task_direct';
DROP OWNED BY regress_obs_rollup_direct;
DROP ROLE regress_obs_rollup_direct;

-- 10. runs started at -infinity and +infinity (a direct INSERT may store
-- them, with no end_time): the all-history figures count them as 0.1.0 did
-- (no upper bound when until is NULL), rollups off and on
INSERT INTO obs.flow_runs (flow_run_id, flow_name, status, start_time, end_time, updated_at) VALUES
    ('inf-1', 'flow_inf', 'Completed', '2026-01-01 10:00+00', '2026-01-01 10:05+00', now()),
    ('inf-2', 'flow_inf', 'Running', 'infinity', NULL, now()),
    ('inf-3', 'flow_inf', 'Failed', '-infinity', NULL, now());
INSERT INTO obs.task_runs (task_run_id, flow_run_id, task_name, status, start_time, end_time, inputs_processed, updated_at) VALUES
    ('inf-1', 'inf-1', 'task_inf', 'Completed', '2026-01-01 10:00+00', '2026-01-01 10:05+00', 10, now()),
    ('inf-2', 'inf-1', 'task_inf', 'Completed', 'infinity', NULL, 5, now()),
    ('inf-3', 'inf-1', 'task_inf', 'Failed', '-infinity', NULL, 1, now());
CREATE FUNCTION pg_temp.infinite_starts() RETURNS TABLE(source text, runs bigint, failures bigint, last_run_at timestamptz, inputs numeric)
LANGUAGE sql AS $$
    SELECT 'flow_health'::text, total_runs::bigint, failure_count::bigint, last_run_at, NULL::numeric FROM obs.flow_health WHERE flow_name = 'flow_inf'
    UNION ALL
    SELECT 'get_flow_health', total_runs, failure_count, last_run_at, NULL FROM obs.get_flow_health('flow_inf')
    UNION ALL
    SELECT 'get_flow_health since', total_runs, failure_count, last_run_at, NULL FROM obs.get_flow_health('flow_inf', since => '2026-01-01 10:30+00')
    UNION ALL
    SELECT 'task_summary', runs, failures, NULL, inputs_processed::numeric FROM obs.task_summary WHERE task_name = 'task_inf'
    UNION ALL
    SELECT 'get_task_summary', runs, failures, NULL, inputs_processed::numeric FROM obs.get_task_summary() WHERE task_name = 'task_inf'
    UNION ALL
    SELECT 'get_task_performance', total_runs, failure_count, NULL, total_inputs::numeric FROM obs.get_task_performance('task_inf')
    UNION ALL
    SELECT 'task_performance', total_runs, failure_count, NULL, total_inputs::numeric FROM obs.task_performance WHERE task_name = 'task_inf'
$$;
SELECT * FROM pg_temp.infinite_starts();
SELECT obs.disable_rollups() AS turned_off;
SELECT * FROM pg_temp.infinite_starts();
SELECT obs.enable_rollups() AS turned_on;
DELETE FROM obs.flow_runs WHERE flow_name = 'flow_inf';
DELETE FROM obs.task_runs WHERE task_name = 'task_inf';
SELECT * FROM pg_temp.mismatches();
