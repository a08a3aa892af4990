/* ------------------------------------------------------------------------
 * Section: pipeline health (SQL)
 * ------------------------------------------------------------------------ */

/*
 * Success rate is Prefect's: Completed / (Completed + Failed + Crashed),
 * NULL when no run has reached one of those states.  Cancelled runs count
 * neither way; runs in a non-terminal state (Scheduled, Pending, Running,
 * Paused, Cancelling) are counted as running.  Durations are over finished
 * runs (Completed, Failed, Crashed) that have an end_time.  Time ranges
 * filter on start_time in [since, until); NULL leaves that side open, and
 * until earlier than since is an error (22023).
 *
 * Each figure is defined once, in _flow_health() and _task_figures(): the
 * get_* functions and the views select from them.  They are SQL functions
 * with BEGIN ATOMIC bodies (bound at creation, so no search_path is looked
 * up at run time) that the planner inlines: a call with constant arguments
 * is planned like the query written out.  They read the rollups
 * (30_tables.sql, kept by the triggers of 43_runs.sql): the all_time rows
 * when the range is open on both sides, else the whole hours inside
 * [since, until) plus the runs of the partial hours at its two ends (two
 * start_time index range scans; _{flow,task}_run_rows() turns a run into a
 * rollup row, the same figures the triggers add).  Percentiles over a range
 * are exact (percentile_cont over its finished runs); over all history they
 * come from the duration sketch, within 1%.  A caller to whom row-level
 * security applies on the runs reads the runs instead (_use_rollups()).
 * The percentile subquery is grouped by the same key, so that a caller that
 * reads no percentile (task_summary) has it removed from the plan.
 */

/*
 * until earlier than since is an error; returns true so that it can be a
 * qual.  Immutable, so that constant arguments are checked when the query
 * is planned: partition pruning would otherwise prove an inverted range
 * empty and the check would never run.
 */
CREATE FUNCTION @extschema@._check_range(since timestamptz, until timestamptz)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $2 < $1 THEN
        RAISE EXCEPTION 'until must not be earlier than since'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The range given was [%s, %s).', $1, $2);
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@._check_range(timestamptz, timestamptz) IS
    'internal: raises 22023 when until is earlier than since (NULL on either side is an open end), else true';

/*
 * Whether the caller reads the rollups: not when row-level security applies
 * to it on the runs (the figures then come from the runs it may see).  The
 * figures call it in a scalar subquery, evaluated once per query (an
 * InitPlan), so that it gates whole branches of the plan even when the
 * range comes from another table (LATERAL).
 */
CREATE FUNCTION @extschema@._use_rollups(runs regclass)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN NOT pg_catalog.row_security_active($1) AND EXISTS (SELECT FROM @extschema@.health_rollups);
END
$$;
COMMENT ON FUNCTION @extschema@._use_rollups(regclass) IS
    'internal: true when the health figures may come from the rollups of the runs table runs (row-level security does not apply to the caller there)';

/*
 * The runs of flow_name (all when NULL) started in [lo, hi), each as a rollup row
 * (hi = infinity: an open end, runs started at infinity included, as 0.1.0 did)
 * of one run: the same figures the triggers add to
 * obs.flow_run_rollup.  g is the grouping key: the name when per_flow, else ''.
 */
