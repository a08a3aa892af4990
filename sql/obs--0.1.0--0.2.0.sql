/*
 * obs 0.1.0 -> 0.2.0
 *
 * Every schema change of 0.2.0, in the order of sql/sections/.  The upgrade
 * test (test/suites/upgrade.sh) checks that a 0.1.0 database upgraded with
 * this script has exactly the objects of a fresh 0.2.0 install.
 */

\echo Use "ALTER EXTENSION obs UPDATE TO '0.2.0'" to load this file. \quit

/* ---- attack fixes (part 1 of 2: the schema guard must run before anything else) ---- */
/*
 * The schema guard (attack fixes).  The control file names schema obs, and
 * CREATE EXTENSION uses a schema of that name when one exists already.  A
 * role that may create schemas could make schema obs first and plant
 * operators and functions in it: the BEGIN ATOMIC bodies below bind their
 * operators when they are created, with the script's search_path (obs
 * first after pg_catalog), so a planted obs./(float8, numeric) would be
 * bound into them and later run as whoever calls them, a superuser
 * included.  So the script refuses a schema obs that is owned by a role
 * other than a superuser, on which a role other than a superuser may
 * create objects, or that holds an object owned by a role other than a
 * superuser.  Every name is qualified: nothing here resolves through the
 * schema being checked.
 */
DO $obs_schema_guard$
DECLARE
    s oid := '@extschema@'::pg_catalog.regnamespace;
    culprit text;
BEGIN
    SELECT pg_catalog.format('schema %s is owned by role %s, which is not a superuser',
                             n.nspname, pg_catalog.quote_ident(r.rolname))
      INTO culprit
      FROM pg_catalog.pg_namespace n
      JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
     WHERE n.oid OPERATOR(pg_catalog.=) s AND NOT r.rolsuper;
    IF culprit IS NULL THEN
        SELECT pg_catalog.format('role %s may create objects in schema %s',
                                 CASE a.grantee WHEN 0 THEN 'PUBLIC'
                                      ELSE pg_catalog.quote_ident(r.rolname) END, n.nspname)
          INTO culprit
          FROM pg_catalog.pg_namespace n
          CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a
          LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee
         WHERE n.oid OPERATOR(pg_catalog.=) s
           AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
           AND (r.rolsuper IS NOT TRUE)
         LIMIT 1;
    END IF;
    IF culprit IS NULL THEN
        SELECT pg_catalog.format('%s is owned by role %s, which is not a superuser',
                                 o.what, pg_catalog.quote_ident(r.rolname))
          INTO culprit
          FROM (SELECT pg_catalog.format('function %s', p.oid::pg_catalog.regprocedure) AS what, p.proowner AS owner
                  FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('operator %s', o.oid::pg_catalog.regoperator), o.oprowner
                  FROM pg_catalog.pg_operator o WHERE o.oprnamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('type %s', t.oid::pg_catalog.regtype), t.typowner
                  FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('relation %s', c.oid::pg_catalog.regclass), c.relowner
                  FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('collation %s', c.oid::pg_catalog.regcollation), c.collowner
                  FROM pg_catalog.pg_collation c WHERE c.collnamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('conversion %s', c.conname), c.conowner
                  FROM pg_catalog.pg_conversion c WHERE c.connamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('operator family %s', f.opfname), f.opfowner
                  FROM pg_catalog.pg_opfamily f WHERE f.opfnamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('text search configuration %s', c.cfgname), c.cfgowner
                  FROM pg_catalog.pg_ts_config c WHERE c.cfgnamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('text search dictionary %s', d.dictname), d.dictowner
                  FROM pg_catalog.pg_ts_dict d WHERE d.dictnamespace OPERATOR(pg_catalog.=) s) o
          JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) o.owner
         WHERE NOT r.rolsuper
         LIMIT 1;
    END IF;
    IF culprit IS NOT NULL THEN
        RAISE EXCEPTION 'obs cannot be installed or updated in schema %: %', '@extschema@', culprit
            USING ERRCODE = '42501',
                  DETAIL = 'Functions of obs bind the operators of their schema when they are created, and run as their caller; objects that another role controls there could run as a superuser.',
                  HINT = 'Drop schema @extschema@ (or give it and everything in it to a superuser, and revoke CREATE on it from other roles), then try again.';
    END IF;
END
$obs_schema_guard$;
/* ---- end attack fixes part 1 ---- */
/*
 * shipping (issue 9, see its block below): obs.logs gains txid first, before
 * log_json() gets a BEGIN ATOMIC body, which ties it to the table's row type
 * and would then forbid ALTER TABLE
 */
ALTER TABLE @extschema@.logs ADD COLUMN txid xid8 NOT NULL DEFAULT '2'::xid8;
ALTER TABLE @extschema@.logs ALTER COLUMN txid SET DEFAULT pg_catalog.pg_current_xact_id();
CREATE INDEX logs_txid_idx ON @extschema@.logs (txid, log_id);

/* ---- security and backups: issue 7 items 1, 4, 5, 7, 8 ---- */

/* item 1: pg_dump dumps the rows of every table and the position of every sequence */
SELECT pg_catalog.pg_extension_config_dump('@extschema@.logs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.logs_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.spans', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.spans_span_seq_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.metric_series', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.metric_series_series_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.metric_points', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.alerts_alert_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.alert_rules', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.flow_runs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.task_runs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.dead_letters', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.dead_letters_dead_letter_id_seq', '');

/* item 4: a replica identity for the one table without a key */
ALTER TABLE @extschema@.metric_points REPLICA IDENTITY FULL;

/* item 5: every SQL and PL/pgSQL function resolves names in pg_catalog only */
ALTER FUNCTION @extschema@._alert_args(text, double precision, text, interval, jsonb) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@._store_alerts(text, double precision, text, interval, jsonb, timestamptz, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.check_alert_conditions(text, double precision, text, interval, jsonb, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.add_alert_rule(text, text, double precision, text, interval, jsonb) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.drop_alert_rule(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.evaluate_alert_rules(timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.acknowledge_alert(bigint) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.get_flow_health(text, timestamptz, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.get_task_performance(text, timestamptz, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.get_task_summary(timestamptz, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.high_latency_by_endpoint(double precision, text, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.latency_heatmap(text, interval, double precision[], timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.jaeger_json(@extschema@.trace_id[], timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@._privilege_functions(text) SET search_path = pg_catalog, pg_temp;
CREATE OR REPLACE FUNCTION @extschema@.log_json(l @extschema@.logs)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.json_build_object(
               'timestamp', pg_catalog.to_char(l.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'level', l.level,
               'logger', l.logger,
               'message', l.message,
               'context', l.context,
               'tags', l.tags,
               'trace_id', l.trace_id::text,
               'span_id', l.span_id::text,
               'error', l.error,
               'log_id', l.log_id)::text;
END;
CREATE OR REPLACE FUNCTION @extschema@._jaeger_tag(key text, value jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.jsonb_build_object(
               'key', _jaeger_tag.key,
               'type', CASE pg_catalog.jsonb_typeof(_jaeger_tag.value)
                           WHEN 'boolean' THEN 'bool'
                           WHEN 'number' THEN
                               CASE WHEN (_jaeger_tag.value)::numeric = pg_catalog.trunc((_jaeger_tag.value)::numeric)
                                         AND pg_catalog.abs((_jaeger_tag.value)::numeric) < 9223372036854775807
                                    THEN 'int64' ELSE 'float64' END
                           ELSE 'string' END,
               'value', CASE WHEN pg_catalog.jsonb_typeof(_jaeger_tag.value) IN ('boolean', 'number', 'string')
                             THEN _jaeger_tag.value
                             ELSE pg_catalog.to_jsonb((_jaeger_tag.value)::text) END);
END;

/* item 4: purge also trims dead letters and acknowledged alerts */
CREATE OR REPLACE FUNCTION @extschema@.purge(older_than interval)
RETURNS TABLE(table_name text, deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_cutoff timestamptz;
    v_count bigint;
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'older_than must not be null' USING ERRCODE = '22004';
    END IF;
    IF $1 < '0'::interval THEN
        RAISE EXCEPTION 'older_than must not be negative'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The interval given was %s.', $1);
    END IF;
    v_cutoff := pg_catalog.now() - $1;

    DELETE FROM @extschema@.logs t WHERE t.ts < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'logs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.spans t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'spans'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.metric_points t WHERE t.ts < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'metric_points'; deleted := v_count; RETURN NEXT;

    /* an alert nobody acknowledged stays, however old: purge never closes one */
    DELETE FROM @extschema@.alerts t
     WHERE t.observed_at < v_cutoff AND t.acknowledged_at IS NOT NULL;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'alerts'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.task_runs t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'task_runs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.flow_runs t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'flow_runs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.dead_letters t WHERE t.received_at < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'dead_letters'; deleted := v_count; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.purge(interval) IS
$$retention: delete logs (ts), spans (start_time), metric_points (ts), acknowledged alerts (observed_at), task_runs and flow_runs (start_time) and dead_letters (received_at) older than now() - older_than; metric_series, alert_rules and unacknowledged alerts are kept.  Returns the rows deleted per table.
pg_cron: SELECT cron.schedule('obs-retention', '17 3 * * *', 'SELECT obs.purge(''30 days'')');
Errors: 22004 for NULL, 22023 for a negative interval.$$;

/* item 7: RLS on the tables holds through the views */
ALTER VIEW @extschema@.metrics SET (security_invoker = true);
ALTER VIEW @extschema@.ingest_stats SET (security_invoker = true);
ALTER VIEW @extschema@.active_alerts SET (security_invoker = true);
ALTER VIEW @extschema@.flow_health SET (security_invoker = true);
ALTER VIEW @extschema@.task_performance SET (security_invoker = true);
ALTER VIEW @extschema@.task_summary SET (security_invoker = true);
ALTER VIEW @extschema@.error_rate_by_service SET (security_invoker = true);
ALTER VIEW @extschema@.throughput_per_minute SET (security_invoker = true);
ALTER VIEW @extschema@.log_volume_per_minute SET (security_invoker = true);
ALTER VIEW @extschema@.service_performance SET (security_invoker = true);
ALTER VIEW @extschema@.logs_json SET (security_invoker = true);

/* item 8: ingest_stats for readers only; other databases for pg_monitor */
REVOKE EXECUTE ON FUNCTION @extschema@.ingest_stats() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.ingest_stats() IS
    'counters of the buffered write path since the server (re)initialised shared memory: this database''s, and every database''s for members of pg_monitor';
/* ---- dashboards: issue 7 items 18, 26; health figures once ---- */

/*
 * Health figures defined once (views select from their function), every
 * dashboard function with a [since, until) range that is an index condition,
 * log_volume(), throughput() and service_performance() range functions,
 * jaeger_json() by id through the primary key.  Functions that gain an
 * argument (until) are dropped and created again; the views keep their
 * columns and are replaced in place.
 */
DROP FUNCTION @extschema@.high_latency_by_endpoint(double precision, text, timestamptz);
DROP FUNCTION @extschema@.latency_heatmap(text, interval, double precision[], timestamptz);
DROP FUNCTION @extschema@.jaeger_json(@extschema@.trace_id[], timestamptz);

/* until earlier than since is an error; returns true so that it can be a qual */
CREATE OR REPLACE FUNCTION @extschema@._check_range(since timestamptz, until timestamptz)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
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

CREATE OR REPLACE FUNCTION @extschema@._flow_health(
    flow_name text, since timestamptz, until timestamptz, per_flow boolean)
RETURNS TABLE(flow_name text, total_runs bigint, success_count bigint, failure_count bigint,
              cancelled_count bigint, running_count bigint, success_rate double precision,
              avg_duration_seconds double precision, p50_duration_seconds double precision,
              p95_duration_seconds double precision, max_duration_seconds double precision,
              last_run_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN _flow_health.per_flow THEN r.flow_name || '' END,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed'),
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')),
           pg_catalog.count(*) FILTER (WHERE r.status = 'Cancelled'),
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Scheduled', 'Pending', 'Running', 'Paused', 'Cancelling')),
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed')::double precision
               / NULLIF(pg_catalog.count(*) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0),
           pg_catalog.avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.max(r.start_time)
      FROM @extschema@.flow_runs r
     WHERE (_flow_health.flow_name IS NULL OR r.flow_name = _flow_health.flow_name)
       AND r.start_time >= COALESCE(_flow_health.since, '-infinity'::timestamptz)
       AND r.start_time < COALESCE(_flow_health.until, 'infinity'::timestamptz)
     GROUP BY CASE WHEN _flow_health.per_flow THEN r.flow_name || '' END;
END;
COMMENT ON FUNCTION @extschema@._flow_health(text, timestamptz, timestamptz, boolean) IS
    'internal: the flow health figures over runs of flow_name (all when NULL) started in [since, until), one row per flow name when per_flow, else one row (none when no run matches)';

CREATE OR REPLACE FUNCTION @extschema@.get_flow_health(
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

CREATE OR REPLACE VIEW @extschema@.flow_health WITH (security_invoker = true) AS
    SELECT h.flow_name, h.total_runs, h.success_count, h.failure_count, h.cancelled_count,
           h.running_count, h.success_rate, h.avg_duration_seconds, h.p50_duration_seconds,
           h.p95_duration_seconds, h.max_duration_seconds, h.last_run_at
      FROM @extschema@._flow_health(NULL, NULL, NULL, true) h;
COMMENT ON VIEW @extschema@.flow_health IS
    'obs.get_flow_health() per flow_name over all runs: success rate Completed / (Completed + Failed + Crashed), counts, durations';

/* the task figures of get_task_performance() and get_task_summary() */
CREATE OR REPLACE FUNCTION @extschema@._task_figures(
    task_name text, since timestamptz, until timestamptz, per_task boolean)
RETURNS TABLE(task_name text, total_runs bigint, failure_count bigint, success_rate double precision,
              avg_duration_seconds double precision, p50_duration_seconds double precision,
              p95_duration_seconds double precision, max_duration_seconds double precision,
              total_inputs bigint, total_outputs bigint, throughput double precision)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN _task_figures.per_task THEN r.task_name || '' END,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')),
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed')::double precision
               / NULLIF(pg_catalog.count(*) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0),
           pg_catalog.avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.sum(r.inputs_processed)::bigint,
           pg_catalog.sum(r.outputs_produced)::bigint,
           pg_catalog.sum(r.inputs_processed) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                        AND r.duration_seconds IS NOT NULL)::double precision
               / NULLIF(pg_catalog.sum(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                                   AND r.inputs_processed IS NOT NULL), 0)
      FROM @extschema@.task_runs r
     WHERE (_task_figures.task_name IS NULL OR r.task_name = _task_figures.task_name)
       AND r.start_time >= COALESCE(_task_figures.since, '-infinity'::timestamptz)
       AND r.start_time < COALESCE(_task_figures.until, 'infinity'::timestamptz)
     GROUP BY CASE WHEN _task_figures.per_task THEN r.task_name || '' END;
END;
COMMENT ON FUNCTION @extschema@._task_figures(text, timestamptz, timestamptz, boolean) IS
    'internal: the task figures over runs of task_name (all when NULL) started in [since, until), one row per task name when per_task, else one row (none when no run matches)';

CREATE OR REPLACE FUNCTION @extschema@.get_task_performance(
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

CREATE OR REPLACE VIEW @extschema@.task_performance WITH (security_invoker = true) AS
    SELECT f.task_name, f.total_runs, f.avg_duration_seconds, f.p50_duration_seconds,
           f.p95_duration_seconds, f.max_duration_seconds, f.total_inputs, f.total_outputs,
           f.throughput, f.failure_count
      FROM @extschema@._task_figures(NULL, NULL, NULL, true) f;
COMMENT ON VIEW @extschema@.task_performance IS
    'obs.get_task_performance() per task_name over all runs: durations, p50/p95, inputs, outputs, throughput (records/s), failures';

CREATE OR REPLACE FUNCTION @extschema@.get_task_summary(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
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

CREATE OR REPLACE VIEW @extschema@.task_summary WITH (security_invoker = true) AS
    SELECT s.task_name, s.runs, s.failures, s.success_rate, s.duration_seconds,
           s.max_duration_seconds, s.throughput, s.inputs_processed, s.outputs_produced
      FROM @extschema@.get_task_summary(NULL, NULL) s;
COMMENT ON VIEW @extschema@.task_summary IS
    'obs.get_task_summary() over all runs: one row per task with runs, failures, success_rate, duration_seconds, throughput';

/* bucket must be a positive interval without months or years; true when it is */
CREATE OR REPLACE FUNCTION @extschema@._check_bucket(bucket interval)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'bucket must not be null' USING ERRCODE = '22004';
    END IF;
    IF $1 <= '0'::interval OR pg_catalog.date_part('month', $1) <> 0
       OR pg_catalog.date_part('year', $1) <> 0 THEN
        RAISE EXCEPTION 'bucket must be a positive interval without months or years'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The bucket given was %s.', $1);
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@._check_bucket(interval) IS
    'internal: raises 22004 for a NULL bucket and 22023 for one that is not positive or has months or years, else true';

CREATE OR REPLACE FUNCTION @extschema@.high_latency_by_endpoint(
    threshold_ms double precision DEFAULT 1000,
    metric_name text DEFAULT 'request_latency_ms',
    since timestamptz DEFAULT NULL,
    until timestamptz DEFAULT NULL)
RETURNS TABLE(endpoint text, requests bigint, avg_latency_ms double precision,
              max_latency_ms double precision)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.tags ->> 'endpoint',
           pg_catalog.count(*),
           pg_catalog.avg(p.value),
           pg_catalog.max(p.value)
      FROM @extschema@.metric_series s
      JOIN @extschema@.metric_points p ON p.series_id = s.series_id
     WHERE @extschema@._check_range(high_latency_by_endpoint.since, high_latency_by_endpoint.until)
       AND s.name = high_latency_by_endpoint.metric_name
       AND s.tags ? 'endpoint'
       AND p.value > high_latency_by_endpoint.threshold_ms
       AND p.ts >= COALESCE(high_latency_by_endpoint.since, '-infinity'::timestamptz)
       AND p.ts < COALESCE(high_latency_by_endpoint.until, 'infinity'::timestamptz)
     GROUP BY 1
     ORDER BY 2 DESC, 1;
END;
COMMENT ON FUNCTION @extschema@.high_latency_by_endpoint(double precision, text, timestamptz, timestamptz) IS
$$the seed's "high latency requests" query: samples of metric_name above threshold_ms taken in [since, until), counted per "endpoint" tag, most first.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since.$$;

/* spans per service over [since, until): the figures of two views */
CREATE OR REPLACE FUNCTION @extschema@.service_performance(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(service_name text, service_type @extschema@.service_type, spans bigint,
              avg_ms double precision, p95_ms double precision, max_ms double precision,
              errors bigint, error_rate double precision)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.service_name, s.service_type,
           pg_catalog.count(*),
           pg_catalog.avg(s.duration_us::double precision / 1000.0),
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY s.duration_us::double precision / 1000.0),
           pg_catalog.max(s.duration_us)::double precision / 1000.0,
           pg_catalog.count(*) FILTER (WHERE s.status = 'error'),
           pg_catalog.count(*) FILTER (WHERE s.status = 'error')::double precision
               / pg_catalog.count(*)
      FROM @extschema@.spans s
     WHERE @extschema@._check_range(service_performance.since, service_performance.until)
       AND s.start_time >= COALESCE(service_performance.since, '-infinity'::timestamptz)
       AND s.start_time < COALESCE(service_performance.until, 'infinity'::timestamptz)
     GROUP BY s.service_name, s.service_type;
END;
COMMENT ON FUNCTION @extschema@.service_performance(timestamptz, timestamptz) IS
$$the Kibana "service performance" panel over spans started in [since, until): spans per service name and type with average, p95 and maximum duration in milliseconds, error spans and the error ratio (0-1).
NULL since or until leaves that side open; errors: 22023 when until is earlier than since.$$;

CREATE OR REPLACE VIEW @extschema@.error_rate_by_service WITH (security_invoker = true) AS
    SELECT p.service_name, p.service_type, p.spans, p.errors, p.error_rate
      FROM @extschema@.service_performance(NULL, NULL) p;
COMMENT ON VIEW @extschema@.error_rate_by_service IS
    'the seed''s "error rate by service" query: finished spans, error spans and their ratio (0-1) per service; obs.service_performance(since, until) over a range';

CREATE OR REPLACE FUNCTION @extschema@.throughput(
    since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL, bucket interval DEFAULT '1 minute')
RETURNS TABLE(time_bucket timestamptz, service_name text, spans bigint, errors bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.date_bin(throughput.bucket, s.start_time, '2000-01-01 00:00:00+00'::timestamptz),
           s.service_name,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE s.status = 'error')
      FROM @extschema@.spans s
     WHERE @extschema@._check_bucket(throughput.bucket)
       AND @extschema@._check_range(throughput.since, throughput.until)
       AND s.start_time >= COALESCE(throughput.since, '-infinity'::timestamptz)
       AND s.start_time < COALESCE(throughput.until, 'infinity'::timestamptz)
     GROUP BY 1, 2;
END;
COMMENT ON FUNCTION @extschema@.throughput(timestamptz, timestamptz, interval) IS
$$the seed's "throughput trend": spans started in [since, until) per time bucket (date_bin from 2000-01-01 UTC) and service, with their errors.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since, 22004 for a NULL bucket, 22023 for a bucket that is not positive or has months or years.$$;

CREATE OR REPLACE VIEW @extschema@.throughput_per_minute WITH (security_invoker = true) AS
    SELECT t.time_bucket AS minute, t.service_name, t.spans, t.errors
      FROM @extschema@.throughput(NULL, NULL, '1 minute') t;
COMMENT ON VIEW @extschema@.throughput_per_minute IS
    'the seed''s "throughput trend" query: spans started per minute and service, with their errors (the Kibana error-rate trend); obs.throughput(since, until) over a range';

CREATE OR REPLACE FUNCTION @extschema@.log_volume(
    since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL, bucket interval DEFAULT '1 minute')
RETURNS TABLE(time_bucket timestamptz, level @extschema@.log_level, records bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.date_bin(log_volume.bucket, l.ts, '2000-01-01 00:00:00+00'::timestamptz),
           l.level,
           pg_catalog.count(*)
      FROM @extschema@.logs l
     WHERE @extschema@._check_bucket(log_volume.bucket)
       AND @extschema@._check_range(log_volume.since, log_volume.until)
       AND l.ts >= COALESCE(log_volume.since, '-infinity'::timestamptz)
       AND l.ts < COALESCE(log_volume.until, 'infinity'::timestamptz)
     GROUP BY 1, 2;
END;
COMMENT ON FUNCTION @extschema@.log_volume(timestamptz, timestamptz, interval) IS
$$log records with ts in [since, until) per time bucket (date_bin from 2000-01-01 UTC) and level (the CloudWatch "stats count() by bin(1m)" over logs).
NULL since or until leaves that side open; errors: 22023 when until is earlier than since, 22004 for a NULL bucket, 22023 for a bucket that is not positive or has months or years.$$;

CREATE OR REPLACE VIEW @extschema@.log_volume_per_minute WITH (security_invoker = true) AS
    SELECT v.time_bucket AS minute, v.level, v.records
      FROM @extschema@.log_volume(NULL, NULL, '1 minute') v;
COMMENT ON VIEW @extschema@.log_volume_per_minute IS
    'log records per minute and level (the CloudWatch "stats count() by bin(1m)" over logs); obs.log_volume(since, until) over a range';

/* the heatmap's cells; latency_heatmap() checks the arguments first */
CREATE OR REPLACE FUNCTION @extschema@._latency_heatmap(
    metric_name text, bucket interval, bounds double precision[], since timestamptz, until timestamptz)
RETURNS TABLE(time_bucket timestamptz, lower_ms double precision, upper_ms double precision,
              requests bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT h.tb, CASE WHEN h.wb > 0 THEN _latency_heatmap.bounds[h.wb] END,
           _latency_heatmap.bounds[h.wb + 1], pg_catalog.count(*)
      FROM (SELECT pg_catalog.date_bin(_latency_heatmap.bucket, p.ts, '2000-01-01 00:00:00+00'::timestamptz) AS tb,
                   pg_catalog.width_bucket(p.value, _latency_heatmap.bounds) AS wb
              FROM @extschema@.metric_series s
              JOIN @extschema@.metric_points p ON p.series_id = s.series_id
             WHERE s.name = _latency_heatmap.metric_name
               AND p.ts >= COALESCE(_latency_heatmap.since, '-infinity'::timestamptz)
               AND p.ts < COALESCE(_latency_heatmap.until, 'infinity'::timestamptz)) h
     GROUP BY h.tb, h.wb
     ORDER BY h.tb, h.wb;
END;
COMMENT ON FUNCTION @extschema@._latency_heatmap(text, interval, double precision[], timestamptz, timestamptz) IS
    'internal: the cells of obs.latency_heatmap(), whose arguments it has checked';

CREATE OR REPLACE FUNCTION @extschema@.latency_heatmap(
    metric_name text DEFAULT 'request_latency_ms',
    bucket interval DEFAULT '1 minute',
    bounds double precision[] DEFAULT '{10,50,100,250,500,1000,2500,5000}',
    since timestamptz DEFAULT NULL,
    until timestamptz DEFAULT NULL)
RETURNS TABLE(time_bucket timestamptz, lower_ms double precision, upper_ms double precision,
              requests bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'metric_name must not be null' USING ERRCODE = '22004';
    END IF;
    PERFORM @extschema@._check_bucket($2);
    IF $3 IS NULL THEN
        RAISE EXCEPTION 'bounds must not be null' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.cardinality($3) = 0 OR pg_catalog.array_ndims($3) <> 1
       OR EXISTS (SELECT 1 FROM pg_catalog.unnest($3) WITH ORDINALITY u(b, i)
                   WHERE u.b IS NULL OR u.b IN ('NaN', 'Infinity', '-Infinity')
                      OR (u.i > 1 AND u.b <= ($3)[u.i - 1])) THEN
        RAISE EXCEPTION 'bounds must be finite numbers in strictly ascending order'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The bounds given were %s.', $3);
    END IF;
    PERFORM @extschema@._check_range($4, $5);
    RETURN QUERY SELECT * FROM @extschema@._latency_heatmap($1, $2, $3, $4, $5);
END
$$;
COMMENT ON FUNCTION @extschema@.latency_heatmap(text, interval, double precision[], timestamptz, timestamptz) IS
$$the Kibana "request latency heatmap": samples of metric_name taken in [since, until), counted per time bucket (date_bin from 2000-01-01 UTC) and value bucket [lower_ms, upper_ms) cut at bounds; lower_ms NULL is below bounds[1], upper_ms NULL is at or above the last bound; only non-empty cells are returned.
NULL since or until leaves that side open.  Errors: 22004 for NULL metric_name, bucket or bounds; 22023 for a bucket that is not positive or has months/years, bounds that are empty, not finite or not strictly ascending, or until earlier than since.$$;

CREATE OR REPLACE VIEW @extschema@.service_performance WITH (security_invoker = true) AS
    SELECT p.service_name, p.service_type, p.spans, p.avg_ms, p.p95_ms, p.max_ms, p.errors, p.error_rate
      FROM @extschema@.service_performance(NULL, NULL) p;
COMMENT ON VIEW @extschema@.service_performance IS
    'the Kibana "service performance" panel: spans per service with average, p95 and maximum duration in milliseconds and the error ratio; obs.service_performance(since, until) over a range';

CREATE FUNCTION @extschema@.jaeger_json(
    trace_ids @extschema@.trace_id[] DEFAULT NULL, since timestamptz DEFAULT NULL,
    until timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH traces AS (
        SELECT s.trace_id
          FROM @extschema@.spans s
         WHERE jaeger_json.trace_ids IS NOT NULL
           AND s.trace_id = ANY (jaeger_json.trace_ids)
           AND (jaeger_json.since IS NULL OR s.start_time >= jaeger_json.since)
           AND (jaeger_json.until IS NULL OR s.start_time < jaeger_json.until)
        UNION
        SELECT s.trace_id
          FROM @extschema@.spans s
         WHERE jaeger_json.trace_ids IS NULL
           AND s.start_time >= COALESCE(jaeger_json.since, '-infinity'::timestamptz)
           AND s.start_time < COALESCE(jaeger_json.until, 'infinity'::timestamptz)
    ), trace_spans AS (
        /* each trace's spans through the primary key (OFFSET 0 keeps the
           lookup per trace rather than a join over the whole table) */
        SELECT s.*,
               pg_catalog.min(s.start_time) OVER (PARTITION BY s.trace_id, s.service_name) AS service_start
          FROM traces t
         CROSS JOIN LATERAL (SELECT x.* FROM @extschema@.spans x
                              WHERE x.trace_id = t.trace_id OFFSET 0) s
    ), spans AS (
        /* processes are numbered p1, p2, ... in the order their service first starts */
        SELECT s.*,
               'p' || pg_catalog.dense_rank() OVER (PARTITION BY s.trace_id
                                                    ORDER BY s.service_start, s.service_name) AS process_id,
               (SELECT pg_catalog.jsonb_agg(t.tag ORDER BY t.ord, t.key)
                  FROM (SELECT 1 AS ord, e.key, @extschema@._jaeger_tag(e.key, e.value) AS tag
                          FROM pg_catalog.jsonb_each(COALESCE(s.tags, '{}'::jsonb)) e
                        UNION ALL
                        SELECT 2, 'service.type',
                               @extschema@._jaeger_tag('service.type', pg_catalog.to_jsonb(s.service_type::text))
                        UNION ALL
                        SELECT 3, 'otel.status_code',
                               @extschema@._jaeger_tag('otel.status_code', pg_catalog.to_jsonb(pg_catalog.upper(s.status::text)))
                         WHERE s.status <> 'unset'
                        UNION ALL
                        SELECT 4, 'otel.status_description',
                               @extschema@._jaeger_tag('otel.status_description', pg_catalog.to_jsonb(s.error))
                         WHERE s.error IS NOT NULL
                        UNION ALL
                        SELECT 5, 'error', @extschema@._jaeger_tag('error', 'true'::jsonb)
                         WHERE s.status = 'error') t) AS jaeger_tags
          FROM trace_spans s
    ), per_trace AS (
        SELECT s.trace_id,
               pg_catalog.min(s.start_time) AS first_start,
               pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'traceID', s.trace_id::text,
                   'spanID', s.span_id::text,
                   'operationName', s.operation,
                   'references', CASE WHEN s.parent_span_id IS NULL THEN '[]'::jsonb
                                      ELSE pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                                               'refType', 'CHILD_OF',
                                               'traceID', s.trace_id::text,
                                               'spanID', s.parent_span_id::text)) END,
                   'startTime', (EXTRACT(epoch FROM s.start_time) * 1000000)::bigint,
                   'duration', s.duration_us,
                   'tags', s.jaeger_tags,
                   'logs', '[]'::jsonb,
                   'processID', s.process_id,
                   'warnings', NULL) ORDER BY s.start_time, s.span_seq) AS spans,
               pg_catalog.jsonb_object_agg(s.process_id, pg_catalog.jsonb_build_object(
                   'serviceName', s.service_name, 'tags', '[]'::jsonb)) AS processes
          FROM spans s
         GROUP BY s.trace_id
    )
    SELECT pg_catalog.jsonb_build_object('data', COALESCE(pg_catalog.jsonb_agg(
               pg_catalog.jsonb_build_object('traceID', t.trace_id::text, 'spans', t.spans,
                                             'processes', t.processes, 'warnings', NULL)
               ORDER BY t.first_start, t.trace_id), '[]'::jsonb))
      FROM per_trace t
     WHERE @extschema@._check_range(jaeger_json.since, jaeger_json.until)
$$;
COMMENT ON FUNCTION @extschema@.jaeger_json(@extschema@.trace_id[], timestamptz, timestamptz) IS
$$the traces trace_ids (all when NULL) that have a span started in [since, until) (NULL leaves that side open), with all their spans, as a Jaeger JSON document ({"data": [trace, ...]}) that the Jaeger UI opens with "JSON File"; one process per service name; span tags are the span's tags plus service.type, otel.status_code (OK/ERROR, absent when unset), otel.status_description (the error text) and error=true for error spans.
Errors: 22023 when until is earlier than since.$$;

CREATE OR REPLACE FUNCTION @extschema@._privilege_functions(role_kind text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE _privilege_functions.role_kind
        /* signal writers: granted by grant_writer(), revoked from PUBLIC */
        WHEN 'writer' THEN ARRAY[
            'log', 'debug', 'info', 'warning', 'error', 'critical',
            'start_span', 'finish_span', 'set_traceparent',
            'record_metric', 'record_flow_execution', 'record_task_execution']
        /* readers: granted by grant_reader() (PUBLIC keeps EXECUTE; SELECT decides) */
        WHEN 'reader' THEN ARRAY[
            'get_flow_health', 'get_task_performance', 'get_task_summary',
            'high_latency_by_endpoint', 'latency_heatmap', 'log_json', 'jaeger_json',
            'current_span_id', 'current_trace_id', 'current_traceparent', 'open_spans',
            'parse_traceparent', 'reset_spans', 'flush', 'ingest_stats', 'trace_sampled',
            'log_volume', 'throughput', 'service_performance', '_check_range', '_check_bucket',
            '_flow_health', '_task_figures', '_latency_heatmap']
        /* administration: revoked from PUBLIC, granted to no helper role */
        WHEN 'admin' THEN ARRAY[
            'check_alert_conditions', 'add_alert_rule', 'drop_alert_rule',
            'evaluate_alert_rules', 'acknowledge_alert', 'purge', '_store_alerts',
            'grant_writer', 'grant_reader', 'revoke_writer', 'revoke_reader']
    END
$$;
COMMENT ON FUNCTION @extschema@._privilege_functions(text) IS
    'internal: the names of obs''s functions in each privilege group (writer, reader, admin)';

/* ---- end dashboards ---- */
/* ---- buffered ingest: issue 7 item 25 (obs.ingest_stats.lost_at_crash_max) ---- */
/*
 * The result type of obs.ingest_stats() gains a column: the view and the
 * function are dropped and created again, and the privileges granted on
 * them (obs.grant_reader(), or by hand) are granted again.
 */
DO $ingest_stats$
DECLARE
    grants text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('GRANT %s ON %s TO %s', a.privilege_type, o.target,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END),
               '; ')
      INTO grants
      FROM (SELECT 'TABLE @extschema@.ingest_stats' AS target, c.relacl AS acl, c.relowner AS owner
              FROM pg_catalog.pg_class c WHERE c.oid = '@extschema@.ingest_stats'::pg_catalog.regclass
            UNION ALL
            SELECT 'FUNCTION @extschema@.ingest_stats()', p.proacl, p.proowner
              FROM pg_catalog.pg_proc p WHERE p.oid = '@extschema@.ingest_stats()'::pg_catalog.regprocedure) o,
           LATERAL pg_catalog.aclexplode(o.acl) a
     WHERE a.grantee <> o.owner;

    DROP VIEW @extschema@.ingest_stats;
    DROP FUNCTION @extschema@.ingest_stats();
    CREATE FUNCTION @extschema@.ingest_stats(
        OUT database text, OUT signal text, OUT accepted bigint, OUT stored bigint,
        OUT dropped_full bigint, OUT dropped_other bigint, OUT dead_lettered bigint,
        OUT pending bigint, OUT sampled_out bigint, OUT pending_bytes bigint,
        OUT buffer_size bigint, OUT batches bigint, OUT retries bigint,
        OUT last_flush_at timestamptz, OUT worker_pid integer, OUT lost_at_crash_max bigint)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'obs_ingest_stats' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
    COMMENT ON FUNCTION @extschema@.ingest_stats() IS
        'counters of the buffered write path since the server (re)initialised shared memory: this database''s, and every database''s for members of pg_monitor; lost_at_crash_max bounds what the crash before lost';
    REVOKE EXECUTE ON FUNCTION @extschema@.ingest_stats() FROM PUBLIC;
    CREATE VIEW @extschema@.ingest_stats WITH (security_invoker = true) AS SELECT * FROM @extschema@.ingest_stats();
    COMMENT ON VIEW @extschema@.ingest_stats IS
        'per database and signal: accepted = stored + dropped_full + dropped_other + dead_lettered + pending; sampled_out is apart';

    IF grants IS NOT NULL THEN
        EXECUTE grants;
    END IF;
END
$ingest_stats$;
/* ---- alerts: issue 7 items 14-17 ---- */
/*
 * Alerts are keyed per checker (rule_name, NULL for ad-hoc checks) and per
 * sample (identical samples numbered by sample_no); rules keep an
 * evaluation watermark and their last error; every alert function pins
 * search_path.  The old key is a subset of the new one, so existing alerts
 * keep fitting it; they become sample 1 of their group.
 */
ALTER TABLE @extschema@.alerts ADD COLUMN sample_no integer NOT NULL DEFAULT 1;
ALTER TABLE @extschema@.alerts DROP CONSTRAINT alerts_series_id_observed_at_comparison_threshold_key;
ALTER TABLE @extschema@.alerts ADD CONSTRAINT alerts_sample_key
    UNIQUE NULLS NOT DISTINCT (rule_name, series_id, observed_at, value, sample_no, comparison, threshold);
COMMENT ON TABLE @extschema@.alerts IS
    'threshold breaches stored by obs.check_alert_conditions() (rule_name NULL) and obs.evaluate_alert_rules(); one row per breaching sample, rule, comparison and threshold';
ALTER TABLE @extschema@.alert_rules
    ADD COLUMN lateness interval NOT NULL DEFAULT '10 minutes' CHECK (lateness >= '0'),
    ADD COLUMN last_evaluated_at timestamptz,
    ADD COLUMN last_window tstzrange,
    ADD COLUMN last_xmin xid8,
    ADD COLUMN last_error text,
    ADD COLUMN last_error_at timestamptz;
COMMENT ON COLUMN @extschema@.alert_rules.lateness IS
    'how far before its window a sample stored since the previous evaluation is still checked (see README, "Lookback against schedule")';
COMMENT ON COLUMN @extschema@.alert_rules.last_evaluated_at IS
    'when the rule was last evaluated without error';
COMMENT ON COLUMN @extschema@.alert_rules.last_window IS
    'the window (as_of - lookback, as_of] of the last evaluation without error';
COMMENT ON COLUMN @extschema@.alert_rules.last_xmin IS
    'xmin of the snapshot of the last evaluation without error: samples stored by older transactions were visible to it';
COMMENT ON COLUMN @extschema@.alert_rules.last_error IS
    'SQLSTATE and message of the last evaluation if it failed, NULL after one without error';
COMMENT ON COLUMN @extschema@.alert_rules.last_error_at IS
    'when the last evaluation failed, NULL after one without error';

CREATE OR REPLACE FUNCTION @extschema@._alert_args(
    p_metric_name text, p_threshold double precision, p_comparison text,
    p_lookback interval, p_tags jsonb)
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_comparison text;
BEGIN
    IF p_metric_name IS NULL THEN
        RAISE EXCEPTION 'metric_name must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_threshold IS NULL THEN
        RAISE EXCEPTION 'threshold must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_threshold IN ('NaN'::double precision, 'Infinity'::double precision,
                       '-Infinity'::double precision) THEN
        RAISE EXCEPTION 'threshold must be a finite number'
            USING ERRCODE = '22003',
                  DETAIL = pg_catalog.format('The threshold given was %s.', p_threshold);
    END IF;
    IF p_comparison IS NULL THEN
        RAISE EXCEPTION 'comparison must not be null' USING ERRCODE = '22004';
    END IF;
    v_comparison := CASE pg_catalog.lower(pg_catalog.btrim(p_comparison))
        WHEN 'greater' THEN 'greater'
        WHEN '>' THEN 'greater'
        WHEN 'less' THEN 'less'
        WHEN '<' THEN 'less'
        WHEN 'greater_or_equal' THEN 'greater_or_equal'
        WHEN '>=' THEN 'greater_or_equal'
        WHEN 'less_or_equal' THEN 'less_or_equal'
        WHEN '<=' THEN 'less_or_equal'
    END;
    IF v_comparison IS NULL THEN
        RAISE EXCEPTION 'invalid comparison "%"', p_comparison
            USING ERRCODE = '22023',
                  HINT = 'Valid comparisons are greater, less, greater_or_equal and less_or_equal, or >, <, >= and <=.';
    END IF;
    IF p_lookback IS NULL THEN
        RAISE EXCEPTION 'lookback must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_lookback < '0'::interval THEN
        RAISE EXCEPTION 'lookback must not be negative'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The lookback given was %s.', p_lookback);
    END IF;
    IF p_tags IS NOT NULL AND pg_catalog.jsonb_typeof(p_tags) <> 'object' THEN
        RAISE EXCEPTION 'tags must be a JSON object'
            USING ERRCODE = '22023',
                  DETAIL = 'obs stores tags as key/value pairs, e.g. ''{"env": "production"}''.';
    END IF;
    RETURN v_comparison;
END
$$;
COMMENT ON FUNCTION @extschema@._alert_args(text, double precision, text, interval, jsonb) IS
    'internal: validate alert arguments and return the canonical comparison word';

CREATE FUNCTION @extschema@._xid_precedes(x xid, horizon xid8)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT horizon IS NOT NULL
       AND (x::text::bigint < 3
            OR ((x::text::bigint - (horizon::text::bigint % 4294967296) + 4294967296)
                % 4294967296) >= 2147483648);
END;
COMMENT ON FUNCTION @extschema@._xid_precedes(xid, xid8) IS
    'internal: whether transaction x (a row''s xmin) precedes the full transaction id horizon';

DROP FUNCTION @extschema@._store_alerts(text, double precision, text, interval, jsonb, timestamptz, text);
CREATE FUNCTION @extschema@._store_alerts(
    p_metric_name text, p_threshold double precision, p_comparison text,
    p_tags jsonb, p_rule_name text, p_since timestamptz, p_until timestamptz,
    p_lateness interval, p_last_window tstzrange, p_last_xmin xid8)
RETURNS bigint[]
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_scan_since timestamptz := p_since;
    v_last_xmin xid8 := p_last_xmin;
    v_last_lo timestamptz;
    v_last_hi timestamptz;
    v_new bigint[] := '{}';
    v_symbol text;
    r record;
BEGIN
    /* a watermark from the future comes from another cluster (a restored
       dump): then this is like a first evaluation */
    IF p_last_xmin > pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot()) THEN
        v_last_xmin := NULL;
    END IF;
    IF v_last_xmin IS NOT NULL AND p_lateness IS NOT NULL THEN
        v_scan_since := p_since - p_lateness;
    END IF;
    IF v_last_xmin IS NOT NULL AND p_last_window IS NOT NULL
       AND NOT pg_catalog.isempty(p_last_window) THEN
        v_last_lo := pg_catalog.lower(p_last_window);
        v_last_hi := pg_catalog.upper(p_last_window);
    END IF;
    v_symbol := CASE p_comparison WHEN 'greater' THEN '>' WHEN 'less' THEN '<'
                                  WHEN 'greater_or_equal' THEN '>=' ELSE '<=' END;

    FOR r IN
        INSERT INTO @extschema@.alerts AS a
               (metric_name, series_id, tags, observed_at, value, threshold,
                comparison, severity, rule_name, sample_no)
        SELECT b.name, b.series_id, b.tags, b.ts, b.value, p_threshold,
               p_comparison,
               CASE WHEN pg_catalog.abs(b.value::numeric - p_threshold::numeric)
                         > 0.1 * pg_catalog.abs(p_threshold::numeric)
                    THEN 'high' ELSE 'warning' END::@extschema@.alert_severity,
               p_rule_name, b.sample_no
          FROM (SELECT c.*,
                       pg_catalog.row_number() OVER w AS sample_no,
                       pg_catalog.bool_or(c.candidate) OVER w AS group_candidate
                  FROM (SELECT s.series_id, s.name, s.tags, p.ts, p.value,
                               NOT (k.seen AND p.ts > v_last_lo AND p.ts <= v_last_hi) IS TRUE
                               AND (p.ts > p_since OR NOT k.seen
                                    OR COALESCE(p.ts > v_last_hi, false)) AS candidate
                          FROM @extschema@.metric_series s
                          JOIN @extschema@.metric_points p ON p.series_id = s.series_id
                         CROSS JOIN LATERAL (
                               SELECT @extschema@._xid_precedes(p.xmin, v_last_xmin) AS seen) k
                         WHERE s.name = p_metric_name
                           AND (p_tags IS NULL OR s.tags @> p_tags)
                           AND p.ts > v_scan_since AND p.ts <= p_until
                           AND CASE p_comparison
                                   WHEN 'greater' THEN p.value > p_threshold
                                   WHEN 'less' THEN p.value < p_threshold
                                   WHEN 'greater_or_equal' THEN p.value >= p_threshold
                                   ELSE p.value <= p_threshold
                               END) c
                WINDOW w AS (PARTITION BY c.series_id, c.ts, c.value)) b
         WHERE b.group_candidate
         ORDER BY b.series_id, b.ts, b.value, b.sample_no
        ON CONFLICT ON CONSTRAINT alerts_sample_key DO NOTHING
        RETURNING a.alert_id, a.metric_name, a.tags, a.value, a.severity, a.observed_at
    LOOP
        v_new := v_new || r.alert_id;
        PERFORM @extschema@.warning(
            pg_catalog.format('alert: %s %s %s (value %s, %s)',
                              r.metric_name, v_symbol, p_threshold, r.value, r.severity),
            pg_catalog.jsonb_build_object(
                'alert_id', r.alert_id, 'metric_name', r.metric_name,
                'value', r.value, 'threshold', p_threshold,
                'comparison', p_comparison, 'severity', r.severity,
                'observed_at', r.observed_at, 'rule_name', p_rule_name),
            r.tags,
            'obs.alerts');
    END LOOP;
    RETURN v_new;
END
$$;
COMMENT ON FUNCTION @extschema@._store_alerts(text, double precision, text, jsonb, text, timestamptz, timestamptz, interval, tstzrange, xid8) IS
    'internal: store the new breaches of one alert condition and return their ids (see check_alert_conditions and evaluate_alert_rules)';
REVOKE EXECUTE ON FUNCTION @extschema@._store_alerts(text, double precision, text, jsonb, text, timestamptz, timestamptz, interval, tstzrange, xid8) FROM PUBLIC;

CREATE FUNCTION @extschema@._check_alerts(
    p_metric_name text, p_threshold double precision, p_comparison text,
    p_lookback interval, p_tags jsonb, p_as_of timestamptz)
RETURNS TABLE(o_alert_id bigint, o_metric_name text, o_tags jsonb, o_value double precision,
              o_threshold double precision, o_comparison text,
              o_severity @extschema@.alert_severity, o_observed_at timestamptz, o_is_new boolean)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_comparison text;
    v_until timestamptz;
    v_since timestamptz;
    v_new bigint[];
BEGIN
    v_comparison := @extschema@._alert_args(p_metric_name, p_threshold, p_comparison, p_lookback, p_tags);
    v_until := COALESCE(p_as_of, pg_catalog.clock_timestamp());
    v_since := v_until - p_lookback;
    v_new := @extschema@._store_alerts(p_metric_name, p_threshold, v_comparison, p_tags, NULL,
                                       v_since, v_until, NULL, NULL, NULL);
    RETURN QUERY
        SELECT a.alert_id, a.metric_name, a.tags, a.value, a.threshold, a.comparison,
               a.severity, a.observed_at, a.alert_id = ANY (v_new)
          FROM @extschema@.alerts a
          JOIN @extschema@.metric_series s ON s.series_id = a.series_id
         WHERE a.rule_name IS NULL
           AND s.name = p_metric_name
           AND (p_tags IS NULL OR s.tags @> p_tags)
           AND a.observed_at > v_since AND a.observed_at <= v_until
           AND a.comparison = v_comparison
           AND a.threshold = p_threshold
         ORDER BY a.observed_at, a.series_id, a.value, a.sample_no;
END
$$;
COMMENT ON FUNCTION @extschema@._check_alerts(text, double precision, text, interval, jsonb, timestamptz) IS
    'internal: obs.check_alert_conditions() (store and return the breaches of one ad-hoc alert condition)';
REVOKE EXECUTE ON FUNCTION @extschema@._check_alerts(text, double precision, text, interval, jsonb, timestamptz) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.check_alert_conditions(
    metric_name text, threshold double precision, comparison text DEFAULT 'greater',
    lookback interval DEFAULT '5 minutes', tags jsonb DEFAULT NULL,
    as_of timestamptz DEFAULT NULL)
RETURNS TABLE(alert_id bigint, metric_name text, tags jsonb, value double precision,
              threshold double precision, comparison text,
              severity @extschema@.alert_severity, observed_at timestamptz, is_new boolean)
LANGUAGE sql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM @extschema@._check_alerts($1, $2, $3, $4, $5, $6)
$$;
COMMENT ON FUNCTION @extschema@.check_alert_conditions(text, double precision, text, interval, jsonb, timestamptz) IS
$$return every sample of metric metric_name in (as_of - lookback, as_of] (as_of NULL = the current time, clock_timestamp()) that breaches threshold, storing each in obs.alerts once (rule_name NULL: ad-hoc checks share one namespace, apart from the rules').
comparison: greater, less, greater_or_equal, less_or_equal or >, <, >=, <= (case-insensitive; stored as the word).
tags: only series whose tags contain these (@>) count.
severity: high when |value - threshold| > 0.1 * |threshold|, computed on the values cast to numeric (15 significant digits), else warning; so a breach of exactly 10% is warning and any strict breach of a threshold of 0 is high.
is_new: the alert was stored by this call; a re-check of the same window stores nothing twice, and n identical samples (same series, ts and value) give n alerts.  Each new alert is also logged once with obs.warning(..., logger => 'obs.alerts').
Errors: 22004 for NULL metric_name, threshold, comparison or lookback; 22003 for a NaN or infinite threshold; 22023 for an invalid comparison, a negative lookback or tags that are not a JSON object.$$;

CREATE OR REPLACE FUNCTION @extschema@.add_alert_rule(
    rule_name text, metric_name text, threshold double precision,
    comparison text DEFAULT 'greater', lookback interval DEFAULT '5 minutes',
    tags jsonb DEFAULT NULL)
RETURNS @extschema@.alert_rules
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_comparison text;
    v_rule @extschema@.alert_rules;
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'rule_name must not be null' USING ERRCODE = '22004';
    END IF;
    v_comparison := @extschema@._alert_args($2, $3, $4, $5, $6);
    INSERT INTO @extschema@.alert_rules AS r (rule_name, metric_name, threshold, comparison, lookback, tags)
    VALUES ($1, $2, $3, v_comparison, $5, $6)
    ON CONFLICT DO NOTHING
    RETURNING r.* INTO v_rule;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'alert rule "%" already exists', $1
            USING ERRCODE = '42710',
                  HINT = 'Remove it first with obs.drop_alert_rule(), or choose another name.';
    END IF;
    RETURN v_rule;
END
$$;
COMMENT ON FUNCTION @extschema@.add_alert_rule(text, text, double precision, text, interval, jsonb) IS
$$store an alert condition for obs.evaluate_alert_rules(); arguments are validated like obs.check_alert_conditions().
Errors: those of check_alert_conditions, 22004 for a NULL rule_name, 42710 when the rule already exists.$$;

CREATE OR REPLACE FUNCTION @extschema@.drop_alert_rule(rule_name text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'rule_name must not be null' USING ERRCODE = '22004';
    END IF;
    DELETE FROM @extschema@.alert_rules r WHERE r.rule_name = $1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'alert rule "%" does not exist', $1 USING ERRCODE = '42704';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.drop_alert_rule(text) IS
    'remove an alert rule (the alerts it stored stay); errors: 22004 for NULL, 42704 when no such rule exists';

CREATE FUNCTION @extschema@._alert_rule_changed()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.last_window := NULL;
    NEW.last_xmin := NULL;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@._alert_rule_changed() IS
    'internal: trigger that resets a rule''s evaluation watermark when its condition changes';

CREATE TRIGGER alert_rules_changed
    BEFORE UPDATE OF metric_name, threshold, comparison, tags ON @extschema@.alert_rules
    FOR EACH ROW
    WHEN (OLD.metric_name IS DISTINCT FROM NEW.metric_name
          OR OLD.threshold IS DISTINCT FROM NEW.threshold
          OR OLD.comparison IS DISTINCT FROM NEW.comparison
          OR OLD.tags IS DISTINCT FROM NEW.tags)
    EXECUTE FUNCTION @extschema@._alert_rule_changed();

CREATE OR REPLACE FUNCTION @extschema@.evaluate_alert_rules(as_of timestamptz DEFAULT NULL)
RETURNS SETOF @extschema@.alerts
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_as_of timestamptz := COALESCE($1, pg_catalog.clock_timestamp());
    v_name text;
    v_rule @extschema@.alert_rules;
    v_comparison text;
    v_xmin xid8;
    v_new bigint[];
    v_state text;
    v_message text;
BEGIN
    FOR v_name IN
        SELECT r.rule_name FROM @extschema@.alert_rules r WHERE r.enabled ORDER BY r.rule_name
    LOOP
        BEGIN
            SELECT * INTO v_rule FROM @extschema@.alert_rules r
             WHERE r.rule_name = v_name AND r.enabled FOR UPDATE NOWAIT;
            CONTINUE WHEN NOT FOUND;
            v_comparison := @extschema@._alert_args(v_rule.metric_name, v_rule.threshold,
                                                    v_rule.comparison, v_rule.lookback, v_rule.tags);
            v_xmin := pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot());
            v_new := @extschema@._store_alerts(v_rule.metric_name, v_rule.threshold, v_comparison,
                                               v_rule.tags, v_rule.rule_name,
                                               v_as_of - v_rule.lookback, v_as_of, v_rule.lateness,
                                               v_rule.last_window, v_rule.last_xmin);
            UPDATE @extschema@.alert_rules r
               SET last_evaluated_at = pg_catalog.clock_timestamp(),
                   last_window = pg_catalog.tstzrange(v_as_of - v_rule.lookback, v_as_of, '(]'),
                   last_xmin = v_xmin, last_error = NULL, last_error_at = NULL
             WHERE r.rule_name = v_name;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            RAISE WARNING 'alert rule "%" failed: %', v_name, v_message
                USING DETAIL = pg_catalog.format('The rule failed with SQLSTATE %s and stored no alert; the other rules were evaluated.', v_state),
                      HINT = 'The error is kept in obs.alert_rules.last_error until the rule is evaluated without error.';
            /* the rule's row may be what failed (locked by another
               transaction): keeping the error must not end the run either */
            BEGIN
                PERFORM FROM @extschema@.alert_rules r
                  WHERE r.rule_name = v_name FOR UPDATE NOWAIT;
                UPDATE @extschema@.alert_rules r
                   SET last_error = v_state || ': ' || v_message,
                       last_error_at = pg_catalog.clock_timestamp()
                 WHERE r.rule_name = v_name;
            EXCEPTION WHEN OTHERS THEN
                NULL;
            END;
            CONTINUE;
        END;
        RETURN QUERY
            SELECT * FROM @extschema@.alerts a
             WHERE a.alert_id = ANY (v_new)
             ORDER BY a.observed_at, a.alert_id;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.evaluate_alert_rules(timestamptz) IS
$$check every enabled rule of obs.alert_rules at as_of (NULL = the current time), store the breaches under the rule's name, and return the alerts stored by this call, by rule name.
A rule checks the samples in its window (as_of - lookback, as_of] that its previous evaluation did not check, and the samples stored since its previous evaluation whose ts is up to lateness before the window (README: "Lookback against schedule").
A rule that fails is skipped with a WARNING and its error kept in last_error; the other rules are evaluated.
Schedule it with pg_cron: SELECT cron.schedule('obs-alerts', '* * * * *', 'SELECT obs.evaluate_alert_rules()');$$;

CREATE OR REPLACE FUNCTION @extschema@.acknowledge_alert(alert_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_acknowledged_at timestamptz;
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'alert_id must not be null' USING ERRCODE = '22004';
    END IF;
    SELECT a.acknowledged_at INTO v_acknowledged_at
      FROM @extschema@.alerts a WHERE a.alert_id = $1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'alert % does not exist', $1 USING ERRCODE = '42704';
    END IF;
    IF v_acknowledged_at IS NOT NULL THEN
        RETURN false;
    END IF;
    UPDATE @extschema@.alerts a SET acknowledged_at = pg_catalog.clock_timestamp()
     WHERE a.alert_id = $1;
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.acknowledge_alert(bigint) IS
    'mark an alert acknowledged so it leaves obs.active_alerts; true if this call acknowledged it, false if it already was; errors: 22004 for NULL, 42704 when no such alert exists';

ALTER VIEW @extschema@.active_alerts SET (security_invoker = true);

/* ---- HTML dashboard: issue 11 ---- */

/* ------------------------------------------------------------------------
 * Section: the HTML dashboard (SQL)
 * ------------------------------------------------------------------------ */

/*
 * obs.dashboard_html(since, until) renders the dashboard panels as one
 * self-contained HTML page: inline CSS and inline SVG, no script, no
 * request to any network (a Content-Security-Policy of default-src 'none'
 * says so to the browser too).  It runs as its caller, so privileges and
 * row-level security hold: a panel whose figures the caller may not read
 * says so (42501 is caught per panel) and the others are drawn.
 *
 * Every text that comes from data (names, messages, tags, errors) goes
 * through _html(), which escapes & < > " and ', so it can neither open an
 * element nor leave an attribute.  Numbers and timestamps are formatted
 * by obs itself.
 *
 * The panels read the dashboard functions over [since, until) (so the
 * time indexes are used) with one time bucket, chosen so that the range
 * has at most 48 of them.
 */

/* text escaped for HTML element content and quoted attribute values */
CREATE FUNCTION @extschema@._html(t text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
               t, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;');
END;
COMMENT ON FUNCTION @extschema@._html(text) IS
    'internal: text escaped for HTML content and quoted attributes (& < > " and '')';

/* a number for people: 3 significant places, k/M/G beyond 10 000; a dash for none */
CREATE FUNCTION @extschema@._dash_num(x double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE
        WHEN x IS NULL OR x IN ('NaN'::double precision, 'Infinity'::double precision,
                                '-Infinity'::double precision) THEN '&#8211;'
        WHEN pg_catalog.abs(x) >= 1e9 THEN pg_catalog.trim_scale(pg_catalog.round((x / 1e9)::numeric, 1))::text || 'G'
        WHEN pg_catalog.abs(x) >= 1e6 THEN pg_catalog.trim_scale(pg_catalog.round((x / 1e6)::numeric, 1))::text || 'M'
        WHEN pg_catalog.abs(x) >= 1e4 THEN pg_catalog.trim_scale(pg_catalog.round((x / 1e3)::numeric, 1))::text || 'k'
        WHEN pg_catalog.abs(x) >= 100 THEN pg_catalog.round(x::numeric)::text
        WHEN pg_catalog.abs(x) >= 1 THEN pg_catalog.trim_scale(pg_catalog.round(x::numeric, 2))::text
        ELSE pg_catalog.trim_scale(pg_catalog.round(x::numeric, 3))::text
    END;
END;
COMMENT ON FUNCTION @extschema@._dash_num(double precision) IS
    'internal: a number as the HTML dashboard prints it (3 significant places, k/M/G suffixes, a dash for NULL, NaN and infinity)';

/* a round axis step (1, 2, 2.5 or 5 times a power of ten) giving about 5 ticks up to top */
CREATE FUNCTION @extschema@._dash_step(top double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN m.x <= 1 THEN 1 WHEN m.x <= 2 THEN 2 WHEN m.x <= 2.5 THEN 2.5
                WHEN m.x <= 5 THEN 5 ELSE 10 END * m.p
      FROM (SELECT r / 10 ^ pg_catalog.floor(pg_catalog.log(r)) AS x,
                   10 ^ pg_catalog.floor(pg_catalog.log(r)) AS p
              FROM (SELECT GREATEST(COALESCE(top, 0), 1e-9) / 5 AS r) r0) m;
END;
COMMENT ON FUNCTION @extschema@._dash_step(double precision) IS
    'internal: a round axis step (1, 2, 2.5 or 5 x 10^k) that divides [0, top] into about 5 ticks';

CREATE FUNCTION @extschema@.dashboard_html(
    since timestamptz, until timestamptz,
    error_threshold double precision DEFAULT NULL,
    latency_metric text DEFAULT 'request_latency_ms')
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_since timestamptz := COALESCE($1, COALESCE($2, pg_catalog.now()) - interval '1 day');
    v_until timestamptz := COALESCE($2, pg_catalog.now());
    v_bounds double precision[] := '{10,50,100,250,500,1000,2500,5000}';
    v_bucket_s double precision;
    v_bucket interval;
    v_origin timestamptz;
    v_ncols integer;
    v_tfmt text;
    v_bucket_txt text;
    v_colw double precision;
    v_max double precision;
    v_step double precision;
    v_top double precision;
    v_thr double precision;
    v_thr_src text;
    v_n bigint;
    v_total bigint;
    v_a text;
    v_b text;
    v_c text;
    v_ext oid;
    v_sink regclass;
    p text;
    h text := '';
BEGIN
    IF NOT pg_catalog.isfinite(v_since) OR NOT pg_catalog.isfinite(v_until) THEN
        RAISE EXCEPTION 'since and until must be finite'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The range given was [%s, %s).', v_since, v_until);
    END IF;
    PERFORM @extschema@._check_range(v_since, v_until);
    IF $3 IS NOT NULL AND NOT ($3 >= 0 AND $3 <= 1) THEN
        RAISE EXCEPTION 'error_threshold must be between 0 and 1'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The error_threshold given was %s.', $3);
    END IF;
    IF $4 IS NULL THEN
        RAISE EXCEPTION 'latency_metric must not be null' USING ERRCODE = '22004';
    END IF;

    /* one time bucket for every panel: the smallest round one giving at most 48 */
    v_bucket_s := COALESCE(
        (SELECT b FROM pg_catalog.unnest('{60,120,300,600,900,1800,3600,7200,10800,21600,43200,86400,172800,604800}'::double precision[]) b
          WHERE pg_catalog.date_part('epoch', v_until - v_since) / b <= 48 ORDER BY b LIMIT 1),
        pg_catalog.ceil(pg_catalog.date_part('epoch', v_until - v_since) / 48 / 86400) * 86400);
    v_bucket := pg_catalog.make_interval(secs => v_bucket_s);
    v_origin := pg_catalog.date_bin(v_bucket, v_since, '2000-01-01 00:00:00+00'::timestamptz);
    v_ncols := GREATEST(1, pg_catalog.ceil(pg_catalog.date_part('epoch', v_until - v_origin) / v_bucket_s)::integer);
    v_bucket_txt := CASE WHEN v_bucket_s < 3600 THEN (v_bucket_s / 60)::integer || ' min'
                         WHEN v_bucket_s < 86400 THEN (v_bucket_s / 3600)::integer || ' h'
                         ELSE (v_bucket_s / 86400)::integer || ' d' END;
    v_tfmt := CASE WHEN v_until - v_since <= interval '1 day' THEN 'HH24:MI'
                   WHEN v_until - v_since <= interval '7 days' THEN 'MM-DD HH24:MI'
                   ELSE 'YYYY-MM-DD' END;

    h := pg_catalog.concat(
        '<!DOCTYPE html>', E'\n', '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<title>obs dashboard</title><style>',
        '*{box-sizing:border-box}',
        'body{margin:0;font:13px/1.4 "DejaVu Sans",system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#eef1f5;color:#1f2933}',
        'header{background:#1f2a44;color:#fff;padding:10px 18px;display:flex;justify-content:space-between;align-items:baseline;gap:16px}',
        'header h1{font-size:18px;margin:0}header .range{font-size:13px;color:#cbd2e1}',
        'main{display:grid;grid-template-columns:repeat(12,minmax(0,1fr));gap:12px;padding:12px;max-width:1280px;margin:0 auto}',
        'section{background:#fff;border-radius:6px;box-shadow:0 1px 2px rgba(0,0,0,.1);padding:10px 14px;min-width:0}',
        'section h2{font-size:14px;margin:0 0 6px;color:#243b53}h3{font-size:12px;margin:8px 0 4px;color:#486581}',
        '.c4{grid-column:span 4}.c5{grid-column:span 5}.c7{grid-column:span 7}.c8{grid-column:span 8}.c12{grid-column:span 12}',
        '.cols3{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:16px}',
        'table{border-collapse:collapse;width:100%;font-size:12px;table-layout:auto}',
        'th,td{padding:3px 6px;border-bottom:1px solid #e4e7eb;text-align:left;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:260px}',
        'td.name{max-width:170px}td.tags{max-width:150px}',
        'th{color:#52606d;font-weight:600;background:#f5f7fa}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}',
        'td.msg{white-space:normal;max-width:none;word-break:break-word}',
        '.bar{height:8px;background:#4c8bf5;border-radius:2px;min-width:1px}td.barcell{width:30%}',
        '.muted{color:#7b8794}.note{color:#7b8794;font-size:11px;margin:4px 0 0}',
        '.sev{padding:0 6px;border-radius:8px;color:#fff;font-size:11px}.sev-high{background:#d9453d}.sev-warning{background:#e69b00}',
        '.lvl-ERROR{color:#d9453d;font-weight:600}.lvl-CRITICAL{color:#8e2c8e;font-weight:700}',
        '.chips span{display:inline-block;margin:0 6px 4px 0;padding:1px 8px;border-radius:10px;background:#f0f4f8;font-size:12px}',
        'svg{width:100%;height:auto;display:block}svg text{font-size:11px;fill:#334e68}',
        'svg .axis{stroke:#9aa5b1;stroke-width:1}svg .grid{stroke:#e4e7eb;stroke-width:1}',
        'svg text.title{font-size:11px;fill:#52606d;font-weight:600}',
        '</style></head><body>',
        pg_catalog.format('<header><h1>obs dashboard</h1><span class="range">%s &#8211; %s (%s) &#183; bucket %s &#183; database %s</span></header><main>',
                          pg_catalog.to_char(v_since, 'YYYY-MM-DD HH24:MI'), pg_catalog.to_char(v_until, 'YYYY-MM-DD HH24:MI'),
                          @extschema@._html(pg_catalog.current_setting('TimeZone')),
                          v_bucket_txt, @extschema@._html(pg_catalog.current_database())));

    /* ---- flow success: the seed's pie, as a donut with a legend ---- */
    BEGIN
        SELECT COALESCE(pg_catalog.sum(x.n), 0) INTO v_total
          FROM (SELECT pg_catalog.count(*) AS n FROM @extschema@.flow_runs r
                 WHERE r.start_time >= v_since AND r.start_time < v_until) x;
        WITH counts AS (
            SELECT r.status, pg_catalog.count(*) AS n
              FROM @extschema@.flow_runs r
             WHERE r.start_time >= v_since AND r.start_time < v_until
             GROUP BY r.status
        ), slices AS (
            SELECT s.ord, s.label, s.colour,
                   COALESCE((SELECT pg_catalog.sum(c.n) FROM counts c
                              WHERE c.status::text = ANY (s.states)), 0)::bigint AS n
              FROM (VALUES (1, 'Completed', '#2e9d5b', '{Completed}'::text[]),
                           (2, 'Failed', '#d9453d', '{Failed}'::text[]),
                           (3, 'Crashed', '#8e2c8e', '{Crashed}'::text[]),
                           (4, 'Cancelled', '#9aa5b1', '{Cancelled}'::text[]),
                           (5, 'other (running, scheduled, ...)', '#4c8bf5',
                            '{Scheduled,Pending,Running,Paused,Cancelling}'::text[])) s(ord, label, colour, states)
        ), arcs AS (
            SELECT s.*, 2 * pi() * 70 AS circ,
                   (pg_catalog.sum(s.n) OVER (ORDER BY s.ord) - s.n)::double precision AS before
              FROM slices s
        )
        SELECT pg_catalog.string_agg(
                   pg_catalog.format('<circle cx="100" cy="100" r="70" fill="none" stroke="%s" stroke-width="34" stroke-dasharray="%s %s" stroke-dashoffset="%s" transform="rotate(-90 100 100)"><title>%s: %s runs (%s%%)</title></circle>',
                                     a.colour, pg_catalog.round((a.n::double precision / v_total * a.circ)::numeric, 2),
                                     pg_catalog.round(((1 - a.n::double precision / v_total) * a.circ)::numeric, 2),
                                     pg_catalog.round((-a.before / v_total * a.circ)::numeric, 2),
                                     a.label, a.n, @extschema@._dash_num(100.0 * a.n / v_total)), '' ORDER BY a.ord)
                   FILTER (WHERE a.n > 0),
               pg_catalog.string_agg(
                   pg_catalog.format('<rect x="215" y="%s" width="12" height="12" rx="2" fill="%s"/><text x="233" y="%s">%s</text><text x="375" y="%s" text-anchor="end">%s &#183; %s%%</text>',
                                     40 + 22 * a.ord, a.colour, 50 + 22 * a.ord,
                                     CASE WHEN a.ord = 5 THEN 'other' ELSE a.label END, 50 + 22 * a.ord,
                                     a.n, CASE WHEN v_total > 0 THEN @extschema@._dash_num(100.0 * a.n / v_total) ELSE '0' END),
                   '' ORDER BY a.ord),
               @extschema@._dash_num(100.0 * pg_catalog.sum(a.n) FILTER (WHERE a.ord = 1)
                                     / NULLIF(pg_catalog.sum(a.n) FILTER (WHERE a.ord <= 3), 0))
          INTO v_a, v_b, v_c
          FROM arcs a;
        p := pg_catalog.concat(
            '<section class="c4" id="flow-success"><h2>Flow success</h2>',
            '<svg viewBox="0 0 380 200" role="img" aria-label="flow runs by final state">',
            '<circle cx="100" cy="100" r="70" fill="none" stroke="#e4e7eb" stroke-width="34"/>', v_a,
            pg_catalog.format('<text x="100" y="98" text-anchor="middle" style="font-size:20px;font-weight:700">%s%s</text>',
                              v_c, CASE WHEN v_c = '&#8211;' THEN '' ELSE '%' END),
            '<text x="100" y="116" text-anchor="middle">success rate</text>',
            pg_catalog.format('<text x="215" y="40" class="title">runs by final state</text><text x="215" y="180" class="title">%s runs started</text>', v_total),
            v_b, '</svg>',
            '<p class="note">Success rate = Completed / (Completed + Failed + Crashed); Cancelled runs count neither way.</p>');
        SELECT pg_catalog.string_agg(
                   pg_catalog.format('<tr><td class="name" title="%s">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td></tr>',
                                     @extschema@._html(f.flow_name), @extschema@._html(pg_catalog.left(f.flow_name, 40)),
                                     f.total_runs, f.failure_count,
                                     CASE WHEN f.success_rate IS NULL THEN '&#8211;'
                                          ELSE @extschema@._dash_num(100 * f.success_rate) || '%' END),
                   '' ORDER BY f.failure_count DESC, f.total_runs DESC, f.flow_name)
          INTO v_a
          FROM (SELECT * FROM @extschema@._flow_health(NULL, v_since, v_until, true) x
                 ORDER BY x.failure_count DESC, x.total_runs DESC, x.flow_name LIMIT 5) f;
        p := p || CASE WHEN v_a IS NULL THEN '<p class="muted">No flow runs started in this range.</p>'
                       ELSE '<h3>Flows with most failures</h3><table><tr><th>flow</th><th class="n">runs</th><th class="n">failed</th><th class="n">success</th></tr>'
                            || v_a || '</table>' END || '</section>';
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c4" id="flow-success"><h2>Flow success</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    /* ---- error-rate trend with the alert threshold ---- */
    BEGIN
        IF $3 IS NOT NULL THEN
            v_thr := $3;
            v_thr_src := 'error_threshold';
        ELSE
            SELECT r.threshold, pg_catalog.format('alert rule &quot;%s&quot;', @extschema@._html(r.rule_name))
              INTO v_thr, v_thr_src
              FROM @extschema@.alert_rules r
             WHERE r.metric_name = 'error_rate' AND r.enabled
               AND r.comparison IN ('greater', 'greater_or_equal')
             ORDER BY r.threshold, r.rule_name LIMIT 1;
            IF v_thr IS NULL THEN
                v_thr := 0.05;
                v_thr_src := 'default';
            END IF;
        END IF;
        WITH rates AS (
            SELECT 1 AS series, t.time_bucket AS tb,
                   pg_catalog.sum(t.errors)::double precision / NULLIF(pg_catalog.sum(t.spans), 0) AS rate
              FROM @extschema@.throughput(v_since, v_until, v_bucket) t
             GROUP BY t.time_bucket
            UNION ALL
            SELECT 2, pg_catalog.date_bin(v_bucket, pt.ts, '2000-01-01 00:00:00+00'::timestamptz),
                   pg_catalog.avg(pt.value)
              FROM @extschema@.metric_series s
              JOIN @extschema@.metric_points pt ON pt.series_id = s.series_id
             WHERE s.name = 'error_rate' AND pt.ts >= v_since AND pt.ts < v_until
             GROUP BY 2
        ), scale AS (
            SELECT @extschema@._dash_step(GREATEST(COALESCE(pg_catalog.max(r.rate), 0), v_thr, 0.01) * 1.1) AS step,
                   GREATEST(COALESCE(pg_catalog.max(r.rate), 0), v_thr, 0.01) * 1.1 AS top
              FROM rates r
        ), pts AS (
            SELECT r.series, r.tb,
                   60 + (pg_catalog.date_part('epoch', r.tb - v_origin) / v_bucket_s + 0.5) * (720.0 / v_ncols) AS x,
                   30 + 240 - r.rate / (sc.step * pg_catalog.ceil(sc.top / sc.step)) * 240 AS y, r.rate
              FROM rates r, scale sc
             WHERE r.rate IS NOT NULL
        )
        SELECT (SELECT sc.step * pg_catalog.ceil(sc.top / sc.step) FROM scale sc),
               (SELECT sc.step FROM scale sc),
               (SELECT pg_catalog.string_agg(pg_catalog.concat(
                           pg_catalog.format('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>',
                                             CASE l.series WHEN 1 THEN '#4c8bf5' ELSE '#f08c00' END, l.points),
                           l.dots), '' ORDER BY l.series)
                  FROM (SELECT q.series,
                               pg_catalog.string_agg(pg_catalog.format('%s,%s', pg_catalog.round(q.x::numeric, 1),
                                                                       pg_catalog.round(q.y::numeric, 1)), ' ' ORDER BY q.tb) AS points,
                               pg_catalog.string_agg(pg_catalog.format('<circle cx="%s" cy="%s" r="2.5" fill="%s"><title>%s: %s%%</title></circle>',
                                                                       pg_catalog.round(q.x::numeric, 1), pg_catalog.round(q.y::numeric, 1),
                                                                       CASE q.series WHEN 1 THEN '#4c8bf5' ELSE '#f08c00' END,
                                                                       pg_catalog.to_char(q.tb, v_tfmt), @extschema@._dash_num(100 * q.rate)),
                                                     '' ORDER BY q.tb) AS dots
                          FROM pts q GROUP BY q.series) l),
               (SELECT pg_catalog.count(*) FROM pts)
          INTO v_top, v_step, v_a, v_n;
        /* y grid and ticks, x ticks */
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<line class="grid" x1="60" x2="780" y1="%1$s" y2="%1$s"/><text x="54" y="%2$s" text-anchor="end">%3$s%%</text>',
                   pg_catalog.round((270 - k * v_step / v_top * 240)::numeric, 1),
                   pg_catalog.round((274 - k * v_step / v_top * 240)::numeric, 1),
                   @extschema@._dash_num(100 * k * v_step)), '' ORDER BY k)
          INTO v_b
          FROM pg_catalog.generate_series(0, pg_catalog.round(v_top / v_step)::integer) k;
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<line class="axis" x1="%1$s" x2="%1$s" y1="270" y2="275"/><text x="%1$s" y="288" text-anchor="middle">%2$s</text>',
                   pg_catalog.round((60 + k * 720.0 / v_ncols)::numeric, 1),
                   pg_catalog.to_char(v_origin + k * v_bucket, v_tfmt)), '' ORDER BY k)
          INTO v_c
          FROM pg_catalog.generate_series(0, v_ncols, GREATEST(1, pg_catalog.ceil(v_ncols / 6.0)::integer)) k;
        p := pg_catalog.concat(
            '<section class="c8" id="error-rate"><h2>Error-rate trend</h2>',
            '<svg viewBox="0 0 800 320" role="img" aria-label="error rate per time bucket with the alert threshold">',
            v_b, v_c,
            '<line class="axis" x1="60" x2="780" y1="270" y2="270"/><line class="axis" x1="60" x2="60" y1="30" y2="270"/>',
            '<text x="14" y="150" class="title" transform="rotate(-90 14 150)" text-anchor="middle">error rate (%)</text>',
            pg_catalog.format('<text x="420" y="310" class="title" text-anchor="middle">time (%s, bucket %s)</text>',
                              @extschema@._html(pg_catalog.current_setting('TimeZone')), v_bucket_txt),
            v_a,
            pg_catalog.format('<line x1="60" x2="780" y1="%1$s" y2="%1$s" stroke="#d9453d" stroke-width="1.5" stroke-dasharray="6 4"/>',
                              pg_catalog.round((270 - v_thr / v_top * 240)::numeric, 1)),
            '<g transform="translate(70 8)"><line x1="0" x2="18" y1="0" y2="0" stroke="#4c8bf5" stroke-width="2"/><text x="22" y="4">spans: errors / spans</text>',
            '<line x1="160" x2="178" y1="0" y2="0" stroke="#f08c00" stroke-width="2"/><text x="182" y="4">metric error_rate (average)</text>',
            '<line x1="350" x2="368" y1="0" y2="0" stroke="#d9453d" stroke-width="1.5" stroke-dasharray="6 4"/><text x="372" y="4">',
            pg_catalog.format('alert threshold %s%% (%s)</text></g>', @extschema@._dash_num(100 * v_thr), v_thr_src),
            CASE WHEN v_n = 0 THEN '<text x="420" y="150" text-anchor="middle" class="title">no spans or error_rate samples in this range</text>' END,
            '</svg></section>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c8" id="error-rate"><h2>Error-rate trend</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    /* ---- latency heatmap: time x latency bucket, colour = count ---- */
    BEGIN
        v_colw := 610.0 / v_ncols;
        SELECT pg_catalog.max(c.requests), pg_catalog.sum(c.requests),
               pg_catalog.string_agg(pg_catalog.format(
                   '<rect x="%s" y="%s" width="%s" height="22" fill="%s"><title>%s, %s ms: %s samples</title></rect>',
                   pg_catalog.round((80 + c.col * v_colw)::numeric, 2), 10 + (8 - c.row) * 22,
                   pg_catalog.round(GREATEST(v_colw - 1, 0.5)::numeric, 2),
                   (ARRAY['#deebf7', '#b5d4ea', '#85bcdb', '#529dcc', '#2b7bba', '#08519c'])[
                       LEAST(6, GREATEST(1, pg_catalog.ceil(6.0 * c.requests / c.mx)::integer))],
                   pg_catalog.to_char(c.time_bucket, v_tfmt),
                   CASE WHEN c.lower_ms IS NULL THEN '&lt; ' || c.upper_ms
                        WHEN c.upper_ms IS NULL THEN '&#8805; ' || c.lower_ms
                        ELSE c.lower_ms || '&#8211;' || c.upper_ms END,
                   c.requests), '')
          INTO v_max, v_n, v_a
          FROM (SELECT hm.*, pg_catalog.max(hm.requests) OVER () AS mx,
                       pg_catalog.floor(pg_catalog.date_part('epoch', hm.time_bucket - v_origin) / v_bucket_s)::integer AS col,
                       CASE WHEN hm.lower_ms IS NULL THEN 0 ELSE pg_catalog.array_position(v_bounds, hm.lower_ms) END AS row
                  FROM @extschema@.latency_heatmap($4, v_bucket, v_bounds, v_since, v_until) hm) c;
        SELECT pg_catalog.string_agg(pg_catalog.format('<text x="74" y="%s" text-anchor="end">%s</text>',
                   10 + (8 - k) * 22 + 15,
                   CASE WHEN k = 0 THEN '&lt; ' || v_bounds[1]
                        WHEN k = 9 - 1 THEN '&#8805; ' || v_bounds[8]
                        ELSE v_bounds[k] || '&#8211;' || v_bounds[k + 1] END), '' ORDER BY k)
          INTO v_b FROM pg_catalog.generate_series(0, 8) k;
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<line class="axis" x1="%1$s" x2="%1$s" y1="208" y2="213"/><text x="%1$s" y="226" text-anchor="middle">%2$s</text>',
                   pg_catalog.round((80 + k * v_colw)::numeric, 1), pg_catalog.to_char(v_origin + k * v_bucket, v_tfmt)), '' ORDER BY k)
          INTO v_c
          FROM pg_catalog.generate_series(0, v_ncols, GREATEST(1, pg_catalog.ceil(v_ncols / 6.0)::integer)) k;
        p := pg_catalog.concat(
            '<section class="c7" id="latency-heatmap"><h2>Latency heatmap</h2>',
            '<svg viewBox="0 0 700 290" role="img" aria-label="samples per time bucket and latency bucket">',
            '<rect x="80" y="10" width="610" height="198" fill="#f5f7fa"/>', v_a, v_b, v_c,
            '<line class="axis" x1="80" x2="690" y1="208" y2="208"/><line class="axis" x1="80" x2="80" y1="10" y2="208"/>',
            '<text x="12" y="110" class="title" transform="rotate(-90 12 110)" text-anchor="middle">latency (ms)</text>',
            pg_catalog.format('<text x="385" y="242" class="title" text-anchor="middle">time (%s, bucket %s) &#183; metric %s</text>',
                              @extschema@._html(pg_catalog.current_setting('TimeZone')), v_bucket_txt,
                              @extschema@._html($4)),
            '<text x="80" y="270" class="title">samples per cell:</text>',
            (SELECT pg_catalog.string_agg(pg_catalog.format(
                        '<rect x="%s" y="259" width="46" height="14" fill="%s"/><text x="%s" y="284" text-anchor="middle">%s</text>',
                        190 + (k - 1) * 48, (ARRAY['#deebf7', '#b5d4ea', '#85bcdb', '#529dcc', '#2b7bba', '#08519c'])[k],
                        213 + (k - 1) * 48,
                        CASE WHEN v_max IS NULL THEN '' ELSE '&#8804; ' || @extschema@._dash_num(pg_catalog.floor(k * v_max / 6.0)) END),
                        '' ORDER BY k)
               FROM pg_catalog.generate_series(1, 6) k),
            pg_catalog.format('<rect x="490" y="259" width="46" height="14" fill="#f5f7fa" stroke="#d9dee4"/><text x="513" y="284" text-anchor="middle">0</text><text x="690" y="270" text-anchor="end">%s samples</text>',
                              COALESCE(v_n, 0)),
            CASE WHEN v_n IS NULL THEN '<text x="385" y="110" text-anchor="middle" class="title">no samples of this metric in this range</text>' END,
            '</svg></section>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c7" id="latency-heatmap"><h2>Latency heatmap</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    /* ---- service performance: avg and p95 by service, coloured by error rate ---- */
    BEGIN
        SELECT pg_catalog.max(s.p95_ms), pg_catalog.count(*)
          INTO v_max, v_n
          FROM (SELECT * FROM @extschema@.service_performance(v_since, v_until) sp
                 ORDER BY sp.spans DESC, sp.service_name LIMIT 10) s;
        v_step := @extschema@._dash_step(COALESCE(v_max, 1));
        v_top := v_step * GREATEST(1, pg_catalog.ceil(COALESCE(v_max, 1) / v_step));
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<text x="128" y="%1$s" text-anchor="end"><title>%2$s (%3$s)</title>%4$s</text>'
                   '<rect x="132" y="%5$s" width="%6$s" height="16" fill="%7$s" fill-opacity="0.35"><title>p95 %8$s ms</title></rect>'
                   '<rect x="132" y="%9$s" width="%10$s" height="8" fill="%7$s"><title>avg %11$s ms</title></rect>'
                   '<text x="%12$s" y="%1$s" style="font-size:10px">%11$s / %8$s ms &#183; %13$s%%</text>',
                   36 + s.i * 26, @extschema@._html(s.service_name), s.service_type,
                   @extschema@._html(CASE WHEN pg_catalog.length(s.service_name) > 18
                                          THEN pg_catalog.left(s.service_name, 17) || '...' ELSE s.service_name END),
                   24 + s.i * 26, pg_catalog.round(GREATEST(0.5, s.p95_ms / v_top * 220)::numeric, 1),
                   CASE WHEN s.error_rate < 0.01 THEN '#2e9d5b' WHEN s.error_rate < 0.05 THEN '#e6b800'
                        WHEN s.error_rate < 0.10 THEN '#f08c00' ELSE '#d9453d' END,
                   @extschema@._dash_num(s.p95_ms), 28 + s.i * 26,
                   pg_catalog.round(GREATEST(0.5, s.avg_ms / v_top * 220)::numeric, 1),
                   @extschema@._dash_num(s.avg_ms),
                   pg_catalog.round((136 + GREATEST(s.p95_ms, s.avg_ms) / v_top * 220)::numeric, 1),
                   @extschema@._dash_num(100 * s.error_rate)), '' ORDER BY s.i)
          INTO v_a
          FROM (SELECT sp.*, (pg_catalog.row_number() OVER (ORDER BY sp.avg_ms DESC, sp.service_name) - 1)::integer AS i
                  FROM (SELECT * FROM @extschema@.service_performance(v_since, v_until) x
                         ORDER BY x.spans DESC, x.service_name LIMIT 10) sp) s;
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<line class="grid" x1="%1$s" x2="%1$s" y1="20" y2="%2$s"/><text x="%1$s" y="%3$s" text-anchor="middle">%4$s</text>',
                   pg_catalog.round((132 + k * v_step / v_top * 220)::numeric, 1), 22 + GREATEST(v_n, 1) * 26,
                   36 + GREATEST(v_n, 1) * 26, @extschema@._dash_num(k * v_step)), '' ORDER BY k)
          INTO v_b
          FROM pg_catalog.generate_series(0, pg_catalog.round(v_top / v_step)::integer) k;
        v_c := (22 + GREATEST(v_n, 1) * 26)::text;
        p := pg_catalog.concat(
            '<section class="c5" id="service-performance"><h2>Service performance</h2>',
            pg_catalog.format('<svg viewBox="0 0 470 %s" role="img" aria-label="average and p95 span duration by service, coloured by error rate">',
                              90 + GREATEST(v_n, 1) * 26),
            v_b,
            pg_catalog.format('<line class="axis" x1="132" x2="132" y1="20" y2="%1$s"/><line class="axis" x1="132" x2="352" y1="%1$s" y2="%1$s"/>', v_c),
            '<text x="360" y="14" class="title">avg / p95 &#183; errors</text>',
            v_a,
            CASE WHEN v_n = 0 THEN '<text x="240" y="40" text-anchor="middle" class="title">no spans in this range</text>' END,
            pg_catalog.format('<text x="242" y="%s" class="title" text-anchor="middle">span duration (ms)</text>', 52 + GREATEST(v_n, 1) * 26),
            pg_catalog.format('<g transform="translate(10 %s)">', 66 + GREATEST(v_n, 1) * 26),
            '<rect x="0" y="0" width="16" height="8" fill="#52606d"/><text x="20" y="8">avg</text>',
            '<rect x="50" y="-4" width="16" height="16" fill="#52606d" fill-opacity="0.35"/><text x="70" y="8">p95</text>',
            '<text x="110" y="8">error rate:</text>',
            '<rect x="172" y="0" width="10" height="10" fill="#2e9d5b"/><text x="186" y="9">&lt; 1%</text>',
            '<rect x="228" y="0" width="10" height="10" fill="#e6b800"/><text x="242" y="9">1&#8211;5%</text>',
            '<rect x="290" y="0" width="10" height="10" fill="#f08c00"/><text x="304" y="9">5&#8211;10%</text>',
            '<rect x="358" y="0" width="10" height="10" fill="#d9453d"/><text x="372" y="9">&#8805; 10%</text></g>',
            '</svg>',
            CASE WHEN v_n = 10 THEN '<p class="note">The 10 services with most spans.</p>' END,
            '</section>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c5" id="service-performance"><h2>Service performance</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    /* ---- task performance: slowest, highest throughput, bottlenecks over 30 s ---- */
    BEGIN
        WITH t AS (SELECT * FROM @extschema@.get_task_summary(v_since, v_until))
        SELECT (SELECT pg_catalog.string_agg(pg_catalog.format(
                           '<tr><td class="name" title="%s">%s</td><td class="n">%s s</td><td class="n">%s s</td><td class="barcell"><div class="bar" style="width:%s%%"></div></td></tr>',
                           @extschema@._html(x.task_name), @extschema@._html(pg_catalog.left(x.task_name, 32)),
                           @extschema@._dash_num(x.duration_seconds), @extschema@._dash_num(x.max_duration_seconds),
                           pg_catalog.round((100 * x.duration_seconds / NULLIF(x.mx, 0))::numeric, 1)),
                           '' ORDER BY x.duration_seconds DESC, x.task_name)
                  FROM (SELECT t.*, pg_catalog.max(t.duration_seconds) OVER () AS mx FROM t
                         WHERE t.duration_seconds IS NOT NULL ORDER BY t.duration_seconds DESC, t.task_name LIMIT 5) x),
               (SELECT pg_catalog.string_agg(pg_catalog.format(
                           '<tr><td class="name" title="%s">%s</td><td class="n">%s/s</td><td class="n">%s</td><td class="barcell"><div class="bar" style="width:%s%%;background:#2e9d5b"></div></td></tr>',
                           @extschema@._html(x.task_name), @extschema@._html(pg_catalog.left(x.task_name, 32)),
                           @extschema@._dash_num(x.throughput), @extschema@._dash_num(x.inputs_processed),
                           pg_catalog.round((100 * x.throughput / NULLIF(x.mx, 0))::numeric, 1)),
                           '' ORDER BY x.throughput DESC, x.task_name)
                  FROM (SELECT t.*, pg_catalog.max(t.throughput) OVER () AS mx FROM t
                         WHERE t.throughput IS NOT NULL ORDER BY t.throughput DESC, t.task_name LIMIT 5) x),
               (SELECT pg_catalog.string_agg(pg_catalog.format(
                           '<tr><td class="name" title="%s">%s</td><td class="n">%s s</td><td class="n">%s</td><td class="n">%s</td></tr>',
                           @extschema@._html(x.task_name), @extschema@._html(pg_catalog.left(x.task_name, 32)),
                           @extschema@._dash_num(x.duration_seconds), x.runs, x.failures),
                           '' ORDER BY x.duration_seconds DESC, x.task_name)
                  FROM (SELECT * FROM t WHERE t.duration_seconds > 30
                         ORDER BY t.duration_seconds DESC, t.task_name LIMIT 10) x)
          INTO v_a, v_b, v_c;
        p := pg_catalog.concat(
            '<section class="c12" id="task-performance"><h2>Task performance</h2><div class="cols3">',
            '<div id="slowest-tasks"><h3>Slowest tasks (average duration)</h3>',
            COALESCE('<table><tr><th>task</th><th class="n">avg</th><th class="n">max</th><th></th></tr>' || v_a || '</table>',
                     '<p class="muted">No finished task runs in this range.</p>'),
            '</div><div id="throughput-tasks"><h3>Highest throughput (records/s)</h3>',
            COALESCE('<table><tr><th>task</th><th class="n">records/s</th><th class="n">inputs</th><th></th></tr>' || v_b || '</table>',
                     '<p class="muted">No task runs with inputs in this range.</p>'),
            '</div><div id="bottleneck-tasks"><h3>Bottlenecks (average over 30 s)</h3>',
            COALESCE('<table><tr><th>task</th><th class="n">avg</th><th class="n">runs</th><th class="n">failed</th></tr>' || v_c || '</table>',
                     '<p class="muted">No task averages over 30 s in this range.</p>'),
            '</div></div></section>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c12" id="task-performance"><h2>Task performance</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    /* ---- active alerts ---- */
    BEGIN
        SELECT pg_catalog.count(*) INTO v_total FROM @extschema@.active_alerts;
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<tr><td>%s</td><td><span class="sev sev-%s">%s</span></td><td class="name" title="%s">%s</td><td class="n">%s</td><td>%s %s</td><td class="name">%s</td><td class="tags" title="%s">%s</td></tr>',
                   pg_catalog.to_char(a.observed_at, 'MM-DD HH24:MI'), a.severity, a.severity,
                   @extschema@._html(a.metric_name), @extschema@._html(pg_catalog.left(a.metric_name, 32)),
                   @extschema@._dash_num(a.value),
                   CASE a.comparison WHEN 'greater' THEN '&gt;' WHEN 'less' THEN '&lt;'
                                     WHEN 'greater_or_equal' THEN '&#8805;' ELSE '&#8804;' END,
                   @extschema@._dash_num(a.threshold),
                   COALESCE(@extschema@._html(a.rule_name), '<span class="muted">(check)</span>'),
                   @extschema@._html(a.tags::text), @extschema@._html(pg_catalog.left(a.tags::text, 48))),
                   '' ORDER BY a.observed_at DESC, a.alert_id DESC)
          INTO v_a
          FROM (SELECT * FROM @extschema@.active_alerts x ORDER BY x.observed_at DESC, x.alert_id DESC LIMIT 12) a;
        p := pg_catalog.concat(
            pg_catalog.format('<section class="c7" id="active-alerts"><h2>Active alerts (%s unacknowledged)</h2>', v_total),
            COALESCE('<table><tr><th>observed</th><th>severity</th><th>metric</th><th class="n">value</th><th>condition</th><th>rule</th><th>tags</th></tr>'
                     || v_a || '</table>', '<p class="muted">No active alerts.</p>'),
            CASE WHEN v_total > 12 THEN pg_catalog.format('<p class="note">The newest 12 of %s; all in obs.active_alerts.</p>', v_total) END,
            '</section>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c7" id="active-alerts"><h2>Active alerts</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    /* ---- ingest health (readers only) and sink health (once shipping exists) ---- */
    p := '<section class="c5" id="ingest-health"><h2>Ingest health</h2>';
    BEGIN
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<tr><td>%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td>%s</td></tr>',
                   @extschema@._html(s.signal), @extschema@._dash_num(s.accepted), @extschema@._dash_num(s.stored),
                   @extschema@._dash_num(s.dropped_full + s.dropped_other), @extschema@._dash_num(s.dead_lettered),
                   @extschema@._dash_num(s.pending),
                   COALESCE(pg_catalog.to_char(s.last_flush_at, 'MM-DD HH24:MI:SS'), '<span class="muted">never</span>')),
                   '' ORDER BY s.signal)
          INTO v_a
          FROM @extschema@.ingest_stats() s
         WHERE s.database = pg_catalog.current_database();
        p := p || COALESCE('<table><tr><th>signal</th><th class="n">accepted</th><th class="n">stored</th><th class="n">dropped</th><th class="n">dead</th><th class="n">pending</th><th>last flush</th></tr>'
                           || v_a || '</table>',
                           '<p class="muted">No buffered ingest in this database: obs is not in shared_preload_libraries, or nothing was written through the buffer yet.</p>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := p || '<p class="muted">Ingest counters not permitted: obs.ingest_stats is for readers (obs.grant_reader()).</p>';
    END;
    BEGIN
        SELECT pg_catalog.count(*) INTO v_n FROM @extschema@.dead_letters;
        p := p || pg_catalog.format('<p class="note">%s dead-lettered records kept in obs.dead_letters.</p>', v_n);
    EXCEPTION WHEN insufficient_privilege THEN
        NULL;
    END;

    /* obs.sink_stats, when this version of obs has it: a member of obs's extension */
    SELECT d.refobjid INTO v_ext
      FROM pg_catalog.pg_depend d
     WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
       AND d.objid = '@extschema@.dashboard_html(timestamptz, timestamptz, double precision, text)'::pg_catalog.regprocedure
       AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e';
    SELECT c.oid::pg_catalog.regclass INTO v_sink
      FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_class c ON c.oid = d.objid
     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'e'
       AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.refobjid = v_ext
       AND c.relname = 'sink_stats' AND c.relkind IN ('v', 'r', 'm');
    p := p || '<h3 id="sink-health">Sink health</h3>';
    IF v_sink IS NULL THEN
        p := p || '<p class="muted">No sinks.</p>';
    ELSE
        BEGIN
            /* the view's own columns, whatever they are, as a table */
            EXECUTE pg_catalog.format(
                'SELECT pg_catalog.string_agg(''<tr>'' || r.tr || ''</tr>'', '''' ORDER BY r.n), pg_catalog.min(r.th)
                   FROM (SELECT pg_catalog.row_number() OVER () AS n,
                                (SELECT pg_catalog.string_agg(''<td>'' || COALESCE(@extschema@._html(e.value), '''') || ''</td>'', '''' ORDER BY e.ord)
                                   FROM pg_catalog.json_each_text(pg_catalog.row_to_json(s)) WITH ORDINALITY e(key, value, ord)) AS tr,
                                (SELECT pg_catalog.string_agg(''<th>'' || @extschema@._html(e.key) || ''</th>'', '''' ORDER BY e.ord)
                                   FROM pg_catalog.json_each_text(pg_catalog.row_to_json(s)) WITH ORDINALITY e(key, value, ord)) AS th
                           FROM %s s LIMIT 20) r', v_sink)
               INTO v_a, v_b;
            p := p || COALESCE('<table><tr>' || v_b || '</tr>' || v_a || '</table>', '<p class="muted">No sinks.</p>');
        EXCEPTION WHEN insufficient_privilege THEN
            p := p || '<p class="muted">Sink figures not permitted: ' || @extschema@._html(SQLERRM) || '</p>';
        END;
    END IF;
    h := h || p || '</section>';

    /* ---- logs: volume per level and the latest errors ---- */
    BEGIN
        SELECT pg_catalog.string_agg(pg_catalog.format('<span class="lvl-%s">%s %s</span>', v.level, v.level,
                                                       @extschema@._dash_num(v.n)), '' ORDER BY v.level)
          INTO v_a
          FROM (SELECT lv.level, pg_catalog.sum(lv.records) AS n
                  FROM @extschema@.log_volume(v_since, v_until, v_bucket) lv GROUP BY lv.level) v;
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<tr><td>%s</td><td class="lvl-%s">%s</td><td>%s</td><td class="msg">%s</td></tr>',
                   pg_catalog.to_char(l.ts, 'MM-DD HH24:MI:SS'), l.level, l.level,
                   @extschema@._html(pg_catalog.left(l.logger, 40)),
                   @extschema@._html(pg_catalog.left(l.message, 300))
                   || COALESCE(' <span class="muted">' || @extschema@._html(pg_catalog.left(l.error::text, 200)) || '</span>', '')),
                   '' ORDER BY l.ts DESC, l.log_id DESC)
          INTO v_b
          FROM (SELECT * FROM @extschema@.logs x
                 WHERE x.ts >= v_since AND x.ts < v_until AND x.level >= 'ERROR'
                 ORDER BY x.ts DESC, x.log_id DESC LIMIT 8) l;
        p := pg_catalog.concat(
            '<section class="c12" id="recent-errors"><h2>Logs: records per level and the latest errors</h2>',
            COALESCE('<div class="chips">' || v_a || '</div>', '<p class="muted">No log records in this range.</p>'),
            COALESCE('<table><tr><th>time</th><th>level</th><th>logger</th><th>message</th></tr>' || v_b || '</table>',
                     '<p class="muted">No ERROR or CRITICAL records in this range.</p>'),
            '</section>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c12" id="recent-errors"><h2>Logs</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    RETURN h || pg_catalog.format('</main><footer style="text-align:center;color:#7b8794;font-size:11px;padding:0 0 12px">obs.dashboard_html(%s, %s) at %s</footer></body></html>',
                                  @extschema@._html(v_since::text), @extschema@._html(v_until::text),
                                  @extschema@._html(pg_catalog.now()::text));
END
$$;
COMMENT ON FUNCTION @extschema@.dashboard_html(timestamptz, timestamptz, double precision, text) IS
$$one self-contained HTML page (inline CSS and SVG, no script) with the dashboard panels over [since, until): flow success, error-rate trend with the alert threshold, latency heatmap of latency_metric, service performance, task performance, active alerts, ingest and sink health, log volume and latest errors.
NULL until is now(), NULL since is 24 hours before until.  The threshold line is error_threshold when given, else the lowest threshold of an enabled greater/greater_or_equal alert rule on metric error_rate, else 0.05.
Runs as the caller: a panel the caller may not read says so.  Data text is HTML-escaped.
Errors: 22023 when until is earlier than since, either is infinite, or error_threshold is outside [0, 1]; 22004 for a NULL latency_metric.$$;

/* ---- end HTML dashboard (dashboard_html joins the reader group below) ---- */

/* ---- python client API: issue 11 ---- */

/*
 * obs.log() and obs.debug() .. obs.critical() take ts, trace_id, span_id
 * and error_type at the end: a new signature, so DROP + CREATE.  The
 * EXECUTE grants of the old functions (obs.grant_writer() roles, and
 * whatever else was granted) are carried over to the new ones: they are
 * kept in a transaction-local setting before the DROP and granted again
 * after the CREATE.
 */
DO $upgrade$
DECLARE
    acls jsonb;
BEGIN
    SELECT pg_catalog.jsonb_object_agg(p.proname, p.proacl::text[])
      INTO acls
      FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = '@extschema@'::regnamespace
       AND p.proname IN ('log', 'debug', 'info', 'warning', 'error', 'critical', 'finish_span')
       AND p.oid IN (SELECT d.objid FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
                        AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'obs'));
    PERFORM pg_catalog.set_config('obs_upgrade.function_acls', acls::text, true);
END
$upgrade$;

DROP FUNCTION @extschema@.log(text, text, jsonb, jsonb, text, text, text, text, text, text);
DROP FUNCTION @extschema@.debug(text, jsonb, jsonb, text, text, text, text, text, text);
DROP FUNCTION @extschema@.info(text, jsonb, jsonb, text, text, text, text, text, text);
DROP FUNCTION @extschema@.warning(text, jsonb, jsonb, text, text, text, text, text, text);
DROP FUNCTION @extschema@.error(text, jsonb, jsonb, text, text, text, text, text, text);
DROP FUNCTION @extschema@.critical(text, jsonb, jsonb, text, text, text, text, text, text);

CREATE FUNCTION @extschema@.log(
    level text, message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL,
    ts timestamptz DEFAULT NULL, trace_id @extschema@.trace_id DEFAULT NULL,
    span_id @extschema@.span_id DEFAULT NULL, error_type text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.log(text, text, jsonb, jsonb, text, text, text, text, text, text, timestamptz, @extschema@.trace_id, @extschema@.span_id, text) IS
    'store a structured log record; returns its log_id, or NULL when the level is below obs.log_min_level (or the record is sampled out); ts, trace_id and span_id let a client that batches and keeps its own trace context give its own time and span';

CREATE FUNCTION @extschema@.debug(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL,
    ts timestamptz DEFAULT NULL, trace_id @extschema@.trace_id DEFAULT NULL,
    span_id @extschema@.span_id DEFAULT NULL, error_type text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_debug' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.debug(text, jsonb, jsonb, text, text, text, text, text, text, timestamptz, @extschema@.trace_id, @extschema@.span_id, text) IS
    'obs.log() at level DEBUG';

CREATE FUNCTION @extschema@.info(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL,
    ts timestamptz DEFAULT NULL, trace_id @extschema@.trace_id DEFAULT NULL,
    span_id @extschema@.span_id DEFAULT NULL, error_type text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_info' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.info(text, jsonb, jsonb, text, text, text, text, text, text, timestamptz, @extschema@.trace_id, @extschema@.span_id, text) IS
    'obs.log() at level INFO';

CREATE FUNCTION @extschema@.warning(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL,
    ts timestamptz DEFAULT NULL, trace_id @extschema@.trace_id DEFAULT NULL,
    span_id @extschema@.span_id DEFAULT NULL, error_type text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_warning' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.warning(text, jsonb, jsonb, text, text, text, text, text, text, timestamptz, @extschema@.trace_id, @extschema@.span_id, text) IS
    'obs.log() at level WARNING';

CREATE FUNCTION @extschema@.error(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL,
    ts timestamptz DEFAULT NULL, trace_id @extschema@.trace_id DEFAULT NULL,
    span_id @extschema@.span_id DEFAULT NULL, error_type text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_error' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.error(text, jsonb, jsonb, text, text, text, text, text, text, timestamptz, @extschema@.trace_id, @extschema@.span_id, text) IS
    'obs.log() at level ERROR';

CREATE FUNCTION @extschema@.critical(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL,
    ts timestamptz DEFAULT NULL, trace_id @extschema@.trace_id DEFAULT NULL,
    span_id @extschema@.span_id DEFAULT NULL, error_type text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_critical' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.critical(text, jsonb, jsonb, text, text, text, text, text, text, timestamptz, @extschema@.trace_id, @extschema@.span_id, text) IS
    'obs.log() at level CRITICAL';

CREATE FUNCTION @extschema@.record_span(
    trace_id @extschema@.trace_id, span_id @extschema@.span_id, parent_span_id @extschema@.span_id,
    operation text, service text, start_time timestamptz, end_time timestamptz,
    status text DEFAULT NULL, error text DEFAULT NULL, tags jsonb DEFAULT NULL,
    service_name text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_record_span' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.record_span(@extschema@.trace_id, @extschema@.span_id, @extschema@.span_id, text, text, timestamptz, timestamptz, text, text, jsonb, text) IS
$$store a span that a client timed itself (its trace context kept in the client, not in this session); returns its duration in microseconds.
The trace is head-sampled by its id at obs.trace_sample_rate.  Errors: 22004 for a NULL id, operation, service or time; 22023 for end_time before start_time, an unknown service or status, all-zero ids; 22008 for a time that is infinite or past obs's range; 23505 when (trace_id, span_id) is stored already (a dead letter on the buffered path).$$;

/* the privilege groups as the 0.2.0 install has them: record_span (writer), dashboard_html and its helpers (reader) */
CREATE OR REPLACE FUNCTION @extschema@._privilege_functions(role_kind text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE _privilege_functions.role_kind
        /* signal writers: granted by grant_writer(), revoked from PUBLIC */
        WHEN 'writer' THEN ARRAY[
            'log', 'debug', 'info', 'warning', 'error', 'critical',
            'start_span', 'finish_span', 'set_traceparent', 'record_span',
            'record_metric', 'record_flow_execution', 'record_task_execution']
        /* readers: granted by grant_reader() (PUBLIC keeps EXECUTE; SELECT decides) */
        WHEN 'reader' THEN ARRAY[
            'get_flow_health', 'get_task_performance', 'get_task_summary',
            'high_latency_by_endpoint', 'latency_heatmap', 'log_json', 'jaeger_json',
            'current_span_id', 'current_trace_id', 'current_traceparent', 'open_spans',
            'parse_traceparent', 'reset_spans', 'flush', 'ingest_stats', 'trace_sampled',
            'log_volume', 'throughput', 'service_performance', '_check_range', '_check_bucket',
            '_flow_health', '_task_figures', '_latency_heatmap',
            'dashboard_html', '_html', '_dash_num', '_dash_step']
        /* administration: revoked from PUBLIC, granted to no helper role */
        WHEN 'admin' THEN ARRAY[
            'check_alert_conditions', 'add_alert_rule', 'drop_alert_rule',
            'evaluate_alert_rules', 'acknowledge_alert', 'purge', '_store_alerts',
            'grant_writer', 'grant_reader', 'revoke_writer', 'revoke_reader']
    END
$$;
COMMENT ON FUNCTION @extschema@._privilege_functions(text) IS
    'internal: the names of obs''s functions in each privilege group (writer, reader, admin)';

COMMENT ON FUNCTION @extschema@.grant_writer(regrole) IS
$$let role write signals: USAGE on schema obs and EXECUTE on obs.log, obs.debug .. obs.critical, obs.start_span, obs.finish_span, obs.set_traceparent, obs.record_span, obs.record_metric, obs.record_flow_execution and obs.record_task_execution; no SELECT on anything.
Runs as the caller, who needs the grant option (the extension owner or a superuser).  Re-run after ALTER EXTENSION obs UPDATE.$$;

/*
 * The new functions get the old ones' grants; obs.record_span() those of
 * obs.finish_span() (a role that may finish spans may record them).  A
 * NULL ACL (PostgreSQL's default: PUBLIC may execute) stays the default.
 */
DO $upgrade$
DECLARE
    acls jsonb := pg_catalog.current_setting('obs_upgrade.function_acls')::jsonb;
    f record;
    a record;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure AS fn, p.proowner,
               CASE p.proname WHEN 'record_span' THEN 'finish_span' ELSE p.proname END AS old_name
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = '@extschema@'::regnamespace
           AND p.proname IN ('log', 'debug', 'info', 'warning', 'error', 'critical', 'record_span')
         ORDER BY p.oid
    LOOP
        CONTINUE WHEN acls -> f.old_name IS NULL OR acls -> f.old_name = 'null'::jsonb;
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.fn);
        FOR a IN
            SELECT x.grantee, x.is_grantable
              FROM pg_catalog.aclexplode(ARRAY(SELECT pg_catalog.jsonb_array_elements_text(acls -> f.old_name))::aclitem[]) x
             WHERE x.privilege_type = 'EXECUTE' AND x.grantee <> f.proowner
             ORDER BY x.grantee
        LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s', f.fn,
                CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
    END LOOP;
END
$upgrade$;

/* ---- end python client API ---- */
/* ---- shipping encoders: issue 9 ---- */

CREATE FUNCTION @extschema@.otlp_payload(signal text, rows jsonb, protobuf boolean DEFAULT false,
                                         service_name text DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'obs_otlp_payload' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.otlp_payload(text, jsonb, boolean, text) IS
$$the OTLP/HTTP request body (ExportTraceServiceRequest, ExportLogsServiceRequest or ExportMetricsServiceRequest) for signal traces, logs or metrics; rows: a JSON array of to_jsonb() rows of obs.spans, obs.logs or obs.metrics; JSON, or protobuf when protobuf is true; service_name sets service.name of logs and metrics; e.g. SELECT obs.otlp_payload('traces', jsonb_agg(to_jsonb(s))) FROM obs.spans s$$;

CREATE FUNCTION @extschema@.cloudwatch_payloads(rows jsonb, log_group text, log_stream text)
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'obs_cloudwatch_payloads' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.cloudwatch_payloads(jsonb, text, text) IS
$$the CloudWatch Logs PutLogEvents request bodies for rows (a JSON array of to_jsonb() rows of obs.logs), in sending order: events sorted by time, each body at most 10,000 events and 1,048,576 bytes (message bytes + 26 per event) and under 24 hours; a message over 262,118 bytes is cut at a UTF-8 boundary and ends with ...[obs: cut from N bytes]$$;
/* ---- shipping: issue 9 ---- */

/*
 * Every row of logs, spans, metric points and alerts records the full xid
 * of the transaction that inserted it: the shipping cursor reads rows by
 * transaction snapshot.  Rows stored before the upgrade get xid 2 (frozen):
 * visible in every snapshot, so a sink started with start => 'now' never
 * ships them and one started with start => 'all' ships them once.  The
 * column is last, as in a fresh install.
 */
/* obs.logs gained txid at the start of this script */
ALTER TABLE @extschema@.spans ADD COLUMN txid xid8 NOT NULL DEFAULT '2'::xid8;
ALTER TABLE @extschema@.spans ALTER COLUMN txid SET DEFAULT pg_catalog.pg_current_xact_id();
CREATE INDEX spans_txid_idx ON @extschema@.spans (txid, span_seq);
ALTER TABLE @extschema@.metric_points ADD COLUMN txid xid8 NOT NULL DEFAULT '2'::xid8;
ALTER TABLE @extschema@.metric_points ALTER COLUMN txid SET DEFAULT pg_catalog.pg_current_xact_id();
CREATE INDEX metric_points_txid_idx ON @extschema@.metric_points (txid);
ALTER TABLE @extschema@.alerts ADD COLUMN txid xid8 NOT NULL DEFAULT '2'::xid8;
ALTER TABLE @extschema@.alerts ALTER COLUMN txid SET DEFAULT pg_catalog.pg_current_xact_id();
CREATE INDEX alerts_txid_idx ON @extschema@.alerts (txid, alert_id);

/* sinks, cursors, dead letters and their functions: sql/sections/85_ship.sql */
CREATE TABLE @extschema@.sinks (
    name           text PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('elasticsearch', 'webhook', 'otlp', 'cloudwatch')),
    signals        text[] NOT NULL CHECK (signals <@ '{logs,spans,metrics,alerts}'::text[] AND cardinality(signals) > 0),
    endpoint       text NOT NULL,
    config         jsonb NOT NULL DEFAULT '{}'::jsonb,
    min_level      @extschema@.log_level,
    batch_size     integer NOT NULL DEFAULT 500 CHECK (batch_size BETWEEN 1 AND 10000),
    flush_interval_ms integer NOT NULL DEFAULT 1000 CHECK (flush_interval_ms BETWEEN 10 AND 3600000),
    gzip           boolean NOT NULL DEFAULT false,
    headers        jsonb NOT NULL DEFAULT '{}'::jsonb,
    tls_verify     boolean NOT NULL DEFAULT true,
    timeout_ms     integer NOT NULL DEFAULT 10000 CHECK (timeout_ms BETWEEN 100 AND 600000),
    paused         boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE @extschema@.sinks IS
    'shipping destinations added by obs.setup_*(); no credentials (they come from settings, the environment or obs.credentials_file)';

CREATE TABLE @extschema@.sink_cursors (
    sink            text NOT NULL REFERENCES @extschema@.sinks (name) ON DELETE CASCADE,
    signal          text NOT NULL,
    shipped_snap    pg_snapshot NOT NULL,
    window_snap     pg_snapshot,
    pos_txid        xid8,
    pos_key         bigint,
    pos_off         bigint NOT NULL DEFAULT 0,
    advanced_at     timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    rows_shipped    bigint NOT NULL DEFAULT 0,
    batches_shipped bigint NOT NULL DEFAULT 0,
    retries         bigint NOT NULL DEFAULT 0,
    failures        bigint NOT NULL DEFAULT 0,
    dead_letters    bigint NOT NULL DEFAULT 0,
    last_error      text,
    last_error_at   timestamptz,
    last_shipped_at timestamptz,
    PRIMARY KEY (sink, signal)
);
COMMENT ON TABLE @extschema@.sink_cursors IS
    'per sink and signal: the durable shipping cursor (a transaction snapshot and a position in the next one) and the counters of obs.sink_stats';

CREATE TABLE @extschema@.ship_dead_letters (
    dead_letter_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    sink           text NOT NULL,
    signal         text NOT NULL,
    status         integer NOT NULL,
    response       text,
    payload        text,
    row_ids        text[] NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE @extschema@.ship_dead_letters IS
    'batches (or Elasticsearch items) a receiver refused with a non-retryable 4xx: the answer''s status and body and the payload, each cut at 64 kB';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.sinks', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.sink_cursors', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ship_dead_letters', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ship_dead_letters_dead_letter_id_seq', '');

/* tell the ship launcher that this database has sinks (no-op unless preloaded) */
CREATE FUNCTION @extschema@._ship_wake() RETURNS boolean
    AS 'MODULE_PATHNAME', 'obs_ship_wake' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._ship_wake() IS
    'internal: wake the ship launcher for this database; false when obs is not preloaded';

/* an endpoint URL: http or https, a host, no user information */
CREATE FUNCTION @extschema@._ship_check_url(p_what text, p_url text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_rest text;
BEGIN
    IF p_url IS NULL THEN
        RAISE EXCEPTION '% must not be null', p_what USING ERRCODE = '22004';
    END IF;
    IF p_url !~* '^https?://' THEN
        RAISE EXCEPTION 'invalid % scheme', p_what
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The URL given was %s.', pg_catalog.regexp_replace(p_url, '//[^/@]*@', '//***@')),
                  HINT = 'Only http:// and https:// URLs are accepted.';
    END IF;
    v_rest := pg_catalog.substr(p_url, pg_catalog.strpos(p_url, '://') + 3);
    IF pg_catalog.split_part(pg_catalog.split_part(v_rest, '/', 1), '?', 1) ~ '@' THEN
        RAISE EXCEPTION '% must not contain credentials', p_what
            USING ERRCODE = '22023',
                  HINT = 'Put credentials in obs.* settings, the server environment or obs.credentials_file, never in the URL.';
    END IF;
    IF v_rest ~ '^[/?#:]' OR v_rest = '' OR v_rest ~ '\s' THEN
        RAISE EXCEPTION 'invalid % host', p_what
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The URL given was %s.', p_url);
    END IF;
    RETURN p_url;
END
$$;
COMMENT ON FUNCTION @extschema@._ship_check_url(text, text) IS
    'internal: error unless the URL is http(s)://host... without user information; returns it';

/*
 * The one place a sink is added: every option checked, the sink and one
 * cursor per signal inserted, the launcher woken.  Superusers only: the
 * ship worker runs as the bootstrap superuser.
 */
CREATE FUNCTION @extschema@._sink_add(
    p_name text, p_kind text, p_signals text[], p_endpoint text, p_config jsonb,
    p_min_level text, p_batch_size integer, p_flush_interval interval, p_gzip boolean,
    p_headers jsonb, p_tls_verify boolean, p_timeout interval, p_start text)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_signal text;
    v_key text;
    v_level @extschema@.log_level;
    v_snap pg_snapshot;
    v_ms bigint;
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied to add a sink'
            USING ERRCODE = '42501',
                  DETAIL = 'The ship worker sends rows with the rights of the bootstrap superuser.',
                  HINT = 'Ask a superuser to add the sink.';
    END IF;
    IF p_name IS NULL OR pg_catalog.btrim(p_name) = '' THEN
        RAISE EXCEPTION 'sink name must not be empty' USING ERRCODE = '22023';
    END IF;
    IF p_signals IS NULL OR pg_catalog.cardinality(p_signals) = 0 THEN
        RAISE EXCEPTION 'signals must not be empty' USING ERRCODE = '22023',
            HINT = 'Valid signals are logs, spans, metrics and alerts.';
    END IF;
    FOREACH v_signal IN ARRAY p_signals LOOP
        IF v_signal IS NULL OR v_signal NOT IN ('logs', 'spans', 'metrics', 'alerts') THEN
            RAISE EXCEPTION 'unknown signal "%"', v_signal
                USING ERRCODE = '22023',
                      HINT = 'Valid signals are logs, spans, metrics and alerts.';
        END IF;
    END LOOP;
    PERFORM @extschema@._ship_check_url('endpoint', p_endpoint);
    IF p_min_level IS NOT NULL THEN
        BEGIN
            v_level := pg_catalog.upper(p_min_level)::@extschema@.log_level;
        EXCEPTION WHEN invalid_text_representation THEN
            RAISE EXCEPTION 'invalid min_level "%"', p_min_level
                USING ERRCODE = '22023',
                      HINT = 'Valid levels are debug, info, warning, error and critical.';
        END;
    END IF;
    IF p_batch_size IS NULL OR p_batch_size NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'batch_size must be between 1 and 10000'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The batch_size given was %s.', p_batch_size);
    END IF;
    v_ms := (EXTRACT(epoch FROM p_flush_interval) * 1000)::bigint;
    IF v_ms IS NULL OR v_ms NOT BETWEEN 10 AND 3600000 THEN
        RAISE EXCEPTION 'flush_interval must be between 10 milliseconds and 1 hour'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The flush_interval given was %s.', p_flush_interval);
    END IF;
    IF p_timeout IS NULL OR (EXTRACT(epoch FROM p_timeout) * 1000)::bigint NOT BETWEEN 100 AND 600000 THEN
        RAISE EXCEPTION 'timeout must be between 100 milliseconds and 10 minutes'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The timeout given was %s.', p_timeout);
    END IF;
    IF p_gzip IS NULL OR p_tls_verify IS NULL THEN
        RAISE EXCEPTION 'gzip and tls_verify must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_headers IS NULL OR pg_catalog.jsonb_typeof(p_headers) <> 'object' THEN
        RAISE EXCEPTION 'headers must be a JSON object'
            USING ERRCODE = '22023', DETAIL = 'Give headers as ''{"X-Name": "value"}''.';
    END IF;
    FOR v_key IN SELECT e.key FROM pg_catalog.jsonb_each(p_headers) e ORDER BY e.key LOOP
        IF pg_catalog.jsonb_typeof(p_headers -> v_key) <> 'string' OR v_key !~ '^[!#$%&''*+.^_`|~0-9A-Za-z-]+$'
           OR (p_headers ->> v_key) ~ '[\r\n]' THEN
            RAISE EXCEPTION 'invalid header "%"', v_key
                USING ERRCODE = '22023', DETAIL = 'A header name is an HTTP token and its value a string on one line.';
        END IF;
        IF pg_catalog.lower(v_key) IN ('authorization', 'proxy-authorization', 'x-api-key', 'api-key',
                                       'x-amz-security-token', 'cookie', 'content-length', 'content-encoding',
                                       'content-type', 'host') THEN
            RAISE EXCEPTION 'header "%" cannot be set per sink', v_key
                USING ERRCODE = '22023',
                      DETAIL = 'obs sets this header itself, or it would store a credential in a table.',
                      HINT = 'Credentials come from obs.* settings, the server environment or obs.credentials_file.';
        END IF;
    END LOOP;
    IF p_start IS NULL OR p_start NOT IN ('now', 'all') THEN
        RAISE EXCEPTION 'invalid start "%"', p_start
            USING ERRCODE = '22023',
                  HINT = 'start => ''now'' ships rows committed from now on, ''all'' every row already stored as well.';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.sinks s WHERE s.name = p_name) THEN
        RAISE EXCEPTION 'sink "%" already exists', p_name
            USING ERRCODE = '42710', HINT = 'Choose another name, or drop the sink with obs.drop_sink().';
    END IF;

    INSERT INTO @extschema@.sinks (name, kind, signals, endpoint, config, min_level, batch_size,
                                   flush_interval_ms, gzip, headers, tls_verify, timeout_ms)
    VALUES (p_name, p_kind, p_signals, p_endpoint, COALESCE(p_config, '{}'::jsonb), v_level, p_batch_size,
            v_ms, p_gzip, p_headers, p_tls_verify, (EXTRACT(epoch FROM p_timeout) * 1000)::integer);
    /* 'now': rows visible now count as shipped; 'all': none does */
    v_snap := CASE p_start WHEN 'now' THEN pg_catalog.pg_current_snapshot() ELSE '1:1:'::pg_snapshot END;
    INSERT INTO @extschema@.sink_cursors (sink, signal, shipped_snap)
    SELECT p_name, s, v_snap FROM pg_catalog.unnest(p_signals) s GROUP BY s;
    PERFORM @extschema@._ship_wake();
    RETURN p_name;
END
$$;
COMMENT ON FUNCTION @extschema@._sink_add(text, text, text[], text, jsonb, text, integer, interval, boolean, jsonb, boolean, interval, text) IS
    'internal: check the options and add a sink with one cursor per signal (superusers only)';

CREATE FUNCTION @extschema@.setup_logging_to_elk(
    host text, port integer DEFAULT 9200, index text DEFAULT 'obs-logs',
    scheme text DEFAULT 'http', signals text[] DEFAULT '{logs}', min_level text DEFAULT NULL,
    batch_size integer DEFAULT 500, flush_interval interval DEFAULT '1 second',
    gzip boolean DEFAULT false, headers jsonb DEFAULT '{}', tls_verify boolean DEFAULT true,
    timeout interval DEFAULT '10 seconds', start text DEFAULT 'now', name text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF setup_logging_to_elk.host IS NULL OR setup_logging_to_elk.host !~ '^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])$' THEN
        RAISE EXCEPTION 'invalid Elasticsearch host "%"', setup_logging_to_elk.host
            USING ERRCODE = '22023', HINT = 'Give a host name or address, e.g. ''localhost'', without scheme or port.';
    END IF;
    IF setup_logging_to_elk.port IS NULL OR setup_logging_to_elk.port NOT BETWEEN 1 AND 65535 THEN
        RAISE EXCEPTION 'port % is out of range', setup_logging_to_elk.port
            USING ERRCODE = '22003', HINT = 'A TCP port is between 1 and 65535.';
    END IF;
    IF setup_logging_to_elk.scheme IS NULL OR setup_logging_to_elk.scheme NOT IN ('http', 'https') THEN
        RAISE EXCEPTION 'invalid endpoint scheme'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The scheme given was %s.', setup_logging_to_elk.scheme),
                  HINT = 'Only http:// and https:// URLs are accepted.';
    END IF;
    IF setup_logging_to_elk.index IS NULL OR pg_catalog.btrim(setup_logging_to_elk.index) = '' THEN
        RAISE EXCEPTION 'index must not be empty' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.regexp_replace(setup_logging_to_elk.index, '%(Y|m|d|\{signal\}|%)', '', 'g') ~ '[\\/*?"<>| ,#:A-Z%]'
       OR setup_logging_to_elk.index ~ '^[-_+]' THEN
        RAISE EXCEPTION 'invalid Elasticsearch index "%"', setup_logging_to_elk.index
            USING ERRCODE = '22023',
                  HINT = 'An index name is lower case and has none of \ / * ? " < > | , # : or space; %Y, %m, %d and %{signal} are replaced.';
    END IF;
    RETURN @extschema@._sink_add(
        COALESCE(setup_logging_to_elk.name,
                 pg_catalog.format('elk_%s_%s', setup_logging_to_elk.host, setup_logging_to_elk.port)),
        'elasticsearch', setup_logging_to_elk.signals,
        pg_catalog.format('%s://%s:%s/_bulk', setup_logging_to_elk.scheme, setup_logging_to_elk.host, setup_logging_to_elk.port),
        pg_catalog.jsonb_build_object('index', setup_logging_to_elk.index),
        setup_logging_to_elk.min_level, setup_logging_to_elk.batch_size, setup_logging_to_elk.flush_interval,
        setup_logging_to_elk.gzip, setup_logging_to_elk.headers, setup_logging_to_elk.tls_verify,
        setup_logging_to_elk.timeout, setup_logging_to_elk.start);
END
$$;
COMMENT ON FUNCTION @extschema@.setup_logging_to_elk(text, integer, text, text, text[], text, integer, interval, boolean, jsonb, boolean, interval, text, text) IS
    'ship logs (and optionally spans, metrics, alerts) to Elasticsearch''s _bulk API at scheme://host:port, into index (%Y.%m.%d and %{signal} replaced); returns the sink name';

CREATE FUNCTION @extschema@.setup_alert_webhook(
    url text, format text DEFAULT 'json', headers jsonb DEFAULT '{}',
    batch_size integer DEFAULT 100, flush_interval interval DEFAULT '1 second',
    tls_verify boolean DEFAULT true, timeout interval DEFAULT '10 seconds',
    start text DEFAULT 'now', name text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._ship_check_url('url', setup_alert_webhook.url);
    IF setup_alert_webhook.format IS NULL OR setup_alert_webhook.format NOT IN ('json', 'slack') THEN
        RAISE EXCEPTION 'invalid webhook format "%"', setup_alert_webhook.format
            USING ERRCODE = '22023', HINT = 'Valid formats are json and slack.';
    END IF;
    RETURN @extschema@._sink_add(
        COALESCE(setup_alert_webhook.name,
                 'webhook_' || pg_catalog.substr(pg_catalog.md5(setup_alert_webhook.url), 1, 8)),
        'webhook', '{alerts}', setup_alert_webhook.url,
        pg_catalog.jsonb_build_object('format', setup_alert_webhook.format),
        NULL, setup_alert_webhook.batch_size, setup_alert_webhook.flush_interval, false,
        setup_alert_webhook.headers, setup_alert_webhook.tls_verify, setup_alert_webhook.timeout,
        setup_alert_webhook.start);
END
$$;
COMMENT ON FUNCTION @extschema@.setup_alert_webhook(text, text, jsonb, integer, interval, boolean, interval, text, text) IS
    'POST each new row of obs.alerts to url as JSON (format json) or as a Slack-compatible {"text": ...} body (format slack); returns the sink name';

CREATE FUNCTION @extschema@._sink_set_paused(p_name text, p_paused boolean)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied to change a sink' USING ERRCODE = '42501';
    END IF;
    UPDATE @extschema@.sinks s SET paused = p_paused WHERE s.name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'sink "%" does not exist', p_name USING ERRCODE = '42704';
    END IF;
    PERFORM @extschema@._ship_wake();
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@._sink_set_paused(text, boolean) IS 'internal: pause or resume a sink';

CREATE FUNCTION @extschema@.pause_sink(name text) RETURNS boolean
LANGUAGE sql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@._sink_set_paused(pause_sink.name, true)
$$;
COMMENT ON FUNCTION @extschema@.pause_sink(text) IS
    'stop shipping to a sink; its cursor stays, so resume_sink() ships what was written meanwhile';

CREATE FUNCTION @extschema@.resume_sink(name text) RETURNS boolean
LANGUAGE sql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@._sink_set_paused(resume_sink.name, false)
$$;
COMMENT ON FUNCTION @extschema@.resume_sink(text) IS 'ship to a paused sink again, from where it stopped';

CREATE FUNCTION @extschema@.drop_sink(name text) RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied to drop a sink' USING ERRCODE = '42501';
    END IF;
    DELETE FROM @extschema@.sinks s WHERE s.name = drop_sink.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'sink "%" does not exist', drop_sink.name USING ERRCODE = '42704';
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.drop_sink(text) IS 'remove a sink and its cursors; its dead letters stay';

/*
 * The next batch of a sink's signal: at most p_limit rows past the cursor,
 * in (txid, key) order, each as to_jsonb() of its row (metric points as a
 * row of obs.metrics).  Opens a window (the current snapshot) when none is
 * open; an empty window closes at once (at most every 10 s, so that an
 * idle sink does not burn an xid per poll).
 */
CREATE FUNCTION @extschema@._ship_batch(p_sink text, p_signal text, p_limit integer)
RETURNS TABLE (txid xid8, key bigint, doc jsonb)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c @extschema@.sink_cursors;
    v_level @extschema@.log_level;
    v_win pg_snapshot;
    v_opened boolean := false;
    v_n bigint;
    v_sql text;
BEGIN
    SELECT * INTO c FROM @extschema@.sink_cursors k WHERE k.sink = p_sink AND k.signal = p_signal FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT s.min_level INTO v_level FROM @extschema@.sinks s WHERE s.name = p_sink;
    v_win := c.window_snap;
    IF v_win IS NULL THEN
        v_win := pg_catalog.pg_current_snapshot();
        v_opened := true;
    END IF;
    v_sql := CASE p_signal
        WHEN 'logs' THEN $q$
            SELECT t.txid, t.log_id, pg_catalog.to_jsonb(t) FROM @extschema@.logs t
             WHERE t.txid >= pg_catalog.pg_snapshot_xmin($1) AND t.txid < pg_catalog.pg_snapshot_xmax($2)
               AND (t.txid, t.log_id) > (COALESCE($3, '0'::xid8), COALESCE($4, -9223372036854775808))
               AND pg_catalog.pg_visible_in_snapshot(t.txid, $2)
               AND NOT pg_catalog.pg_visible_in_snapshot(t.txid, $1)
               AND ($7 IS NULL OR t.level >= $7)
             ORDER BY t.txid, t.log_id LIMIT $6 $q$
        WHEN 'spans' THEN $q$
            SELECT t.txid, t.span_seq, pg_catalog.to_jsonb(t) FROM @extschema@.spans t
             WHERE t.txid >= pg_catalog.pg_snapshot_xmin($1) AND t.txid < pg_catalog.pg_snapshot_xmax($2)
               AND (t.txid, t.span_seq) > (COALESCE($3, '0'::xid8), COALESCE($4, -9223372036854775808))
               AND pg_catalog.pg_visible_in_snapshot(t.txid, $2)
               AND NOT pg_catalog.pg_visible_in_snapshot(t.txid, $1)
             ORDER BY t.txid, t.span_seq LIMIT $6 $q$
        WHEN 'alerts' THEN $q$
            SELECT t.txid, t.alert_id, pg_catalog.to_jsonb(t) FROM @extschema@.alerts t
             WHERE t.txid >= pg_catalog.pg_snapshot_xmin($1) AND t.txid < pg_catalog.pg_snapshot_xmax($2)
               AND (t.txid, t.alert_id) > (COALESCE($3, '0'::xid8), COALESCE($4, -9223372036854775808))
               AND pg_catalog.pg_visible_in_snapshot(t.txid, $2)
               AND NOT pg_catalog.pg_visible_in_snapshot(t.txid, $1)
             ORDER BY t.txid, t.alert_id LIMIT $6 $q$
        /* metric points have no key: the position is an offset in pos_txid */
        WHEN 'metrics' THEN $q$
            SELECT m.txid, NULL::bigint, pg_catalog.to_jsonb(m) FROM (
                SELECT p.ts, s.name, s.kind, s.tags, p.value, p.series_id, p.txid
                  FROM @extschema@.metric_points p JOIN @extschema@.metric_series s ON s.series_id = p.series_id
                 WHERE p.txid >= pg_catalog.pg_snapshot_xmin($1) AND p.txid < pg_catalog.pg_snapshot_xmax($2)
                   AND p.txid >= COALESCE($3, '0'::xid8)
                   AND pg_catalog.pg_visible_in_snapshot(p.txid, $2)
                   AND NOT pg_catalog.pg_visible_in_snapshot(p.txid, $1)
                 ORDER BY p.txid, p.series_id, p.ts, p.value
                OFFSET CASE WHEN $3 IS NULL THEN 0 ELSE $5 END LIMIT $6) m $q$
    END;
    IF v_sql IS NULL THEN
        RAISE EXCEPTION 'unknown signal "%"', p_signal USING ERRCODE = '22023';
    END IF;
    RETURN QUERY EXECUTE v_sql USING c.shipped_snap, v_win, c.pos_txid, c.pos_key, c.pos_off, p_limit, v_level;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n > 0 AND v_opened THEN
        UPDATE @extschema@.sink_cursors k SET window_snap = v_win
         WHERE k.sink = p_sink AND k.signal = p_signal;
    ELSIF v_n = 0 AND (NOT v_opened OR c.advanced_at < pg_catalog.clock_timestamp() - interval '10 seconds') THEN
        /* the open window is exhausted (its last batch was full), or an empty one is old enough */
        UPDATE @extschema@.sink_cursors k
           SET shipped_snap = v_win, window_snap = NULL, pos_txid = NULL, pos_key = NULL, pos_off = 0,
               advanced_at = pg_catalog.clock_timestamp()
         WHERE k.sink = p_sink AND k.signal = p_signal;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._ship_batch(text, text, integer) IS
    'internal (ship worker): the next rows of a sink''s signal past its cursor, opening a snapshot window when none is open';

/*
 * A batch was accepted: move the position to its last row, or close the
 * window when the batch was its last (fewer rows than asked for), and
 * count.  Runs in one transaction with the dead letters of the batch.
 */
CREATE FUNCTION @extschema@._ship_ack(
    p_sink text, p_signal text, p_rows integer, p_last_txid xid8, p_last_key bigint,
    p_last_off bigint, p_window_done boolean, p_retries integer)
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
    UPDATE @extschema@.sink_cursors k
       SET shipped_snap = CASE WHEN p_window_done THEN COALESCE(k.window_snap, k.shipped_snap) ELSE k.shipped_snap END,
           window_snap = CASE WHEN p_window_done THEN NULL ELSE k.window_snap END,
           pos_txid = CASE WHEN p_window_done THEN NULL ELSE p_last_txid END,
           pos_key = CASE WHEN p_window_done THEN NULL ELSE p_last_key END,
           pos_off = CASE WHEN p_window_done THEN 0 ELSE p_last_off END,
           advanced_at = pg_catalog.clock_timestamp(),
           rows_shipped = k.rows_shipped + p_rows,
           batches_shipped = k.batches_shipped + (p_rows > 0)::integer,
           retries = k.retries + p_retries,
           last_shipped_at = CASE WHEN p_rows > 0 THEN pg_catalog.clock_timestamp() ELSE k.last_shipped_at END
     WHERE k.sink = p_sink AND k.signal = p_signal
$$;
COMMENT ON FUNCTION @extschema@._ship_ack(text, text, integer, xid8, bigint, bigint, boolean, integer) IS
    'internal (ship worker): advance a cursor past an accepted batch and count it';

/* a failed attempt: counted, with its (scrubbed) error */
CREATE FUNCTION @extschema@._ship_failed(p_sink text, p_signal text, p_error text, p_retry boolean)
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
    UPDATE @extschema@.sink_cursors k
       SET failures = k.failures + 1,
           retries = k.retries + p_retry::integer,
           last_error = pg_catalog.left(p_error, 1000),
           last_error_at = pg_catalog.clock_timestamp()
     WHERE k.sink = p_sink AND k.signal = p_signal
$$;
COMMENT ON FUNCTION @extschema@._ship_failed(text, text, text, boolean) IS
    'internal (ship worker): count a failed attempt and keep its error';

CREATE FUNCTION @extschema@._ship_dead_letter(
    p_sink text, p_signal text, p_status integer, p_response text, p_payload text, p_row_ids text[])
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO @extschema@.ship_dead_letters (sink, signal, status, response, payload, row_ids)
    VALUES (p_sink, p_signal, p_status, pg_catalog.left(p_response, 65536), pg_catalog.left(p_payload, 65536), p_row_ids);
    UPDATE @extschema@.sink_cursors k
       SET dead_letters = k.dead_letters + 1,
           last_error = pg_catalog.format('HTTP %s: %s', p_status, pg_catalog.left(p_response, 900)),
           last_error_at = pg_catalog.clock_timestamp()
     WHERE k.sink = p_sink AND k.signal = p_signal;
$$;
COMMENT ON FUNCTION @extschema@._ship_dead_letter(text, text, integer, text, text, text[]) IS
    'internal (ship worker): keep a refused batch or item in obs.ship_dead_letters';

/* rows of a sink's signal not yet shipped, and the age of the oldest */
CREATE FUNCTION @extschema@._sink_lag(p_sink text, p_signal text, OUT lag_rows bigint, OUT lag_seconds double precision)
LANGUAGE plpgsql VOLATILE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c @extschema@.sink_cursors;
    v_level @extschema@.log_level;
    v_sql text;
BEGIN
    SELECT * INTO c FROM @extschema@.sink_cursors k WHERE k.sink = p_sink AND k.signal = p_signal;
    SELECT s.min_level INTO v_level FROM @extschema@.sinks s WHERE s.name = p_sink;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_sql := pg_catalog.format($q$
        SELECT pg_catalog.count(*) - CASE WHEN $3 IS NULL THEN 0 ELSE $5 END,
               COALESCE(EXTRACT(epoch FROM pg_catalog.clock_timestamp() - pg_catalog.min(t.%2$s))::double precision, 0)
          FROM %1$s t
         WHERE t.txid >= pg_catalog.pg_snapshot_xmin($1)
           AND NOT pg_catalog.pg_visible_in_snapshot(t.txid, $1)
           AND ($6 IS NULL OR t.level >= $6)
           AND NOT ($2 IS NOT NULL AND pg_catalog.pg_visible_in_snapshot(t.txid, $2)
                    AND (t.txid, %3$s) <= (COALESCE($3, '0'::xid8), COALESCE($4, 9223372036854775807))
                    AND $3 IS NOT NULL) $q$,
        CASE p_signal WHEN 'logs' THEN '@extschema@.logs' WHEN 'spans' THEN '@extschema@.spans'
                      WHEN 'alerts' THEN '@extschema@.alerts' ELSE '@extschema@.metric_points' END,
        CASE p_signal WHEN 'logs' THEN 'ts' WHEN 'spans' THEN 'end_time'
                      WHEN 'alerts' THEN 'created_at' ELSE 'ts' END,
        CASE p_signal WHEN 'logs' THEN 't.log_id' WHEN 'spans' THEN 't.span_seq'
                      WHEN 'alerts' THEN 't.alert_id' ELSE '9223372036854775807::bigint' END);
    IF p_signal <> 'logs' THEN
        v_sql := pg_catalog.replace(v_sql, 't.level >= $6', 'true');
    END IF;
    /* metric points: rows of txids before pos_txid were counted above; pos_off counts those of pos_txid */
    IF p_signal = 'metrics' THEN
        v_sql := pg_catalog.replace(v_sql, '<= (COALESCE($3', '< (COALESCE($3');
    ELSE
        v_sql := pg_catalog.replace(v_sql, 'CASE WHEN $3 IS NULL THEN 0 ELSE $5 END', '0');
    END IF;
    EXECUTE v_sql INTO lag_rows, lag_seconds
        USING c.shipped_snap, c.window_snap, c.pos_txid, c.pos_key, c.pos_off, v_level;
    IF lag_rows = 0 THEN
        lag_seconds := 0;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._sink_lag(text, text) IS
    'internal: rows of a sink''s signal committed and not yet shipped, and the age in seconds of the oldest';

CREATE VIEW @extschema@.sink_stats WITH (security_invoker = true) AS
    SELECT s.name AS sink, s.kind, k.signal, s.paused, k.rows_shipped, k.batches_shipped,
           k.retries, k.failures, k.dead_letters, k.last_error, k.last_error_at, k.last_shipped_at,
           l.lag_rows, l.lag_seconds
      FROM @extschema@.sinks s
      JOIN @extschema@.sink_cursors k ON k.sink = s.name
     CROSS JOIN LATERAL @extschema@._sink_lag(s.name, k.signal) l;
COMMENT ON VIEW @extschema@.sink_stats IS
    'per sink and signal: rows and batches shipped, retries, failures, dead letters, the last error and when, and the lag in rows and seconds';

CREATE FUNCTION @extschema@.export_jaeger(dir text) RETURNS text
    AS 'MODULE_PATHNAME', 'obs_export_jaeger' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.export_jaeger(text) IS
    'write every trace (obs.jaeger_json()) to traces_<UTC timestamp>.json in dir, a server directory, atomically; returns the path';

REVOKE EXECUTE ON FUNCTION @extschema@._sink_add(text, text, text[], text, jsonb, text, integer, interval, boolean, jsonb, boolean, interval, text),
    @extschema@.setup_logging_to_elk(text, integer, text, text, text[], text, integer, interval, boolean, jsonb, boolean, interval, text, text),
    @extschema@.setup_alert_webhook(text, text, jsonb, integer, interval, boolean, interval, text, text),
    @extschema@._sink_set_paused(text, boolean), @extschema@.pause_sink(text), @extschema@.resume_sink(text),
    @extschema@.drop_sink(text), @extschema@._ship_batch(text, text, integer),
    @extschema@._ship_ack(text, text, integer, xid8, bigint, bigint, boolean, integer),
    @extschema@._ship_failed(text, text, text, boolean),
    @extschema@._ship_dead_letter(text, text, integer, text, text, text[]),
    @extschema@._ship_wake(), @extschema@.export_jaeger(text)
    FROM PUBLIC;
/* ---- end shipping: issue 9 ---- */

/* ---- attack fixes (part 2 of 2) ---- */

/* evaluate_alert_rules() refuses a read-only transaction (25006) instead of failing every rule with a WARNING and returning as if all went well */
CREATE OR REPLACE FUNCTION @extschema@.evaluate_alert_rules(as_of timestamptz DEFAULT NULL)
RETURNS SETOF @extschema@.alerts
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_as_of timestamptz := COALESCE($1, pg_catalog.clock_timestamp());
    v_name text;
    v_rule @extschema@.alert_rules;
    v_comparison text;
    v_xmin xid8;
    v_new bigint[];
    v_state text;
    v_message text;
BEGIN
    /* every rule would fail alone, and the run would seem to succeed */
    IF pg_catalog.current_setting('transaction_read_only')::boolean THEN
        RAISE EXCEPTION 'cannot execute obs.evaluate_alert_rules() in a read-only transaction'
            USING ERRCODE = '25006',
                  HINT = 'Evaluate alert rules on the primary (not on a standby), in a read-write transaction.';
    END IF;
    FOR v_name IN
        SELECT r.rule_name FROM @extschema@.alert_rules r WHERE r.enabled ORDER BY r.rule_name
    LOOP
        BEGIN
            SELECT * INTO v_rule FROM @extschema@.alert_rules r
             WHERE r.rule_name = v_name AND r.enabled FOR UPDATE NOWAIT;
            CONTINUE WHEN NOT FOUND;
            v_comparison := @extschema@._alert_args(v_rule.metric_name, v_rule.threshold,
                                                    v_rule.comparison, v_rule.lookback, v_rule.tags);
            v_xmin := pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot());
            v_new := @extschema@._store_alerts(v_rule.metric_name, v_rule.threshold, v_comparison,
                                               v_rule.tags, v_rule.rule_name,
                                               v_as_of - v_rule.lookback, v_as_of, v_rule.lateness,
                                               v_rule.last_window, v_rule.last_xmin);
            UPDATE @extschema@.alert_rules r
               SET last_evaluated_at = pg_catalog.clock_timestamp(),
                   last_window = pg_catalog.tstzrange(v_as_of - v_rule.lookback, v_as_of, '(]'),
                   last_xmin = v_xmin, last_error = NULL, last_error_at = NULL
             WHERE r.rule_name = v_name;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            RAISE WARNING 'alert rule "%" failed: %', v_name, v_message
                USING DETAIL = pg_catalog.format('The rule failed with SQLSTATE %s and stored no alert; the other rules were evaluated.', v_state),
                      HINT = 'The error is kept in obs.alert_rules.last_error until the rule is evaluated without error.';
            /* the rule's row may be what failed (locked by another
               transaction): keeping the error must not end the run either */
            BEGIN
                PERFORM FROM @extschema@.alert_rules r
                  WHERE r.rule_name = v_name FOR UPDATE NOWAIT;
                UPDATE @extschema@.alert_rules r
                   SET last_error = v_state || ': ' || v_message,
                       last_error_at = pg_catalog.clock_timestamp()
                 WHERE r.rule_name = v_name;
            EXCEPTION WHEN OTHERS THEN
                NULL;
            END;
            CONTINUE;
        END;
        RETURN QUERY
            SELECT * FROM @extschema@.alerts a
             WHERE a.alert_id = ANY (v_new)
             ORDER BY a.observed_at, a.alert_id;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.evaluate_alert_rules(timestamptz) IS
$$check every enabled rule of obs.alert_rules at as_of (NULL = the current time), store the breaches under the rule's name, and return the alerts stored by this call, by rule name.
A rule checks the samples in its window (as_of - lookback, as_of] that its previous evaluation did not check, and the samples stored since its previous evaluation whose ts is up to lateness before the window (README: "Lookback against schedule").
A rule that fails is skipped with a WARNING and its error kept in last_error; the other rules are evaluated.
Errors: 25006 in a read-only transaction (a standby, or BEGIN READ ONLY), where every rule would fail.
Schedule it with pg_cron: SELECT cron.schedule('obs-alerts', '* * * * *', 'SELECT obs.evaluate_alert_rules()');$$;

/* ---- end attack fixes ---- */

/* ---- partitions: issue 10 ---- */
/*
 * _check_range is immutable: constant arguments are checked at plan time,
 * before partition pruning can prove an inverted range empty
 */
ALTER FUNCTION @extschema@._check_range(timestamptz, timestamptz) IMMUTABLE;

/*
 * obs.logs, obs.spans, obs.metric_points and obs.alerts become partitioned
 * by time.  PostgreSQL cannot turn a table into a partitioned one, so each
 * is renamed, a partitioned table of the same name and columns is made
 * with its default partition, the rows are copied (into the default
 * partition: obs.run_maintenance() moves them into time partitions), the
 * identity sequence continues where it was, and the old table is dropped.
 * The views and BEGIN ATOMIC functions bound to the old tables (and those
 * bound to them) are dropped first and made again from their own
 * definitions, with their comments and PUBLIC's EXECUTE as they were.
 * Grants to other roles on these tables are not carried over: re-run
 * obs.grant_reader() / obs.grant_writer() after the update (README).
 */
DO $conv$
DECLARE
    tabs regclass[] := ARRAY['@extschema@.logs', '@extschema@.spans',
                             '@extschema@.metric_points', '@extschema@.alerts']::regclass[];
    kinds text[] := '{}';
    names text[] := '{}';
    defs text[] := '{}';
    cmts text[] := '{}';
    nopublic boolean[] := '{}';
    r record;
    pending integer[];
    still integer[];
    i integer;
BEGIN
    FOR r IN
        WITH RECURSIVE deps(classid, objid) AS (
            /* bound to the tables, or to their row types (function arguments and results) */
            SELECT d.classid, d.objid FROM pg_catalog.pg_depend d
             WHERE ((d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = ANY (tabs))
                    OR (d.refclassid = 'pg_catalog.pg_type'::regclass
                        AND d.refobjid IN (SELECT t.oid FROM pg_catalog.pg_type t
                                            WHERE t.typrelid = ANY (tabs)
                                               OR t.typelem IN (SELECT c.reltype FROM pg_catalog.pg_class c
                                                                 WHERE c.oid = ANY (tabs)))))
               AND d.classid IN ('pg_catalog.pg_rewrite'::regclass, 'pg_catalog.pg_proc'::regclass)
               AND d.deptype = 'n'
            UNION
            SELECT d.classid, d.objid
              FROM deps
              JOIN pg_catalog.pg_depend d
                ON (deps.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
                    AND d.refobjid = (SELECT rw.ev_class FROM pg_catalog.pg_rewrite rw WHERE rw.oid = deps.objid))
                OR (deps.classid = 'pg_catalog.pg_proc'::regclass AND d.refclassid = 'pg_catalog.pg_proc'::regclass
                    AND d.refobjid = deps.objid)
             WHERE d.classid IN ('pg_catalog.pg_rewrite'::regclass, 'pg_catalog.pg_proc'::regclass)
               AND d.deptype = 'n'
        )
        SELECT DISTINCT 'view' AS kind, c.oid, c.oid::regclass::text AS name,
               pg_catalog.format('CREATE VIEW %s%s AS %s', c.oid::regclass,
                                 coalesce(' WITH (' || pg_catalog.array_to_string(c.reloptions, ', ') || ')', ''),
                                 pg_catalog.pg_get_viewdef(c.oid)) AS def,
               pg_catalog.obj_description(c.oid, 'pg_class') AS cmt,
               false AS nopublic
          FROM deps JOIN pg_catalog.pg_rewrite rw ON deps.classid = 'pg_catalog.pg_rewrite'::regclass AND rw.oid = deps.objid
          JOIN pg_catalog.pg_class c ON c.oid = rw.ev_class
         WHERE c.relkind = 'v'
        UNION ALL
        SELECT DISTINCT 'function', p.oid, p.oid::regprocedure::text,
               pg_catalog.pg_get_functiondef(p.oid),
               pg_catalog.obj_description(p.oid, 'pg_proc'),
               p.proacl IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(p.proacl) a WHERE a.grantee = 0)
          FROM deps JOIN pg_catalog.pg_proc p ON deps.classid = 'pg_catalog.pg_proc'::regclass AND p.oid = deps.objid
         ORDER BY 2
    LOOP
        kinds := kinds || r.kind; names := names || r.name; defs := defs || r.def;
        cmts := cmts || r.cmt; nopublic := nopublic || r.nopublic;
    END LOOP;
    FOR i IN 1 .. pg_catalog.cardinality(names) LOOP
        EXECUTE pg_catalog.format('DROP %s IF EXISTS %s CASCADE', CASE kinds[i] WHEN 'view' THEN 'VIEW' ELSE 'FUNCTION' END, names[i]);
    END LOOP;

    ALTER TABLE @extschema@.logs RENAME TO logs_0_2_unpartitioned;
    ALTER INDEX @extschema@.logs_pkey RENAME TO logs_0_2_pkey;
    ALTER INDEX @extschema@.logs_ts_idx RENAME TO logs_0_2_ts_idx;
    ALTER INDEX @extschema@.logs_trace_idx RENAME TO logs_0_2_trace_idx;
    ALTER INDEX @extschema@.logs_txid_idx RENAME TO logs_0_2_txid_idx;
    ALTER SEQUENCE @extschema@.logs_log_id_seq RENAME TO logs_0_2_log_id_seq;
    ALTER TABLE @extschema@.spans RENAME TO spans_0_2_unpartitioned;
    ALTER INDEX @extschema@.spans_pkey RENAME TO spans_0_2_pkey;
    ALTER INDEX @extschema@.spans_start_idx RENAME TO spans_0_2_start_idx;
    ALTER INDEX @extschema@.spans_seq_idx RENAME TO spans_0_2_seq_idx;
    ALTER INDEX @extschema@.spans_txid_idx RENAME TO spans_0_2_txid_idx;
    ALTER SEQUENCE @extschema@.spans_span_seq_seq RENAME TO spans_0_2_span_seq_seq;
    ALTER TABLE @extschema@.metric_points RENAME TO metric_points_0_2_unpartitioned;
    ALTER INDEX @extschema@.metric_points_series_ts_idx RENAME TO metric_points_0_2_series_ts_idx;
    ALTER INDEX @extschema@.metric_points_ts_idx RENAME TO metric_points_0_2_ts_idx;
    ALTER INDEX @extschema@.metric_points_txid_idx RENAME TO metric_points_0_2_txid_idx;
    ALTER TABLE @extschema@.alerts RENAME TO alerts_0_2_unpartitioned;
    ALTER INDEX @extschema@.alerts_pkey RENAME TO alerts_0_2_pkey;
    ALTER TABLE @extschema@.alerts_0_2_unpartitioned RENAME CONSTRAINT alerts_sample_key TO alerts_0_2_sample_key;
    ALTER INDEX @extschema@.alerts_created_idx RENAME TO alerts_0_2_created_idx;
    ALTER INDEX @extschema@.alerts_observed_idx RENAME TO alerts_0_2_observed_idx;
    ALTER INDEX @extschema@.alerts_txid_idx RENAME TO alerts_0_2_txid_idx;
    ALTER SEQUENCE @extschema@.alerts_alert_id_seq RENAME TO alerts_0_2_alert_id_seq;

    CREATE TABLE @extschema@.logs (
        log_id      bigint GENERATED BY DEFAULT AS IDENTITY (CACHE 1000) NOT NULL,
        ts          timestamptz NOT NULL,
        level       @extschema@.log_level NOT NULL,
        logger      text NOT NULL,
        message     text NOT NULL,
        context     jsonb,
        tags        jsonb,
        trace_id    @extschema@.trace_id,
        span_id     @extschema@.span_id,
        error       jsonb,
        backend_pid integer NOT NULL,
        txid        xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id()
    ) PARTITION BY RANGE (ts);
    COMMENT ON TABLE @extschema@.logs IS 'structured log records written by obs.log() and obs.debug() .. obs.critical()';
    CREATE TABLE @extschema@.logs_default PARTITION OF @extschema@.logs DEFAULT;
    ALTER TABLE @extschema@.logs_default ADD CONSTRAINT logs_default_pkey PRIMARY KEY (log_id, ts);
    CREATE INDEX logs_ts_idx ON @extschema@.logs_default (ts);
    CREATE INDEX logs_txid_idx ON @extschema@.logs_default (txid, log_id);
    CREATE INDEX logs_trace_idx ON @extschema@.logs_default (trace_id) WHERE trace_id IS NOT NULL;
    COMMENT ON TABLE @extschema@.logs_default IS 'the default partition of obs.logs: rows outside every time partition (see obs.partition_stats)';
    PERFORM pg_catalog.pg_extension_config_dump('@extschema@.logs_default', '');
    PERFORM pg_catalog.pg_extension_config_dump('@extschema@.logs_log_id_seq', '');
    CREATE TABLE @extschema@.spans (
        trace_id       @extschema@.trace_id NOT NULL,
        span_id        @extschema@.span_id NOT NULL,
        parent_span_id @extschema@.span_id,
        operation      text NOT NULL,
        service_type   @extschema@.service_type NOT NULL,
        service_name   text NOT NULL,
        start_time     timestamptz NOT NULL,
        end_time       timestamptz NOT NULL,
        duration_us    bigint NOT NULL,
        status         @extschema@.span_status NOT NULL,
        error          text,
        tags           jsonb,
        span_seq       bigint GENERATED BY DEFAULT AS IDENTITY (CACHE 1000) NOT NULL,
        txid           xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id()
    ) PARTITION BY RANGE (start_time);
    COMMENT ON TABLE @extschema@.spans IS 'finished spans written by obs.finish_span()';
    CREATE TABLE @extschema@.spans_default PARTITION OF @extschema@.spans DEFAULT;
    ALTER TABLE @extschema@.spans_default ADD CONSTRAINT spans_default_pkey PRIMARY KEY (trace_id, span_id, start_time);
    CREATE INDEX spans_start_idx ON @extschema@.spans_default (start_time);
    CREATE INDEX spans_txid_idx ON @extschema@.spans_default (txid, span_seq);
    CREATE UNIQUE INDEX spans_seq_idx ON @extschema@.spans_default (span_seq);
    COMMENT ON TABLE @extschema@.spans_default IS 'the default partition of obs.spans: rows outside every time partition (see obs.partition_stats)';
    PERFORM pg_catalog.pg_extension_config_dump('@extschema@.spans_default', '');
    PERFORM pg_catalog.pg_extension_config_dump('@extschema@.spans_span_seq_seq', '');
    CREATE TABLE @extschema@.metric_points (
        series_id integer NOT NULL,
        ts        timestamptz NOT NULL,
        value     double precision NOT NULL,
        txid      xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id()
    ) PARTITION BY RANGE (ts);
    COMMENT ON TABLE @extschema@.metric_points IS 'metric samples written by obs.record_metric()';
    CREATE TABLE @extschema@.metric_points_default PARTITION OF @extschema@.metric_points DEFAULT;
    CREATE INDEX metric_points_series_ts_idx ON @extschema@.metric_points_default (series_id, ts);
    CREATE INDEX metric_points_txid_idx ON @extschema@.metric_points_default (txid);
    CREATE INDEX metric_points_ts_idx ON @extschema@.metric_points_default USING brin (ts);
    COMMENT ON TABLE @extschema@.metric_points_default IS 'the default partition of obs.metric_points: rows outside every time partition (see obs.partition_stats)';
    ALTER TABLE @extschema@.metric_points REPLICA IDENTITY FULL;
    ALTER TABLE @extschema@.metric_points_default REPLICA IDENTITY FULL;
    PERFORM pg_catalog.pg_extension_config_dump('@extschema@.metric_points_default', '');
    CREATE TABLE @extschema@.alerts (
        alert_id        bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
        metric_name     text NOT NULL,
        series_id       integer NOT NULL,
        tags            jsonb NOT NULL,
        observed_at     timestamptz NOT NULL,
        value           double precision NOT NULL,
        threshold       double precision NOT NULL,
        comparison      text NOT NULL,
        severity        @extschema@.alert_severity NOT NULL,
        rule_name       text,
        acknowledged_at timestamptz,
        sample_no       integer NOT NULL DEFAULT 1,
        txid            xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id()
    ) PARTITION BY RANGE (observed_at);
    COMMENT ON TABLE @extschema@.alerts IS
        'threshold breaches stored by obs.check_alert_conditions() (rule_name NULL) and obs.evaluate_alert_rules(); one row per breaching sample, rule, comparison and threshold';
    CREATE TABLE @extschema@.alerts_default PARTITION OF @extschema@.alerts DEFAULT;
    ALTER TABLE @extschema@.alerts_default ADD CONSTRAINT alerts_default_pkey PRIMARY KEY (alert_id, observed_at);
    ALTER TABLE @extschema@.alerts_default ADD CONSTRAINT alerts_sample_key
        UNIQUE NULLS NOT DISTINCT (rule_name, series_id, observed_at, value, sample_no, comparison, threshold);
    CREATE INDEX alerts_txid_idx ON @extschema@.alerts_default (txid, alert_id);
    CREATE INDEX alerts_created_idx ON @extschema@.alerts_default (created_at);
    CREATE INDEX alerts_observed_idx ON @extschema@.alerts_default (observed_at);
    COMMENT ON TABLE @extschema@.alerts_default IS 'the default partition of obs.alerts: rows outside every time partition (see obs.partition_stats)';
    PERFORM pg_catalog.pg_extension_config_dump('@extschema@.alerts_default', '');
    PERFORM pg_catalog.pg_extension_config_dump('@extschema@.alerts_alert_id_seq', '');

    PERFORM pg_catalog.setval('@extschema@.logs_log_id_seq', s.last_value, s.is_called)
       FROM @extschema@.logs_0_2_log_id_seq s;
    PERFORM pg_catalog.setval('@extschema@.spans_span_seq_seq', s.last_value, s.is_called)
       FROM @extschema@.spans_0_2_span_seq_seq s;
    PERFORM pg_catalog.setval('@extschema@.alerts_alert_id_seq', s.last_value, s.is_called)
       FROM @extschema@.alerts_0_2_alert_id_seq s;
    INSERT INTO @extschema@.logs (log_id, ts, level, logger, message, context, tags, trace_id, span_id, error, backend_pid, txid)
    SELECT log_id, ts, level, logger, message, context, tags, trace_id, span_id, error, backend_pid, txid
      FROM @extschema@.logs_0_2_unpartitioned;
    INSERT INTO @extschema@.spans (trace_id, span_id, parent_span_id, operation, service_type, service_name,
                                   start_time, end_time, duration_us, status, error, tags, span_seq, txid)
    SELECT trace_id, span_id, parent_span_id, operation, service_type, service_name,
           start_time, end_time, duration_us, status, error, tags, span_seq, txid
      FROM @extschema@.spans_0_2_unpartitioned;
    INSERT INTO @extschema@.metric_points (series_id, ts, value, txid)
    SELECT series_id, ts, value, txid FROM @extschema@.metric_points_0_2_unpartitioned;
    INSERT INTO @extschema@.alerts (alert_id, created_at, metric_name, series_id, tags, observed_at, value, threshold,
                                    comparison, severity, rule_name, acknowledged_at, sample_no, txid)
    SELECT alert_id, created_at, metric_name, series_id, tags, observed_at, value, threshold,
           comparison, severity, rule_name, acknowledged_at, sample_no, txid
      FROM @extschema@.alerts_0_2_unpartitioned;
    DROP TABLE @extschema@.logs_0_2_unpartitioned, @extschema@.spans_0_2_unpartitioned,
               @extschema@.metric_points_0_2_unpartitioned, @extschema@.alerts_0_2_unpartitioned;

    /* the dependents again, each once what it depends on exists */
    pending := ARRAY(SELECT pg_catalog.generate_series(1, pg_catalog.cardinality(names)));
    FOR pass IN 1 .. 20 LOOP
        EXIT WHEN pg_catalog.cardinality(pending) = 0;
        still := '{}';
        FOREACH i IN ARRAY pending LOOP
            BEGIN
                EXECUTE defs[i];
            EXCEPTION WHEN undefined_table OR undefined_function OR undefined_object THEN
                still := still || i;
            END;
        END LOOP;
        pending := still;
    END LOOP;
    IF pg_catalog.cardinality(pending) > 0 THEN
        RAISE EXCEPTION 'obs upgrade: could not make % again', names[pending[1]];
    END IF;
    FOR i IN 1 .. pg_catalog.cardinality(names) LOOP
        IF cmts[i] IS NOT NULL THEN
            EXECUTE pg_catalog.format('COMMENT ON %s %s IS %L', CASE kinds[i] WHEN 'view' THEN 'VIEW' ELSE 'FUNCTION' END,
                                      names[i], cmts[i]);
        END IF;
        IF nopublic[i] THEN
            EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', names[i]);
        END IF;
    END LOOP;
END
$conv$;

/* alerts are inserted with ON CONFLICT DO NOTHING: the sample key is per partition */
CREATE OR REPLACE FUNCTION @extschema@._store_alerts(
    p_metric_name text, p_threshold double precision, p_comparison text,
    p_tags jsonb, p_rule_name text, p_since timestamptz, p_until timestamptz,
    p_lateness interval, p_last_window tstzrange, p_last_xmin xid8)
RETURNS bigint[]
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_scan_since timestamptz := p_since;
    v_last_xmin xid8 := p_last_xmin;
    v_last_lo timestamptz;
    v_last_hi timestamptz;
    v_new bigint[] := '{}';
    v_symbol text;
    r record;
BEGIN
    /* a watermark from the future comes from another cluster (a restored
       dump): then this is like a first evaluation */
    IF p_last_xmin > pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot()) THEN
        v_last_xmin := NULL;
    END IF;
    IF v_last_xmin IS NOT NULL AND p_lateness IS NOT NULL THEN
        v_scan_since := p_since - p_lateness;
    END IF;
    IF v_last_xmin IS NOT NULL AND p_last_window IS NOT NULL
       AND NOT pg_catalog.isempty(p_last_window) THEN
        v_last_lo := pg_catalog.lower(p_last_window);
        v_last_hi := pg_catalog.upper(p_last_window);
    END IF;
    v_symbol := CASE p_comparison WHEN 'greater' THEN '>' WHEN 'less' THEN '<'
                                  WHEN 'greater_or_equal' THEN '>=' ELSE '<=' END;

    FOR r IN
        INSERT INTO @extschema@.alerts AS a
               (metric_name, series_id, tags, observed_at, value, threshold,
                comparison, severity, rule_name, sample_no)
        SELECT b.name, b.series_id, b.tags, b.ts, b.value, p_threshold,
               p_comparison,
               CASE WHEN pg_catalog.abs(b.value::numeric - p_threshold::numeric)
                         > 0.1 * pg_catalog.abs(p_threshold::numeric)
                    THEN 'high' ELSE 'warning' END::@extschema@.alert_severity,
               p_rule_name, b.sample_no
          FROM (SELECT c.*,
                       pg_catalog.row_number() OVER w AS sample_no,
                       pg_catalog.bool_or(c.candidate) OVER w AS group_candidate
                  FROM (SELECT s.series_id, s.name, s.tags, p.ts, p.value,
                               NOT (k.seen AND p.ts > v_last_lo AND p.ts <= v_last_hi) IS TRUE
                               AND (p.ts > p_since OR NOT k.seen
                                    OR COALESCE(p.ts > v_last_hi, false)) AS candidate
                          FROM @extschema@.metric_series s
                          JOIN @extschema@.metric_points p ON p.series_id = s.series_id
                         CROSS JOIN LATERAL (
                               SELECT @extschema@._xid_precedes(p.xmin, v_last_xmin) AS seen) k
                         WHERE s.name = p_metric_name
                           AND (p_tags IS NULL OR s.tags @> p_tags)
                           AND p.ts > v_scan_since AND p.ts <= p_until
                           AND CASE p_comparison
                                   WHEN 'greater' THEN p.value > p_threshold
                                   WHEN 'less' THEN p.value < p_threshold
                                   WHEN 'greater_or_equal' THEN p.value >= p_threshold
                                   ELSE p.value <= p_threshold
                               END) c
                WINDOW w AS (PARTITION BY c.series_id, c.ts, c.value)) b
         WHERE b.group_candidate
         ORDER BY b.series_id, b.ts, b.value, b.sample_no
        ON CONFLICT DO NOTHING
        RETURNING a.alert_id, a.metric_name, a.tags, a.value, a.severity, a.observed_at
    LOOP
        v_new := v_new || r.alert_id;
        PERFORM @extschema@.warning(
            pg_catalog.format('alert: %s %s %s (value %s, %s)',
                              r.metric_name, v_symbol, p_threshold, r.value, r.severity),
            pg_catalog.jsonb_build_object(
                'alert_id', r.alert_id, 'metric_name', r.metric_name,
                'value', r.value, 'threshold', p_threshold,
                'comparison', p_comparison, 'severity', r.severity,
                'observed_at', r.observed_at, 'rule_name', p_rule_name),
            r.tags,
            'obs.alerts');
    END LOOP;
    RETURN v_new;
END
$$;

/* ------------------------------------------------------------------------
 * Section: time partitions and retention
 *
 * obs.logs (ts), obs.spans (start_time), obs.metric_points (ts) and
 * obs.alerts (observed_at) are range-partitioned by time (30_tables.sql).
 * obs.run_maintenance() makes the partitions ahead of time, moves rows out
 * of the default partition into the partitions it makes, and applies
 * retention by dropping whole partitions.  Time partitions are named
 * <table>_pYYYYMMDD (or _pYYYYMMDD_HH24MI when the interval is shorter than
 * a day), their bounds are multiples of the interval from Monday
 * 2000-01-03 00:00 UTC (days start at midnight UTC, weeks on Monday), and
 * they are found through pg_inherits, never by name.
 * ------------------------------------------------------------------------ */

CREATE TABLE @extschema@.partition_config (
    signal             text PRIMARY KEY
                       CHECK (signal IN ('logs', 'spans', 'metrics', 'alerts')),
    partition_interval interval NOT NULL DEFAULT '1 day',
    premake            integer NOT NULL DEFAULT 3 CHECK (premake BETWEEN 0 AND 366),
    retention          interval CHECK (retention > '0'),
    CHECK (partition_interval >= '1 hour' AND partition_interval <= '366 days'
           AND pg_catalog.date_part('month', partition_interval) = 0
           AND pg_catalog.date_part('year', partition_interval) = 0)
);
COMMENT ON TABLE @extschema@.partition_config IS
$$per signal: the time partitions' width (partition_interval, default 1 day), how many partitions obs.run_maintenance() makes ahead of the current one (premake, default 3) and how long partitions are kept (retention, NULL: for ever).  A signal without a row uses the defaults.$$;
/* rows are settings a user made: dumped; an empty table means all defaults */
SELECT pg_catalog.pg_extension_config_dump('@extschema@.partition_config', '');

/* the partitioned table, its time column and its default partition, by signal */
CREATE FUNCTION @extschema@._partition_signal(signal text,
    OUT parent regclass, OUT time_column name, OUT default_partition regclass)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'signal must not be null' USING ERRCODE = '22004';
    END IF;
    CASE $1
        WHEN 'logs' THEN
            parent := '@extschema@.logs'; time_column := 'ts';
            default_partition := '@extschema@.logs_default';
        WHEN 'spans' THEN
            parent := '@extschema@.spans'; time_column := 'start_time';
            default_partition := '@extschema@.spans_default';
        WHEN 'metrics' THEN
            parent := '@extschema@.metric_points'; time_column := 'ts';
            default_partition := '@extschema@.metric_points_default';
        WHEN 'alerts' THEN
            parent := '@extschema@.alerts'; time_column := 'observed_at';
            default_partition := '@extschema@.alerts_default';
        ELSE
            RAISE EXCEPTION 'unknown signal "%"', $1
                USING ERRCODE = '22023',
                      HINT = 'The signals are logs, spans, metrics and alerts.';
    END CASE;
END
$$;
COMMENT ON FUNCTION @extschema@._partition_signal(text) IS
    'internal: the partitioned table, time column and default partition of a signal (logs, spans, metrics, alerts)';

CREATE FUNCTION @extschema@.partitions()
RETURNS TABLE(signal text, partition_name regclass, lower_bound timestamptz,
              upper_bound timestamptz, is_default boolean)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.signal, i.inhrelid::regclass, b.m[1]::timestamptz, b.m[2]::timestamptz,
           b.m IS NULL
      FROM unnest(ARRAY['logs', 'spans', 'metrics', 'alerts']) s(signal)
     CROSS JOIN LATERAL @extschema@._partition_signal(s.signal) p
      JOIN pg_catalog.pg_inherits i ON i.inhparent = p.parent
      JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
     CROSS JOIN LATERAL (SELECT pg_catalog.regexp_match(
                             pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                             '^FOR VALUES FROM \(''([^'']*)''\) TO \(''([^'']*)''\)$') AS m) b
     ORDER BY 1, b.m IS NULL, 3
$$;
COMMENT ON FUNCTION @extschema@.partitions() IS
    'the partitions of obs.logs, obs.spans, obs.metric_points and obs.alerts with their bounds [lower_bound, upper_bound); the default partition has NULL bounds';

CREATE VIEW @extschema@.partition_stats WITH (security_invoker = true) AS
    SELECT s.signal,
           (SELECT count(*) FROM @extschema@.partitions() p
             WHERE p.signal = s.signal AND NOT p.is_default) AS partitions,
           (SELECT min(p.lower_bound) FROM @extschema@.partitions() p WHERE p.signal = s.signal) AS oldest_bound,
           (SELECT max(p.upper_bound) FROM @extschema@.partitions() p WHERE p.signal = s.signal) AS newest_bound,
           s.default_rows
      FROM (SELECT 'logs' AS signal, (SELECT count(*) FROM @extschema@.logs_default) AS default_rows
            UNION ALL
            SELECT 'spans', (SELECT count(*) FROM @extschema@.spans_default)
            UNION ALL
            SELECT 'metrics', (SELECT count(*) FROM @extschema@.metric_points_default)
            UNION ALL
            SELECT 'alerts', (SELECT count(*) FROM @extschema@.alerts_default)) s;
COMMENT ON VIEW @extschema@.partition_stats IS
    'per signal: the number of time partitions, the oldest lower and newest upper bound, and the rows held by the default partition (rows outside every time partition; obs.run_maintenance() moves them when it makes their partition)';

/* keys and indexes of one new time partition: per partition, as the defaults have */
CREATE FUNCTION @extschema@._partition_prepare(signal text, part regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n text := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = $2);
BEGIN
    CASE $1
        WHEN 'logs' THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (log_id, ts)', $2, n || '_pkey');
            EXECUTE format('CREATE INDEX %I ON %s (ts)', n || '_ts_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (trace_id) WHERE trace_id IS NOT NULL', n || '_trace_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (txid, log_id)', n || '_txid_idx', $2);
        WHEN 'spans' THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (trace_id, span_id, start_time)', $2, n || '_pkey');
            EXECUTE format('CREATE INDEX %I ON %s (start_time)', n || '_start_idx', $2);
            EXECUTE format('CREATE UNIQUE INDEX %I ON %s (span_seq)', n || '_seq_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (txid, span_seq)', n || '_txid_idx', $2);
        WHEN 'metrics' THEN
            EXECUTE format('CREATE INDEX %I ON %s (series_id, ts)', n || '_series_ts_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s USING brin (ts)', n || '_ts_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (txid)', n || '_txid_idx', $2);
            EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', $2);
        WHEN 'alerts' THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (alert_id, observed_at)', $2, n || '_pkey');
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I UNIQUE NULLS NOT DISTINCT '
                           '(rule_name, series_id, observed_at, value, sample_no, comparison, threshold)',
                           $2, n || '_sample_key');
            EXECUTE format('CREATE INDEX %I ON %s (created_at)', n || '_created_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (observed_at)', n || '_observed_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (txid, alert_id)', n || '_txid_idx', $2);
    END CASE;
END
$$;
COMMENT ON FUNCTION @extschema@._partition_prepare(text, regclass) IS
    'internal: the primary key, unique keys, indexes and replica identity of a new time partition of a signal';

CREATE FUNCTION @extschema@.set_retention(signal text, keep interval)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._partition_signal($1);
    IF $2 IS NULL THEN
        RAISE EXCEPTION 'keep must not be null'
            USING ERRCODE = '22004',
                  HINT = 'To keep the partitions of a signal for ever, use obs.clear_retention(signal).';
    END IF;
    IF $2 <= '0'::interval THEN
        RAISE EXCEPTION 'keep must be positive'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The interval given was %s.', $2);
    END IF;
    INSERT INTO @extschema@.partition_config AS c (signal, retention)
    VALUES ($1, $2)
    ON CONFLICT ON CONSTRAINT partition_config_pkey DO UPDATE SET retention = excluded.retention;
END
$$;
COMMENT ON FUNCTION @extschema@.set_retention(text, interval) IS
$$keep the partitions of signal (logs, spans, metrics or alerts) for keep: obs.run_maintenance() drops a partition once all of it is older than now() - keep (without a retention, the default, partitions are kept for ever: obs.clear_retention).  Alerts partitions holding an unacknowledged alert are kept.
Errors: 22004 for a NULL signal or keep, 22023 for an unknown signal or an interval that is not positive.$$;

CREATE FUNCTION @extschema@.clear_retention(signal text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._partition_signal($1);
    UPDATE @extschema@.partition_config c SET retention = NULL WHERE c.signal = $1;
END
$$;
COMMENT ON FUNCTION @extschema@.clear_retention(text) IS
$$keep the partitions of signal (logs, spans, metrics or alerts) for ever (the default): undo obs.set_retention().
Errors: 22004 for NULL, 22023 for an unknown signal.$$;

CREATE FUNCTION @extschema@.set_partitioning(signal text, partition_interval interval, premake integer DEFAULT 3)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._partition_signal($1);
    IF $2 IS NULL OR $3 IS NULL THEN
        RAISE EXCEPTION 'partition_interval and premake must not be null' USING ERRCODE = '22004';
    END IF;
    IF $2 < '1 hour'::interval OR $2 > '366 days'::interval
       OR pg_catalog.date_part('month', $2) <> 0 OR pg_catalog.date_part('year', $2) <> 0 THEN
        RAISE EXCEPTION 'partition_interval must be between 1 hour and 366 days, without months'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The interval given was %s.', $2);
    END IF;
    IF $3 < 0 OR $3 > 366 THEN
        RAISE EXCEPTION 'premake must be between 0 and 366'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The value given was %s.', $3);
    END IF;
    INSERT INTO @extschema@.partition_config AS c (signal, partition_interval, premake)
    VALUES ($1, $2, $3)
    ON CONFLICT ON CONSTRAINT partition_config_pkey
    DO UPDATE SET partition_interval = excluded.partition_interval, premake = excluded.premake;
END
$$;
COMMENT ON FUNCTION @extschema@.set_partitioning(text, interval, integer) IS
$$the width of the time partitions obs.run_maintenance() makes for signal from now on (default 1 day) and how many it makes ahead of the current one (default 3).  Existing partitions keep their bounds; a new range that would overlap one is not made (its rows go to the default partition).
Errors: 22004 for NULL, 22023 for an unknown signal, an interval outside 1 hour .. 366 days or with months, a premake outside 0 .. 366.$$;

/*
 * One time partition [lo, hi) of a signal, with the default partition's
 * rows of that range moved into it, attached.  Returns the rows moved.
 */
CREATE FUNCTION @extschema@._partition_create(signal text, lo timestamptz, hi timestamptz, OUT part regclass, OUT moved bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s record := @extschema@._partition_signal($1);
    ival interval := $3 - $2;
    n text;
BEGIN
    n := pg_catalog.format('%s_p%s', (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = s.parent),
                           pg_catalog.to_char($2 AT TIME ZONE 'UTC',
                                              CASE WHEN ival < '1 day' THEN 'YYYYMMDD_HH24MI' ELSE 'YYYYMMDD' END));
    EXECUTE pg_catalog.format('CREATE TABLE @extschema@.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)',
                              n, s.parent);
    part := pg_catalog.format('@extschema@.%I', n)::regclass;
    /*
     * the partition belongs to the parent's owner, whoever runs the
     * maintenance (another superuser, a pg_cron job): retention, run as
     * the extension owner, can drop it later
     */
    EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %s', part,
                              (SELECT c.relowner::regrole FROM pg_catalog.pg_class c WHERE c.oid = s.parent));
    PERFORM @extschema@._partition_prepare($1, part);
    /*
     * no row may reach the default partition between the move and ATTACH
     * (which takes this lock anyway): writers bound for other partitions
     * do not wait
     */
    EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', s.default_partition);
    /* ATTACH would refuse while the default partition holds rows of the range */
    EXECUTE pg_catalog.format('WITH m AS (DELETE FROM %s d WHERE d.%I >= $1 AND d.%I < $2 RETURNING d.*) '
                              'INSERT INTO %s SELECT * FROM m',
                              s.default_partition, s.time_column, s.time_column, part)
      USING $2, $3;
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE pg_catalog.format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)',
                              s.parent, part, $2, $3);
END
$$;
COMMENT ON FUNCTION @extschema@._partition_create(text, timestamptz, timestamptz) IS
    'internal: make the time partition [lo, hi) of a signal, move the default partition''s rows of that range into it, attach it';

CREATE FUNCTION @extschema@.run_maintenance(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE(signal text, action text, partition_name text, row_count bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '500ms' AS $$
DECLARE
    sig text;
    s record;
    cfg record;
    origin constant timestamptz := '2000-01-03 00:00:00+00';
    cur timestamptz;
    lo timestamptz;
    made integer;
    p record;
    c record;
    cutoff timestamptz;
    n bigint;
    acts text[];
    parts text[];
    cnts bigint[];
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'as_of must not be null' USING ERRCODE = '22004';
    END IF;
    FOREACH sig IN ARRAY ARRAY['logs', 'spans', 'metrics', 'alerts'] LOOP
        s := @extschema@._partition_signal(sig);
        SELECT coalesce(pc.partition_interval, '1 day') AS ival, coalesce(pc.premake, 3) AS premake,
               pc.retention
          INTO cfg
          FROM (SELECT 1) one
          LEFT JOIN @extschema@.partition_config pc ON pc.signal = sig;
        signal := sig;
        acts := '{}'; parts := '{}'; cnts := '{}';
        /*
         * one signal at a time: a lock not had in lock_timeout skips this
         * signal until the next run.  lock_timeout (500 ms) is shorter than
         * the default deadlock_timeout (1 s): should a writer wait for a
         * lock this run holds while this run waits for the writer, this run
         * gives up first, and the writer is never chosen as the victim.
         */
        BEGIN
            cutoff := CASE WHEN cfg.retention IS NULL THEN '-infinity'::timestamptz ELSE $1 - cfg.retention END;
            cur := pg_catalog.date_bin(cfg.ival, $1, origin);
            made := 0;
            /*
             * retention first: drop whole partitions, never DELETE.  A drop
             * takes ACCESS EXCLUSIVE on the table, kept to the end of the
             * run; taken before the default partition's lock (below), it
             * never waits for a writer that waits for this run.
             */
            FOR p IN
                SELECT x.partition_name AS part, x.upper_bound FROM @extschema@.partitions() x
                 WHERE x.signal = sig AND NOT x.is_default AND x.upper_bound <= cutoff
                 ORDER BY x.lower_bound
            LOOP
                IF sig = 'alerts' THEN
                    EXECUTE pg_catalog.format('SELECT count(*) FROM %s a WHERE a.acknowledged_at IS NULL', p.part)
                       INTO n;
                    IF n > 0 THEN
                        /* an alert nobody acknowledged stays, however old */
                        acts := acts || 'kept'::text; parts := parts || p.part::text; cnts := cnts || n;
                        CONTINUE;
                    END IF;
                END IF;
                /*
                 * ARCHIVE HOOK (issue 10 item 3, not built): the partition is
                 * to be written to the Parquet lake here, and dropped only
                 * once its archive is confirmed.  Today it is dropped unread
                 * (row_count NULL: a drop does not count rows).
                 */
                acts := acts || 'dropped'::text; parts := parts || p.part::text; cnts := cnts || NULL::bigint;
                EXECUTE pg_catalog.format('DROP TABLE %s', p.part);
            END LOOP;
            /*
             * the ranges to have: the current one and premake ahead, and every
             * range holding rows of the default partition, from the retention
             * cutoff up to the last premade one (at most 100 per run)
             */
            FOR lo IN
                SELECT r.lo FROM (
                    SELECT cur + g * cfg.ival AS lo FROM pg_catalog.generate_series(0, cfg.premake) g
                    UNION
                    SELECT b.lo FROM @extschema@._default_bins(s.default_partition, s.time_column, cfg.ival, origin) b
                     WHERE b.lo + cfg.ival > cutoff AND b.lo <= cur + cfg.premake * cfg.ival) r
                 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.partitions() x
                                    WHERE x.signal = sig AND NOT x.is_default
                                      AND x.lower_bound < r.lo + cfg.ival AND x.upper_bound > r.lo)
                 ORDER BY r.lo
                 LIMIT 100
            LOOP
                SELECT * INTO c FROM @extschema@._partition_create(sig, lo, lo + cfg.ival);
                acts := acts || 'created'::text; parts := parts || c.part::text; cnts := cnts || c.moved;
            END LOOP;

        EXCEPTION WHEN lock_not_available THEN
            /* what this signal did is undone: report only the skip */
            acts := ARRAY['skipped']; parts := ARRAY[NULL::text]; cnts := ARRAY[NULL::bigint];
        END;
        FOR i IN 1 .. pg_catalog.cardinality(acts) LOOP
            action := acts[i]; partition_name := parts[i]; row_count := cnts[i];
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.run_maintenance(timestamptz) IS
$$for each signal (logs, spans, metrics, alerts): drop the partitions wholly older than as_of - retention (alerts: not while they hold an unacknowledged alert), then make the time partition holding as_of and obs.partition_config.premake ahead (moving the default partition's rows of those ranges and of every range it still holds within retention into new partitions).  Idempotent; waits at most 500 ms for a lock (lock_timeout), else skips the signal until the next run.  Returns what it did: created (row_count: rows moved from the default partition), dropped (row_count NULL: a drop reads nothing), kept (row_count: unacknowledged alerts), skipped.
pg_cron: SELECT cron.schedule('obs-maintenance', '* * * * *', 'SELECT count(*) FROM obs.run_maintenance()');
Errors: 22004 for a NULL as_of.$$;

/* the ranges of width ival holding rows of a default partition */
CREATE FUNCTION @extschema@._default_bins(part regclass, time_column name, ival interval, origin timestamptz)
RETURNS TABLE(lo timestamptz)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT DISTINCT pg_catalog.date_bin($1, d.%I, $2) FROM %s d', $2, $1)
      USING $3, $4;
END
$$;
COMMENT ON FUNCTION @extschema@._default_bins(regclass, name, interval, timestamptz) IS
    'internal: the partition ranges (their lower bounds) that hold rows of a default partition';

REVOKE EXECUTE ON FUNCTION @extschema@.run_maintenance(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._default_bins(regclass, name, interval, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.set_retention(text, interval) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.clear_retention(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.set_partitioning(text, interval, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._partition_create(text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._partition_prepare(text, regclass) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.purge(older_than interval)
RETURNS TABLE(table_name text, deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_cutoff timestamptz;
    v_count bigint;
    v_sig text;
    v_tab text;
    v_col text;
    v_part regclass;
    v_rows bigint;
    v_open boolean;
    v_lock_timeout text := pg_catalog.current_setting('lock_timeout');
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'older_than must not be null' USING ERRCODE = '22004';
    END IF;
    IF $1 < '0'::interval THEN
        RAISE EXCEPTION 'older_than must not be negative'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The interval given was %s.', $1);
    END IF;
    v_cutoff := pg_catalog.now() - $1;

    /*
     * The time-partitioned tables: a partition wholly older than the cutoff
     * is dropped (alerts: unless it holds an unacknowledged alert); what is
     * left older than the cutoff (the partition straddling it, the default
     * partition, a partition whose lock was not had within lock_timeout) is
     * deleted.
     */
    FOREACH v_sig IN ARRAY ARRAY['logs', 'spans', 'metrics', 'alerts'] LOOP
        SELECT pg_catalog.quote_ident(c.relname), s.time_column INTO v_tab, v_col
          FROM @extschema@._partition_signal(v_sig) s JOIN pg_catalog.pg_class c ON c.oid = s.parent;
        v_count := 0;
        FOR v_part IN
            SELECT p.partition_name FROM @extschema@.partitions() p
             WHERE p.signal = v_sig AND NOT p.is_default AND p.upper_bound <= v_cutoff
             ORDER BY p.lower_bound
        LOOP
            IF v_sig = 'alerts' THEN
                EXECUTE pg_catalog.format('SELECT EXISTS (SELECT 1 FROM %s a WHERE a.acknowledged_at IS NULL)', v_part)
                   INTO STRICT v_open;
                CONTINUE WHEN v_open;
            END IF;
            BEGIN
                PERFORM pg_catalog.set_config('lock_timeout', '500ms', true);
                EXECUTE pg_catalog.format('SELECT count(*) FROM %s', v_part) INTO v_rows;
                EXECUTE pg_catalog.format('DROP TABLE %s', v_part);
                v_count := v_count + v_rows;
            EXCEPTION WHEN lock_not_available THEN
                NULL;   /* its rows are deleted below */
            END;
            PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
        END LOOP;
        IF v_sig = 'alerts' THEN
            /* an alert nobody acknowledged stays, however old: purge never closes one */
            EXECUTE pg_catalog.format('DELETE FROM @extschema@.%s t WHERE t.%I < $1 AND t.acknowledged_at IS NOT NULL',
                                      v_tab, v_col) USING v_cutoff;
        ELSE
            EXECUTE pg_catalog.format('DELETE FROM @extschema@.%s t WHERE t.%I < $1', v_tab, v_col) USING v_cutoff;
        END IF;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        table_name := CASE v_sig WHEN 'metrics' THEN 'metric_points' ELSE v_sig END;
        deleted := v_count + v_rows;
        RETURN NEXT;
    END LOOP;

    DELETE FROM @extschema@.task_runs t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'task_runs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.flow_runs t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'flow_runs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.dead_letters t WHERE t.received_at < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'dead_letters'; deleted := v_count; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.purge(interval) IS
$$retention: remove logs (ts), spans (start_time), metric_points (ts), acknowledged alerts (observed_at), task_runs and flow_runs (start_time) and dead_letters (received_at) older than now() - older_than; metric_series, alert_rules and unacknowledged alerts are kept.  Time partitions wholly older than the cutoff are dropped (alerts: unless they hold an unacknowledged alert); only the partition straddling the cutoff and the default partition see a DELETE.  Returns the rows removed per table.
pg_cron: SELECT cron.schedule('obs-retention', '17 3 * * *', 'SELECT obs.purge(''30 days'')');
Errors: 22004 for NULL, 22023 for a negative interval.$$;
/* ---- end partitions ---- */

/* ---- parquet reader: issue 10 item 4 ---- */

CREATE FUNCTION @extschema@.restore_archive(path text, target regclass DEFAULT NULL) RETURNS bigint
    AS 'MODULE_PATHNAME', 'obs_restore_archive' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.restore_archive(text, regclass) IS
    'load the Parquet file path (a server file) into target, as COPY target FROM path (FORMAT parquet); without target, the table comes from the path''s signal=<logs|spans|metrics|alerts> directory; returns the rows loaded';

/* ---- end parquet reader ---- */
/* ---- shipping: OTLP and CloudWatch sinks ---- */

CREATE FUNCTION @extschema@.setup_otlp_export(
    endpoint text, signals text[] DEFAULT '{traces,logs,metrics}', protobuf boolean DEFAULT false,
    service_name text DEFAULT NULL, min_level text DEFAULT NULL,
    batch_size integer DEFAULT 500, flush_interval interval DEFAULT '1 second',
    gzip boolean DEFAULT false, headers jsonb DEFAULT '{}', tls_verify boolean DEFAULT true,
    timeout interval DEFAULT '10 seconds', start text DEFAULT 'now', name text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_signal text;
    v_signals text[] := '{}';
BEGIN
    PERFORM @extschema@._ship_check_url('endpoint', setup_otlp_export.endpoint);
    IF setup_otlp_export.endpoint ~ '[?#]' THEN
        RAISE EXCEPTION 'OTLP endpoint must not have a query or fragment'
            USING ERRCODE = '22023',
                  HINT = 'Give the collector''s base URL, e.g. http://localhost:4318; /v1/traces, /v1/logs and /v1/metrics are appended.';
    END IF;
    IF setup_otlp_export.signals IS NULL OR pg_catalog.cardinality(setup_otlp_export.signals) = 0 THEN
        RAISE EXCEPTION 'signals must not be empty' USING ERRCODE = '22023',
            HINT = 'Valid OTLP signals are traces, logs and metrics.';
    END IF;
    FOREACH v_signal IN ARRAY setup_otlp_export.signals LOOP
        IF v_signal IS NULL OR v_signal NOT IN ('traces', 'logs', 'metrics') THEN
            RAISE EXCEPTION 'unknown OTLP signal "%"', v_signal
                USING ERRCODE = '22023', HINT = 'Valid OTLP signals are traces, logs and metrics.';
        END IF;
        v_signal := CASE v_signal WHEN 'traces' THEN 'spans' ELSE v_signal END;
        IF NOT v_signal = ANY (v_signals) THEN
            v_signals := v_signals || v_signal;
        END IF;
    END LOOP;
    IF setup_otlp_export.protobuf IS NULL THEN
        RAISE EXCEPTION 'protobuf must not be null' USING ERRCODE = '22004';
    END IF;
    IF setup_otlp_export.service_name IS NOT NULL AND pg_catalog.btrim(setup_otlp_export.service_name) = '' THEN
        RAISE EXCEPTION 'service_name must not be empty' USING ERRCODE = '22023',
            HINT = 'Leave service_name NULL to use the default (postgres).';
    END IF;
    RETURN @extschema@._sink_add(
        COALESCE(setup_otlp_export.name,
                 'otlp_' || pg_catalog.substr(pg_catalog.md5(setup_otlp_export.endpoint), 1, 8)),
        'otlp', v_signals, pg_catalog.rtrim(setup_otlp_export.endpoint, '/'),
        pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
            'protobuf', setup_otlp_export.protobuf, 'service_name', setup_otlp_export.service_name)),
        setup_otlp_export.min_level, setup_otlp_export.batch_size, setup_otlp_export.flush_interval,
        setup_otlp_export.gzip, setup_otlp_export.headers, setup_otlp_export.tls_verify,
        setup_otlp_export.timeout, setup_otlp_export.start);
END
$$;
COMMENT ON FUNCTION @extschema@.setup_otlp_export(text, text[], boolean, text, text, integer, interval, boolean, jsonb, boolean, interval, text, text) IS
    'ship spans (traces), logs and metrics over OTLP/HTTP (JSON, or protobuf) to endpoint/v1/traces, /v1/logs and /v1/metrics, e.g. Jaeger or an OpenTelemetry collector at http://localhost:4318; returns the sink name';

CREATE FUNCTION @extschema@.setup_logging_to_cloudwatch(
    log_group text, log_stream text, region text, endpoint text DEFAULT NULL,
    min_level text DEFAULT NULL, batch_size integer DEFAULT 500, flush_interval interval DEFAULT '1 second',
    gzip boolean DEFAULT false, headers jsonb DEFAULT '{}', tls_verify boolean DEFAULT true,
    timeout interval DEFAULT '10 seconds', start text DEFAULT 'now', name text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF setup_logging_to_cloudwatch.log_group IS NULL OR setup_logging_to_cloudwatch.log_group = '' THEN
        RAISE EXCEPTION 'log_group must not be empty' USING ERRCODE = '22023';
    END IF;
    IF setup_logging_to_cloudwatch.log_group !~ '^[A-Za-z0-9_./#-]+$' OR pg_catalog.length(setup_logging_to_cloudwatch.log_group) > 512 THEN
        RAISE EXCEPTION 'invalid CloudWatch log group "%"', setup_logging_to_cloudwatch.log_group
            USING ERRCODE = '22023',
                  HINT = 'A log group name has 1 to 512 characters among a-z, A-Z, 0-9, _ - / . and #.';
    END IF;
    IF setup_logging_to_cloudwatch.log_stream IS NULL OR setup_logging_to_cloudwatch.log_stream = '' THEN
        RAISE EXCEPTION 'log_stream must not be empty' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.length(setup_logging_to_cloudwatch.log_stream) > 512
       OR setup_logging_to_cloudwatch.log_stream ~ '[:*]' THEN
        RAISE EXCEPTION 'invalid CloudWatch log stream "%"', setup_logging_to_cloudwatch.log_stream
            USING ERRCODE = '22023', HINT = 'A log stream name has 1 to 512 characters and no : or *.';
    END IF;
    IF setup_logging_to_cloudwatch.region IS NULL
       OR setup_logging_to_cloudwatch.region !~ '^[a-z]{2}(-[a-z]+)+-[0-9]+$' THEN
        RAISE EXCEPTION 'invalid AWS region "%"', setup_logging_to_cloudwatch.region
            USING ERRCODE = '22023', HINT = 'An AWS region looks like us-east-1 or eu-west-3.';
    END IF;
    IF setup_logging_to_cloudwatch.endpoint IS NOT NULL THEN
        PERFORM @extschema@._ship_check_url('endpoint', setup_logging_to_cloudwatch.endpoint);
    END IF;
    RETURN @extschema@._sink_add(
        COALESCE(setup_logging_to_cloudwatch.name,
                 pg_catalog.format('cloudwatch_%s_%s', setup_logging_to_cloudwatch.log_group,
                                   setup_logging_to_cloudwatch.log_stream)),
        'cloudwatch', '{logs}',
        COALESCE(setup_logging_to_cloudwatch.endpoint,
                 pg_catalog.format('https://logs.%s.amazonaws.com/', setup_logging_to_cloudwatch.region)),
        pg_catalog.jsonb_build_object('log_group', setup_logging_to_cloudwatch.log_group,
                                      'log_stream', setup_logging_to_cloudwatch.log_stream,
                                      'region', setup_logging_to_cloudwatch.region),
        setup_logging_to_cloudwatch.min_level, setup_logging_to_cloudwatch.batch_size,
        setup_logging_to_cloudwatch.flush_interval, setup_logging_to_cloudwatch.gzip,
        setup_logging_to_cloudwatch.headers, setup_logging_to_cloudwatch.tls_verify,
        setup_logging_to_cloudwatch.timeout, setup_logging_to_cloudwatch.start);
END
$$;
COMMENT ON FUNCTION @extschema@.setup_logging_to_cloudwatch(text, text, text, text, text, integer, interval, boolean, jsonb, boolean, interval, text, text) IS
    'ship logs to CloudWatch Logs (PutLogEvents, signed with SigV4 from obs.aws_* settings) into log_group/log_stream at https://logs.<region>.amazonaws.com/ or endpoint; returns the sink name';

REVOKE EXECUTE ON FUNCTION
    @extschema@.setup_otlp_export(text, text[], boolean, text, text, integer, interval, boolean, jsonb, boolean, interval, text, text),
    @extschema@.setup_logging_to_cloudwatch(text, text, text, text, text, integer, interval, boolean, jsonb, boolean, interval, text, text)
    FROM PUBLIC;

/* ---- end shipping: OTLP and CloudWatch sinks ---- */

/* ---- archive: issue 10 item 3 ---- */

CREATE TABLE @extschema@.archive_config (
    signal       text PRIMARY KEY CHECK (signal IN ('logs', 'spans', 'metrics', 'alerts')),
    location     text NOT NULL,
    after        interval NOT NULL CHECK (after >= '0'),
    endpoint     text,
    region       text NOT NULL DEFAULT 'us-east-1',
    part_size_mb integer NOT NULL DEFAULT 64 CHECK (part_size_mb BETWEEN 5 AND 512),
    tls_verify   boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE @extschema@.archive_config IS
$$per signal: where obs.run_maintenance() archives the time partitions (location: a server directory or s3://bucket/prefix, with endpoint for an S3-compatible server other than AWS, and region) and how old a partition's upper bound must be first (after).  Set with obs.set_archive(), removed with obs.clear_archive(); no credentials here: they come from the obs.aws_* settings, the environment or obs.credentials_file.$$;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.archive_config', '');

CREATE TABLE @extschema@.archived_partitions (
    location    text NOT NULL,
    path        text NOT NULL,
    signal      text NOT NULL CHECK (signal IN ('logs', 'spans', 'metrics', 'alerts')),
    lower_bound timestamptz NOT NULL,
    upper_bound timestamptz NOT NULL,
    row_count   bigint NOT NULL,
    bytes       bigint NOT NULL,
    sha256      text NOT NULL,
    archived_at timestamptz NOT NULL,
    dropped_at  timestamptz,
    stale       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (location, path)
);
/* a partition still in the database has at most one file */
CREATE UNIQUE INDEX archived_partitions_live_idx
    ON @extschema@.archived_partitions (signal, lower_bound) WHERE dropped_at IS NULL;
COMMENT ON TABLE @extschema@.archived_partitions IS
$$the confirmed archive files: location and path (relative to location, e.g. signal=logs/date=2026-11-30/part-0.parquet), the partition's bounds [lower_bound, upper_bound), its rows, the file's bytes and SHA-256 (hex), when it was archived and when retention dropped the partition (NULL: still in the database).  stale: the partition's rows changed after the file was written; the next run writes it again.  The manifests list these rows.$$;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.archived_partitions', '');

CREATE FUNCTION @extschema@.set_archive(signal text, location text, after interval,
    endpoint text DEFAULT NULL, region text DEFAULT 'us-east-1',
    part_size_mb integer DEFAULT 64, tls_verify boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied to set an archive'
            USING ERRCODE = '42501',
                  DETAIL = 'The archive writes server files and uses the AWS credentials of the obs.aws_* settings.',
                  HINT = 'Ask a superuser to set the archive.';
    END IF;
    PERFORM @extschema@._partition_signal($1);
    IF $2 IS NULL OR $3 IS NULL OR $5 IS NULL OR $6 IS NULL OR $7 IS NULL THEN
        RAISE EXCEPTION 'location, after, region, part_size_mb and tls_verify must not be null'
            USING ERRCODE = '22004';
    END IF;
    IF $2 ~ '[[:cntrl:]]' OR $2 ~ '(^|/)\.\.(/|$)'
       OR NOT ($2 ~ '^/' OR $2 ~ '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*''()=/-]*)?$') THEN
        RAISE EXCEPTION 'archive location must be an absolute server directory or s3://bucket/prefix'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The location given was %s.', pg_catalog.quote_literal($2)),
                  HINT = 'A bucket name has 3 to 63 lower-case letters, digits, dots and hyphens; a prefix has letters, digits and !_.*''()=/-.';
    END IF;
    IF $3 < '0'::interval THEN
        RAISE EXCEPTION 'after must not be negative'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The interval given was %s.', $3);
    END IF;
    IF $4 IS NOT NULL AND $2 !~ '^s3://' THEN
        RAISE EXCEPTION 'endpoint is only for an s3:// location' USING ERRCODE = '22023';
    END IF;
    IF $4 IS NOT NULL AND $4 !~ '^https?://[A-Za-z0-9.:\[\]-]+/?$' THEN
        RAISE EXCEPTION 'endpoint must be http(s)://host[:port]'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The endpoint given was %s.', pg_catalog.quote_literal($4));
    END IF;
    IF $5 !~ '^[a-z0-9-]{1,32}$' THEN
        RAISE EXCEPTION 'region must be an AWS region name'
            USING ERRCODE = '22023', HINT = 'An AWS region looks like us-east-1 or eu-west-3.';
    END IF;
    IF $6 < 5 OR $6 > 512 THEN
        RAISE EXCEPTION 'part_size_mb must be between 5 and 512'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The value given was %s.', $6);
    END IF;
    INSERT INTO @extschema@.archive_config AS c
           (signal, location, after, endpoint, region, part_size_mb, tls_verify)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT ON CONSTRAINT archive_config_pkey DO UPDATE
       SET location = excluded.location, after = excluded.after, endpoint = excluded.endpoint,
           region = excluded.region, part_size_mb = excluded.part_size_mb,
           tls_verify = excluded.tls_verify;
END
$$;
COMMENT ON FUNCTION @extschema@.set_archive(text, text, interval, text, text, integer, boolean) IS
$$archive the time partitions of signal (logs, spans, metrics, alerts) to location (an absolute server directory, or s3://bucket/prefix at AWS in region or at endpoint, an S3-compatible server) once their upper bound is older than after: obs.run_maintenance() writes signal=<signal>/date=<YYYY-MM-DD>/part-<n>.parquet and signal=<signal>/_manifest.json, and retention then drops only confirmed partitions.  Files larger than part_size_mb go to S3 as multipart uploads.  Superusers only.
Errors: 42501 for a role that is not superuser, 22004 for a NULL argument, 22023 for an unknown signal, a location that is neither, a negative after, an endpoint with a directory or not http(s)://host[:port], a bad region, a part_size_mb outside 5 .. 512.$$;

CREATE FUNCTION @extschema@.clear_archive(signal text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied to clear an archive'
            USING ERRCODE = '42501', HINT = 'Ask a superuser to clear the archive.';
    END IF;
    PERFORM @extschema@._partition_signal($1);
    DELETE FROM @extschema@.archive_config c WHERE c.signal = $1;
END
$$;
COMMENT ON FUNCTION @extschema@.clear_archive(text) IS
$$stop archiving signal (logs, spans, metrics or alerts): undo obs.set_archive().  Retention then drops the signal's partitions whether archived or not; obs.archived_partitions and the files stay.  Superusers only.
Errors: 42501 for a role that is not superuser, 22004 for NULL, 22023 for an unknown signal.$$;

CREATE FUNCTION @extschema@._archive_write(cfg @extschema@.archive_config, part regclass, path text,
    OUT row_count bigint, OUT bytes bigint, OUT sha256 text)
    AS 'MODULE_PATHNAME', 'obs_archive_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._archive_write(@extschema@.archive_config, regclass, text) IS
    'internal: write the rows of partition part as a Parquet file at path under the archive cfg, confirmed by size and SHA-256 (superusers only)';

CREATE FUNCTION @extschema@._archive_put(cfg @extschema@.archive_config, path text, body text)
RETURNS bigint
    AS 'MODULE_PATHNAME', 'obs_archive_put' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._archive_put(@extschema@.archive_config, text, text) IS
    'internal: write body at path under the archive cfg atomically, confirmed by size and checksum; returns the bytes (superusers only)';

/* the manifest of a signal at a location: every confirmed file */
CREATE FUNCTION @extschema@._archive_manifest(signal text, location text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.jsonb_pretty(pg_catalog.jsonb_build_object(
        'format', 'obs-archive-manifest', 'version', 1, 'signal', $1,
        'files', coalesce((
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'path', a.path, 'rows', a.row_count, 'bytes', a.bytes, 'sha256', a.sha256,
                       'lower_bound', pg_catalog.to_char(a.lower_bound AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       'upper_bound', pg_catalog.to_char(a.upper_bound AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       'archived_at', pg_catalog.to_char(a.archived_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                     ORDER BY a.lower_bound, a.path)
              FROM @extschema@.archived_partitions a
             WHERE a.signal = $1 AND a.location = $2), '[]'::jsonb))) || E'\n'
$$;
COMMENT ON FUNCTION @extschema@._archive_manifest(text, text) IS
    'internal: the JSON manifest of a signal''s files at an archive location (signal=<signal>/_manifest.json)';

/*
 * The archive step of obs.run_maintenance(): every partition past its
 * signal's archive age without a confirmed, current file is written and
 * confirmed, then recorded, then the manifest rewritten.  Nothing here
 * takes more than ACCESS SHARE on an old partition.  A failure stops the
 * signal for this run (a WARNING says why), and leaves the partition as
 * it was; one run at a time per signal (an advisory lock).
 */
CREATE FUNCTION @extschema@._archive_run(as_of timestamptz)
RETURNS TABLE(signal text, action text, partition_name text, row_count bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a @extschema@.archive_config;
    p record;
    w record;
    dir text;
    relpath text;
    n integer;
BEGIN
    FOR a IN SELECT * FROM @extschema@.archive_config c ORDER BY c.signal LOOP
        signal := a.signal;
        /* 0x6f627361: "obsa"; the second key: the signal */
        IF NOT pg_catalog.pg_try_advisory_xact_lock(1868724065, pg_catalog.hashtext(a.signal)) THEN
            action := 'archive_busy'; partition_name := NULL; row_count := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        FOR p IN
            SELECT x.partition_name AS part, x.lower_bound, x.upper_bound
              FROM @extschema@.partitions() x
             WHERE x.signal = a.signal AND NOT x.is_default AND x.upper_bound <= $1 - a.after
               AND NOT EXISTS (SELECT 1 FROM @extschema@.archived_partitions ap
                                WHERE ap.signal = a.signal AND ap.lower_bound = x.lower_bound
                                  AND ap.upper_bound = x.upper_bound AND ap.dropped_at IS NULL
                                  AND NOT ap.stale)
             ORDER BY x.lower_bound
        LOOP
            /*
             * an alerts partition only once every alert in it is acknowledged:
             * a file holds the final rows (retention keeps such a partition anyway)
             */
            IF a.signal = 'alerts' THEN
                EXECUTE pg_catalog.format('SELECT count(*) FROM %s x WHERE x.acknowledged_at IS NULL', p.part)
                   INTO n;
                CONTINUE WHEN n > 0;
            END IF;
            /* a stale file is written again at its path; else the next free part-<n> of its day */
            SELECT ap.path INTO relpath FROM @extschema@.archived_partitions ap
             WHERE ap.signal = a.signal AND ap.lower_bound = p.lower_bound AND ap.dropped_at IS NULL
               AND ap.location = a.location;
            IF relpath IS NULL THEN
                dir := pg_catalog.format('signal=%s/date=%s/', a.signal,
                                         pg_catalog.to_char(p.lower_bound AT TIME ZONE 'UTC', 'YYYY-MM-DD'));
                n := 0;
                WHILE EXISTS (SELECT 1 FROM @extschema@.archived_partitions ap
                               WHERE ap.location = a.location
                                 AND ap.path = dir || 'part-' || n || '.parquet') LOOP
                    n := n + 1;
                END LOOP;
                relpath := dir || 'part-' || n || '.parquet';
            END IF;
            BEGIN
                SELECT * INTO w FROM @extschema@._archive_write(a, p.part, relpath);
                /* a stale row at another location is replaced by this one */
                DELETE FROM @extschema@.archived_partitions ap
                 WHERE ap.signal = a.signal AND ap.lower_bound = p.lower_bound AND ap.dropped_at IS NULL;
                INSERT INTO @extschema@.archived_partitions AS ap
                       (location, path, signal, lower_bound, upper_bound, row_count, bytes, sha256, archived_at)
                VALUES (a.location, relpath, a.signal, p.lower_bound, p.upper_bound,
                        w.row_count, w.bytes, w.sha256, pg_catalog.clock_timestamp())
                ON CONFLICT ON CONSTRAINT archived_partitions_pkey DO UPDATE
                   SET signal = excluded.signal, lower_bound = excluded.lower_bound,
                       upper_bound = excluded.upper_bound, row_count = excluded.row_count,
                       bytes = excluded.bytes, sha256 = excluded.sha256,
                       archived_at = excluded.archived_at, dropped_at = NULL, stale = false;
                PERFORM @extschema@._archive_put(a, pg_catalog.format('signal=%s/_manifest.json', a.signal),
                                                 @extschema@._archive_manifest(a.signal, a.location));
                action := 'archived'; partition_name := p.part::text; row_count := w.row_count;
                RETURN NEXT;
            EXCEPTION WHEN OTHERS THEN
                /* the record is undone; the partition stays until a run confirms it */
                RAISE WARNING 'could not archive partition % of signal "%": %', p.part, a.signal, SQLERRM;
                action := 'archive_failed'; partition_name := p.part::text; row_count := NULL;
                RETURN NEXT;
                EXIT;
            END;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@._archive_run(timestamptz) IS
    'internal: the archive step of obs.run_maintenance(): write, confirm and record every partition past its signal''s archive age';

REVOKE EXECUTE ON FUNCTION @extschema@.set_archive(text, text, interval, text, text, integer, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.clear_archive(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._archive_write(@extschema@.archive_config, regclass, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._archive_put(@extschema@.archive_config, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._archive_run(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._archive_manifest(text, text) FROM PUBLIC;

/* run_maintenance(): the archive step first, and retention waits for a confirmed archive */
CREATE OR REPLACE FUNCTION @extschema@.run_maintenance(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE(signal text, action text, partition_name text, row_count bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '500ms' AS $$
DECLARE
    sig text;
    s record;
    cfg record;
    origin constant timestamptz := '2000-01-03 00:00:00+00';
    cur timestamptz;
    lo timestamptz;
    made integer;
    p record;
    c record;
    cutoff timestamptz;
    n bigint;
    acts text[];
    parts text[];
    cnts bigint[];
    archived boolean;
    arow record;
    doomed regclass[];
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'as_of must not be null' USING ERRCODE = '22004';
    END IF;
    /*
     * the archive first (36_archive.sql): it reads old partitions only
     * (ACCESS SHARE), so no writer waits during an upload; the drops
     * below take their locks after it
     */
    RETURN QUERY SELECT * FROM @extschema@._archive_run($1);
    FOREACH sig IN ARRAY ARRAY['logs', 'spans', 'metrics', 'alerts'] LOOP
        s := @extschema@._partition_signal(sig);
        SELECT coalesce(pc.partition_interval, '1 day') AS ival, coalesce(pc.premake, 3) AS premake,
               pc.retention
          INTO cfg
          FROM (SELECT 1) one
          LEFT JOIN @extschema@.partition_config pc ON pc.signal = sig;
        signal := sig;
        acts := '{}'; parts := '{}'; cnts := '{}';
        /*
         * one signal at a time: a lock not had in lock_timeout skips this
         * signal until the next run.  lock_timeout (500 ms) is shorter than
         * the default deadlock_timeout (1 s): should a writer wait for a
         * lock this run holds while this run waits for the writer, this run
         * gives up first, and the writer is never chosen as the victim.
         */
        BEGIN
            cutoff := CASE WHEN cfg.retention IS NULL THEN '-infinity'::timestamptz ELSE $1 - cfg.retention END;
            cur := pg_catalog.date_bin(cfg.ival, $1, origin);
            made := 0;
            /*
             * retention first: drop whole partitions, never DELETE.  A drop
             * takes ACCESS EXCLUSIVE on the table, kept to the end of the
             * run; taken before the default partition's lock (below), it
             * never waits for a writer that waits for this run.
             */
            archived := EXISTS (SELECT 1 FROM @extschema@.archive_config ac WHERE ac.signal = sig);
            doomed := '{}';
            FOR p IN
                SELECT x.partition_name AS part, x.lower_bound, x.upper_bound FROM @extschema@.partitions() x
                 WHERE x.signal = sig AND NOT x.is_default AND x.upper_bound <= cutoff
                 ORDER BY x.lower_bound
            LOOP
                IF sig = 'alerts' THEN
                    EXECUTE pg_catalog.format('SELECT count(*) FROM %s a WHERE a.acknowledged_at IS NULL', p.part)
                       INTO n;
                    IF n > 0 THEN
                        /* an alert nobody acknowledged stays, however old */
                        acts := acts || 'kept'::text; parts := parts || p.part::text; cnts := cnts || n;
                        CONTINUE;
                    END IF;
                END IF;
                IF archived THEN
                    /* with an archive, only a partition whose file is confirmed goes */
                    SELECT ap.location, ap.path, ap.row_count INTO arow
                      FROM @extschema@.archived_partitions ap
                     WHERE ap.signal = sig AND ap.lower_bound = p.lower_bound
                       AND ap.upper_bound = p.upper_bound AND ap.dropped_at IS NULL AND NOT ap.stale;
                    IF NOT FOUND THEN
                        acts := acts || 'not_archived'::text; parts := parts || p.part::text; cnts := cnts || NULL::bigint;
                        CONTINUE;
                    END IF;
                    /*
                     * rows written to the partition after its file (late
                     * rows) would be lost: count under the lock the drop
                     * takes anyway, the parent not yet locked
                     */
                    EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p.part);
                    EXECUTE pg_catalog.format('SELECT count(*) FROM %s', p.part) INTO n;
                    IF n <> arow.row_count THEN
                        UPDATE @extschema@.archived_partitions ap SET stale = true
                         WHERE ap.location = arow.location AND ap.path = arow.path;
                        acts := acts || 'stale'::text; parts := parts || p.part::text; cnts := cnts || n;
                        CONTINUE;
                    END IF;
                END IF;
                /* a file of the partition (archived before clear_archive, too) is now its only copy */
                UPDATE @extschema@.archived_partitions ap SET dropped_at = pg_catalog.now()
                 WHERE ap.signal = sig AND ap.lower_bound = p.lower_bound
                   AND ap.upper_bound = p.upper_bound AND ap.dropped_at IS NULL;
                acts := acts || 'dropped'::text; parts := parts || p.part::text; cnts := cnts || NULL::bigint;
                doomed := doomed || p.part;
            END LOOP;
            /* every drop after every check: a drop locks the parent to the end */
            FOR i IN 1 .. pg_catalog.cardinality(doomed) LOOP
                EXECUTE pg_catalog.format('DROP TABLE %s', doomed[i]);
            END LOOP;
            /*
             * the ranges to have: the current one and premake ahead, and every
             * range holding rows of the default partition, from the retention
             * cutoff up to the last premade one (at most 100 per run)
             */
            FOR lo IN
                SELECT r.lo FROM (
                    SELECT cur + g * cfg.ival AS lo FROM pg_catalog.generate_series(0, cfg.premake) g
                    UNION
                    SELECT b.lo FROM @extschema@._default_bins(s.default_partition, s.time_column, cfg.ival, origin) b
                     WHERE b.lo + cfg.ival > cutoff AND b.lo <= cur + cfg.premake * cfg.ival) r
                 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.partitions() x
                                    WHERE x.signal = sig AND NOT x.is_default
                                      AND x.lower_bound < r.lo + cfg.ival AND x.upper_bound > r.lo)
                 ORDER BY r.lo
                 LIMIT 100
            LOOP
                SELECT * INTO c FROM @extschema@._partition_create(sig, lo, lo + cfg.ival);
                acts := acts || 'created'::text; parts := parts || c.part::text; cnts := cnts || c.moved;
            END LOOP;

        EXCEPTION WHEN lock_not_available THEN
            /* what this signal did is undone: report only the skip */
            acts := ARRAY['skipped']; parts := ARRAY[NULL::text]; cnts := ARRAY[NULL::bigint];
        END;
        FOR i IN 1 .. pg_catalog.cardinality(acts) LOOP
            action := acts[i]; partition_name := parts[i]; row_count := cnts[i];
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.run_maintenance(timestamptz) IS
$$for each signal (logs, spans, metrics, alerts): drop the partitions wholly older than as_of - retention (alerts: not while they hold an unacknowledged alert), then make the time partition holding as_of and obs.partition_config.premake ahead (moving the default partition's rows of those ranges and of every range it still holds within retention into new partitions).  Idempotent; waits at most 500 ms for a lock (lock_timeout), else skips the signal until the next run.  With an archive (obs.set_archive), it first writes each partition past the archive's age to the Parquet lake, and retention drops only partitions whose file is confirmed and holds all their rows.  Returns what it did: created (row_count: rows moved from the default partition), dropped (row_count NULL: a drop reads nothing), kept (row_count: unacknowledged alerts), skipped, archived (row_count: rows written), archive_failed (a WARNING says why; the partition stays), archive_busy (another run is archiving the signal), not_archived (past retention, kept until its file is confirmed), stale (row_count: rows now in the partition, not those of its file; it is archived again).
pg_cron: SELECT cron.schedule('obs-maintenance', '* * * * *', 'SELECT count(*) FROM obs.run_maintenance()');
Errors: 22004 for a NULL as_of.$$;

/* ---- end archive: issue 10 item 3 ---- */
/* ---- shipping throughput: issue 9 ---- */

/* batches as row_to_json() text (json, by _ship_row_json()), read by the (txid, key) index whatever the statistics say */
DROP FUNCTION @extschema@._ship_batch(text, text, integer);
/* a row as JSON, byte for byte row_to_json(), without its per-row catalog lookups (src/ship/rowjson.c) */
CREATE FUNCTION @extschema@._ship_row_json(record) RETURNS json
    AS 'MODULE_PATHNAME', 'obs_ship_row_json' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@._ship_row_json(record) IS
    'internal (ship worker): row_to_json() of a row, with the columns'' conversions worked out once per query';
CREATE FUNCTION @extschema@._ship_batch(p_sink text, p_signal text, p_limit integer)
RETURNS TABLE (txid xid8, key bigint, doc json)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET enable_seqscan = off SET enable_bitmapscan = off SET enable_sort = off AS $$
DECLARE
    c @extschema@.sink_cursors;
    v_level @extschema@.log_level;
    v_win pg_snapshot;
    v_opened boolean := false;
    v_n bigint;
    v_sql text;
BEGIN
    SELECT * INTO c FROM @extschema@.sink_cursors k WHERE k.sink = p_sink AND k.signal = p_signal FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT s.min_level INTO v_level FROM @extschema@.sinks s WHERE s.name = p_sink;
    v_win := c.window_snap;
    IF v_win IS NULL THEN
        v_win := pg_catalog.pg_current_snapshot();
        v_opened := true;
    END IF;
    v_sql := CASE p_signal
        WHEN 'logs' THEN $q$
            SELECT t.txid, t.log_id, @extschema@._ship_row_json(t) FROM @extschema@.logs t
             WHERE t.txid >= pg_catalog.pg_snapshot_xmin($1) AND t.txid < pg_catalog.pg_snapshot_xmax($2)
               AND (t.txid, t.log_id) > (COALESCE($3, '0'::xid8), COALESCE($4, -9223372036854775808))
               AND pg_catalog.pg_visible_in_snapshot(t.txid, $2)
               AND NOT pg_catalog.pg_visible_in_snapshot(t.txid, $1)
               AND ($7 IS NULL OR t.level >= $7)
             ORDER BY t.txid, t.log_id LIMIT $6 $q$
        WHEN 'spans' THEN $q$
            SELECT t.txid, t.span_seq, @extschema@._ship_row_json(t) FROM @extschema@.spans t
             WHERE t.txid >= pg_catalog.pg_snapshot_xmin($1) AND t.txid < pg_catalog.pg_snapshot_xmax($2)
               AND (t.txid, t.span_seq) > (COALESCE($3, '0'::xid8), COALESCE($4, -9223372036854775808))
               AND pg_catalog.pg_visible_in_snapshot(t.txid, $2)
               AND NOT pg_catalog.pg_visible_in_snapshot(t.txid, $1)
             ORDER BY t.txid, t.span_seq LIMIT $6 $q$
        WHEN 'alerts' THEN $q$
            SELECT t.txid, t.alert_id, @extschema@._ship_row_json(t) FROM @extschema@.alerts t
             WHERE t.txid >= pg_catalog.pg_snapshot_xmin($1) AND t.txid < pg_catalog.pg_snapshot_xmax($2)
               AND (t.txid, t.alert_id) > (COALESCE($3, '0'::xid8), COALESCE($4, -9223372036854775808))
               AND pg_catalog.pg_visible_in_snapshot(t.txid, $2)
               AND NOT pg_catalog.pg_visible_in_snapshot(t.txid, $1)
             ORDER BY t.txid, t.alert_id LIMIT $6 $q$
        /* metric points have no key: the position is an offset in pos_txid */
        WHEN 'metrics' THEN $q$
            SELECT m.txid, NULL::bigint, @extschema@._ship_row_json(m) FROM (
                SELECT p.ts, s.name, s.kind, s.tags, p.value, p.series_id, p.txid
                  FROM @extschema@.metric_points p JOIN @extschema@.metric_series s ON s.series_id = p.series_id
                 WHERE p.txid >= pg_catalog.pg_snapshot_xmin($1) AND p.txid < pg_catalog.pg_snapshot_xmax($2)
                   AND p.txid >= COALESCE($3, '0'::xid8)
                   AND pg_catalog.pg_visible_in_snapshot(p.txid, $2)
                   AND NOT pg_catalog.pg_visible_in_snapshot(p.txid, $1)
                 ORDER BY p.txid, p.series_id, p.ts, p.value
                OFFSET CASE WHEN $3 IS NULL THEN 0 ELSE $5 END LIMIT $6) m $q$
    END;
    IF v_sql IS NULL THEN
        RAISE EXCEPTION 'unknown signal "%"', p_signal USING ERRCODE = '22023';
    END IF;
    RETURN QUERY EXECUTE v_sql USING c.shipped_snap, v_win, c.pos_txid, c.pos_key, c.pos_off, p_limit, v_level;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n > 0 AND v_opened THEN
        UPDATE @extschema@.sink_cursors k SET window_snap = v_win
         WHERE k.sink = p_sink AND k.signal = p_signal;
    ELSIF v_n = 0 AND (NOT v_opened OR c.advanced_at < pg_catalog.clock_timestamp() - interval '10 seconds') THEN
        /* the open window is exhausted (its last batch was full), or an empty one is old enough */
        UPDATE @extschema@.sink_cursors k
           SET shipped_snap = v_win, window_snap = NULL, pos_txid = NULL, pos_key = NULL, pos_off = 0,
               advanced_at = pg_catalog.clock_timestamp()
         WHERE k.sink = p_sink AND k.signal = p_signal;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._ship_batch(text, text, integer) IS
    'internal (ship worker): the next rows of a sink''s signal past its cursor, opening a snapshot window when none is open';
REVOKE EXECUTE ON FUNCTION @extschema@._ship_batch(text, text, integer), @extschema@._ship_row_json(record) FROM PUBLIC;

/* sinks: max_retries, the retries of a failing batch before its rows become a dead letter */
ALTER TABLE @extschema@.sinks ADD COLUMN max_retries integer CHECK (max_retries BETWEEN 0 AND 1000000);
DROP FUNCTION @extschema@.setup_logging_to_elk(text, integer, text, text, text[], text, integer, interval, boolean, jsonb, boolean, interval, text, text);
DROP FUNCTION @extschema@.setup_alert_webhook(text, text, jsonb, integer, interval, boolean, interval, text, text);
DROP FUNCTION @extschema@.setup_otlp_export(text, text[], boolean, text, text, integer, interval, boolean, jsonb, boolean, interval, text, text);
DROP FUNCTION @extschema@.setup_logging_to_cloudwatch(text, text, text, text, text, integer, interval, boolean, jsonb, boolean, interval, text, text);
DROP FUNCTION @extschema@._sink_add(text, text, text[], text, jsonb, text, integer, interval, boolean, jsonb, boolean, interval, text);
CREATE FUNCTION @extschema@._sink_add(
    p_name text, p_kind text, p_signals text[], p_endpoint text, p_config jsonb,
    p_min_level text, p_batch_size integer, p_flush_interval interval, p_gzip boolean,
    p_headers jsonb, p_tls_verify boolean, p_timeout interval, p_start text,
    p_max_retries integer DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_signal text;
    v_key text;
    v_level @extschema@.log_level;
    v_snap pg_snapshot;
    v_ms bigint;
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied to add a sink'
            USING ERRCODE = '42501',
                  DETAIL = 'The ship worker sends rows with the rights of the bootstrap superuser.',
                  HINT = 'Ask a superuser to add the sink.';
    END IF;
    IF p_name IS NULL OR pg_catalog.btrim(p_name) = '' THEN
        RAISE EXCEPTION 'sink name must not be empty' USING ERRCODE = '22023';
    END IF;
    IF p_signals IS NULL OR pg_catalog.cardinality(p_signals) = 0 THEN
        RAISE EXCEPTION 'signals must not be empty' USING ERRCODE = '22023',
            HINT = 'Valid signals are logs, spans, metrics and alerts.';
    END IF;
    FOREACH v_signal IN ARRAY p_signals LOOP
        IF v_signal IS NULL OR v_signal NOT IN ('logs', 'spans', 'metrics', 'alerts') THEN
            RAISE EXCEPTION 'unknown signal "%"', v_signal
                USING ERRCODE = '22023',
                      HINT = 'Valid signals are logs, spans, metrics and alerts.';
        END IF;
    END LOOP;
    PERFORM @extschema@._ship_check_url('endpoint', p_endpoint);
    IF p_min_level IS NOT NULL THEN
        BEGIN
            v_level := pg_catalog.upper(p_min_level)::@extschema@.log_level;
        EXCEPTION WHEN invalid_text_representation THEN
            RAISE EXCEPTION 'invalid min_level "%"', p_min_level
                USING ERRCODE = '22023',
                      HINT = 'Valid levels are debug, info, warning, error and critical.';
        END;
    END IF;
    IF p_batch_size IS NULL OR p_batch_size NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'batch_size must be between 1 and 10000'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The batch_size given was %s.', p_batch_size);
    END IF;
    v_ms := (EXTRACT(epoch FROM p_flush_interval) * 1000)::bigint;
    IF v_ms IS NULL OR v_ms NOT BETWEEN 10 AND 3600000 THEN
        RAISE EXCEPTION 'flush_interval must be between 10 milliseconds and 1 hour'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The flush_interval given was %s.', p_flush_interval);
    END IF;
    IF p_timeout IS NULL OR (EXTRACT(epoch FROM p_timeout) * 1000)::bigint NOT BETWEEN 100 AND 600000 THEN
        RAISE EXCEPTION 'timeout must be between 100 milliseconds and 10 minutes'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The timeout given was %s.', p_timeout);
    END IF;
    IF p_gzip IS NULL OR p_tls_verify IS NULL THEN
        RAISE EXCEPTION 'gzip and tls_verify must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_headers IS NULL OR pg_catalog.jsonb_typeof(p_headers) <> 'object' THEN
        RAISE EXCEPTION 'headers must be a JSON object'
            USING ERRCODE = '22023', DETAIL = 'Give headers as ''{"X-Name": "value"}''.';
    END IF;
    FOR v_key IN SELECT e.key FROM pg_catalog.jsonb_each(p_headers) e ORDER BY e.key LOOP
        IF pg_catalog.jsonb_typeof(p_headers -> v_key) <> 'string' OR v_key !~ '^[!#$%&''*+.^_`|~0-9A-Za-z-]+$'
           OR (p_headers ->> v_key) ~ '[\r\n]' THEN
            RAISE EXCEPTION 'invalid header "%"', v_key
                USING ERRCODE = '22023', DETAIL = 'A header name is an HTTP token and its value a string on one line.';
        END IF;
        IF pg_catalog.lower(v_key) IN ('authorization', 'proxy-authorization', 'x-api-key', 'api-key',
                                       'x-amz-security-token', 'cookie', 'content-length', 'content-encoding',
                                       'content-type', 'host') THEN
            RAISE EXCEPTION 'header "%" cannot be set per sink', v_key
                USING ERRCODE = '22023',
                      DETAIL = 'obs sets this header itself, or it would store a credential in a table.',
                      HINT = 'Credentials come from obs.* settings, the server environment or obs.credentials_file.';
        END IF;
    END LOOP;
    IF p_max_retries IS NOT NULL AND p_max_retries NOT BETWEEN 0 AND 1000000 THEN
        RAISE EXCEPTION 'max_retries must be between 0 and 1000000'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The max_retries given was %s.', p_max_retries),
                  HINT = 'Leave max_retries NULL to retry a failing batch without limit.';
    END IF;
    IF p_start IS NULL OR p_start NOT IN ('now', 'all') THEN
        RAISE EXCEPTION 'invalid start "%"', p_start
            USING ERRCODE = '22023',
                  HINT = 'start => ''now'' ships rows committed from now on, ''all'' every row already stored as well.';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.sinks s WHERE s.name = p_name) THEN
        RAISE EXCEPTION 'sink "%" already exists', p_name
            USING ERRCODE = '42710', HINT = 'Choose another name, or drop the sink with obs.drop_sink().';
    END IF;

    INSERT INTO @extschema@.sinks (name, kind, signals, endpoint, config, min_level, batch_size,
                                   flush_interval_ms, gzip, headers, tls_verify, timeout_ms, max_retries)
    VALUES (p_name, p_kind, p_signals, p_endpoint, COALESCE(p_config, '{}'::jsonb), v_level, p_batch_size,
            v_ms, p_gzip, p_headers, p_tls_verify, (EXTRACT(epoch FROM p_timeout) * 1000)::integer, p_max_retries);
    /* 'now': rows visible now count as shipped; 'all': none does */
    v_snap := CASE p_start WHEN 'now' THEN pg_catalog.pg_current_snapshot() ELSE '1:1:'::pg_snapshot END;
    INSERT INTO @extschema@.sink_cursors (sink, signal, shipped_snap)
    SELECT p_name, s, v_snap FROM pg_catalog.unnest(p_signals) s GROUP BY s;
    PERFORM @extschema@._ship_wake();
    RETURN p_name;
END
$$;
COMMENT ON FUNCTION @extschema@._sink_add(text, text, text[], text, jsonb, text, integer, interval, boolean, jsonb, boolean, interval, text, integer) IS
    'internal: check the options and add a sink with one cursor per signal (superusers only)';

CREATE FUNCTION @extschema@.setup_logging_to_elk(
    host text, port integer DEFAULT 9200, index text DEFAULT 'obs-logs',
    scheme text DEFAULT 'http', signals text[] DEFAULT '{logs}', min_level text DEFAULT NULL,
    batch_size integer DEFAULT 500, flush_interval interval DEFAULT '1 second',
    gzip boolean DEFAULT false, headers jsonb DEFAULT '{}', tls_verify boolean DEFAULT true,
    timeout interval DEFAULT '10 seconds', start text DEFAULT 'now', name text DEFAULT NULL,
    max_retries integer DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF setup_logging_to_elk.host IS NULL OR setup_logging_to_elk.host !~ '^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])$' THEN
        RAISE EXCEPTION 'invalid Elasticsearch host "%"', setup_logging_to_elk.host
            USING ERRCODE = '22023', HINT = 'Give a host name or address, e.g. ''localhost'', without scheme or port.';
    END IF;
    IF setup_logging_to_elk.port IS NULL OR setup_logging_to_elk.port NOT BETWEEN 1 AND 65535 THEN
        RAISE EXCEPTION 'port % is out of range', setup_logging_to_elk.port
            USING ERRCODE = '22003', HINT = 'A TCP port is between 1 and 65535.';
    END IF;
    IF setup_logging_to_elk.scheme IS NULL OR setup_logging_to_elk.scheme NOT IN ('http', 'https') THEN
        RAISE EXCEPTION 'invalid endpoint scheme'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The scheme given was %s.', setup_logging_to_elk.scheme),
                  HINT = 'Only http:// and https:// URLs are accepted.';
    END IF;
    IF setup_logging_to_elk.index IS NULL OR pg_catalog.btrim(setup_logging_to_elk.index) = '' THEN
        RAISE EXCEPTION 'index must not be empty' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.regexp_replace(setup_logging_to_elk.index, '%(Y|m|d|\{signal\}|%)', '', 'g') ~ '[\\/*?"<>| ,#:A-Z%]'
       OR setup_logging_to_elk.index ~ '^[-_+]' THEN
        RAISE EXCEPTION 'invalid Elasticsearch index "%"', setup_logging_to_elk.index
            USING ERRCODE = '22023',
                  HINT = 'An index name is lower case and has none of \ / * ? " < > | , # : or space; %Y, %m, %d and %{signal} are replaced.';
    END IF;
    RETURN @extschema@._sink_add(
        COALESCE(setup_logging_to_elk.name,
                 pg_catalog.format('elk_%s_%s', setup_logging_to_elk.host, setup_logging_to_elk.port)),
        'elasticsearch', setup_logging_to_elk.signals,
        pg_catalog.format('%s://%s:%s/_bulk', setup_logging_to_elk.scheme, setup_logging_to_elk.host, setup_logging_to_elk.port),
        pg_catalog.jsonb_build_object('index', setup_logging_to_elk.index),
        setup_logging_to_elk.min_level, setup_logging_to_elk.batch_size, setup_logging_to_elk.flush_interval,
        setup_logging_to_elk.gzip, setup_logging_to_elk.headers, setup_logging_to_elk.tls_verify,
        setup_logging_to_elk.timeout, setup_logging_to_elk.start, setup_logging_to_elk.max_retries);
END
$$;
COMMENT ON FUNCTION @extschema@.setup_logging_to_elk(text, integer, text, text, text[], text, integer, interval, boolean, jsonb, boolean, interval, text, text, integer) IS
    'ship logs (and optionally spans, metrics, alerts) to Elasticsearch''s _bulk API at scheme://host:port, into index (%Y.%m.%d and %{signal} replaced); returns the sink name';

CREATE FUNCTION @extschema@.setup_alert_webhook(
    url text, format text DEFAULT 'json', headers jsonb DEFAULT '{}',
    batch_size integer DEFAULT 100, flush_interval interval DEFAULT '1 second',
    tls_verify boolean DEFAULT true, timeout interval DEFAULT '10 seconds',
    start text DEFAULT 'now', name text DEFAULT NULL,
    max_retries integer DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._ship_check_url('url', setup_alert_webhook.url);
    IF setup_alert_webhook.format IS NULL OR setup_alert_webhook.format NOT IN ('json', 'slack') THEN
        RAISE EXCEPTION 'invalid webhook format "%"', setup_alert_webhook.format
            USING ERRCODE = '22023', HINT = 'Valid formats are json and slack.';
    END IF;
    RETURN @extschema@._sink_add(
        COALESCE(setup_alert_webhook.name,
                 'webhook_' || pg_catalog.substr(pg_catalog.md5(setup_alert_webhook.url), 1, 8)),
        'webhook', '{alerts}', setup_alert_webhook.url,
        pg_catalog.jsonb_build_object('format', setup_alert_webhook.format),
        NULL, setup_alert_webhook.batch_size, setup_alert_webhook.flush_interval, false,
        setup_alert_webhook.headers, setup_alert_webhook.tls_verify, setup_alert_webhook.timeout,
        setup_alert_webhook.start, setup_alert_webhook.max_retries);
END
$$;
COMMENT ON FUNCTION @extschema@.setup_alert_webhook(text, text, jsonb, integer, interval, boolean, interval, text, text, integer) IS
    'POST each new row of obs.alerts to url as JSON (format json) or as a Slack-compatible {"text": ...} body (format slack); returns the sink name';

CREATE FUNCTION @extschema@.setup_otlp_export(
    endpoint text, signals text[] DEFAULT '{traces,logs,metrics}', protobuf boolean DEFAULT false,
    service_name text DEFAULT NULL, min_level text DEFAULT NULL,
    batch_size integer DEFAULT 500, flush_interval interval DEFAULT '1 second',
    gzip boolean DEFAULT false, headers jsonb DEFAULT '{}', tls_verify boolean DEFAULT true,
    timeout interval DEFAULT '10 seconds', start text DEFAULT 'now', name text DEFAULT NULL,
    max_retries integer DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_signal text;
    v_signals text[] := '{}';
BEGIN
    PERFORM @extschema@._ship_check_url('endpoint', setup_otlp_export.endpoint);
    IF setup_otlp_export.endpoint ~ '[?#]' THEN
        RAISE EXCEPTION 'OTLP endpoint must not have a query or fragment'
            USING ERRCODE = '22023',
                  HINT = 'Give the collector''s base URL, e.g. http://localhost:4318; /v1/traces, /v1/logs and /v1/metrics are appended.';
    END IF;
    IF setup_otlp_export.signals IS NULL OR pg_catalog.cardinality(setup_otlp_export.signals) = 0 THEN
        RAISE EXCEPTION 'signals must not be empty' USING ERRCODE = '22023',
            HINT = 'Valid OTLP signals are traces, logs and metrics.';
    END IF;
    FOREACH v_signal IN ARRAY setup_otlp_export.signals LOOP
        IF v_signal IS NULL OR v_signal NOT IN ('traces', 'logs', 'metrics') THEN
            RAISE EXCEPTION 'unknown OTLP signal "%"', v_signal
                USING ERRCODE = '22023', HINT = 'Valid OTLP signals are traces, logs and metrics.';
        END IF;
        v_signal := CASE v_signal WHEN 'traces' THEN 'spans' ELSE v_signal END;
        IF NOT v_signal = ANY (v_signals) THEN
            v_signals := v_signals || v_signal;
        END IF;
    END LOOP;
    IF setup_otlp_export.protobuf IS NULL THEN
        RAISE EXCEPTION 'protobuf must not be null' USING ERRCODE = '22004';
    END IF;
    IF setup_otlp_export.service_name IS NOT NULL AND pg_catalog.btrim(setup_otlp_export.service_name) = '' THEN
        RAISE EXCEPTION 'service_name must not be empty' USING ERRCODE = '22023',
            HINT = 'Leave service_name NULL to use the default (postgres).';
    END IF;
    RETURN @extschema@._sink_add(
        COALESCE(setup_otlp_export.name,
                 'otlp_' || pg_catalog.substr(pg_catalog.md5(setup_otlp_export.endpoint), 1, 8)),
        'otlp', v_signals, pg_catalog.rtrim(setup_otlp_export.endpoint, '/'),
        pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
            'protobuf', setup_otlp_export.protobuf, 'service_name', setup_otlp_export.service_name)),
        setup_otlp_export.min_level, setup_otlp_export.batch_size, setup_otlp_export.flush_interval,
        setup_otlp_export.gzip, setup_otlp_export.headers, setup_otlp_export.tls_verify,
        setup_otlp_export.timeout, setup_otlp_export.start, setup_otlp_export.max_retries);
END
$$;
COMMENT ON FUNCTION @extschema@.setup_otlp_export(text, text[], boolean, text, text, integer, interval, boolean, jsonb, boolean, interval, text, text, integer) IS
    'ship spans (traces), logs and metrics over OTLP/HTTP (JSON, or protobuf) to endpoint/v1/traces, /v1/logs and /v1/metrics, e.g. Jaeger or an OpenTelemetry collector at http://localhost:4318; returns the sink name';

CREATE FUNCTION @extschema@.setup_logging_to_cloudwatch(
    log_group text, log_stream text, region text, endpoint text DEFAULT NULL,
    min_level text DEFAULT NULL, batch_size integer DEFAULT 500, flush_interval interval DEFAULT '1 second',
    gzip boolean DEFAULT false, headers jsonb DEFAULT '{}', tls_verify boolean DEFAULT true,
    timeout interval DEFAULT '10 seconds', start text DEFAULT 'now', name text DEFAULT NULL,
    max_retries integer DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF setup_logging_to_cloudwatch.log_group IS NULL OR setup_logging_to_cloudwatch.log_group = '' THEN
        RAISE EXCEPTION 'log_group must not be empty' USING ERRCODE = '22023';
    END IF;
    IF setup_logging_to_cloudwatch.log_group !~ '^[A-Za-z0-9_./#-]+$' OR pg_catalog.length(setup_logging_to_cloudwatch.log_group) > 512 THEN
        RAISE EXCEPTION 'invalid CloudWatch log group "%"', setup_logging_to_cloudwatch.log_group
            USING ERRCODE = '22023',
                  HINT = 'A log group name has 1 to 512 characters among a-z, A-Z, 0-9, _ - / . and #.';
    END IF;
    IF setup_logging_to_cloudwatch.log_stream IS NULL OR setup_logging_to_cloudwatch.log_stream = '' THEN
        RAISE EXCEPTION 'log_stream must not be empty' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.length(setup_logging_to_cloudwatch.log_stream) > 512
       OR setup_logging_to_cloudwatch.log_stream ~ '[:*]' THEN
        RAISE EXCEPTION 'invalid CloudWatch log stream "%"', setup_logging_to_cloudwatch.log_stream
            USING ERRCODE = '22023', HINT = 'A log stream name has 1 to 512 characters and no : or *.';
    END IF;
    IF setup_logging_to_cloudwatch.region IS NULL
       OR setup_logging_to_cloudwatch.region !~ '^[a-z]{2}(-[a-z]+)+-[0-9]+$' THEN
        RAISE EXCEPTION 'invalid AWS region "%"', setup_logging_to_cloudwatch.region
            USING ERRCODE = '22023', HINT = 'An AWS region looks like us-east-1 or eu-west-3.';
    END IF;
    IF setup_logging_to_cloudwatch.endpoint IS NOT NULL THEN
        PERFORM @extschema@._ship_check_url('endpoint', setup_logging_to_cloudwatch.endpoint);
    END IF;
    RETURN @extschema@._sink_add(
        COALESCE(setup_logging_to_cloudwatch.name,
                 pg_catalog.format('cloudwatch_%s_%s', setup_logging_to_cloudwatch.log_group,
                                   setup_logging_to_cloudwatch.log_stream)),
        'cloudwatch', '{logs}',
        COALESCE(setup_logging_to_cloudwatch.endpoint,
                 pg_catalog.format('https://logs.%s.amazonaws.com/', setup_logging_to_cloudwatch.region)),
        pg_catalog.jsonb_build_object('log_group', setup_logging_to_cloudwatch.log_group,
                                      'log_stream', setup_logging_to_cloudwatch.log_stream,
                                      'region', setup_logging_to_cloudwatch.region),
        setup_logging_to_cloudwatch.min_level, setup_logging_to_cloudwatch.batch_size,
        setup_logging_to_cloudwatch.flush_interval, setup_logging_to_cloudwatch.gzip,
        setup_logging_to_cloudwatch.headers, setup_logging_to_cloudwatch.tls_verify,
        setup_logging_to_cloudwatch.timeout, setup_logging_to_cloudwatch.start, setup_logging_to_cloudwatch.max_retries);
END
$$;
COMMENT ON FUNCTION @extschema@.setup_logging_to_cloudwatch(text, text, text, text, text, integer, interval, boolean, jsonb, boolean, interval, text, text, integer) IS
    'ship logs to CloudWatch Logs (PutLogEvents, signed with SigV4 from obs.aws_* settings) into log_group/log_stream at https://logs.<region>.amazonaws.com/ or endpoint; returns the sink name';

REVOKE EXECUTE ON FUNCTION
    @extschema@._sink_add(text, text, text[], text, jsonb, text, integer, interval, boolean, jsonb, boolean, interval, text, integer),
    @extschema@.setup_logging_to_elk(text, integer, text, text, text[], text, integer, interval, boolean, jsonb, boolean, interval, text, text, integer),
    @extschema@.setup_alert_webhook(text, text, jsonb, integer, interval, boolean, interval, text, text, integer),
    @extschema@.setup_otlp_export(text, text[], boolean, text, text, integer, interval, boolean, jsonb, boolean, interval, text, text, integer),
    @extschema@.setup_logging_to_cloudwatch(text, text, text, text, text, integer, interval, boolean, jsonb, boolean, interval, text, text, integer)
    FROM PUBLIC;
/* ---- rollups: issue 10 item 5 ---- */

/*
 * Rollups of the runs (issue 10, item 5): what the health figures need,
 * summed per (grain, bucket, name, status), kept by the triggers on
 * flow_runs and task_runs (43_runs.sql).  all_time rows (bucket -infinity)
 * sum every run that started before +infinity; the others sum the runs that
 * started in the UTC hour [bucket, bucket + 1 hour) (an infinite start_time
 * is its own bucket).  Sums of durations are exact (numeric seconds of
 * end_time - start_time); a row whose runs fall to 0 is deleted.  The
 * sketches hold the durations of finished runs (Completed, Failed, Crashed)
 * per name in logarithmic buckets (key, see _duration_key()) for the
 * all-history percentiles.  Derived data: not dumped (a restore refills them
 * through the triggers while it loads the runs; obs.rebuild_rollups()
 * recomputes them).
 */
CREATE TABLE @extschema@.flow_run_rollup (
    all_time        boolean NOT NULL,
    bucket          timestamptz NOT NULL,
    flow_name       text NOT NULL,
    status          @extschema@.run_state NOT NULL,
    runs            bigint NOT NULL,
    timed_runs      bigint NOT NULL,
    duration_sum    numeric NOT NULL,
    duration_max    double precision,
    last_start_time timestamptz,
    PRIMARY KEY (all_time, bucket, flow_name, status)
);
COMMENT ON TABLE @extschema@.flow_run_rollup IS
    'flow runs summed per hour of start_time (or all_time), flow_name and status, kept by triggers on obs.flow_runs; the health figures read it';

CREATE TABLE @extschema@.task_run_rollup (
    all_time        boolean NOT NULL,
    bucket          timestamptz NOT NULL,
    task_name       text NOT NULL,
    status          @extschema@.run_state NOT NULL,
    runs            bigint NOT NULL,
    timed_runs      bigint NOT NULL,
    duration_sum    numeric NOT NULL,
    duration_max    double precision,
    inputs_runs     bigint NOT NULL,
    inputs_sum      numeric NOT NULL,
    outputs_runs    bigint NOT NULL,
    outputs_sum     numeric NOT NULL,
    paired_inputs   numeric NOT NULL,
    paired_duration numeric NOT NULL,
    PRIMARY KEY (all_time, bucket, task_name, status)
);
COMMENT ON TABLE @extschema@.task_run_rollup IS
    'task runs summed per hour of start_time (or all_time), task_name and status, kept by triggers on obs.task_runs; the health figures read it';

CREATE TABLE @extschema@.flow_run_sketch (
    flow_name text NOT NULL,
    key       integer NOT NULL,
    runs      bigint NOT NULL,
    min_value double precision NOT NULL,
    max_value double precision NOT NULL,
    PRIMARY KEY (flow_name, key)
);
COMMENT ON TABLE @extschema@.flow_run_sketch IS
    'durations of finished flow runs per flow_name in logarithmic buckets (1% relative width), with bounds of the values seen; the all-history percentiles';

CREATE TABLE @extschema@.task_run_sketch (
    task_name text NOT NULL,
    key       integer NOT NULL,
    runs      bigint NOT NULL,
    min_value double precision NOT NULL,
    max_value double precision NOT NULL,
    PRIMARY KEY (task_name, key)
);
COMMENT ON TABLE @extschema@.task_run_sketch IS
    'durations of finished task runs per task_name in logarithmic buckets (1% relative width), with bounds of the values seen; the all-history percentiles';

/*
 * The switch of the health rollups: a row here means on.  Off by default:
 * with rollups on, every write of a run also updates its hour's and the
 * all-history rollup row of its name and status, which serializes writers
 * of the same name and status until they commit (README "Pipeline
 * health").  Turning them on (a row inserted, by obs.enable_rollups() or a
 * restore) rebuilds them from the runs; turning them off empties them
 * (triggers on this table, 43_runs.sql).  Dumped, so that a restore turns
 * them on again whatever the order in which the runs are loaded.
 */
CREATE TABLE @extschema@.health_rollups (
    enabled    boolean PRIMARY KEY DEFAULT true CHECK (enabled),
    enabled_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE @extschema@.health_rollups IS
    'one row when the health rollups are on (obs.enable_rollups()), none when off (the default)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.health_rollups', '');
/*
 * every role may see whether the rollups are on: the triggers on the runs
 * and the health figures look at the switch as their caller, so that a role
 * let write the runs (GRANT INSERT ON obs.task_runs) keeps writing them with
 * the rollups off, as with 0.1.0 (it holds no privilege on the switch)
 */
GRANT SELECT ON @extschema@.health_rollups TO PUBLIC;

/*
 * Rollups of the runs (issue 10, item 5; tables in 30_tables.sql).  Every
 * write to flow_runs and task_runs (the C upsert through SPI, a user's
 * INSERT/UPDATE/DELETE, obs.purge(), COPY, a restore) fires a statement
 * trigger whose transition tables hold the rows written: it adds the new
 * rows to their buckets and takes the old ones out, with one
 * INSERT ... ON CONFLICT DO UPDATE per statement (rows in key order, so two
 * writers lock shared bucket rows in the same order).  Writers of the same
 * name and status in the same hour update the same rows: they queue on the
 * row lock until the first commits.  Maxima cannot be taken out: a bucket
 * that loses its longest (flows: latest) run gets it again from the runs
 * of that hour, and all_time from the hours.  The triggers run as the
 * writer: obs's own writes run as the table owner; a role you let write the
 * runs directly needs the same privileges on the rollup tables.  A
 * statement that writes one run (obs's own upserts) takes the fast path,
 * _{flow,task}_rollup_row(): plain upserts of that run's rows, no grouping.
 */

/* the UTC hour holding ts (date_bin from 2000-01-01); an infinite ts is its own bucket */
CREATE FUNCTION @extschema@._run_hour(ts timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN pg_catalog.isfinite(_run_hour.ts)
                THEN pg_catalog.date_bin('1 hour'::interval, _run_hour.ts, '2000-01-01 00:00:00+00'::timestamptz)
                ELSE _run_hour.ts END;
END;
COMMENT ON FUNCTION @extschema@._run_hour(timestamptz) IS
    'internal: the rollup bucket of a run started at ts: its UTC hour, or ts itself when infinite';

/* the first bucket boundary at or after ts */
CREATE FUNCTION @extschema@._run_hour_ceil(ts timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN @extschema@._run_hour(_run_hour_ceil.ts) = _run_hour_ceil.ts THEN _run_hour_ceil.ts
                ELSE @extschema@._run_hour(_run_hour_ceil.ts) + '1 hour'::interval END;
END;
COMMENT ON FUNCTION @extschema@._run_hour_ceil(timestamptz) IS
    'internal: the first hour boundary at or after ts (ts itself when infinite)';

/*
 * The duration sketch (DDSketch-style): a duration x > 0 goes to bucket
 * ceil(log_g(x)) with g = 1.01 / 0.99, so that the bucket's estimate
 * 2 g^k / (g + 1) is within 1% of every value in it; 0 is bucket 0 and a
 * negative x the mirror of -x (obs refuses end_time < start_time, but a
 * direct INSERT may store one).  Keys are offset by 100000 to sort
 * negative < 0 < positive.
 */
CREATE FUNCTION @extschema@._duration_key(seconds double precision)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN _duration_key.seconds > 0
                THEN pg_catalog.ceil(pg_catalog.ln(_duration_key.seconds)
                                     / pg_catalog.ln(1.01::double precision / 0.99::double precision))::integer + 100000
                WHEN _duration_key.seconds < 0
                THEN -(pg_catalog.ceil(pg_catalog.ln(-_duration_key.seconds)
                                       / pg_catalog.ln(1.01::double precision / 0.99::double precision))::integer + 100000)
                ELSE 0 END;
END;
COMMENT ON FUNCTION @extschema@._duration_key(double precision) IS
    'internal: the duration sketch bucket of a duration in seconds (logarithmic, 1% relative error)';

CREATE FUNCTION @extschema@._duration_of_key(key integer)
RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.sign(_duration_of_key.key::double precision) * 2::double precision
           * pg_catalog.exp(pg_catalog.ln(1.01::double precision / 0.99::double precision)
                            * LEAST(GREATEST(pg_catalog.abs(_duration_of_key.key) - 100000, -30000), 30000)::double precision)
           / (1.01::double precision / 0.99::double precision + 1::double precision);
END;
COMMENT ON FUNCTION @extschema@._duration_of_key(integer) IS
    'internal: the estimate of the durations in a sketch bucket (within 1% of each)';

/* one run added to (sign 1) or taken out of (sign -1) the rollups: the triggers' fast path */
CREATE FUNCTION @extschema@._flow_rollup_row(sign integer, r @extschema@.flow_runs)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_bucket timestamptz := @extschema@._run_hour(r.start_time);
    v_xdur numeric := EXTRACT(epoch FROM r.end_time - r.start_time);
BEGIN
    INSERT INTO @extschema@.flow_run_rollup AS t
    SELECT g.all_time, g.bucket, r.flow_name, r.status, sign,
           CASE WHEN r.duration_seconds IS NOT NULL THEN sign ELSE 0 END, COALESCE(sign * v_xdur, 0),
           CASE WHEN sign > 0 THEN r.duration_seconds END, CASE WHEN sign > 0 THEN r.start_time END
      FROM (VALUES (false, v_bucket), (true, '-infinity'::timestamptz)) g(all_time, bucket)
     WHERE NOT g.all_time OR r.start_time < 'infinity'
     ORDER BY 1, 2
    ON CONFLICT (all_time, bucket, flow_name, status) DO UPDATE SET
        runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
        duration_sum = t.duration_sum + EXCLUDED.duration_sum,
        duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
        last_start_time = GREATEST(t.last_start_time, EXCLUDED.last_start_time);
    IF r.status IN ('Completed', 'Failed', 'Crashed') AND r.duration_seconds IS NOT NULL
       AND r.start_time < 'infinity' THEN
        INSERT INTO @extschema@.flow_run_sketch AS s
        VALUES (r.flow_name, @extschema@._duration_key(r.duration_seconds), sign, r.duration_seconds, r.duration_seconds)
        ON CONFLICT (flow_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
    END IF;
    IF sign > 0 THEN
        RETURN;
    END IF;
    DELETE FROM @extschema@.flow_run_rollup t
     WHERE (NOT t.all_time AND t.bucket = v_bucket OR t.all_time AND t.bucket = '-infinity')
       AND t.flow_name = r.flow_name AND t.status = r.status AND t.runs = 0;
    IF r.duration_seconds IS NOT NULL THEN
        DELETE FROM @extschema@.flow_run_sketch s
         WHERE s.flow_name = r.flow_name AND s.key = @extschema@._duration_key(r.duration_seconds) AND s.runs = 0;
        UPDATE @extschema@.flow_run_rollup t
           SET duration_max = (SELECT max(x.duration_seconds) FROM @extschema@.flow_runs x
                                WHERE x.flow_name = t.flow_name AND x.status = t.status
                                  AND x.start_time >= t.bucket
                                  AND (x.start_time < t.bucket + interval '1 hour' OR x.start_time = t.bucket))
         WHERE NOT t.all_time AND t.bucket = v_bucket AND t.flow_name = r.flow_name AND t.status = r.status
           AND r.duration_seconds >= t.duration_max;
        UPDATE @extschema@.flow_run_rollup t
           SET duration_max = (SELECT max(h.duration_max) FROM @extschema@.flow_run_rollup h
                                WHERE NOT h.all_time AND h.flow_name = t.flow_name AND h.status = t.status
                                  AND h.bucket < 'infinity')
         WHERE t.all_time AND t.bucket = '-infinity' AND t.flow_name = r.flow_name AND t.status = r.status
           AND r.start_time < 'infinity' AND r.duration_seconds >= t.duration_max;
    END IF;
    UPDATE @extschema@.flow_run_rollup t
       SET last_start_time = (SELECT max(x.start_time) FROM @extschema@.flow_runs x
                               WHERE x.flow_name = t.flow_name AND x.status = t.status
                                 AND x.start_time >= t.bucket
                                 AND (x.start_time < t.bucket + interval '1 hour' OR x.start_time = t.bucket))
     WHERE NOT t.all_time AND t.bucket = v_bucket AND t.flow_name = r.flow_name AND t.status = r.status
       AND r.start_time >= t.last_start_time;
    UPDATE @extschema@.flow_run_rollup t
       SET last_start_time = (SELECT max(h.last_start_time) FROM @extschema@.flow_run_rollup h
                               WHERE NOT h.all_time AND h.flow_name = t.flow_name AND h.status = t.status
                                 AND h.bucket < 'infinity')
     WHERE t.all_time AND t.bucket = '-infinity' AND t.flow_name = r.flow_name AND t.status = r.status
       AND r.start_time < 'infinity' AND r.start_time >= t.last_start_time;
END
$$;
COMMENT ON FUNCTION @extschema@._flow_rollup_row(integer, @extschema@.flow_runs) IS
    'internal: add the run r to (sign 1) or take it out of (sign -1) obs.flow_run_rollup and obs.flow_run_sketch; the rollup triggers'' path for a statement that writes one run';

CREATE FUNCTION @extschema@._flow_runs_rollup()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_rows bigint;
    v_run @extschema@.flow_runs;
BEGIN
    /* rollups off: nothing to keep */
    IF NOT EXISTS (SELECT FROM @extschema@.health_rollups) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM @extschema@.flow_run_rollup;
        DELETE FROM @extschema@.flow_run_sketch;
        RETURN NULL;
    END IF;
    /* an UPDATE is its old rows taken out and its new rows added */
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        SELECT count(*) INTO v_rows FROM new_rows;
        IF v_rows = 1 THEN
            SELECT * INTO v_run FROM new_rows;
            PERFORM @extschema@._flow_rollup_row(1, v_run);
        ELSIF v_rows > 1 THEN
        WITH d AS (SELECT 1 AS sign, flow_name, status, start_time, end_time, duration_seconds FROM new_rows),
             p AS (SELECT g.all_time, g.bucket, d.flow_name, d.status, d.sign, d.duration_seconds AS dur,
                          EXTRACT(epoch FROM d.end_time - d.start_time) AS xdur, d.start_time
                     FROM d CROSS JOIN LATERAL (VALUES (false, @extschema@._run_hour(d.start_time)),
                                                       (true, '-infinity'::timestamptz)) g(all_time, bucket)
                    WHERE NOT g.all_time OR d.start_time < 'infinity'),
             r AS (INSERT INTO @extschema@.flow_run_rollup AS t
                   SELECT p.all_time, p.bucket, p.flow_name, p.status, sum(p.sign),
                          COALESCE(sum(p.sign) FILTER (WHERE p.dur IS NOT NULL), 0), COALESCE(sum(p.sign * p.xdur), 0),
                          max(p.dur) FILTER (WHERE p.sign > 0),
                          max(p.start_time) FILTER (WHERE p.sign > 0)
                     FROM p GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                   ON CONFLICT (all_time, bucket, flow_name, status) DO UPDATE SET
                       runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
                       duration_sum = t.duration_sum + EXCLUDED.duration_sum,
                       duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
                       last_start_time = GREATEST(t.last_start_time, EXCLUDED.last_start_time))
        INSERT INTO @extschema@.flow_run_sketch AS s
        SELECT d.flow_name, @extschema@._duration_key(d.duration_seconds), sum(d.sign),
               min(d.duration_seconds), max(d.duration_seconds)
          FROM d
         WHERE d.status IN ('Completed', 'Failed', 'Crashed') AND d.duration_seconds IS NOT NULL
           AND d.start_time < 'infinity'
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (flow_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
        SELECT count(*) INTO v_rows FROM old_rows;
        IF v_rows = 1 THEN
            SELECT * INTO v_run FROM old_rows;
            PERFORM @extschema@._flow_rollup_row(-1, v_run);
        ELSIF v_rows > 1 THEN
        WITH d AS (SELECT -1 AS sign, flow_name, status, start_time, end_time, duration_seconds FROM old_rows),
             p AS (SELECT g.all_time, g.bucket, d.flow_name, d.status, d.sign, d.duration_seconds AS dur,
                          EXTRACT(epoch FROM d.end_time - d.start_time) AS xdur, d.start_time
                     FROM d CROSS JOIN LATERAL (VALUES (false, @extschema@._run_hour(d.start_time)),
                                                       (true, '-infinity'::timestamptz)) g(all_time, bucket)
                    WHERE NOT g.all_time OR d.start_time < 'infinity'),
             r AS (INSERT INTO @extschema@.flow_run_rollup AS t
                   SELECT p.all_time, p.bucket, p.flow_name, p.status, sum(p.sign),
                          COALESCE(sum(p.sign) FILTER (WHERE p.dur IS NOT NULL), 0), COALESCE(sum(p.sign * p.xdur), 0),
                          max(p.dur) FILTER (WHERE p.sign > 0),
                          max(p.start_time) FILTER (WHERE p.sign > 0)
                     FROM p GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                   ON CONFLICT (all_time, bucket, flow_name, status) DO UPDATE SET
                       runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
                       duration_sum = t.duration_sum + EXCLUDED.duration_sum,
                       duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
                       last_start_time = GREATEST(t.last_start_time, EXCLUDED.last_start_time))
        INSERT INTO @extschema@.flow_run_sketch AS s
        SELECT d.flow_name, @extschema@._duration_key(d.duration_seconds), sum(d.sign),
               min(d.duration_seconds), max(d.duration_seconds)
          FROM d
         WHERE d.status IN ('Completed', 'Failed', 'Crashed') AND d.duration_seconds IS NOT NULL
           AND d.start_time < 'infinity'
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (flow_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
        /* rows whose runs fell to 0 go */
        DELETE FROM @extschema@.flow_run_rollup t
         USING (SELECT DISTINCT @extschema@._run_hour(o.start_time) AS bucket, o.flow_name, o.status FROM old_rows o) o
         WHERE NOT t.all_time AND t.bucket = o.bucket AND t.flow_name = o.flow_name AND t.status = o.status
           AND t.runs = 0;
        DELETE FROM @extschema@.flow_run_rollup t
         USING (SELECT DISTINCT o.flow_name, o.status FROM old_rows o) o
         WHERE t.all_time AND t.bucket = '-infinity' AND t.flow_name = o.flow_name AND t.status = o.status
           AND t.runs = 0;
        DELETE FROM @extschema@.flow_run_sketch s
         USING (SELECT DISTINCT o.flow_name, @extschema@._duration_key(o.duration_seconds) AS key
                  FROM old_rows o WHERE o.duration_seconds IS NOT NULL) o
         WHERE s.flow_name = o.flow_name AND s.key = o.key AND s.runs = 0;
        /*
         * the longest duration of a bucket that lost its longest run: an hour
         * from the runs (index range scan), then all_time from the hours
         */
        UPDATE @extschema@.flow_run_rollup t
           SET duration_max = (SELECT max(r.duration_seconds) FROM @extschema@.flow_runs r
                                WHERE r.flow_name = t.flow_name AND r.status = t.status
                                  AND r.start_time >= t.bucket
                                  AND (r.start_time < t.bucket + interval '1 hour' OR r.start_time = t.bucket))
          FROM (SELECT @extschema@._run_hour(o.start_time) AS bucket, o.flow_name, o.status, max(o.duration_seconds) AS m
                  FROM old_rows o GROUP BY 1, 2, 3) o
         WHERE NOT t.all_time AND t.bucket = o.bucket AND t.flow_name = o.flow_name AND t.status = o.status
           AND o.m >= t.duration_max;
        UPDATE @extschema@.flow_run_rollup t
           SET duration_max = (SELECT max(h.duration_max) FROM @extschema@.flow_run_rollup h
                                WHERE NOT h.all_time AND h.flow_name = t.flow_name AND h.status = t.status
                                  AND h.bucket < 'infinity')
          FROM (SELECT o.flow_name, o.status, max(o.duration_seconds) AS m
                  FROM old_rows o WHERE o.start_time < 'infinity' GROUP BY 1, 2) o
         WHERE t.all_time AND t.bucket = '-infinity' AND t.flow_name = o.flow_name AND t.status = o.status
           AND o.m >= t.duration_max;
        /* the latest start_time of a bucket that lost its latest run */
        UPDATE @extschema@.flow_run_rollup t
           SET last_start_time = (SELECT max(r.start_time) FROM @extschema@.flow_runs r
                                   WHERE r.flow_name = t.flow_name AND r.status = t.status
                                     AND r.start_time >= t.bucket
                                     AND (r.start_time < t.bucket + interval '1 hour' OR r.start_time = t.bucket))
          FROM (SELECT @extschema@._run_hour(o.start_time) AS bucket, o.flow_name, o.status, max(o.start_time) AS m
                  FROM old_rows o GROUP BY 1, 2, 3) o
         WHERE NOT t.all_time AND t.bucket = o.bucket AND t.flow_name = o.flow_name AND t.status = o.status
           AND o.m >= t.last_start_time;
        UPDATE @extschema@.flow_run_rollup t
           SET last_start_time = (SELECT max(h.last_start_time) FROM @extschema@.flow_run_rollup h
                                   WHERE NOT h.all_time AND h.flow_name = t.flow_name AND h.status = t.status
                                     AND h.bucket < 'infinity')
          FROM (SELECT o.flow_name, o.status, max(o.start_time) AS m
                  FROM old_rows o WHERE o.start_time < 'infinity' GROUP BY 1, 2) o
         WHERE t.all_time AND t.bucket = '-infinity' AND t.flow_name = o.flow_name AND t.status = o.status
           AND o.m >= t.last_start_time;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._flow_runs_rollup() IS
    'internal: trigger on obs.flow_runs (per statement, with transition tables) that keeps obs.flow_run_rollup and obs.flow_run_sketch';
CREATE TRIGGER flow_runs_rollup_insert AFTER INSERT ON @extschema@.flow_runs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._flow_runs_rollup();
CREATE TRIGGER flow_runs_rollup_update AFTER UPDATE ON @extschema@.flow_runs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._flow_runs_rollup();
CREATE TRIGGER flow_runs_rollup_delete AFTER DELETE ON @extschema@.flow_runs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._flow_runs_rollup();
CREATE TRIGGER flow_runs_rollup_truncate AFTER TRUNCATE ON @extschema@.flow_runs
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._flow_runs_rollup();

/* one run added to (sign 1) or taken out of (sign -1) the rollups: the triggers' fast path */
CREATE FUNCTION @extschema@._task_rollup_row(sign integer, r @extschema@.task_runs)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_bucket timestamptz := @extschema@._run_hour(r.start_time);
    v_xdur numeric := EXTRACT(epoch FROM r.end_time - r.start_time);
BEGIN
    INSERT INTO @extschema@.task_run_rollup AS t
    SELECT g.all_time, g.bucket, r.task_name, r.status, sign,
           CASE WHEN r.duration_seconds IS NOT NULL THEN sign ELSE 0 END, COALESCE(sign * v_xdur, 0),
           CASE WHEN sign > 0 THEN r.duration_seconds END, CASE WHEN r.inputs_processed IS NOT NULL THEN sign ELSE 0 END, COALESCE(sign * r.inputs_processed, 0),
           CASE WHEN r.outputs_produced IS NOT NULL THEN sign ELSE 0 END, COALESCE(sign * r.outputs_produced, 0),
           CASE WHEN r.duration_seconds IS NOT NULL THEN COALESCE(sign * r.inputs_processed, 0) ELSE 0 END,
           CASE WHEN r.inputs_processed IS NOT NULL THEN COALESCE(sign * v_xdur, 0) ELSE 0 END
      FROM (VALUES (false, v_bucket), (true, '-infinity'::timestamptz)) g(all_time, bucket)
     WHERE NOT g.all_time OR r.start_time < 'infinity'
     ORDER BY 1, 2
    ON CONFLICT (all_time, bucket, task_name, status) DO UPDATE SET
        runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
        duration_sum = t.duration_sum + EXCLUDED.duration_sum,
        duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
        inputs_runs = t.inputs_runs + EXCLUDED.inputs_runs, inputs_sum = t.inputs_sum + EXCLUDED.inputs_sum,
        outputs_runs = t.outputs_runs + EXCLUDED.outputs_runs, outputs_sum = t.outputs_sum + EXCLUDED.outputs_sum,
        paired_inputs = t.paired_inputs + EXCLUDED.paired_inputs,
        paired_duration = t.paired_duration + EXCLUDED.paired_duration;
    IF r.status IN ('Completed', 'Failed', 'Crashed') AND r.duration_seconds IS NOT NULL
       AND r.start_time < 'infinity' THEN
        INSERT INTO @extschema@.task_run_sketch AS s
        VALUES (r.task_name, @extschema@._duration_key(r.duration_seconds), sign, r.duration_seconds, r.duration_seconds)
        ON CONFLICT (task_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
    END IF;
    IF sign > 0 THEN
        RETURN;
    END IF;
    DELETE FROM @extschema@.task_run_rollup t
     WHERE (NOT t.all_time AND t.bucket = v_bucket OR t.all_time AND t.bucket = '-infinity')
       AND t.task_name = r.task_name AND t.status = r.status AND t.runs = 0;
    IF r.duration_seconds IS NOT NULL THEN
        DELETE FROM @extschema@.task_run_sketch s
         WHERE s.task_name = r.task_name AND s.key = @extschema@._duration_key(r.duration_seconds) AND s.runs = 0;
        UPDATE @extschema@.task_run_rollup t
           SET duration_max = (SELECT max(x.duration_seconds) FROM @extschema@.task_runs x
                                WHERE x.task_name = t.task_name AND x.status = t.status
                                  AND x.start_time >= t.bucket
                                  AND (x.start_time < t.bucket + interval '1 hour' OR x.start_time = t.bucket))
         WHERE NOT t.all_time AND t.bucket = v_bucket AND t.task_name = r.task_name AND t.status = r.status
           AND r.duration_seconds >= t.duration_max;
        UPDATE @extschema@.task_run_rollup t
           SET duration_max = (SELECT max(h.duration_max) FROM @extschema@.task_run_rollup h
                                WHERE NOT h.all_time AND h.task_name = t.task_name AND h.status = t.status
                                  AND h.bucket < 'infinity')
         WHERE t.all_time AND t.bucket = '-infinity' AND t.task_name = r.task_name AND t.status = r.status
           AND r.start_time < 'infinity' AND r.duration_seconds >= t.duration_max;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._task_rollup_row(integer, @extschema@.task_runs) IS
    'internal: add the run r to (sign 1) or take it out of (sign -1) obs.task_run_rollup and obs.task_run_sketch; the rollup triggers'' path for a statement that writes one run';

CREATE FUNCTION @extschema@._task_runs_rollup()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_rows bigint;
    v_run @extschema@.task_runs;
BEGIN
    /* rollups off: nothing to keep */
    IF NOT EXISTS (SELECT FROM @extschema@.health_rollups) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM @extschema@.task_run_rollup;
        DELETE FROM @extschema@.task_run_sketch;
        RETURN NULL;
    END IF;
    /* an UPDATE is its old rows taken out and its new rows added */
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        SELECT count(*) INTO v_rows FROM new_rows;
        IF v_rows = 1 THEN
            SELECT * INTO v_run FROM new_rows;
            PERFORM @extschema@._task_rollup_row(1, v_run);
        ELSIF v_rows > 1 THEN
        WITH d AS (SELECT 1 AS sign, task_name, status, start_time, end_time, duration_seconds, inputs_processed, outputs_produced FROM new_rows),
             p AS (SELECT g.all_time, g.bucket, d.task_name, d.status, d.sign, d.duration_seconds AS dur,
                          EXTRACT(epoch FROM d.end_time - d.start_time) AS xdur,
                          d.inputs_processed AS inp, d.outputs_produced AS outp
                     FROM d CROSS JOIN LATERAL (VALUES (false, @extschema@._run_hour(d.start_time)),
                                                       (true, '-infinity'::timestamptz)) g(all_time, bucket)
                    WHERE NOT g.all_time OR d.start_time < 'infinity'),
             r AS (INSERT INTO @extschema@.task_run_rollup AS t
                   SELECT p.all_time, p.bucket, p.task_name, p.status, sum(p.sign),
                          COALESCE(sum(p.sign) FILTER (WHERE p.dur IS NOT NULL), 0), COALESCE(sum(p.sign * p.xdur), 0),
                          max(p.dur) FILTER (WHERE p.sign > 0),
                          COALESCE(sum(p.sign) FILTER (WHERE p.inp IS NOT NULL), 0), COALESCE(sum(p.sign * p.inp), 0),
                          COALESCE(sum(p.sign) FILTER (WHERE p.outp IS NOT NULL), 0), COALESCE(sum(p.sign * p.outp), 0),
                          COALESCE(sum(p.sign * p.inp) FILTER (WHERE p.dur IS NOT NULL), 0),
                          COALESCE(sum(p.sign * p.xdur) FILTER (WHERE p.inp IS NOT NULL), 0)
                     FROM p GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                   ON CONFLICT (all_time, bucket, task_name, status) DO UPDATE SET
                       runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
                       duration_sum = t.duration_sum + EXCLUDED.duration_sum,
                       duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
                       inputs_runs = t.inputs_runs + EXCLUDED.inputs_runs, inputs_sum = t.inputs_sum + EXCLUDED.inputs_sum,
                       outputs_runs = t.outputs_runs + EXCLUDED.outputs_runs, outputs_sum = t.outputs_sum + EXCLUDED.outputs_sum,
                       paired_inputs = t.paired_inputs + EXCLUDED.paired_inputs,
                       paired_duration = t.paired_duration + EXCLUDED.paired_duration)
        INSERT INTO @extschema@.task_run_sketch AS s
        SELECT d.task_name, @extschema@._duration_key(d.duration_seconds), sum(d.sign),
               min(d.duration_seconds), max(d.duration_seconds)
          FROM d
         WHERE d.status IN ('Completed', 'Failed', 'Crashed') AND d.duration_seconds IS NOT NULL
           AND d.start_time < 'infinity'
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (task_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
        SELECT count(*) INTO v_rows FROM old_rows;
        IF v_rows = 1 THEN
            SELECT * INTO v_run FROM old_rows;
            PERFORM @extschema@._task_rollup_row(-1, v_run);
        ELSIF v_rows > 1 THEN
        WITH d AS (SELECT -1 AS sign, task_name, status, start_time, end_time, duration_seconds, inputs_processed, outputs_produced FROM old_rows),
             p AS (SELECT g.all_time, g.bucket, d.task_name, d.status, d.sign, d.duration_seconds AS dur,
                          EXTRACT(epoch FROM d.end_time - d.start_time) AS xdur,
                          d.inputs_processed AS inp, d.outputs_produced AS outp
                     FROM d CROSS JOIN LATERAL (VALUES (false, @extschema@._run_hour(d.start_time)),
                                                       (true, '-infinity'::timestamptz)) g(all_time, bucket)
                    WHERE NOT g.all_time OR d.start_time < 'infinity'),
             r AS (INSERT INTO @extschema@.task_run_rollup AS t
                   SELECT p.all_time, p.bucket, p.task_name, p.status, sum(p.sign),
                          COALESCE(sum(p.sign) FILTER (WHERE p.dur IS NOT NULL), 0), COALESCE(sum(p.sign * p.xdur), 0),
                          max(p.dur) FILTER (WHERE p.sign > 0),
                          COALESCE(sum(p.sign) FILTER (WHERE p.inp IS NOT NULL), 0), COALESCE(sum(p.sign * p.inp), 0),
                          COALESCE(sum(p.sign) FILTER (WHERE p.outp IS NOT NULL), 0), COALESCE(sum(p.sign * p.outp), 0),
                          COALESCE(sum(p.sign * p.inp) FILTER (WHERE p.dur IS NOT NULL), 0),
                          COALESCE(sum(p.sign * p.xdur) FILTER (WHERE p.inp IS NOT NULL), 0)
                     FROM p GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                   ON CONFLICT (all_time, bucket, task_name, status) DO UPDATE SET
                       runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
                       duration_sum = t.duration_sum + EXCLUDED.duration_sum,
                       duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
                       inputs_runs = t.inputs_runs + EXCLUDED.inputs_runs, inputs_sum = t.inputs_sum + EXCLUDED.inputs_sum,
                       outputs_runs = t.outputs_runs + EXCLUDED.outputs_runs, outputs_sum = t.outputs_sum + EXCLUDED.outputs_sum,
                       paired_inputs = t.paired_inputs + EXCLUDED.paired_inputs,
                       paired_duration = t.paired_duration + EXCLUDED.paired_duration)
        INSERT INTO @extschema@.task_run_sketch AS s
        SELECT d.task_name, @extschema@._duration_key(d.duration_seconds), sum(d.sign),
               min(d.duration_seconds), max(d.duration_seconds)
          FROM d
         WHERE d.status IN ('Completed', 'Failed', 'Crashed') AND d.duration_seconds IS NOT NULL
           AND d.start_time < 'infinity'
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (task_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
        /* rows whose runs fell to 0 go */
        DELETE FROM @extschema@.task_run_rollup t
         USING (SELECT DISTINCT @extschema@._run_hour(o.start_time) AS bucket, o.task_name, o.status FROM old_rows o) o
         WHERE NOT t.all_time AND t.bucket = o.bucket AND t.task_name = o.task_name AND t.status = o.status
           AND t.runs = 0;
        DELETE FROM @extschema@.task_run_rollup t
         USING (SELECT DISTINCT o.task_name, o.status FROM old_rows o) o
         WHERE t.all_time AND t.bucket = '-infinity' AND t.task_name = o.task_name AND t.status = o.status
           AND t.runs = 0;
        DELETE FROM @extschema@.task_run_sketch s
         USING (SELECT DISTINCT o.task_name, @extschema@._duration_key(o.duration_seconds) AS key
                  FROM old_rows o WHERE o.duration_seconds IS NOT NULL) o
         WHERE s.task_name = o.task_name AND s.key = o.key AND s.runs = 0;
        /*
         * the longest duration of a bucket that lost its longest run: an hour
         * from the runs (index range scan), then all_time from the hours
         */
        UPDATE @extschema@.task_run_rollup t
           SET duration_max = (SELECT max(r.duration_seconds) FROM @extschema@.task_runs r
                                WHERE r.task_name = t.task_name AND r.status = t.status
                                  AND r.start_time >= t.bucket
                                  AND (r.start_time < t.bucket + interval '1 hour' OR r.start_time = t.bucket))
          FROM (SELECT @extschema@._run_hour(o.start_time) AS bucket, o.task_name, o.status, max(o.duration_seconds) AS m
                  FROM old_rows o GROUP BY 1, 2, 3) o
         WHERE NOT t.all_time AND t.bucket = o.bucket AND t.task_name = o.task_name AND t.status = o.status
           AND o.m >= t.duration_max;
        UPDATE @extschema@.task_run_rollup t
           SET duration_max = (SELECT max(h.duration_max) FROM @extschema@.task_run_rollup h
                                WHERE NOT h.all_time AND h.task_name = t.task_name AND h.status = t.status
                                  AND h.bucket < 'infinity')
          FROM (SELECT o.task_name, o.status, max(o.duration_seconds) AS m
                  FROM old_rows o WHERE o.start_time < 'infinity' GROUP BY 1, 2) o
         WHERE t.all_time AND t.bucket = '-infinity' AND t.task_name = o.task_name AND t.status = o.status
           AND o.m >= t.duration_max;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._task_runs_rollup() IS
    'internal: trigger on obs.task_runs (per statement, with transition tables) that keeps obs.task_run_rollup and obs.task_run_sketch';
CREATE TRIGGER task_runs_rollup_insert AFTER INSERT ON @extschema@.task_runs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._task_runs_rollup();
CREATE TRIGGER task_runs_rollup_update AFTER UPDATE ON @extschema@.task_runs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._task_runs_rollup();
CREATE TRIGGER task_runs_rollup_delete AFTER DELETE ON @extschema@.task_runs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._task_runs_rollup();
CREATE TRIGGER task_runs_rollup_truncate AFTER TRUNCATE ON @extschema@.task_runs
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._task_runs_rollup();

CREATE FUNCTION @extschema@.rebuild_rollups()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    /* writers wait until the rollups are whole again */
    LOCK TABLE @extschema@.flow_runs, @extschema@.task_runs IN SHARE MODE;
    IF NOT EXISTS (SELECT FROM @extschema@.health_rollups) THEN
        RAISE EXCEPTION 'health rollups are off'
            USING ERRCODE = '55000', HINT = 'Turn them on with obs.enable_rollups(), which builds them.';
    END IF;
    DELETE FROM @extschema@.flow_run_rollup;
    DELETE FROM @extschema@.flow_run_sketch;
    DELETE FROM @extschema@.task_run_rollup;
    DELETE FROM @extschema@.task_run_sketch;
    WITH d AS (SELECT 1 AS sign, flow_name, status, start_time, end_time, duration_seconds FROM @extschema@.flow_runs),
             p AS (SELECT g.all_time, g.bucket, d.flow_name, d.status, d.sign, d.duration_seconds AS dur,
                          EXTRACT(epoch FROM d.end_time - d.start_time) AS xdur, d.start_time
                     FROM d CROSS JOIN LATERAL (VALUES (false, @extschema@._run_hour(d.start_time)),
                                                       (true, '-infinity'::timestamptz)) g(all_time, bucket)
                    WHERE NOT g.all_time OR d.start_time < 'infinity'),
             r AS (INSERT INTO @extschema@.flow_run_rollup AS t
                   SELECT p.all_time, p.bucket, p.flow_name, p.status, sum(p.sign),
                          COALESCE(sum(p.sign) FILTER (WHERE p.dur IS NOT NULL), 0), COALESCE(sum(p.sign * p.xdur), 0),
                          max(p.dur) FILTER (WHERE p.sign > 0),
                          max(p.start_time) FILTER (WHERE p.sign > 0)
                     FROM p GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                   ON CONFLICT (all_time, bucket, flow_name, status) DO UPDATE SET
                       runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
                       duration_sum = t.duration_sum + EXCLUDED.duration_sum,
                       duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
                       last_start_time = GREATEST(t.last_start_time, EXCLUDED.last_start_time))
        INSERT INTO @extschema@.flow_run_sketch AS s
        SELECT d.flow_name, @extschema@._duration_key(d.duration_seconds), sum(d.sign),
               min(d.duration_seconds), max(d.duration_seconds)
          FROM d
         WHERE d.status IN ('Completed', 'Failed', 'Crashed') AND d.duration_seconds IS NOT NULL
           AND d.start_time < 'infinity'
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (flow_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
    WITH d AS (SELECT 1 AS sign, task_name, status, start_time, end_time, duration_seconds, inputs_processed, outputs_produced FROM @extschema@.task_runs),
             p AS (SELECT g.all_time, g.bucket, d.task_name, d.status, d.sign, d.duration_seconds AS dur,
                          EXTRACT(epoch FROM d.end_time - d.start_time) AS xdur,
                          d.inputs_processed AS inp, d.outputs_produced AS outp
                     FROM d CROSS JOIN LATERAL (VALUES (false, @extschema@._run_hour(d.start_time)),
                                                       (true, '-infinity'::timestamptz)) g(all_time, bucket)
                    WHERE NOT g.all_time OR d.start_time < 'infinity'),
             r AS (INSERT INTO @extschema@.task_run_rollup AS t
                   SELECT p.all_time, p.bucket, p.task_name, p.status, sum(p.sign),
                          COALESCE(sum(p.sign) FILTER (WHERE p.dur IS NOT NULL), 0), COALESCE(sum(p.sign * p.xdur), 0),
                          max(p.dur) FILTER (WHERE p.sign > 0),
                          COALESCE(sum(p.sign) FILTER (WHERE p.inp IS NOT NULL), 0), COALESCE(sum(p.sign * p.inp), 0),
                          COALESCE(sum(p.sign) FILTER (WHERE p.outp IS NOT NULL), 0), COALESCE(sum(p.sign * p.outp), 0),
                          COALESCE(sum(p.sign * p.inp) FILTER (WHERE p.dur IS NOT NULL), 0),
                          COALESCE(sum(p.sign * p.xdur) FILTER (WHERE p.inp IS NOT NULL), 0)
                     FROM p GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                   ON CONFLICT (all_time, bucket, task_name, status) DO UPDATE SET
                       runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
                       duration_sum = t.duration_sum + EXCLUDED.duration_sum,
                       duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
                       inputs_runs = t.inputs_runs + EXCLUDED.inputs_runs, inputs_sum = t.inputs_sum + EXCLUDED.inputs_sum,
                       outputs_runs = t.outputs_runs + EXCLUDED.outputs_runs, outputs_sum = t.outputs_sum + EXCLUDED.outputs_sum,
                       paired_inputs = t.paired_inputs + EXCLUDED.paired_inputs,
                       paired_duration = t.paired_duration + EXCLUDED.paired_duration)
        INSERT INTO @extschema@.task_run_sketch AS s
        SELECT d.task_name, @extschema@._duration_key(d.duration_seconds), sum(d.sign),
               min(d.duration_seconds), max(d.duration_seconds)
          FROM d
         WHERE d.status IN ('Completed', 'Failed', 'Crashed') AND d.duration_seconds IS NOT NULL
           AND d.start_time < 'infinity'
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (task_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
END
$$;
COMMENT ON FUNCTION @extschema@.rebuild_rollups() IS
$$recompute obs.flow_run_rollup, obs.task_run_rollup and their duration sketches from obs.flow_runs and obs.task_runs (locked against writes meanwhile).
The triggers on the runs keep the rollups on every write, bulk loads included; rebuild after writing the runs with triggers disabled (session_replication_role = replica, pg_restore --disable-triggers, a logical replication subscriber).$$;

/*
 * The switch: a row inserted into obs.health_rollups (enable_rollups(), a
 * restore) builds the rollups from the runs; the row deleted
 * (disable_rollups()) empties them.
 */
CREATE FUNCTION @extschema@._health_rollups_switch()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM @extschema@.rebuild_rollups();
    ELSE
        LOCK TABLE @extschema@.flow_runs, @extschema@.task_runs IN SHARE MODE;
        DELETE FROM @extschema@.flow_run_rollup;
        DELETE FROM @extschema@.flow_run_sketch;
        DELETE FROM @extschema@.task_run_rollup;
        DELETE FROM @extschema@.task_run_sketch;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._health_rollups_switch() IS
    'internal: trigger on obs.health_rollups; a row inserted builds the rollups from the runs, the row deleted empties them';
CREATE TRIGGER health_rollups_on AFTER INSERT ON @extschema@.health_rollups
    FOR EACH ROW EXECUTE FUNCTION @extschema@._health_rollups_switch();
CREATE TRIGGER health_rollups_off AFTER DELETE ON @extschema@.health_rollups
    FOR EACH ROW EXECUTE FUNCTION @extschema@._health_rollups_switch();

CREATE FUNCTION @extschema@.enable_rollups()
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO @extschema@.health_rollups DEFAULT VALUES ON CONFLICT DO NOTHING;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION @extschema@.enable_rollups() IS
$$turn the health rollups on: build them from the runs (writers of runs wait meanwhile) and keep them on every write from then on, so that flow_health, task_summary and task_performance take the same time at 10M runs as at 1M.
Returns false when they were on already.  Writers of runs of the same name and status then wait for each other's commit (README "Pipeline health").$$;

CREATE FUNCTION @extschema@.disable_rollups()
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM @extschema@.health_rollups;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION @extschema@.disable_rollups() IS
    'turn the health rollups off and empty them: the health figures come from the runs again; returns false when they were off already';

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


CREATE OR REPLACE FUNCTION @extschema@._flow_health(
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

CREATE OR REPLACE FUNCTION @extschema@._task_figures(
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

/* rebuild_rollups() is an administration function; the reader helpers are listed */
CREATE OR REPLACE FUNCTION @extschema@._privilege_functions(role_kind text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE _privilege_functions.role_kind
        /* signal writers: granted by grant_writer(), revoked from PUBLIC */
        WHEN 'writer' THEN ARRAY[
            'log', 'debug', 'info', 'warning', 'error', 'critical',
            'start_span', 'finish_span', 'set_traceparent', 'record_span',
            'record_metric', 'record_flow_execution', 'record_task_execution']
        /* readers: granted by grant_reader() (PUBLIC keeps EXECUTE; SELECT decides) */
        WHEN 'reader' THEN ARRAY[
            'get_flow_health', 'get_task_performance', 'get_task_summary',
            'high_latency_by_endpoint', 'latency_heatmap', 'log_json', 'jaeger_json',
            'current_span_id', 'current_trace_id', 'current_traceparent', 'open_spans',
            'parse_traceparent', 'reset_spans', 'flush', 'ingest_stats', 'trace_sampled',
            'log_volume', 'throughput', 'service_performance', '_check_range', '_check_bucket',
            '_flow_health', '_task_figures', '_latency_heatmap',
            'dashboard_html', '_html', '_dash_num', '_dash_step',
            '_flow_run_rows', '_task_run_rows', '_run_hour', '_run_hour_ceil',
            '_duration_key', '_duration_of_key', '_use_rollups', '_flow_runs_read', '_task_runs_read']
        /* administration: revoked from PUBLIC, granted to no helper role */
        WHEN 'admin' THEN ARRAY[
            'check_alert_conditions', 'add_alert_rule', 'drop_alert_rule',
            'evaluate_alert_rules', 'acknowledge_alert', 'purge', '_store_alerts',
            'grant_writer', 'grant_reader', 'revoke_writer', 'revoke_reader',
            'rebuild_rollups', 'enable_rollups', 'disable_rollups']
    END
$$;
REVOKE EXECUTE ON FUNCTION @extschema@.rebuild_rollups(), @extschema@.enable_rollups(),
    @extschema@.disable_rollups() FROM PUBLIC;

/* the rollups are off until obs.enable_rollups(), as in a fresh install */

/* ---- end rollups: issue 10 item 5 ---- */

/* ---- attack fixes part 3 ---- */

/* obs.archive_config.database_id: the database set_archive ran in (the table is
   new in 0.2.0, so it is empty here) */
ALTER TABLE @extschema@.archive_config ADD COLUMN database_id text NOT NULL;

COMMENT ON TABLE @extschema@.archive_config IS
$$per signal: where obs.run_maintenance() archives the time partitions (location: a server directory or s3://bucket/prefix, with endpoint for an S3-compatible server other than AWS, and region) and how old a partition's upper bound must be first (after).  Set with obs.set_archive(), removed with obs.clear_archive(); no credentials here: they come from the obs.aws_* settings, the environment or obs.credentials_file.  database_id: the database set_archive ran in (<system identifier>:<database oid>); a copy of the row in another database (pg_dump and pg_restore) archives nothing until set_archive runs there, so that a copy never writes the files of the database it was copied from.$$;

CREATE OR REPLACE FUNCTION @extschema@.set_archive(signal text, location text, after interval,
    endpoint text DEFAULT NULL, region text DEFAULT 'us-east-1',
    part_size_mb integer DEFAULT 64, tls_verify boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied to set an archive'
            USING ERRCODE = '42501',
                  DETAIL = 'The archive writes server files and uses the AWS credentials of the obs.aws_* settings.',
                  HINT = 'Ask a superuser to set the archive.';
    END IF;
    PERFORM @extschema@._partition_signal($1);
    IF $2 IS NULL OR $3 IS NULL OR $5 IS NULL OR $6 IS NULL OR $7 IS NULL THEN
        RAISE EXCEPTION 'location, after, region, part_size_mb and tls_verify must not be null'
            USING ERRCODE = '22004';
    END IF;
    IF $2 ~ '[[:cntrl:]]' OR $2 ~ '(^|/)\.\.(/|$)'
       OR NOT ($2 ~ '^/' OR $2 ~ '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*''()=/-]*)?$') THEN
        RAISE EXCEPTION 'archive location must be an absolute server directory or s3://bucket/prefix'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The location given was %s.', pg_catalog.quote_literal($2)),
                  HINT = 'A bucket name has 3 to 63 lower-case letters, digits, dots and hyphens; a prefix has letters, digits and !_.*''()=/-.';
    END IF;
    /* the server's own files: a lake there would be in every base backup, or worse */
    IF $2 ~ '^/' AND pg_catalog.starts_with(pg_catalog.rtrim($2, '/') || '/',
                                            pg_catalog.rtrim(pg_catalog.current_setting('data_directory'), '/') || '/') THEN
        RAISE EXCEPTION 'archive location must not be inside the data directory'
            USING ERRCODE = '22023',
                  HINT = 'Choose a directory outside the data directory, owned by the server''s user.';
    END IF;
    IF $3 < '0'::interval THEN
        RAISE EXCEPTION 'after must not be negative'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The interval given was %s.', $3);
    END IF;
    IF $4 IS NOT NULL AND $2 !~ '^s3://' THEN
        RAISE EXCEPTION 'endpoint is only for an s3:// location' USING ERRCODE = '22023';
    END IF;
    IF $4 IS NOT NULL AND $4 !~ '^https?://[A-Za-z0-9.:\[\]-]+/?$' THEN
        RAISE EXCEPTION 'endpoint must be http(s)://host[:port]'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The endpoint given was %s.', pg_catalog.quote_literal($4));
    END IF;
    IF $5 !~ '^[a-z0-9-]{1,32}$' THEN
        RAISE EXCEPTION 'region must be an AWS region name'
            USING ERRCODE = '22023', HINT = 'An AWS region looks like us-east-1 or eu-west-3.';
    END IF;
    IF $6 < 5 OR $6 > 512 THEN
        RAISE EXCEPTION 'part_size_mb must be between 5 and 512'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The value given was %s.', $6);
    END IF;
    INSERT INTO @extschema@.archive_config AS c
           (signal, location, after, endpoint, region, part_size_mb, tls_verify, database_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7,
            pg_catalog.format('%s:%s', (pg_catalog.pg_control_system()).system_identifier,
                                          (SELECT d.oid FROM pg_catalog.pg_database d
                                            WHERE d.datname = pg_catalog.current_database())))
    ON CONFLICT ON CONSTRAINT archive_config_pkey DO UPDATE
       SET location = excluded.location, after = excluded.after, endpoint = excluded.endpoint,
           region = excluded.region, part_size_mb = excluded.part_size_mb,
           tls_verify = excluded.tls_verify, database_id = excluded.database_id;
END
$$;

COMMENT ON FUNCTION @extschema@.set_archive(text, text, interval, text, text, integer, boolean) IS
$$archive the time partitions of signal (logs, spans, metrics, alerts) to location (an absolute server directory, or s3://bucket/prefix at AWS in region or at endpoint, an S3-compatible server) once their upper bound is older than after: obs.run_maintenance() writes signal=<signal>/date=<YYYY-MM-DD>/part-<n>.parquet and signal=<signal>/_manifest.json, and retention then drops only confirmed partitions.  Files larger than part_size_mb go to S3 as multipart uploads.  Superusers only.
The archive belongs to the database it is set in: a copy of obs.archive_config restored into another database archives nothing there until set_archive runs again.
Errors: 42501 for a role that is not superuser, 22004 for a NULL argument, 22023 for an unknown signal, a location that is neither or is inside the data directory, a negative after, an endpoint with a directory or not http(s)://host[:port], a bad region, a part_size_mb outside 5 .. 512.$$;

CREATE OR REPLACE FUNCTION @extschema@._archive_run(as_of timestamptz)
RETURNS TABLE(signal text, action text, partition_name text, row_count bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a @extschema@.archive_config;
    p record;
    w record;
    dir text;
    relpath text;
    n integer;
    here constant text := pg_catalog.format('%s:%s', (pg_catalog.pg_control_system()).system_identifier,
                                  (SELECT d.oid FROM pg_catalog.pg_database d
                                    WHERE d.datname = pg_catalog.current_database()));
BEGIN
    /*
     * a read-only transaction (a standby's) could write files but record
     * none of them: refused before any file is written
     */
    IF EXISTS (SELECT 1 FROM @extschema@.archive_config)
       AND pg_catalog.current_setting('transaction_read_only')::boolean THEN
        RAISE EXCEPTION 'cannot archive partitions in a read-only transaction'
            USING ERRCODE = '25006',
                  DETAIL = 'An archive is set; its files are recorded in obs.archived_partitions.',
                  HINT = 'Run obs.run_maintenance() on the primary, in a read-write transaction.';
    END IF;
    FOR a IN SELECT * FROM @extschema@.archive_config c ORDER BY c.signal LOOP
        signal := a.signal;
        /*
         * a row set in another database (a restored dump, a copy): its
         * location is that database's, whose files this one would replace
         */
        IF a.database_id IS DISTINCT FROM here THEN
            RAISE WARNING 'archive of signal "%" was set in another database', a.signal
                USING DETAIL = pg_catalog.format('obs.archive_config names database %s; this is database %s (restored from a dump or copied, say). Two databases archiving to the same location would replace each other''s files.', a.database_id, here),
                      HINT = 'Run obs.set_archive() in this database, with a location of its own, or obs.clear_archive().';
            action := 'archive_failed'; partition_name := NULL; row_count := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        /* 0x6f627361: "obsa"; the second key: the signal */
        IF NOT pg_catalog.pg_try_advisory_xact_lock(1868724065, pg_catalog.hashtext(a.signal)) THEN
            action := 'archive_busy'; partition_name := NULL; row_count := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        FOR p IN
            SELECT x.partition_name AS part, x.lower_bound, x.upper_bound
              FROM @extschema@.partitions() x
             WHERE x.signal = a.signal AND NOT x.is_default AND x.upper_bound <= $1 - a.after
               AND NOT EXISTS (SELECT 1 FROM @extschema@.archived_partitions ap
                                WHERE ap.signal = a.signal AND ap.lower_bound = x.lower_bound
                                  AND ap.upper_bound = x.upper_bound AND ap.dropped_at IS NULL
                                  AND NOT ap.stale)
             ORDER BY x.lower_bound
        LOOP
            /*
             * an alerts partition only once every alert in it is acknowledged:
             * a file holds the final rows (retention keeps such a partition anyway)
             */
            IF a.signal = 'alerts' THEN
                EXECUTE pg_catalog.format('SELECT count(*) FROM %s x WHERE x.acknowledged_at IS NULL', p.part)
                   INTO n;
                CONTINUE WHEN n > 0;
            END IF;
            BEGIN
                /*
                 * a stale file is written again at its path; else the next
                 * part-<n> of its day not recorded.  A file there with no
                 * record is this database's own, left by a crash between
                 * its rename and the commit of its record: replaced, so
                 * that readers never see its rows twice (a location serves
                 * one database: see database_id)
                 */
                SELECT ap.path INTO relpath FROM @extschema@.archived_partitions ap
                 WHERE ap.signal = a.signal AND ap.lower_bound = p.lower_bound AND ap.dropped_at IS NULL
                   AND ap.location = a.location;
                IF relpath IS NULL THEN
                    dir := pg_catalog.format('signal=%s/date=%s/', a.signal,
                                             pg_catalog.to_char(p.lower_bound AT TIME ZONE 'UTC', 'YYYY-MM-DD'));
                    n := 0;
                    WHILE EXISTS (SELECT 1 FROM @extschema@.archived_partitions ap
                                   WHERE ap.location = a.location
                                     AND ap.path = dir || 'part-' || n || '.parquet') LOOP
                        n := n + 1;
                    END LOOP;
                    relpath := dir || 'part-' || n || '.parquet';
                END IF;
                SELECT * INTO w FROM @extschema@._archive_write(a, p.part, relpath);
                /* a stale row at another location is replaced by this one */
                DELETE FROM @extschema@.archived_partitions ap
                 WHERE ap.signal = a.signal AND ap.lower_bound = p.lower_bound AND ap.dropped_at IS NULL;
                INSERT INTO @extschema@.archived_partitions AS ap
                       (location, path, signal, lower_bound, upper_bound, row_count, bytes, sha256, archived_at)
                VALUES (a.location, relpath, a.signal, p.lower_bound, p.upper_bound,
                        w.row_count, w.bytes, w.sha256, pg_catalog.clock_timestamp())
                ON CONFLICT ON CONSTRAINT archived_partitions_pkey DO UPDATE
                   SET signal = excluded.signal, lower_bound = excluded.lower_bound,
                       upper_bound = excluded.upper_bound, row_count = excluded.row_count,
                       bytes = excluded.bytes, sha256 = excluded.sha256,
                       archived_at = excluded.archived_at, dropped_at = NULL, stale = false;
                PERFORM @extschema@._archive_put(a, pg_catalog.format('signal=%s/_manifest.json', a.signal),
                                                 @extschema@._archive_manifest(a.signal, a.location));
                action := 'archived'; partition_name := p.part::text; row_count := w.row_count;
                RETURN NEXT;
            EXCEPTION WHEN OTHERS THEN
                /* the record is undone; the partition stays until a run confirms it */
                RAISE WARNING 'could not archive partition % of signal "%": %', p.part, a.signal, SQLERRM;
                action := 'archive_failed'; partition_name := p.part::text; row_count := NULL;
                RETURN NEXT;
                EXIT;
            END;
        END LOOP;
    END LOOP;
END
$$;

/* ---- archive: orphan uploads, shared locations ---- */
CREATE OR REPLACE FUNCTION @extschema@.set_archive(signal text, location text, after interval,
    endpoint text DEFAULT NULL, region text DEFAULT 'us-east-1',
    part_size_mb integer DEFAULT 64, tls_verify boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cfg @extschema@.archive_config;
    msg text;
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied to set an archive'
            USING ERRCODE = '42501',
                  DETAIL = 'The archive writes server files and uses the AWS credentials of the obs.aws_* settings.',
                  HINT = 'Ask a superuser to set the archive.';
    END IF;
    PERFORM @extschema@._partition_signal($1);
    IF $2 IS NULL OR $3 IS NULL OR $5 IS NULL OR $6 IS NULL OR $7 IS NULL THEN
        RAISE EXCEPTION 'location, after, region, part_size_mb and tls_verify must not be null'
            USING ERRCODE = '22004';
    END IF;
    IF $2 ~ '[[:cntrl:]]' OR $2 ~ '(^|/)\.\.(/|$)'
       OR NOT ($2 ~ '^/' OR $2 ~ '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*''()=/-]*)?$') THEN
        RAISE EXCEPTION 'archive location must be an absolute server directory or s3://bucket/prefix'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The location given was %s.', pg_catalog.quote_literal($2)),
                  HINT = 'A bucket name has 3 to 63 lower-case letters, digits, dots and hyphens; a prefix has letters, digits and !_.*''()=/-.';
    END IF;
    /* the server's own files: a lake there would be in every base backup, or worse */
    IF $2 ~ '^/' AND pg_catalog.starts_with(pg_catalog.rtrim($2, '/') || '/',
                                            pg_catalog.rtrim(pg_catalog.current_setting('data_directory'), '/') || '/') THEN
        RAISE EXCEPTION 'archive location must not be inside the data directory'
            USING ERRCODE = '22023',
                  HINT = 'Choose a directory outside the data directory, owned by the server''s user.';
    END IF;
    IF $3 < '0'::interval THEN
        RAISE EXCEPTION 'after must not be negative'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The interval given was %s.', $3);
    END IF;
    IF $4 IS NOT NULL AND $2 !~ '^s3://' THEN
        RAISE EXCEPTION 'endpoint is only for an s3:// location' USING ERRCODE = '22023';
    END IF;
    IF $4 IS NOT NULL AND $4 !~ '^https?://[A-Za-z0-9.:\[\]-]+/?$' THEN
        RAISE EXCEPTION 'endpoint must be http(s)://host[:port]'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The endpoint given was %s.', pg_catalog.quote_literal($4));
    END IF;
    IF $5 !~ '^[a-z0-9-]{1,32}$' THEN
        RAISE EXCEPTION 'region must be an AWS region name'
            USING ERRCODE = '22023', HINT = 'An AWS region looks like us-east-1 or eu-west-3.';
    END IF;
    IF $6 < 5 OR $6 > 512 THEN
        RAISE EXCEPTION 'part_size_mb must be between 5 and 512'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The value given was %s.', $6);
    END IF;
    cfg.signal := $1; cfg.location := $2; cfg.after := $3; cfg.endpoint := $4; cfg.region := $5;
    cfg.part_size_mb := $6; cfg.tls_verify := $7;
    cfg.database_id := pg_catalog.format('%s:%s', (pg_catalog.pg_control_system()).system_identifier,
                                         (SELECT d.oid FROM pg_catalog.pg_database d
                                           WHERE d.datname = pg_catalog.current_database()));
    /*
     * another database's location is refused now (55006); one that cannot
     * be reached now is claimed by the first run that writes there
     */
    BEGIN
        PERFORM @extschema@._archive_claim(cfg, EXISTS (
            SELECT 1 FROM @extschema@.archived_partitions ap
             WHERE ap.signal = $1 AND ap.location = $2));
    EXCEPTION
        WHEN object_in_use THEN
            RAISE;
        WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
            RAISE WARNING 'could not check that no other database archives signal "%" to %', $1, pg_catalog.quote_literal($2)
                USING DETAIL = msg,
                      HINT = 'obs.run_maintenance() checks it before it writes the signal''s first file there.';
    END;
    INSERT INTO @extschema@.archive_config AS c
           (signal, location, after, endpoint, region, part_size_mb, tls_verify, database_id)
    VALUES (cfg.signal, cfg.location, cfg.after, cfg.endpoint, cfg.region, cfg.part_size_mb,
            cfg.tls_verify, cfg.database_id)
    ON CONFLICT ON CONSTRAINT archive_config_pkey DO UPDATE
       SET location = excluded.location, after = excluded.after, endpoint = excluded.endpoint,
           region = excluded.region, part_size_mb = excluded.part_size_mb,
           tls_verify = excluded.tls_verify, database_id = excluded.database_id;
END
$$;
COMMENT ON FUNCTION @extschema@.set_archive(text, text, interval, text, text, integer, boolean) IS
$$archive the time partitions of signal (logs, spans, metrics, alerts) to location (an absolute server directory, or s3://bucket/prefix at AWS in region or at endpoint, an S3-compatible server) once their upper bound is older than after: obs.run_maintenance() writes signal=<signal>/date=<YYYY-MM-DD>/part-<n>.parquet and signal=<signal>/_manifest.json, and retention then drops only confirmed partitions.  Files larger than part_size_mb go to S3 as multipart uploads.  Superusers only.
The archive belongs to the database it is set in: a copy of obs.archive_config restored into another database archives nothing there until set_archive runs again.  A signal at a location belongs to one database: set_archive puts the owner file signal=<signal>/_owner.<system identifier>.<database oid>.json there and refuses a location where another database's is (a WARNING when the location cannot be reached now: the archive run checks it before it writes).
Errors: 42501 for a role that is not superuser, 22004 for a NULL argument, 22023 for an unknown signal, a location that is neither or is inside the data directory, a negative after, an endpoint with a directory or not http(s)://host[:port], a bad region, a part_size_mb outside 5 .. 512; 55006 for a location where another database archives the signal.$$;

CREATE FUNCTION @extschema@._archive_claim(cfg @extschema@.archive_config, keep boolean)
RETURNS void
    AS 'MODULE_PATHNAME', 'obs_archive_claim' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._archive_claim(@extschema@.archive_config, boolean) IS
    'internal: put this database''s owner file signal=<signal>/_owner.<system identifier>.<database oid>.json at the archive cfg''s location, then refuse (55006) the location if another database''s is there; keep: this database has archived files there, its owner file stays even when refused (superusers only)';

CREATE FUNCTION @extschema@._archive_cleanup(cfg @extschema@.archive_config)
RETURNS integer
    AS 'MODULE_PATHNAME', 'obs_archive_cleanup' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._archive_cleanup(@extschema@.archive_config) IS
    'internal: remove what a crash left of the signal''s archive at the cfg''s location: the temporary files of processes that are gone (a directory), the unfinished multipart uploads of keys in obs''s layout (S3); returns how many.  Only under the signal''s archive lock, after obs._archive_claim() (superusers only)';

CREATE OR REPLACE FUNCTION @extschema@._archive_run(as_of timestamptz)
RETURNS TABLE(signal text, action text, partition_name text, row_count bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a @extschema@.archive_config;
    p record;
    w record;
    dir text;
    relpath text;
    n integer;
    claimed boolean;
    err_detail text;
    err_hint text;
    here constant text := pg_catalog.format('%s:%s', (pg_catalog.pg_control_system()).system_identifier,
                                  (SELECT d.oid FROM pg_catalog.pg_database d
                                    WHERE d.datname = pg_catalog.current_database()));
BEGIN
    /*
     * a read-only transaction (a standby's) could write files but record
     * none of them: refused before any file is written
     */
    IF EXISTS (SELECT 1 FROM @extschema@.archive_config)
       AND pg_catalog.current_setting('transaction_read_only')::boolean THEN
        RAISE EXCEPTION 'cannot archive partitions in a read-only transaction'
            USING ERRCODE = '25006',
                  DETAIL = 'An archive is set; its files are recorded in obs.archived_partitions.',
                  HINT = 'Run obs.run_maintenance() on the primary, in a read-write transaction.';
    END IF;
    FOR a IN SELECT * FROM @extschema@.archive_config c ORDER BY c.signal LOOP
        signal := a.signal;
        /*
         * a row set in another database (a restored dump, a copy): its
         * location is that database's, whose files this one would replace
         */
        IF a.database_id IS DISTINCT FROM here THEN
            RAISE WARNING 'archive of signal "%" was set in another database', a.signal
                USING DETAIL = pg_catalog.format('obs.archive_config names database %s; this is database %s (restored from a dump or copied, say). Two databases archiving to the same location would replace each other''s files.', a.database_id, here),
                      HINT = 'Run obs.set_archive() in this database, with a location of its own, or obs.clear_archive().';
            action := 'archive_failed'; partition_name := NULL; row_count := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        /* 0x6f627361: "obsa"; the second key: the signal */
        IF NOT pg_catalog.pg_try_advisory_xact_lock(1868724065, pg_catalog.hashtext(a.signal)) THEN
            action := 'archive_busy'; partition_name := NULL; row_count := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        claimed := false;
        FOR p IN
            SELECT x.partition_name AS part, x.lower_bound, x.upper_bound
              FROM @extschema@.partitions() x
             WHERE x.signal = a.signal AND NOT x.is_default AND x.upper_bound <= $1 - a.after
               AND NOT EXISTS (SELECT 1 FROM @extschema@.archived_partitions ap
                                WHERE ap.signal = a.signal AND ap.lower_bound = x.lower_bound
                                  AND ap.upper_bound = x.upper_bound AND ap.dropped_at IS NULL
                                  AND NOT ap.stale)
             ORDER BY x.lower_bound
        LOOP
            /*
             * an alerts partition only once every alert in it is acknowledged:
             * a file holds the final rows (retention keeps such a partition anyway)
             */
            IF a.signal = 'alerts' THEN
                EXECUTE pg_catalog.format('SELECT count(*) FROM %s x WHERE x.acknowledged_at IS NULL', p.part)
                   INTO n;
                CONTINUE WHEN n > 0;
            END IF;
            BEGIN
                /*
                 * before the signal's first file of the run: the location is
                 * this database's (else 55006, and the partition stays), then
                 * what a crash left there goes (a failure to remove it is
                 * only a WARNING: the archive stays correct)
                 */
                IF NOT claimed THEN
                    PERFORM @extschema@._archive_claim(a, EXISTS (
                        SELECT 1 FROM @extschema@.archived_partitions ap
                         WHERE ap.signal = a.signal AND ap.location = a.location));
                    claimed := true;
                    BEGIN
                        PERFORM @extschema@._archive_cleanup(a);
                    EXCEPTION WHEN OTHERS THEN
                        RAISE WARNING 'could not remove what a crash left of the archive of signal "%": %', a.signal, SQLERRM;
                    END;
                END IF;
                /*
                 * a stale file is written again at its path; else the next
                 * part-<n> of its day not recorded.  A file there with no
                 * record is this database's own, left by a crash between
                 * its rename and the commit of its record: replaced, so
                 * that readers never see its rows twice (a location serves
                 * one database: see database_id and _archive_claim)
                 */
                SELECT ap.path INTO relpath FROM @extschema@.archived_partitions ap
                 WHERE ap.signal = a.signal AND ap.lower_bound = p.lower_bound AND ap.dropped_at IS NULL
                   AND ap.location = a.location;
                IF relpath IS NULL THEN
                    dir := pg_catalog.format('signal=%s/date=%s/', a.signal,
                                             pg_catalog.to_char(p.lower_bound AT TIME ZONE 'UTC', 'YYYY-MM-DD'));
                    n := 0;
                    WHILE EXISTS (SELECT 1 FROM @extschema@.archived_partitions ap
                                   WHERE ap.location = a.location
                                     AND ap.path = dir || 'part-' || n || '.parquet') LOOP
                        n := n + 1;
                    END LOOP;
                    relpath := dir || 'part-' || n || '.parquet';
                END IF;
                SELECT * INTO w FROM @extschema@._archive_write(a, p.part, relpath);
                /* a stale row at another location is replaced by this one */
                DELETE FROM @extschema@.archived_partitions ap
                 WHERE ap.signal = a.signal AND ap.lower_bound = p.lower_bound AND ap.dropped_at IS NULL;
                INSERT INTO @extschema@.archived_partitions AS ap
                       (location, path, signal, lower_bound, upper_bound, row_count, bytes, sha256, archived_at)
                VALUES (a.location, relpath, a.signal, p.lower_bound, p.upper_bound,
                        w.row_count, w.bytes, w.sha256, pg_catalog.clock_timestamp())
                ON CONFLICT ON CONSTRAINT archived_partitions_pkey DO UPDATE
                   SET signal = excluded.signal, lower_bound = excluded.lower_bound,
                       upper_bound = excluded.upper_bound, row_count = excluded.row_count,
                       bytes = excluded.bytes, sha256 = excluded.sha256,
                       archived_at = excluded.archived_at, dropped_at = NULL, stale = false;
                PERFORM @extschema@._archive_put(a, pg_catalog.format('signal=%s/_manifest.json', a.signal),
                                                 @extschema@._archive_manifest(a.signal, a.location));
                action := 'archived'; partition_name := p.part::text; row_count := w.row_count;
                RETURN NEXT;
            EXCEPTION WHEN OTHERS THEN
                /* the record is undone; the partition stays until a run confirms it */
                GET STACKED DIAGNOSTICS err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
                IF err_detail = '' AND err_hint = '' THEN
                    RAISE WARNING 'could not archive partition % of signal "%": %', p.part, a.signal, SQLERRM;
                ELSIF err_hint = '' THEN
                    RAISE WARNING 'could not archive partition % of signal "%": %', p.part, a.signal, SQLERRM
                        USING DETAIL = err_detail;
                ELSIF err_detail = '' THEN
                    RAISE WARNING 'could not archive partition % of signal "%": %', p.part, a.signal, SQLERRM
                        USING HINT = err_hint;
                ELSE
                    RAISE WARNING 'could not archive partition % of signal "%": %', p.part, a.signal, SQLERRM
                        USING DETAIL = err_detail, HINT = err_hint;
                END IF;
                action := 'archive_failed'; partition_name := p.part::text; row_count := NULL;
                RETURN NEXT;
                EXIT;
            END;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@._archive_run(timestamptz) IS
    'internal: the archive step of obs.run_maintenance(): write, confirm and record every partition past its signal''s archive age';

REVOKE EXECUTE ON FUNCTION @extschema@._archive_claim(@extschema@.archive_config, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._archive_cleanup(@extschema@.archive_config) FROM PUBLIC;
/* ---- end archive: orphan uploads, shared locations ---- */

/* ---- signal rollups: issue 10 item 5 (error_rate_by_service, per-minute views) ---- */

CREATE TABLE @extschema@.rollup_state (
    signal     text PRIMARY KEY CHECK (signal IN ('logs', 'spans')),
    snap       pg_catalog.pg_snapshot,
    ticked_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE @extschema@.rollup_state IS
    'per signal (logs, spans): the snapshot of the last rollup tick; obs.span_rollup and obs.log_rollup count exactly the rows whose txid is visible in snap (NULL: not built yet)';
/* every reader looks at the state to choose between rollups and tables */
GRANT SELECT ON @extschema@.rollup_state TO PUBLIC;

CREATE TABLE @extschema@.span_rollup (
    all_time     boolean NOT NULL,
    bucket       timestamptz NOT NULL,
    service_name text NOT NULL,
    service_type @extschema@.service_type NOT NULL,
    spans        bigint NOT NULL,
    errors       bigint NOT NULL,
    PRIMARY KEY (all_time, bucket, service_name, service_type)
);
CREATE INDEX span_rollup_empty_idx ON @extschema@.span_rollup (bucket) WHERE spans = 0;
COMMENT ON TABLE @extschema@.span_rollup IS
    'spans per UTC minute of start_time (all_time: every span started before +infinity, bucket -infinity), service_name and service_type, with their error spans; kept by rollup ticks (obs.rollup_state)';

CREATE TABLE @extschema@.log_rollup (
    bucket  timestamptz NOT NULL,
    level   @extschema@.log_level NOT NULL,
    records bigint NOT NULL,
    PRIMARY KEY (bucket, level)
);
CREATE INDEX log_rollup_empty_idx ON @extschema@.log_rollup (bucket) WHERE records = 0;
COMMENT ON TABLE @extschema@.log_rollup IS
    'log records per UTC minute of ts and level; kept by rollup ticks (obs.rollup_state)';

/* the UTC minute holding ts (date_bin from 2000-01-01); an infinite ts is its own bucket */
CREATE FUNCTION @extschema@._minute(ts timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN pg_catalog.isfinite(_minute.ts)
                THEN pg_catalog.date_bin('1 minute'::interval, _minute.ts, '2000-01-01 00:00:00+00'::timestamptz)
                ELSE _minute.ts END;
END;
COMMENT ON FUNCTION @extschema@._minute(timestamptz) IS
    'internal: the rollup bucket of a span or log record at ts: its UTC minute, or ts itself when infinite';

/*
 * snap with the transaction x shown as running: a tick's own transaction
 * is visible in its own snapshot, but rows it writes after the tick (or
 * before it: they are not committed) must stay in the tail
 */
CREATE FUNCTION @extschema@._snapshot_running(snap pg_catalog.pg_snapshot, x xid8)
RETURNS pg_catalog.pg_snapshot
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN NOT pg_catalog.pg_visible_in_snapshot(_snapshot_running.x, _snapshot_running.snap)
                THEN _snapshot_running.snap
                ELSE (LEAST(pg_catalog.pg_snapshot_xmin(_snapshot_running.snap), _snapshot_running.x)::text
                      || ':' || pg_catalog.pg_snapshot_xmax(_snapshot_running.snap)::text || ':'
                      || (SELECT pg_catalog.string_agg(u.v::text, ',' ORDER BY u.v)
                            FROM (SELECT pg_catalog.pg_snapshot_xip(_snapshot_running.snap)
                                  UNION SELECT _snapshot_running.x) u(v)))::pg_catalog.pg_snapshot END;
END;
COMMENT ON FUNCTION @extschema@._snapshot_running(pg_catalog.pg_snapshot, xid8) IS
    'internal: snap with the transaction x in its list of running transactions';

/*
 * The one statement that adds rows to a signal's rollups (sign 1) or takes
 * them out (sign -1), in key order: writers that share the state row
 * (_rollup_lock()) then lock the rollup rows they both change in the same
 * order, and never deadlock on them: rows of source (a table, a subquery of one or a
 * trigger's transition table, aliased r) that pass filter.  Parameters of
 * the statement: $1 the sign, $2 and $3 snapshots source and filter may
 * use (the tick: $4, the running transactions of $2, and $5, where its walk from xmax starts).
 */
CREATE FUNCTION @extschema@._rollup_sql(signal text, source text, filter text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 = 'spans' THEN
        RETURN pg_catalog.format($q$
            WITH m AS (SELECT @extschema@._minute(r.start_time) AS bucket, r.service_name, r.service_type,
                              pg_catalog.count(*) AS n, pg_catalog.count(*) FILTER (WHERE r.status = 'error') AS e
                         FROM %s r WHERE %s GROUP BY 1, 2, 3)
            INSERT INTO @extschema@.span_rollup AS t
            SELECT * FROM (
                SELECT false, m.bucket, m.service_name, m.service_type, $1 * m.n, $1 * m.e FROM m
                UNION ALL
                SELECT true, '-infinity', m.service_name, m.service_type, $1 * pg_catalog.sum(m.n), $1 * pg_catalog.sum(m.e)
                  FROM m WHERE m.bucket < 'infinity' GROUP BY m.service_name, m.service_type) k
             ORDER BY 1, 2, 3, 4
            ON CONFLICT (all_time, bucket, service_name, service_type) DO UPDATE
               SET spans = t.spans + EXCLUDED.spans, errors = t.errors + EXCLUDED.errors$q$, $2, $3);
    ELSIF $1 = 'logs' THEN
        RETURN pg_catalog.format($q$
            INSERT INTO @extschema@.log_rollup AS t
            SELECT @extschema@._minute(r.ts), r.level, $1 * pg_catalog.count(*)
              FROM %s r WHERE %s GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (bucket, level) DO UPDATE SET records = t.records + EXCLUDED.records$q$, $2, $3);
    END IF;
    RAISE EXCEPTION 'signal "%" has no rollups', $1 USING ERRCODE = '22023';
END
$$;
COMMENT ON FUNCTION @extschema@._rollup_sql(text, text, text) IS
    'internal: the statement that adds the rows of source passing filter to the rollups of signal (logs, spans), times the sign $1';

/*
 * The state row of signal, locked; NULL when the rollups are not built
 * (nothing to keep), or when signal has no state row yet.  Writers (the triggers) lock it FOR SHARE: they wait
 * for a tick, not for each other (they meet only on the rollup rows they
 * change), and a REPEATABLE READ writer whose snapshot predates a tick
 * fails with a serialization error instead of using the old snapshot.
 * Exclusive (a tick, retention, TRUNCATE): an UPDATE of the row, which
 * waits for every writer holding it.
 */
CREATE FUNCTION @extschema@._rollup_lock(signal text, exclusive boolean DEFAULT true)
RETURNS pg_catalog.pg_snapshot
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s pg_catalog.pg_snapshot;
BEGIN
    IF $2 THEN
        UPDATE @extschema@.rollup_state r SET snap = r.snap
         WHERE r.signal = $1
        RETURNING r.snap INTO s;
    ELSE
        SELECT r.snap INTO s FROM @extschema@.rollup_state r
         WHERE r.signal = $1
           FOR SHARE;
        IF NOT FOUND THEN
            /*
             * no row: the writer makes it (not built), so that a first tick
             * whose row is not yet committed is waited for (ON CONFLICT
             * waits for it), and a first tick to come waits for the writer.
             * In REPEATABLE READ, a row committed after the snapshot is a
             * serialization error (40001) here, as with a tick
             */
            INSERT INTO @extschema@.rollup_state AS r (signal) VALUES ($1)
                ON CONFLICT ON CONSTRAINT rollup_state_pkey DO NOTHING;
            SELECT r.snap INTO s FROM @extschema@.rollup_state r
             WHERE r.signal = $1
               FOR SHARE;
        END IF;
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION @extschema@._rollup_lock(text, boolean) IS
    'internal: lock the rollup state of signal (exclusive, or shared by writers) and return its snapshot (NULL when the rollups are not built)';

/*
 * snap cut at the transaction x: the transactions from x on are shown as
 * not yet begun (a bounded tick takes the rows below x only)
 */
CREATE FUNCTION @extschema@._snapshot_cut(snap pg_catalog.pg_snapshot, x xid8)
RETURNS pg_catalog.pg_snapshot
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN _snapshot_cut.x >= pg_catalog.pg_snapshot_xmax(_snapshot_cut.snap)
                THEN _snapshot_cut.snap
                ELSE (LEAST(pg_catalog.pg_snapshot_xmin(_snapshot_cut.snap), _snapshot_cut.x)::text
                      || ':' || _snapshot_cut.x::text || ':'
                      || COALESCE((SELECT pg_catalog.string_agg(u.v::text, ',' ORDER BY u.v)
                                     FROM pg_catalog.pg_snapshot_xip(_snapshot_cut.snap) u(v)
                                    WHERE u.v < _snapshot_cut.x), ''))::pg_catalog.pg_snapshot END;
END;
COMMENT ON FUNCTION @extschema@._snapshot_cut(pg_catalog.pg_snapshot, xid8) IS
    'internal: snap with every transaction from x on not yet begun (xmax cut to x)';

/*
 * The statement triggers on obs.spans and obs.logs (one per event: a
 * trigger with transition tables has one event).  TG_ARGV[0] is the signal.
 * They run as the writer, as the triggers on the runs do (obs has no
 * SECURITY DEFINER function): obs's own DELETEs run as the owner; a role
 * you let UPDATE, DELETE or TRUNCATE spans or logs directly needs INSERT
 * and UPDATE on obs.rollup_state and SELECT, INSERT, UPDATE, DELETE on the rollup
 * table (an INSERT of rows with the writer's own txid needs neither).
 */
CREATE FUNCTION @extschema@._rollup_trigger()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sig text := TG_ARGV[0];
    s pg_catalog.pg_snapshot;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF @extschema@._rollup_lock(sig) IS NOT NULL THEN
            IF sig = 'spans' THEN
                DELETE FROM @extschema@.span_rollup;
            ELSE
                DELETE FROM @extschema@.log_rollup;
            END IF;
        END IF;
        RETURN NULL;
    END IF;
    /* rows with the writer's own txid are the tail's: the common INSERT takes no lock */
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.txid <> pg_catalog.pg_current_xact_id()) THEN
            RETURN NULL;
        END IF;
    END IF;
    s := @extschema@._rollup_lock(sig, false);
    IF s IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        /*
         * the old rows out, then the new ones in: two statements, each in
         * key order, but not together (an UPDATE of service a to b and one
         * of b to a would lock a then b, and b then a).  So every rollup
         * row of both is locked first (made, at 0, when missing: the next
         * tick deletes it) in one statement, in key order
         */
        EXECUTE @extschema@._rollup_sql(sig, '(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)',
                                        'pg_catalog.pg_visible_in_snapshot(r.txid, $2)')
          USING 0, s;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE @extschema@._rollup_sql(sig, 'old_rows', 'pg_catalog.pg_visible_in_snapshot(r.txid, $2)')
          USING -1, s;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        EXECUTE @extschema@._rollup_sql(sig, 'new_rows', 'pg_catalog.pg_visible_in_snapshot(r.txid, $2)')
          USING 1, s;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._rollup_trigger() IS
    'internal: statement trigger on obs.spans and obs.logs keeping their rollups through DELETE, UPDATE, TRUNCATE and INSERT of rows that carry an older txid';

CREATE TRIGGER spans_rollup_insert AFTER INSERT ON @extschema@.spans
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('spans');
CREATE TRIGGER spans_rollup_update AFTER UPDATE ON @extschema@.spans
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('spans');
CREATE TRIGGER spans_rollup_delete AFTER DELETE ON @extschema@.spans
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('spans');
CREATE TRIGGER spans_rollup_truncate AFTER TRUNCATE ON @extschema@.spans
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('spans');
CREATE TRIGGER logs_rollup_insert AFTER INSERT ON @extschema@.logs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('logs');
CREATE TRIGGER logs_rollup_update AFTER UPDATE ON @extschema@.logs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('logs');
CREATE TRIGGER logs_rollup_delete AFTER DELETE ON @extschema@.logs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('logs');
CREATE TRIGGER logs_rollup_truncate AFTER TRUNCATE ON @extschema@.logs
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('logs');

/*
 * One tick of a signal's rollups: add the rows whose txid became visible
 * since the last tick (all rows visible now, the first time).  With
 * max_rows, about that many at most: the snapshot recorded is cut at the
 * txid where the rows to add pass max_rows (the rows of one transaction
 * are never split, and a tick always adds the first transaction's rows),
 * so that a first build or a backlog is spread over several ticks while
 * the figures stay exact (the rest is the tail).  In READ COMMITTED only:
 * a tick's snapshot must be taken after it has the state row (after the
 * writers holding it have committed).  Returns the rollup rows written.
 */
CREATE FUNCTION @extschema@._rollup_tick(signal text, rebuild boolean DEFAULT false, max_rows bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tab regclass := (@extschema@._partition_signal($1)).parent;
    prev pg_catalog.pg_snapshot;
    cur pg_catalog.pg_snapshot;
    cut xid8;
    first xid8;
    lo xid8;
    n bigint;
BEGIN
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'the rollups are refreshed in READ COMMITTED transactions only'
            USING ERRCODE = '25000',
                  DETAIL = pg_catalog.format('This transaction is %s.', pg_catalog.current_setting('transaction_isolation')),
                  HINT = 'Call obs.refresh_rollups() or obs.run_maintenance() in a transaction of its own (pg_cron does).';
    END IF;
    IF $3 IS NOT NULL AND $3 < 1 THEN
        RAISE EXCEPTION 'max_rows must be positive' USING ERRCODE = '22023',
            DETAIL = pg_catalog.format('The value given was %s.', $3);
    END IF;
    /*
     * a logical replication subscriber of the table (or of a partition)
     * does not tick: its rows carry the publisher's txids.  It gets the
     * publisher's rollups and state with them (FOR TABLES IN SCHEMA), or,
     * without them, reads the table.
     */
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_subscription_rel sr
                WHERE sr.srrelid = tab
                   OR sr.srrelid IN (SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent = tab)
                   OR sr.srrelid = '@extschema@.rollup_state'::regclass) THEN
        RETURN NULL;
    END IF;
    INSERT INTO @extschema@.rollup_state AS r (signal) VALUES ($1) ON CONFLICT ON CONSTRAINT rollup_state_pkey DO NOTHING;
    SELECT r.snap INTO prev FROM @extschema@.rollup_state r WHERE r.signal = $1 FOR UPDATE;
    IF $2 THEN
        prev := NULL;
        IF $1 = 'spans' THEN DELETE FROM @extschema@.span_rollup; ELSE DELETE FROM @extschema@.log_rollup; END IF;
    END IF;
    cur := @extschema@._snapshot_running(pg_catalog.pg_current_snapshot(), pg_catalog.pg_current_xact_id());
    IF $3 IS NOT NULL THEN
        /*
         * nothing visible: a first build walks the txid index from its
         * start, txid 0 (a row restored with it is visible in any snapshot,
         * and no pg_snapshot has an xmax below 1)
         */
        IF prev IS NULL THEN
            lo := '0'::xid8;
            prev := '1:1:'::pg_catalog.pg_snapshot;
        END IF;
        lo := COALESCE(lo, pg_catalog.pg_snapshot_xmax(prev));
        EXECUTE pg_catalog.format('SELECT t.txid FROM %s t WHERE t.txid >= $1 AND t.txid < $2 ORDER BY t.txid OFFSET $3 LIMIT 1', tab)
           INTO cut USING lo, pg_catalog.pg_snapshot_xmax(cur), $3;
        IF cut IS NOT NULL THEN
            EXECUTE pg_catalog.format('SELECT min(t.txid) FROM %s t WHERE t.txid >= $1', tab)
               INTO first USING lo;
            IF cut <= first THEN
                cut := ((first::text)::numeric + 1)::text::xid8;
            END IF;
            cur := @extschema@._snapshot_cut(cur, cut);
        END IF;
    END IF;
    IF prev IS NULL THEN
        EXECUTE @extschema@._rollup_sql($1, tab::text, 'pg_catalog.pg_visible_in_snapshot(r.txid, $3)')
          USING 1, prev, cur;
    ELSE
        /*
         * not visible in prev: at or past its xmax (lo; 0 for a first
         * build) and below cur's, to be visible in cur, or in its running
         * list; two index walks that read the rows of the transactions
         * ended since prev only
         */
        EXECUTE @extschema@._rollup_sql($1,
                    pg_catalog.format('(SELECT * FROM %1$s t WHERE t.txid >= $5 '
                                      'AND t.txid < pg_catalog.pg_snapshot_xmax($3) '
                                      'UNION ALL SELECT * FROM %1$s t '
                                      'WHERE t.txid = ANY ($4))', tab),
                    'pg_catalog.pg_visible_in_snapshot(r.txid, $3)')
          USING 1, prev, cur, ARRAY(SELECT pg_catalog.pg_snapshot_xip(prev)),
                COALESCE(lo, pg_catalog.pg_snapshot_xmax(prev));
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF $1 = 'spans' THEN
        DELETE FROM @extschema@.span_rollup r WHERE r.spans = 0;
    ELSE
        DELETE FROM @extschema@.log_rollup r WHERE r.records = 0;
    END IF;
    UPDATE @extschema@.rollup_state r SET snap = cur, ticked_at = pg_catalog.clock_timestamp() WHERE r.signal = $1;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@._rollup_tick(text, boolean, bigint) IS
    'internal: add to the rollups of signal (logs, spans) the rows committed since the last tick, about max_rows at most (rebuild: empty them and add every row); returns the rollup rows written, NULL on a logical replication subscriber of the signal''s table (no tick)';

/*
 * Before retention drops a time partition [lo, hi) of a signal: take its
 * rows out of the rollups.  A minute wholly inside [lo, hi) has all its
 * rows in the partition: its rollup rows go whole (and from all_time); the
 * rows of a minute the bounds cut (bounds not on a minute) are read through
 * the time index.  The caller drops the partition in the same transaction.
 */
CREATE FUNCTION @extschema@._rollup_forget(signal text, part regclass, lo timestamptz, hi timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s pg_catalog.pg_snapshot;
    m_lo timestamptz := CASE WHEN @extschema@._minute($3) = $3 THEN $3 ELSE @extschema@._minute($3) + '1 minute' END;
    m_hi timestamptz := @extschema@._minute($4);
    col name := (@extschema@._partition_signal($1)).time_column;
BEGIN
    IF $1 NOT IN ('logs', 'spans') THEN
        RETURN;
    END IF;
    /* a first tick under way (its row not yet committed) is waited for */
    INSERT INTO @extschema@.rollup_state AS r (signal) VALUES ($1)
        ON CONFLICT ON CONSTRAINT rollup_state_pkey DO NOTHING;
    s := @extschema@._rollup_lock($1);
    IF s IS NULL THEN
        RETURN;
    END IF;
    IF $1 = 'spans' THEN
        WITH d AS (DELETE FROM @extschema@.span_rollup r
                    WHERE NOT r.all_time AND r.bucket >= m_lo AND r.bucket < m_hi
                   RETURNING r.service_name, r.service_type, r.spans, r.errors)
        UPDATE @extschema@.span_rollup t SET spans = t.spans - g.spans, errors = t.errors - g.errors
          FROM (SELECT d.service_name, d.service_type, pg_catalog.sum(d.spans) AS spans, pg_catalog.sum(d.errors) AS errors
                  FROM d GROUP BY 1, 2) g
         WHERE t.all_time AND t.bucket = '-infinity' AND t.service_name = g.service_name
           AND t.service_type = g.service_type;
    ELSE
        DELETE FROM @extschema@.log_rollup r WHERE r.bucket >= m_lo AND r.bucket < m_hi;
    END IF;
    EXECUTE @extschema@._rollup_sql($1, $2::text,
                pg_catalog.format('(r.%1$I < %2$L OR r.%1$I >= %3$L) AND pg_catalog.pg_visible_in_snapshot(r.txid, $2)',
                                  col, m_lo, m_hi))
      USING -1, s;
END
$$;
COMMENT ON FUNCTION @extschema@._rollup_forget(text, regclass, timestamptz, timestamptz) IS
    'internal: take the rows of the time partition part [lo, hi) of signal out of its rollups, before the partition is dropped';

CREATE FUNCTION @extschema@.refresh_rollups(rebuild boolean DEFAULT false, max_rows bigint DEFAULT NULL)
RETURNS TABLE(signal text, rollup_rows bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'rebuild must not be null' USING ERRCODE = '22004';
    END IF;
    FOREACH signal IN ARRAY ARRAY['logs', 'spans'] LOOP
        rollup_rows := @extschema@._rollup_tick(signal, $1, $2);
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.refresh_rollups(boolean, bigint) IS
$$add to the rollups of spans and logs (error_rate_by_service, throughput, log_volume) the rows committed since the last refresh; obs.run_maintenance() does it on every run (at most 2M rows per signal).  max_rows: about that many rows per signal at most (a transaction's rows are never split); the rest stays in the tail, which the figures count, for the next call.  rebuild => true empties them and counts every row again (after DML on a partition by its own name, a partition dropped by hand, session_replication_role = replica).  Returns the rollup rows written per signal (NULL: not ticked, on a logical replication subscriber of the signal's table).
Errors: 22004 for a NULL rebuild, 22023 for max_rows below 1, 25000 outside READ COMMITTED.$$;

/*
 * The rollup rows the figures read, through functions: a query that names
 * a table needs SELECT on it even in a branch it never runs, and a role
 * that may read spans (or logs) and the views, but not the rollups, gets
 * its figures from the tables (_rollup_snapshot() is NULL for it).  STABLE:
 * they read in the calling statement's snapshot.
 */
CREATE FUNCTION @extschema@._span_rollup_rows(all_time boolean, lo timestamptz, hi timestamptz)
RETURNS TABLE(bucket timestamptz, service_name text, service_type @extschema@.service_type,
              spans bigint, errors bigint)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED ROWS 1000 SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT r.bucket, r.service_name, r.service_type, r.spans, r.errors
                   FROM @extschema@.span_rollup r
                  WHERE r.all_time = $1 AND r.bucket >= $2 AND r.bucket < $3;
END
$$;
COMMENT ON FUNCTION @extschema@._span_rollup_rows(boolean, timestamptz, timestamptz) IS
    'internal: the rows of obs.span_rollup (all_time or per minute) with bucket in [lo, hi)';

CREATE FUNCTION @extschema@._log_rollup_rows(lo timestamptz, hi timestamptz)
RETURNS TABLE(bucket timestamptz, level @extschema@.log_level, records bigint)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED ROWS 1000 SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT r.bucket, r.level, r.records
                   FROM @extschema@.log_rollup r
                  WHERE r.bucket >= $1 AND r.bucket < $2;
END
$$;
COMMENT ON FUNCTION @extschema@._log_rollup_rows(timestamptz, timestamptz) IS
    'internal: the rows of obs.log_rollup with bucket in [lo, hi)';

/*
 * The tail of the rollups: the rows of spans (logs) whose txid is not
 * visible in snap, with time in [lo, hi), per minute as the rollup rows
 * are.  A function too, so that a figure names the txid column only when
 * it reads the rollups: a role granted SELECT on the other columns gets
 * its figures from the tables, as with 0.1.0.  A txid is not visible in
 * snap when it is at or past snap's xmax or in its list of running
 * transactions (which lie below xmax): two walks of the txid index that
 * read the tail only.  (Reading from snap's xmin instead would read every
 * row written since the oldest transaction running at the last tick: all
 * of them while a transaction stays open, or a prepared one is forgotten.)
 */
CREATE FUNCTION @extschema@._span_tail_rows(snap pg_catalog.pg_snapshot, lo timestamptz, hi timestamptz)
RETURNS TABLE(bucket timestamptz, service_name text, service_type @extschema@.service_type,
              spans bigint, errors bigint)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED ROWS 1000 SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    /*
     * a value, not a subquery, so that the plan knows how few rows it
     * matches; the range is applied after the txid index (OFFSET 0 keeps
     * it out of the scans, whose other indexes it would lure)
     */
    xip xid8[] := ARRAY(SELECT pg_catalog.pg_snapshot_xip($1));
BEGIN
    RETURN QUERY SELECT @extschema@._minute(s.start_time), s.service_name, s.service_type,
                        pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE s.status = 'error')
                   FROM (SELECT t.start_time, t.service_name, t.service_type, t.status FROM @extschema@.spans t
                          WHERE t.txid >= pg_catalog.pg_snapshot_xmax($1)
                         UNION ALL
                         SELECT t.start_time, t.service_name, t.service_type, t.status FROM @extschema@.spans t
                          WHERE t.txid = ANY (xip)
                         OFFSET 0) s
                  WHERE s.start_time >= $2 AND s.start_time < $3
                  GROUP BY 1, 2, 3;
END
$$;
COMMENT ON FUNCTION @extschema@._span_tail_rows(pg_catalog.pg_snapshot, timestamptz, timestamptz) IS
    'internal: the spans not in the rollups of snapshot snap (txid not visible in it) started in [lo, hi), per minute, service_name and service_type';

CREATE FUNCTION @extschema@._log_tail_rows(snap pg_catalog.pg_snapshot, lo timestamptz, hi timestamptz)
RETURNS TABLE(bucket timestamptz, level @extschema@.log_level, records bigint)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED ROWS 1000 SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    /*
     * a value, not a subquery, so that the plan knows how few rows it
     * matches; the range is applied after the txid index (OFFSET 0 keeps
     * it out of the scans, whose other indexes it would lure)
     */
    xip xid8[] := ARRAY(SELECT pg_catalog.pg_snapshot_xip($1));
BEGIN
    RETURN QUERY SELECT @extschema@._minute(l.ts), l.level, pg_catalog.count(*)
                   FROM (SELECT t.ts, t.level FROM @extschema@.logs t
                          WHERE t.txid >= pg_catalog.pg_snapshot_xmax($1)
                         UNION ALL
                         SELECT t.ts, t.level FROM @extschema@.logs t
                          WHERE t.txid = ANY (xip)
                         OFFSET 0) l
                  WHERE l.ts >= $2 AND l.ts < $3
                  GROUP BY 1, 2;
END
$$;
COMMENT ON FUNCTION @extschema@._log_tail_rows(pg_catalog.pg_snapshot, timestamptz, timestamptz) IS
    'internal: the log records not in the rollups of snapshot snap (txid not visible in it) with ts in [lo, hi), per minute and level';

/*
 * error_rate_by_service without the rollups: spans and error spans per
 * service, straight from obs.spans.  A function, not a branch of the view:
 * the planner would cost that branch (a scan of the whole table) even when
 * the rollups are read and it never runs, and a cost that high turns JIT
 * compilation on for the whole query (hundreds of milliseconds at 10M rows).
 */
CREATE FUNCTION @extschema@._span_service_counts()
RETURNS TABLE(service_name text, service_type @extschema@.service_type, spans bigint, errors bigint)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED ROWS 100 SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT s.service_name, s.service_type, pg_catalog.count(*),
                        pg_catalog.count(*) FILTER (WHERE s.status = 'error')
                   FROM @extschema@.spans s
                  WHERE s.start_time < 'infinity'::timestamptz
                  GROUP BY s.service_name, s.service_type;
END
$$;
COMMENT ON FUNCTION @extschema@._span_service_counts() IS
    'internal: spans and error spans per service name and type, started before +infinity, from obs.spans';

/*
 * The snapshot of signal's rollups when a figure may read them, else NULL
 * (the figure reads the table): not built yet, row-level security applies
 * to the caller on the table, the caller may not read the rollups or the
 * table's txid column (the tail is found by it), or the range [since,
 * until) and the bucket do not fall on whole minutes.
 */
CREATE FUNCTION @extschema@._rollup_snapshot(signal text, since timestamptz DEFAULT NULL,
                                             until timestamptz DEFAULT NULL, bucket interval DEFAULT NULL)
RETURNS pg_catalog.pg_snapshot
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tab regclass := (@extschema@._partition_signal($1)).parent;
    rollup regclass := CASE $1 WHEN 'spans' THEN '@extschema@.span_rollup'::regclass
                               ELSE '@extschema@.log_rollup'::regclass END;
BEGIN
    IF pg_catalog.row_security_active(tab) OR NOT pg_catalog.has_table_privilege(rollup, 'SELECT')
       OR NOT pg_catalog.has_column_privilege(tab, 'txid', 'SELECT')
       OR ($2 IS NOT NULL AND pg_catalog.isfinite($2) AND @extschema@._minute($2) <> $2)
       OR ($3 IS NOT NULL AND pg_catalog.isfinite($3) AND @extschema@._minute($3) <> $3)
       OR ($4 IS NOT NULL AND pg_catalog.mod(EXTRACT(epoch FROM $4), 60) <> 0) THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT r.snap FROM @extschema@.rollup_state r WHERE r.signal = $1);
END
$$;
COMMENT ON FUNCTION @extschema@._rollup_snapshot(text, timestamptz, timestamptz, interval) IS
    'internal: the snapshot of the rollups of signal when a figure over [since, until) in buckets of bucket may read them, else NULL';

REVOKE EXECUTE ON FUNCTION @extschema@._rollup_tick(text, boolean, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._rollup_forget(text, regclass, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.refresh_rollups(boolean, bigint) FROM PUBLIC;

CREATE OR REPLACE VIEW @extschema@.error_rate_by_service WITH (security_invoker = true) AS
    SELECT x.service_name, x.service_type, pg_catalog.sum(x.spans)::bigint AS spans,
           pg_catalog.sum(x.errors)::bigint AS errors,
           pg_catalog.sum(x.errors)::double precision / pg_catalog.sum(x.spans)::double precision AS error_rate
      FROM (SELECT r.service_name, r.service_type, r.spans, r.errors
              FROM @extschema@._span_rollup_rows(true, '-infinity', 'infinity') r
             WHERE (SELECT @extschema@._rollup_snapshot('spans')) IS NOT NULL
            UNION ALL
            SELECT t.service_name, t.service_type, t.spans, t.errors
              FROM @extschema@._span_tail_rows((SELECT @extschema@._rollup_snapshot('spans')), '-infinity', 'infinity') t
             WHERE (SELECT @extschema@._rollup_snapshot('spans')) IS NOT NULL
            UNION ALL
            SELECT c.service_name, c.service_type, c.spans, c.errors
              FROM @extschema@._span_service_counts() c
             WHERE (SELECT @extschema@._rollup_snapshot('spans')) IS NULL) x
     GROUP BY x.service_name, x.service_type
    HAVING pg_catalog.sum(x.spans) > 0;
COMMENT ON VIEW @extschema@.error_rate_by_service IS
    'the seed''s "error rate by service" query: finished spans, error spans and their ratio (0-1) per service, from the rollups when built (obs.refresh_rollups()); obs.service_performance(since, until) over a range';

CREATE OR REPLACE FUNCTION @extschema@.throughput(
    since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL, bucket interval DEFAULT '1 minute')
RETURNS TABLE(time_bucket timestamptz, service_name text, spans bigint, errors bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.date_bin(throughput.bucket, x.t, '2000-01-01 00:00:00+00'::timestamptz),
           x.service_name, pg_catalog.sum(x.spans)::bigint, pg_catalog.sum(x.errors)::bigint
      FROM (SELECT r.bucket AS t, r.service_name, r.spans, r.errors
              FROM @extschema@._span_rollup_rows(false, COALESCE(throughput.since, '-infinity'::timestamptz),
                                                 COALESCE(throughput.until, 'infinity'::timestamptz)) r
             WHERE (SELECT @extschema@._rollup_snapshot('spans', throughput.since, throughput.until, throughput.bucket)) IS NOT NULL
            UNION ALL
            SELECT t.bucket, t.service_name, t.spans, t.errors
              FROM @extschema@._span_tail_rows((SELECT @extschema@._rollup_snapshot('spans', throughput.since, throughput.until, throughput.bucket)),
                                               COALESCE(throughput.since, '-infinity'::timestamptz),
                                               COALESCE(throughput.until, 'infinity'::timestamptz)) t
             WHERE (SELECT @extschema@._rollup_snapshot('spans', throughput.since, throughput.until, throughput.bucket)) IS NOT NULL
            UNION ALL
            SELECT s.start_time, s.service_name, 1, CASE WHEN s.status = 'error' THEN 1 ELSE 0 END
              FROM @extschema@.spans s
             WHERE (SELECT @extschema@._rollup_snapshot('spans', throughput.since, throughput.until, throughput.bucket)) IS NULL
               AND s.start_time >= COALESCE(throughput.since, '-infinity'::timestamptz)
               AND s.start_time < COALESCE(throughput.until, 'infinity'::timestamptz)) x
     WHERE @extschema@._check_bucket(throughput.bucket)
       AND @extschema@._check_range(throughput.since, throughput.until)
     GROUP BY 1, 2
    HAVING pg_catalog.sum(x.spans) > 0;
END;
COMMENT ON FUNCTION @extschema@.throughput(timestamptz, timestamptz, interval) IS
$$the seed's "throughput trend": spans started in [since, until) per time bucket (date_bin from 2000-01-01 UTC) and service, with their errors.  From the rollups (obs.refresh_rollups()) when since, until and bucket fall on whole minutes, else from obs.spans; exact either way.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since, 22004 for a NULL bucket, 22023 for a bucket that is not positive or has months or years.$$;

CREATE OR REPLACE FUNCTION @extschema@.log_volume(
    since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL, bucket interval DEFAULT '1 minute')
RETURNS TABLE(time_bucket timestamptz, level @extschema@.log_level, records bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.date_bin(log_volume.bucket, x.t, '2000-01-01 00:00:00+00'::timestamptz),
           x.level, pg_catalog.sum(x.records)::bigint
      FROM (SELECT r.bucket AS t, r.level, r.records
              FROM @extschema@._log_rollup_rows(COALESCE(log_volume.since, '-infinity'::timestamptz),
                                                COALESCE(log_volume.until, 'infinity'::timestamptz)) r
             WHERE (SELECT @extschema@._rollup_snapshot('logs', log_volume.since, log_volume.until, log_volume.bucket)) IS NOT NULL
            UNION ALL
            SELECT t.bucket, t.level, t.records
              FROM @extschema@._log_tail_rows((SELECT @extschema@._rollup_snapshot('logs', log_volume.since, log_volume.until, log_volume.bucket)),
                                              COALESCE(log_volume.since, '-infinity'::timestamptz),
                                              COALESCE(log_volume.until, 'infinity'::timestamptz)) t
             WHERE (SELECT @extschema@._rollup_snapshot('logs', log_volume.since, log_volume.until, log_volume.bucket)) IS NOT NULL
            UNION ALL
            SELECT l.ts, l.level, 1
              FROM @extschema@.logs l
             WHERE (SELECT @extschema@._rollup_snapshot('logs', log_volume.since, log_volume.until, log_volume.bucket)) IS NULL
               AND l.ts >= COALESCE(log_volume.since, '-infinity'::timestamptz)
               AND l.ts < COALESCE(log_volume.until, 'infinity'::timestamptz)) x
     WHERE @extschema@._check_bucket(log_volume.bucket)
       AND @extschema@._check_range(log_volume.since, log_volume.until)
     GROUP BY 1, 2
    HAVING pg_catalog.sum(x.records) > 0;
END;
COMMENT ON FUNCTION @extschema@.log_volume(timestamptz, timestamptz, interval) IS
$$log records with ts in [since, until) per time bucket (date_bin from 2000-01-01 UTC) and level (the CloudWatch "stats count() by bin(1m)" over logs).  From the rollups (obs.refresh_rollups()) when since, until and bucket fall on whole minutes, else from obs.logs; exact either way.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since, 22004 for a NULL bucket, 22023 for a bucket that is not positive or has months or years.$$;

CREATE OR REPLACE FUNCTION @extschema@.purge(older_than interval)
RETURNS TABLE(table_name text, deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_cutoff timestamptz;
    v_count bigint;
    v_sig text;
    v_tab text;
    v_col text;
    v_part regclass;
    v_lo timestamptz;
    v_hi timestamptz;
    v_rows bigint;
    v_open boolean;
    v_lock_timeout text := pg_catalog.current_setting('lock_timeout');
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'older_than must not be null' USING ERRCODE = '22004';
    END IF;
    IF $1 < '0'::interval THEN
        RAISE EXCEPTION 'older_than must not be negative'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The interval given was %s.', $1);
    END IF;
    v_cutoff := pg_catalog.now() - $1;

    /*
     * The time-partitioned tables: a partition wholly older than the cutoff
     * is dropped (alerts: unless it holds an unacknowledged alert); what is
     * left older than the cutoff (the partition straddling it, the default
     * partition, a partition whose lock was not had within lock_timeout) is
     * deleted.
     */
    FOREACH v_sig IN ARRAY ARRAY['logs', 'spans', 'metrics', 'alerts'] LOOP
        SELECT pg_catalog.quote_ident(c.relname), s.time_column INTO v_tab, v_col
          FROM @extschema@._partition_signal(v_sig) s JOIN pg_catalog.pg_class c ON c.oid = s.parent;
        v_count := 0;
        FOR v_part, v_lo, v_hi IN
            SELECT p.partition_name, p.lower_bound, p.upper_bound FROM @extschema@.partitions() p
             WHERE p.signal = v_sig AND NOT p.is_default AND p.upper_bound <= v_cutoff
             ORDER BY p.lower_bound
        LOOP
            IF v_sig = 'alerts' THEN
                EXECUTE pg_catalog.format('SELECT EXISTS (SELECT 1 FROM %s a WHERE a.acknowledged_at IS NULL)', v_part)
                   INTO STRICT v_open;
                CONTINUE WHEN v_open;
            END IF;
            BEGIN
                PERFORM pg_catalog.set_config('lock_timeout', '500ms', true);
                EXECUTE pg_catalog.format('SELECT count(*) FROM %s', v_part) INTO v_rows;
                /* a file of the partition in the lake is now its only copy */
                UPDATE @extschema@.archived_partitions ap SET dropped_at = pg_catalog.now()
                 WHERE ap.signal = v_sig AND ap.lower_bound = v_lo AND ap.upper_bound = v_hi
                   AND ap.dropped_at IS NULL;
                PERFORM @extschema@._rollup_forget(v_sig, v_part, v_lo, v_hi);
                EXECUTE pg_catalog.format('DROP TABLE %s', v_part);
                v_count := v_count + v_rows;
            EXCEPTION WHEN lock_not_available THEN
                NULL;   /* its rows are deleted below */
            END;
            PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
        END LOOP;
        IF v_sig = 'alerts' THEN
            /* an alert nobody acknowledged stays, however old: purge never closes one */
            EXECUTE pg_catalog.format('DELETE FROM @extschema@.%s t WHERE t.%I < $1 AND t.acknowledged_at IS NOT NULL',
                                      v_tab, v_col) USING v_cutoff;
        ELSE
            EXECUTE pg_catalog.format('DELETE FROM @extschema@.%s t WHERE t.%I < $1', v_tab, v_col) USING v_cutoff;
        END IF;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        table_name := CASE v_sig WHEN 'metrics' THEN 'metric_points' ELSE v_sig END;
        deleted := v_count + v_rows;
        RETURN NEXT;
    END LOOP;

    DELETE FROM @extschema@.task_runs t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'task_runs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.flow_runs t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'flow_runs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.dead_letters t WHERE t.received_at < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'dead_letters'; deleted := v_count; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.purge(interval) IS
$$retention: remove logs (ts), spans (start_time), metric_points (ts), acknowledged alerts (observed_at), task_runs and flow_runs (start_time) and dead_letters (received_at) older than now() - older_than; metric_series, alert_rules and unacknowledged alerts are kept.  Time partitions wholly older than the cutoff are dropped (alerts: unless they hold an unacknowledged alert); only the partition straddling the cutoff and the default partition see a DELETE.  Returns the rows removed per table.
pg_cron: SELECT cron.schedule('obs-retention', '17 3 * * *', 'SELECT obs.purge(''30 days'')');
Errors: 22004 for NULL, 22023 for a negative interval.$$;

CREATE OR REPLACE FUNCTION @extschema@.run_maintenance(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE(signal text, action text, partition_name text, row_count bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '500ms' AS $$
DECLARE
    sig text;
    s record;
    cfg record;
    origin constant timestamptz := '2000-01-03 00:00:00+00';
    cur timestamptz;
    lo timestamptz;
    made integer;
    p record;
    c record;
    cutoff timestamptz;
    n bigint;
    acts text[];
    parts text[];
    cnts bigint[];
    archived boolean;
    arow record;
    doomed regclass[];
    doomed_lo timestamptz[];
    doomed_hi timestamptz[];
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'as_of must not be null' USING ERRCODE = '22004';
    END IF;
    /*
     * the archive first (36_archive.sql): it reads old partitions only
     * (ACCESS SHARE), so no writer waits during an upload; the drops
     * below take their locks after it
     */
    RETURN QUERY SELECT * FROM @extschema@._archive_run($1);
    /*
     * the rollups of logs and spans next, before any signal's drops and
     * partitions: a tick (the first one reads the whole table) then runs
     * while this run holds no lock that blocks writers, such as the ACCESS
     * EXCLUSIVE lock a drop takes on its parent until the end of the run.
     * A tick that waits for a writer holding the rollup state (a DELETE not
     * yet committed) is left to the next run: the figures stay exact
     * meanwhile, with a longer tail
     */
    FOREACH sig IN ARRAY ARRAY['logs', 'spans'] LOOP
        BEGIN
            /* at most 2M rows per signal and run: a first build takes several runs */
            n := @extschema@._rollup_tick(sig, false, 2000000);
        EXCEPTION WHEN lock_not_available OR invalid_transaction_state THEN
            /* the tick is left to a later run (READ COMMITTED, the state row free) */
            NULL;
        END;
    END LOOP;
    FOREACH sig IN ARRAY ARRAY['logs', 'spans', 'metrics', 'alerts'] LOOP
        s := @extschema@._partition_signal(sig);
        SELECT coalesce(pc.partition_interval, '1 day') AS ival, coalesce(pc.premake, 3) AS premake,
               pc.retention
          INTO cfg
          FROM (SELECT 1) one
          LEFT JOIN @extschema@.partition_config pc ON pc.signal = sig;
        signal := sig;
        acts := '{}'; parts := '{}'; cnts := '{}';
        /*
         * one signal at a time: a lock not had in lock_timeout skips this
         * signal until the next run.  lock_timeout (500 ms) is shorter than
         * the default deadlock_timeout (1 s): should a writer wait for a
         * lock this run holds while this run waits for the writer, this run
         * gives up first, and the writer is never chosen as the victim.
         */
        BEGIN
            cutoff := CASE WHEN cfg.retention IS NULL THEN '-infinity'::timestamptz ELSE $1 - cfg.retention END;
            cur := pg_catalog.date_bin(cfg.ival, $1, origin);
            made := 0;
            /*
             * retention first: drop whole partitions, never DELETE.  A drop
             * takes ACCESS EXCLUSIVE on the table, kept to the end of the
             * run; taken before the default partition's lock (below), it
             * never waits for a writer that waits for this run.
             */
            archived := EXISTS (SELECT 1 FROM @extschema@.archive_config ac WHERE ac.signal = sig);
            doomed := '{}'; doomed_lo := '{}'; doomed_hi := '{}';
            FOR p IN
                SELECT x.partition_name AS part, x.lower_bound, x.upper_bound FROM @extschema@.partitions() x
                 WHERE x.signal = sig AND NOT x.is_default AND x.upper_bound <= cutoff
                 ORDER BY x.lower_bound
            LOOP
                IF sig = 'alerts' THEN
                    EXECUTE pg_catalog.format('SELECT count(*) FROM %s a WHERE a.acknowledged_at IS NULL', p.part)
                       INTO n;
                    IF n > 0 THEN
                        /* an alert nobody acknowledged stays, however old */
                        acts := acts || 'kept'::text; parts := parts || p.part::text; cnts := cnts || n;
                        CONTINUE;
                    END IF;
                END IF;
                IF archived THEN
                    /* with an archive, only a partition whose file is confirmed goes */
                    SELECT ap.location, ap.path, ap.row_count INTO arow
                      FROM @extschema@.archived_partitions ap
                     WHERE ap.signal = sig AND ap.lower_bound = p.lower_bound
                       AND ap.upper_bound = p.upper_bound AND ap.dropped_at IS NULL AND NOT ap.stale;
                    IF NOT FOUND THEN
                        acts := acts || 'not_archived'::text; parts := parts || p.part::text; cnts := cnts || NULL::bigint;
                        CONTINUE;
                    END IF;
                    /*
                     * rows written to the partition after its file (late
                     * rows) would be lost: count under the lock the drop
                     * takes anyway, the parent not yet locked
                     */
                    EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p.part);
                    EXECUTE pg_catalog.format('SELECT count(*) FROM %s', p.part) INTO n;
                    IF n <> arow.row_count THEN
                        UPDATE @extschema@.archived_partitions ap SET stale = true
                         WHERE ap.location = arow.location AND ap.path = arow.path;
                        acts := acts || 'stale'::text; parts := parts || p.part::text; cnts := cnts || n;
                        CONTINUE;
                    END IF;
                END IF;
                acts := acts || 'dropped'::text; parts := parts || p.part::text; cnts := cnts || NULL::bigint;
                doomed := doomed || p.part;
                doomed_lo := doomed_lo || p.lower_bound;
                doomed_hi := doomed_hi || p.upper_bound;
            END LOOP;
            /* every drop after every check: a drop locks the parent to the end */
            FOR i IN 1 .. pg_catalog.cardinality(doomed) LOOP
                /*
                 * a drop whose rollup rows are locked by another (LOCK
                 * TABLE, VACUUM FULL of a rollup table) waits for the next
                 * run; the partitions to make are still made
                 */
                BEGIN
                    /* a file of the partition (archived before clear_archive, too) is now its only copy */
                    UPDATE @extschema@.archived_partitions ap SET dropped_at = pg_catalog.now()
                     WHERE ap.signal = sig AND ap.lower_bound = doomed_lo[i]
                       AND ap.upper_bound = doomed_hi[i] AND ap.dropped_at IS NULL;
                    PERFORM @extschema@._rollup_forget(sig, doomed[i], doomed_lo[i], doomed_hi[i]);
                    EXECUTE pg_catalog.format('DROP TABLE %s', doomed[i]);
                EXCEPTION WHEN lock_not_available THEN
                    acts[pg_catalog.array_position(parts, doomed[i]::text)] := 'skipped';
                END;
            END LOOP;
            /*
             * the ranges to have: the current one and premake ahead, and every
             * range holding rows of the default partition, from the retention
             * cutoff up to the last premade one (at most 100 per run)
             */
            FOR lo IN
                SELECT r.lo FROM (
                    SELECT cur + g * cfg.ival AS lo FROM pg_catalog.generate_series(0, cfg.premake) g
                    UNION
                    SELECT b.lo FROM @extschema@._default_bins(s.default_partition, s.time_column, cfg.ival, origin) b
                     WHERE b.lo + cfg.ival > cutoff AND b.lo <= cur + cfg.premake * cfg.ival) r
                 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.partitions() x
                                    WHERE x.signal = sig AND NOT x.is_default
                                      AND x.lower_bound < r.lo + cfg.ival AND x.upper_bound > r.lo)
                 ORDER BY r.lo
                 LIMIT 100
            LOOP
                SELECT * INTO c FROM @extschema@._partition_create(sig, lo, lo + cfg.ival);
                acts := acts || 'created'::text; parts := parts || c.part::text; cnts := cnts || c.moved;
            END LOOP;

        EXCEPTION WHEN lock_not_available THEN
            /* what this signal did is undone: report only the skip */
            acts := ARRAY['skipped']; parts := ARRAY[NULL::text]; cnts := ARRAY[NULL::bigint];
        END;
        FOR i IN 1 .. pg_catalog.cardinality(acts) LOOP
            action := acts[i]; partition_name := parts[i]; row_count := cnts[i];
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.run_maintenance(timestamptz) IS
$$for each signal (logs, spans, metrics, alerts): tick the rollups of logs and spans (obs.refresh_rollups()), drop the partitions wholly older than as_of - retention (alerts: not while they hold an unacknowledged alert), then make the time partition holding as_of and obs.partition_config.premake ahead (moving the default partition's rows of those ranges and of every range it still holds within retention into new partitions).  Idempotent; waits at most 500 ms for a lock (lock_timeout), else skips the signal until the next run.  With an archive (obs.set_archive), it first writes each partition past the archive's age to the Parquet lake, and retention drops only partitions whose file is confirmed and holds all their rows.  Returns what it did: created (row_count: rows moved from the default partition), dropped (row_count NULL: a drop reads nothing), kept (row_count: unacknowledged alerts), skipped, archived (row_count: rows written), archive_failed (a WARNING says why; the partition stays), archive_busy (another run is archiving the signal), not_archived (past retention, kept until its file is confirmed), stale (row_count: rows now in the partition, not those of its file; it is archived again).
pg_cron: SELECT cron.schedule('obs-maintenance', '* * * * *', 'SELECT count(*) FROM obs.run_maintenance()');
Errors: 22004 for a NULL as_of.$$;

/* ---- end signal rollups: issue 10 item 5 ---- */

/* ---- buffered ingest: issue 10 item 8 ---- */
/*
 * spans: the unique key of the shipping cursor, (txid, span_seq), replaces
 * the unique index on span_seq and the plain one on (txid, span_seq): one
 * index fewer to maintain for every span stored.
 */
DROP INDEX @extschema@.spans_seq_idx;
DROP INDEX @extschema@.spans_txid_idx;
CREATE UNIQUE INDEX spans_txid_idx ON @extschema@.spans_default (txid, span_seq);
/*
 * spans: the start_time index is BRIN (minmax-multi), not btree: storing a
 * span adds no index entry there.  Partitions made from now on get the same
 * (_partition_prepare below); the upgrade runs before any partition exists.
 */
DROP INDEX @extschema@.spans_start_idx;
CREATE INDEX spans_start_idx ON @extschema@.spans_default USING brin (start_time timestamptz_minmax_multi_ops);
/* vacuum (BRIN summaries) and analyze every 100,000 rows */
ALTER TABLE @extschema@.spans_default SET (autovacuum_vacuum_insert_threshold = 100000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_analyze_threshold = 100000, autovacuum_analyze_scale_factor = 0);
ALTER TABLE @extschema@.metric_points_default SET (autovacuum_vacuum_insert_threshold = 100000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_analyze_threshold = 100000, autovacuum_analyze_scale_factor = 0);
CREATE OR REPLACE FUNCTION @extschema@._partition_prepare(signal text, part regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n text := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = $2);
BEGIN
    CASE $1
        WHEN 'logs' THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (log_id, ts)', $2, n || '_pkey');
            EXECUTE format('CREATE INDEX %I ON %s (ts)', n || '_ts_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (trace_id) WHERE trace_id IS NOT NULL', n || '_trace_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (txid, log_id)', n || '_txid_idx', $2);
        WHEN 'spans' THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (trace_id, span_id, start_time)', $2, n || '_pkey');
            EXECUTE format('CREATE INDEX %I ON %s USING brin (start_time timestamptz_minmax_multi_ops)', n || '_start_idx', $2);
            EXECUTE format('CREATE UNIQUE INDEX %I ON %s (txid, span_seq)', n || '_txid_idx', $2);
            EXECUTE format('ALTER TABLE %s SET (autovacuum_vacuum_insert_threshold = 100000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_analyze_threshold = 100000, autovacuum_analyze_scale_factor = 0)', $2);
        WHEN 'metrics' THEN
            EXECUTE format('CREATE INDEX %I ON %s (series_id, ts)', n || '_series_ts_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s USING brin (ts)', n || '_ts_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (txid)', n || '_txid_idx', $2);
            EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', $2);
            EXECUTE format('ALTER TABLE %s SET (autovacuum_vacuum_insert_threshold = 100000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_analyze_threshold = 100000, autovacuum_analyze_scale_factor = 0)', $2);
        WHEN 'alerts' THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (alert_id, observed_at)', $2, n || '_pkey');
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I UNIQUE NULLS NOT DISTINCT '
                           '(rule_name, series_id, observed_at, value, sample_no, comparison, threshold)',
                           $2, n || '_sample_key');
            EXECUTE format('CREATE INDEX %I ON %s (created_at)', n || '_created_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (observed_at)', n || '_observed_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (txid, alert_id)', n || '_txid_idx', $2);
    END CASE;
END
$$;
/* a partition rows were moved into is analyzed at once */
CREATE OR REPLACE FUNCTION @extschema@._partition_create(signal text, lo timestamptz, hi timestamptz, OUT part regclass, OUT moved bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s record := @extschema@._partition_signal($1);
    ival interval := $3 - $2;
    n text;
BEGIN
    n := pg_catalog.format('%s_p%s', (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = s.parent),
                           pg_catalog.to_char($2 AT TIME ZONE 'UTC',
                                              CASE WHEN ival < '1 day' THEN 'YYYYMMDD_HH24MI' ELSE 'YYYYMMDD' END));
    EXECUTE pg_catalog.format('CREATE TABLE @extschema@.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)',
                              n, s.parent);
    part := pg_catalog.format('@extschema@.%I', n)::regclass;
    /*
     * the partition belongs to the parent's owner, whoever runs the
     * maintenance (another superuser, a pg_cron job): retention, run as
     * the extension owner, can drop it later
     */
    EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %s', part,
                              (SELECT c.relowner::regrole FROM pg_catalog.pg_class c WHERE c.oid = s.parent));
    PERFORM @extschema@._partition_prepare($1, part);
    /*
     * no row may reach the default partition between the move and ATTACH
     * (which takes this lock anyway): writers bound for other partitions
     * do not wait
     */
    EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', s.default_partition);
    /* ATTACH would refuse while the default partition holds rows of the range */
    EXECUTE pg_catalog.format('WITH m AS (DELETE FROM %s d WHERE d.%I >= $1 AND d.%I < $2 RETURNING d.*) '
                              'INSERT INTO %s SELECT * FROM m',
                              s.default_partition, s.time_column, s.time_column, part)
      USING $2, $3;
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE pg_catalog.format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)',
                              s.parent, part, $2, $3);
    /* rows moved in: statistics now, so that the planner knows them (BRIN) */
    IF moved > 0 THEN
        EXECUTE pg_catalog.format('ANALYZE %s', part);
    END IF;
END
$$;
/* ---- end buffered ingest: issue 10 item 8 ---- */