CREATE FUNCTION @extschema@._flow_run_rows(flow_name text, lo timestamptz, hi timestamptz, per_flow boolean)
RETURNS TABLE(g text, status @extschema@.run_state, runs bigint, timed_runs bigint, duration_sum numeric,
              duration_max double precision, last_start_time timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN _flow_run_rows.per_flow THEN r.flow_name || '' ELSE '' END,
           r.status, 1::bigint,
           (r.duration_seconds IS NOT NULL)::integer::bigint,
           COALESCE(EXTRACT(epoch FROM r.end_time - r.start_time), 0),
           r.duration_seconds,
           r.start_time
      FROM @extschema@.flow_runs r
     WHERE (_flow_run_rows.flow_name IS NULL OR r.flow_name = _flow_run_rows.flow_name)
       AND r.start_time >= _flow_run_rows.lo AND r.start_time <= _flow_run_rows.hi
       AND (r.start_time < _flow_run_rows.hi OR _flow_run_rows.hi = 'infinity'::timestamptz);
END;
COMMENT ON FUNCTION @extschema@._flow_run_rows(text, timestamptz, timestamptz, boolean) IS
    'internal: the runs of flow_name (all when NULL) started in [lo, hi), one rollup row each (obs.flow_run_rollup''s figures of a single run), grouped by g (the name when per_flow, else '''')';

/*
 * The runs of task_name (all when NULL) started in [lo, hi), each as a rollup row
 * (hi = infinity: an open end, runs started at infinity included, as 0.1.0 did)
 * of one run: the same figures the triggers add to
 * obs.task_run_rollup.  g is the grouping key: the name when per_task, else ''.
 */
CREATE FUNCTION @extschema@._task_run_rows(task_name text, lo timestamptz, hi timestamptz, per_task boolean)
RETURNS TABLE(g text, status @extschema@.run_state, runs bigint, timed_runs bigint, duration_sum numeric,
              duration_max double precision, inputs_runs bigint, inputs_sum numeric, outputs_runs bigint,
              outputs_sum numeric, paired_inputs numeric, paired_duration numeric)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN _task_run_rows.per_task THEN r.task_name || '' ELSE '' END,
           r.status, 1::bigint,
           (r.duration_seconds IS NOT NULL)::integer::bigint,
           COALESCE(EXTRACT(epoch FROM r.end_time - r.start_time), 0),
           r.duration_seconds,
           (r.inputs_processed IS NOT NULL)::integer::bigint,
           COALESCE(r.inputs_processed, 0)::numeric,
           (r.outputs_produced IS NOT NULL)::integer::bigint,
           COALESCE(r.outputs_produced, 0)::numeric,
           CASE WHEN r.duration_seconds IS NOT NULL THEN COALESCE(r.inputs_processed, 0) ELSE 0 END::numeric,
           CASE WHEN r.inputs_processed IS NOT NULL
                THEN COALESCE(EXTRACT(epoch FROM r.end_time - r.start_time), 0) ELSE 0 END
      FROM @extschema@.task_runs r
     WHERE (_task_run_rows.task_name IS NULL OR r.task_name = _task_run_rows.task_name)
       AND r.start_time >= _task_run_rows.lo AND r.start_time <= _task_run_rows.hi
       AND (r.start_time < _task_run_rows.hi OR _task_run_rows.hi = 'infinity'::timestamptz);
END;
COMMENT ON FUNCTION @extschema@._task_run_rows(text, timestamptz, timestamptz, boolean) IS
    'internal: the runs of task_name (all when NULL) started in [lo, hi), one rollup row each (obs.task_run_rollup''s figures of a single run), grouped by g (the name when per_task, else '''')';


/*
 * _flow_run_rows() behind a PL/pgSQL call, for the branches that read
 * many runs (a range's percentiles, figures under row-level security): the
 * planner counts such a call as a few rows, where the inlined scan would
 * count every run of the table, and a plan whose cost grows with the table
 * gets JIT-compiled (tens of milliseconds at millions of runs) even when
 * that branch never runs.
 */
CREATE FUNCTION @extschema@._flow_runs_read(flow_name text, lo timestamptz, hi timestamptz, per_flow boolean)
RETURNS TABLE(g text, status @extschema@.run_state, runs bigint, timed_runs bigint, duration_sum numeric,
              duration_max double precision, last_start_time timestamptz)
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 100 SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT * FROM @extschema@._flow_run_rows($1, $2, $3, $4);
END
$$;
COMMENT ON FUNCTION @extschema@._flow_runs_read(text, timestamptz, timestamptz, boolean) IS
    'internal: obs._flow_run_rows(), planned as a few rows (the health figures'' branches that read many runs)';

/*
 * _task_run_rows() behind a PL/pgSQL call, for the branches that read
 * many runs (a range's percentiles, figures under row-level security): the
 * planner counts such a call as a few rows, where the inlined scan would
 * count every run of the table, and a plan whose cost grows with the table
 * gets JIT-compiled (tens of milliseconds at millions of runs) even when
 * that branch never runs.
 */
CREATE FUNCTION @extschema@._task_runs_read(task_name text, lo timestamptz, hi timestamptz, per_task boolean)
RETURNS TABLE(g text, status @extschema@.run_state, runs bigint, timed_runs bigint, duration_sum numeric,
              duration_max double precision, inputs_runs bigint, inputs_sum numeric, outputs_runs bigint,
              outputs_sum numeric, paired_inputs numeric, paired_duration numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 100 SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT * FROM @extschema@._task_run_rows($1, $2, $3, $4);
END
$$;
COMMENT ON FUNCTION @extschema@._task_runs_read(text, timestamptz, timestamptz, boolean) IS
    'internal: obs._task_run_rows(), planned as a few rows (the health figures'' branches that read many runs)';


CREATE FUNCTION @extschema@._flow_health(
    flow_name text, since timestamptz, until timestamptz, per_flow boolean)
RETURNS TABLE(flow_name text, total_runs bigint, success_count bigint, failure_count bigint,
              cancelled_count bigint, running_count bigint, success_rate double precision,
              avg_duration_seconds double precision, p50_duration_seconds double precision,
              p95_duration_seconds double precision, max_duration_seconds double precision,
              last_run_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN _flow_health.per_flow THEN k.g END,
           k.total_runs, k.success_count, k.failure_count, k.cancelled_count, k.running_count,
           k.success_rate, k.avg_duration_seconds, q.p50, q.p95, k.max_duration_seconds, k.last_run_at
      FROM (SELECT x.g,
                   pg_catalog.sum(x.runs)::bigint AS total_runs,
                   COALESCE(pg_catalog.sum(x.runs) FILTER (WHERE x.status = 'Completed'), 0)::bigint AS success_count,
                   COALESCE(pg_catalog.sum(x.runs) FILTER (WHERE x.status IN ('Failed', 'Crashed')), 0)::bigint AS failure_count,
                   COALESCE(pg_catalog.sum(x.runs) FILTER (WHERE x.status = 'Cancelled'), 0)::bigint AS cancelled_count,
                   COALESCE(pg_catalog.sum(x.runs) FILTER (WHERE x.status IN ('Scheduled', 'Pending', 'Running', 'Paused', 'Cancelling')), 0)::bigint
                       AS running_count,
                   COALESCE(pg_catalog.sum(x.runs) FILTER (WHERE x.status = 'Completed'), 0)::double precision
                       / NULLIF(COALESCE(pg_catalog.sum(x.runs) FILTER (WHERE x.status IN ('Completed', 'Failed', 'Crashed')), 0), 0)::double precision
                       AS success_rate,
                   (pg_catalog.sum(x.duration_sum) FILTER (WHERE x.status IN ('Completed', 'Failed', 'Crashed')))::double precision
                       / NULLIF(pg_catalog.sum(x.timed_runs) FILTER (WHERE x.status IN ('Completed', 'Failed', 'Crashed')), 0)::double precision
                       AS avg_duration_seconds,
                   pg_catalog.max(x.duration_max) FILTER (WHERE x.status IN ('Completed', 'Failed', 'Crashed')) AS max_duration_seconds,
                   pg_catalog.max(x.last_start_time) AS last_run_at
              FROM (
                    /* the whole buckets in the range (all_time when it is open on both sides) */
                    SELECT CASE WHEN _flow_health.per_flow THEN r.flow_name || '' ELSE '' END AS g, r.status, r.runs, r.timed_runs, r.duration_sum, r.duration_max, r.last_start_time
                      FROM @extschema@.flow_run_rollup r
                     WHERE (SELECT @extschema@._use_rollups('@extschema@.flow_runs'::regclass))
                       AND r.all_time = (_flow_health.since IS NULL AND _flow_health.until IS NULL)
                       AND (_flow_health.flow_name IS NULL OR r.flow_name = _flow_health.flow_name)
                       AND r.bucket >= @extschema@._run_hour_ceil(COALESCE(_flow_health.since, '-infinity'::timestamptz))
                       AND r.bucket < @extschema@._run_hour(COALESCE(_flow_health.until, 'infinity'::timestamptz))
                    UNION ALL
                    /* the partial hours at the edges of the range, from the runs */
                    SELECT * FROM @extschema@._flow_run_rows(_flow_health.flow_name, COALESCE(_flow_health.since, '-infinity'::timestamptz),
                                      LEAST(COALESCE(_flow_health.until, 'infinity'::timestamptz), @extschema@._run_hour_ceil(COALESCE(_flow_health.since, '-infinity'::timestamptz))), _flow_health.per_flow)
                     WHERE (SELECT @extschema@._use_rollups('@extschema@.flow_runs'::regclass))
                    UNION ALL
                    SELECT * FROM @extschema@._flow_run_rows(_flow_health.flow_name,
                                      GREATEST(COALESCE(_flow_health.since, '-infinity'::timestamptz), @extschema@._run_hour_ceil(COALESCE(_flow_health.since, '-infinity'::timestamptz)), @extschema@._run_hour(COALESCE(_flow_health.until, 'infinity'::timestamptz))),
                                      COALESCE(_flow_health.until, 'infinity'::timestamptz), _flow_health.per_flow)
                     WHERE (SELECT @extschema@._use_rollups('@extschema@.flow_runs'::regclass))
                    UNION ALL
                    /* under row-level security: the runs the caller may see */
                    SELECT * FROM @extschema@._flow_runs_read(_flow_health.flow_name, COALESCE(_flow_health.since, '-infinity'::timestamptz), COALESCE(_flow_health.until, 'infinity'::timestamptz), _flow_health.per_flow)
                     WHERE NOT (SELECT @extschema@._use_rollups('@extschema@.flow_runs'::regclass))) x
             GROUP BY x.g) k
      LEFT JOIN (SELECT u.g, pg_catalog.max(u.p50) AS p50, pg_catalog.max(u.p95) AS p95 FROM (
                    /* all history: from the duration sketch (within 1%) */
                    SELECT c.g, pg_catalog.min(c.v) FILTER (WHERE c.cum > c.lo50)
                           + (pg_catalog.max(c.pos50) - pg_catalog.max(c.lo50))
                             * (pg_catalog.min(c.v) FILTER (WHERE c.cum > c.hi50)
                                - pg_catalog.min(c.v) FILTER (WHERE c.cum > c.lo50)) AS p50,
                           pg_catalog.min(c.v) FILTER (WHERE c.cum > c.lo95)
                           + (pg_catalog.max(c.pos95) - pg_catalog.max(c.lo95))
                             * (pg_catalog.min(c.v) FILTER (WHERE c.cum > c.hi95)
                                - pg_catalog.min(c.v) FILTER (WHERE c.cum > c.lo95)) AS p95
                      FROM (SELECT s.g, s.cum,
                                   CASE WHEN s.mn = s.mx THEN s.mn
                                        ELSE LEAST(GREATEST(@extschema@._duration_of_key(s.key), s.mn), s.mx) END AS v,
                                   0.5::double precision * (s.total - 1)::double precision AS pos50,
                                   pg_catalog.floor(0.5::double precision * (s.total - 1)::double precision) AS lo50,
                                   pg_catalog.ceil(0.5::double precision * (s.total - 1)::double precision) AS hi50,
                                   0.95::double precision * (s.total - 1)::double precision AS pos95,
                                   pg_catalog.floor(0.95::double precision * (s.total - 1)::double precision) AS lo95,
                                   pg_catalog.ceil(0.95::double precision * (s.total - 1)::double precision) AS hi95
                              FROM (SELECT a.g, a.key, a.mn, a.mx,
                                           pg_catalog.sum(a.n) OVER (PARTITION BY a.g ORDER BY a.key) AS cum,
                                           pg_catalog.sum(a.n) OVER (PARTITION BY a.g) AS total
                                      FROM (SELECT CASE WHEN _flow_health.per_flow THEN k.flow_name || '' ELSE '' END AS g, k.key,
                                                   pg_catalog.sum(k.runs) AS n, pg_catalog.min(k.min_value) AS mn,
                                                   pg_catalog.max(k.max_value) AS mx
                                              FROM @extschema@.flow_run_sketch k
                                             WHERE (SELECT @extschema@._use_rollups('@extschema@.flow_runs'::regclass))
                                               AND _flow_health.since IS NULL AND _flow_health.until IS NULL
                                               AND (_flow_health.flow_name IS NULL OR k.flow_name = _flow_health.flow_name)
                                             GROUP BY 1, 2) a) s) c
                     GROUP BY c.g
                    UNION ALL
                    /* a range, or under row-level security: exact, from the finished runs */
                    SELECT e.g,
                           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY e.duration_max),
                           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY e.duration_max)
                      FROM @extschema@._flow_runs_read(_flow_health.flow_name, COALESCE(_flow_health.since, '-infinity'::timestamptz),
                               CASE WHEN (SELECT @extschema@._use_rollups('@extschema@.flow_runs'::regclass)) AND _flow_health.since IS NULL AND _flow_health.until IS NULL
                                    THEN '-infinity'::timestamptz ELSE COALESCE(_flow_health.until, 'infinity'::timestamptz) END, _flow_health.per_flow) e
                     WHERE e.status IN ('Completed', 'Failed', 'Crashed') AND e.duration_max IS NOT NULL
                     GROUP BY e.g) u
                 GROUP BY u.g) q ON q.g = k.g;
END;
COMMENT ON FUNCTION @extschema@._flow_health(text, timestamptz, timestamptz, boolean) IS
    'internal: the flow health figures over runs of flow_name (all when NULL) started in [since, until), one row per flow name when per_flow, else one row (none when no run matches); from obs.flow_run_rollup, with the partial hours at the ends of the range from the runs';

CREATE FUNCTION @extschema@.get_flow_health(
    flow_name text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(flow_name text, total_runs bigint, success_count bigint, failure_count bigint,
              cancelled_count bigint, running_count bigint, success_rate double precision,
              avg_duration_seconds double precision, p50_duration_seconds double precision,
              p95_duration_seconds double precision, max_duration_seconds double precision,
              last_run_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT get_flow_health.flow_name,
           COALESCE(h.total_runs, 0), COALESCE(h.success_count, 0), COALESCE(h.failure_count, 0),
           COALESCE(h.cancelled_count, 0), COALESCE(h.running_count, 0), h.success_rate,
           h.avg_duration_seconds, h.p50_duration_seconds, h.p95_duration_seconds,
           h.max_duration_seconds, h.last_run_at
      FROM (VALUES (1)) one(x)
      LEFT JOIN @extschema@._flow_health(get_flow_health.flow_name, get_flow_health.since,
                                         get_flow_health.until, false) h ON true
     WHERE @extschema@._check_range(get_flow_health.since, get_flow_health.until);
END;
COMMENT ON FUNCTION @extschema@.get_flow_health(text, timestamptz, timestamptz) IS
$$one row of health figures for flow flow_name (all flows when NULL) over runs started in [since, until).
success_rate = Completed / (Completed + Failed + Crashed), NULL when that is 0; success_count = Completed; failure_count = Failed + Crashed; cancelled_count = Cancelled; running_count = Scheduled, Pending, Running, Paused or Cancelling.
Durations (seconds) are over Completed, Failed and Crashed runs with an end_time; last_run_at is the latest start_time.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since.$$;

CREATE VIEW @extschema@.flow_health WITH (security_invoker = true) AS
    SELECT h.flow_name, h.total_runs, h.success_count, h.failure_count, h.cancelled_count,
           h.running_count, h.success_rate, h.avg_duration_seconds, h.p50_duration_seconds,
           h.p95_duration_seconds, h.max_duration_seconds, h.last_run_at
      FROM @extschema@._flow_health(NULL, NULL, NULL, true) h;
COMMENT ON VIEW @extschema@.flow_health IS
    'obs.get_flow_health() per flow_name over all runs: success rate Completed / (Completed + Failed + Crashed), counts, durations';

/* the task figures of get_task_performance() and get_task_summary() */
CREATE FUNCTION @extschema@._task_figures(
    task_name text, since timestamptz, until timestamptz, per_task boolean)
RETURNS TABLE(task_name text, total_runs bigint, failure_count bigint, success_rate double precision,
              avg_duration_seconds double precision, p50_duration_seconds double precision,
              p95_duration_seconds double precision, max_duration_seconds double precision,
              total_inputs bigint, total_outputs bigint, throughput double precision)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN _task_figures.per_task THEN k.g END,
           k.total_runs, k.failure_count, k.success_rate, k.avg_duration_seconds, q.p50, q.p95,
           k.max_duration_seconds, k.total_inputs, k.total_outputs, k.throughput
      FROM (SELECT x.g,
                   pg_catalog.sum(x.runs)::bigint AS total_runs,
                   COALESCE(pg_catalog.sum(x.runs) FILTER (WHERE x.status IN ('Failed', 'Crashed')), 0)::bigint AS failure_count,
                   COALESCE(pg_catalog.sum(x.runs) FILTER (WHERE x.status = 'Completed'), 0)::double precision
                       / NULLIF(COALESCE(pg_catalog.sum(x.runs) FILTER (WHERE x.status IN ('Completed', 'Failed', 'Crashed')), 0), 0)::double precision
                       AS success_rate,
                   (pg_catalog.sum(x.duration_sum) FILTER (WHERE x.status IN ('Completed', 'Failed', 'Crashed')))::double precision
                       / NULLIF(pg_catalog.sum(x.timed_runs) FILTER (WHERE x.status IN ('Completed', 'Failed', 'Crashed')), 0)::double precision
                       AS avg_duration_seconds,
                   pg_catalog.max(x.duration_max) FILTER (WHERE x.status IN ('Completed', 'Failed', 'Crashed')) AS max_duration_seconds,
                   CASE WHEN pg_catalog.sum(x.inputs_runs) > 0 THEN pg_catalog.sum(x.inputs_sum) END::bigint AS total_inputs,
                   CASE WHEN pg_catalog.sum(x.outputs_runs) > 0 THEN pg_catalog.sum(x.outputs_sum) END::bigint AS total_outputs,
                   (pg_catalog.sum(x.paired_inputs) FILTER (WHERE x.status IN ('Completed', 'Failed', 'Crashed')))::double precision
                       / NULLIF((pg_catalog.sum(x.paired_duration) FILTER (WHERE x.status IN ('Completed', 'Failed', 'Crashed')))::double precision, 0)
                       AS throughput
              FROM (
                    /* the whole buckets in the range (all_time when it is open on both sides) */
                    SELECT CASE WHEN _task_figures.per_task THEN r.task_name || '' ELSE '' END AS g, r.status, r.runs, r.timed_runs, r.duration_sum, r.duration_max, r.inputs_runs, r.inputs_sum, r.outputs_runs, r.outputs_sum, r.paired_inputs, r.paired_duration
                      FROM @extschema@.task_run_rollup r
                     WHERE (SELECT @extschema@._use_rollups('@extschema@.task_runs'::regclass))
                       AND r.all_time = (_task_figures.since IS NULL AND _task_figures.until IS NULL)
                       AND (_task_figures.task_name IS NULL OR r.task_name = _task_figures.task_name)
                       AND r.bucket >= @extschema@._run_hour_ceil(COALESCE(_task_figures.since, '-infinity'::timestamptz))
                       AND r.bucket < @extschema@._run_hour(COALESCE(_task_figures.until, 'infinity'::timestamptz))
                    UNION ALL
                    /* the partial hours at the edges of the range, from the runs */
                    SELECT * FROM @extschema@._task_run_rows(_task_figures.task_name, COALESCE(_task_figures.since, '-infinity'::timestamptz),
                                      LEAST(COALESCE(_task_figures.until, 'infinity'::timestamptz), @extschema@._run_hour_ceil(COALESCE(_task_figures.since, '-infinity'::timestamptz))), _task_figures.per_task)
                     WHERE (SELECT @extschema@._use_rollups('@extschema@.task_runs'::regclass))
                    UNION ALL
                    SELECT * FROM @extschema@._task_run_rows(_task_figures.task_name,
                                      GREATEST(COALESCE(_task_figures.since, '-infinity'::timestamptz), @extschema@._run_hour_ceil(COALESCE(_task_figures.since, '-infinity'::timestamptz)), @extschema@._run_hour(COALESCE(_task_figures.until, 'infinity'::timestamptz))),
                                      COALESCE(_task_figures.until, 'infinity'::timestamptz), _task_figures.per_task)
                     WHERE (SELECT @extschema@._use_rollups('@extschema@.task_runs'::regclass))
                    UNION ALL
                    /* under row-level security: the runs the caller may see */
                    SELECT * FROM @extschema@._task_runs_read(_task_figures.task_name, COALESCE(_task_figures.since, '-infinity'::timestamptz), COALESCE(_task_figures.until, 'infinity'::timestamptz), _task_figures.per_task)
                     WHERE NOT (SELECT @extschema@._use_rollups('@extschema@.task_runs'::regclass))) x
             GROUP BY x.g) k
      LEFT JOIN (SELECT u.g, pg_catalog.max(u.p50) AS p50, pg_catalog.max(u.p95) AS p95 FROM (
                    /* all history: from the duration sketch (within 1%) */
                    SELECT c.g, pg_catalog.min(c.v) FILTER (WHERE c.cum > c.lo50)
                           + (pg_catalog.max(c.pos50) - pg_catalog.max(c.lo50))
                             * (pg_catalog.min(c.v) FILTER (WHERE c.cum > c.hi50)
                                - pg_catalog.min(c.v) FILTER (WHERE c.cum > c.lo50)) AS p50,
                           pg_catalog.min(c.v) FILTER (WHERE c.cum > c.lo95)
                           + (pg_catalog.max(c.pos95) - pg_catalog.max(c.lo95))
                             * (pg_catalog.min(c.v) FILTER (WHERE c.cum > c.hi95)
                                - pg_catalog.min(c.v) FILTER (WHERE c.cum > c.lo95)) AS p95
                      FROM (SELECT s.g, s.cum,
                                   CASE WHEN s.mn = s.mx THEN s.mn
                                        ELSE LEAST(GREATEST(@extschema@._duration_of_key(s.key), s.mn), s.mx) END AS v,
                                   0.5::double precision * (s.total - 1)::double precision AS pos50,
                                   pg_catalog.floor(0.5::double precision * (s.total - 1)::double precision) AS lo50,
                                   pg_catalog.ceil(0.5::double precision * (s.total - 1)::double precision) AS hi50,
                                   0.95::double precision * (s.total - 1)::double precision AS pos95,
                                   pg_catalog.floor(0.95::double precision * (s.total - 1)::double precision) AS lo95,
                                   pg_catalog.ceil(0.95::double precision * (s.total - 1)::double precision) AS hi95
                              FROM (SELECT a.g, a.key, a.mn, a.mx,
                                           pg_catalog.sum(a.n) OVER (PARTITION BY a.g ORDER BY a.key) AS cum,
                                           pg_catalog.sum(a.n) OVER (PARTITION BY a.g) AS total
                                      FROM (SELECT CASE WHEN _task_figures.per_task THEN k.task_name || '' ELSE '' END AS g, k.key,
                                                   pg_catalog.sum(k.runs) AS n, pg_catalog.min(k.min_value) AS mn,
                                                   pg_catalog.max(k.max_value) AS mx
                                              FROM @extschema@.task_run_sketch k
                                             WHERE (SELECT @extschema@._use_rollups('@extschema@.task_runs'::regclass))
                                               AND _task_figures.since IS NULL AND _task_figures.until IS NULL
                                               AND (_task_figures.task_name IS NULL OR k.task_name = _task_figures.task_name)
                                             GROUP BY 1, 2) a) s) c
                     GROUP BY c.g
                    UNION ALL
                    /* a range, or under row-level security: exact, from the finished runs */
                    SELECT e.g,
                           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY e.duration_max),
                           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY e.duration_max)
                      FROM @extschema@._task_runs_read(_task_figures.task_name, COALESCE(_task_figures.since, '-infinity'::timestamptz),
                               CASE WHEN (SELECT @extschema@._use_rollups('@extschema@.task_runs'::regclass)) AND _task_figures.since IS NULL AND _task_figures.until IS NULL
                                    THEN '-infinity'::timestamptz ELSE COALESCE(_task_figures.until, 'infinity'::timestamptz) END, _task_figures.per_task) e
                     WHERE e.status IN ('Completed', 'Failed', 'Crashed') AND e.duration_max IS NOT NULL
                     GROUP BY e.g) u
                 GROUP BY u.g) q ON q.g = k.g;
END;
COMMENT ON FUNCTION @extschema@._task_figures(text, timestamptz, timestamptz, boolean) IS
    'internal: the task figures over runs of task_name (all when NULL) started in [since, until), one row per task name when per_task, else one row (none when no run matches); from obs.task_run_rollup, with the partial hours at the ends of the range from the runs';

CREATE FUNCTION @extschema@.get_task_performance(
    task_name text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(task_name text, total_runs bigint, avg_duration_seconds double precision,
              p50_duration_seconds double precision, p95_duration_seconds double precision,
              max_duration_seconds double precision, total_inputs bigint, total_outputs bigint,
              throughput double precision, failure_count bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT get_task_performance.task_name,
           COALESCE(f.total_runs, 0), f.avg_duration_seconds, f.p50_duration_seconds,
           f.p95_duration_seconds, f.max_duration_seconds, f.total_inputs, f.total_outputs,
           f.throughput, COALESCE(f.failure_count, 0)
      FROM (VALUES (1)) one(x)
      LEFT JOIN @extschema@._task_figures(get_task_performance.task_name, get_task_performance.since,
                                          get_task_performance.until, false) f ON true
     WHERE @extschema@._check_range(get_task_performance.since, get_task_performance.until);
END;
COMMENT ON FUNCTION @extschema@.get_task_performance(text, timestamptz, timestamptz) IS
$$one row of performance figures for task task_name (all tasks when NULL) over runs started in [since, until).
Durations (seconds) are over Completed, Failed and Crashed runs with an end_time; throughput = sum(inputs_processed) / sum(duration_seconds) in records per second over those runs that have both; failure_count = Failed + Crashed.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since.$$;

CREATE VIEW @extschema@.task_performance WITH (security_invoker = true) AS
    SELECT f.task_name, f.total_runs, f.avg_duration_seconds, f.p50_duration_seconds,
           f.p95_duration_seconds, f.max_duration_seconds, f.total_inputs, f.total_outputs,
           f.throughput, f.failure_count
      FROM @extschema@._task_figures(NULL, NULL, NULL, true) f;
COMMENT ON VIEW @extschema@.task_performance IS
    'obs.get_task_performance() per task_name over all runs: durations, p50/p95, inputs, outputs, throughput (records/s), failures';

CREATE FUNCTION @extschema@.get_task_summary(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(task_name text, runs bigint, failures bigint, success_rate double precision,
              duration_seconds double precision, max_duration_seconds double precision,
              throughput double precision, inputs_processed bigint, outputs_produced bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT f.task_name, f.total_runs, f.failure_count, f.success_rate, f.avg_duration_seconds,
           f.max_duration_seconds, f.throughput, f.total_inputs, f.total_outputs
      FROM @extschema@._task_figures(NULL, get_task_summary.since, get_task_summary.until, true) f
     WHERE @extschema@._check_range(get_task_summary.since, get_task_summary.until);
END;
COMMENT ON FUNCTION @extschema@.get_task_summary(timestamptz, timestamptz) IS
$$one row per task_name over runs started in [since, until): runs, failures (Failed + Crashed), success_rate (Prefect's), duration_seconds (average) and max_duration_seconds over finished runs, throughput (records/s), inputs_processed, outputs_produced.
Slowest tasks: ORDER BY duration_seconds DESC LIMIT 5; highest throughput: ORDER BY throughput DESC NULLS LAST LIMIT 5; bottlenecks: WHERE duration_seconds > 30.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since.$$;

CREATE VIEW @extschema@.task_summary WITH (security_invoker = true) AS
    SELECT s.task_name, s.runs, s.failures, s.success_rate, s.duration_seconds,
           s.max_duration_seconds, s.throughput, s.inputs_processed, s.outputs_produced
      FROM @extschema@.get_task_summary(NULL, NULL) s;
COMMENT ON VIEW @extschema@.task_summary IS
    'obs.get_task_summary() over all runs: one row per task with runs, failures, success_rate, duration_seconds, throughput';
