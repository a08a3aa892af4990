/* ------------------------------------------------------------------------
 * Section: privileges
 * ------------------------------------------------------------------------ */

/*
 * obs creates no role.  Writing is governed by EXECUTE: the C write
 * functions insert into obs's tables directly, without table privilege
 * checks, so EXECUTE on them is revoked from PUBLIC below and granted per
 * role by obs.grant_writer().  Reading is governed by SELECT on the tables
 * and views (obs.grant_reader()); the read functions run as their caller.
 * The schema itself is usable only by roles granted USAGE (the helpers do).
 *
 * _privilege_functions() is the one list of which function names belong to
 * which group.  A later version that adds a function adds its name there;
 * the REVOKE below and the grant helpers iterate over it, covering every
 * overload of each name.
 */

CREATE FUNCTION @extschema@._privilege_functions(role_kind text)
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
COMMENT ON FUNCTION @extschema@._privilege_functions(text) IS
    'internal: the names of obs''s functions in each privilege group (writer, reader, admin)';

/* GRANT or REVOKE EXECUTE on every function of a group, to or from a role */
CREATE FUNCTION @extschema@._set_function_privileges(role_kind text, grant_it boolean, role_sql text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = '@extschema@'::regnamespace
           AND p.proname = ANY (@extschema@._privilege_functions($1))
         ORDER BY p.oid
    LOOP
        IF $2 THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', f, $3);
        ELSE
            EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM %s', f, $3);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@._set_function_privileges(text, boolean, text) IS
    'internal: grant or revoke EXECUTE on every function of a privilege group';

/* revoke USAGE on the schema once a role holds no other obs privilege */
CREATE FUNCTION @extschema@._release_schema_usage(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
                    WHERE c.relnamespace = '@extschema@'::regnamespace AND a.grantee = $1)
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
                        WHERE p.pronamespace = '@extschema@'::regnamespace AND a.grantee = $1) THEN
        EXECUTE pg_catalog.format('REVOKE USAGE ON SCHEMA @extschema@ FROM %s', $1);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._release_schema_usage(regrole) IS
    'internal: revoke USAGE on schema obs from a role that holds no other obs privilege';

CREATE FUNCTION @extschema@.grant_writer(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22004';
    END IF;
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA @extschema@ TO %s', $1);
    PERFORM @extschema@._set_function_privileges('writer', true, $1::text);
END
$$;
COMMENT ON FUNCTION @extschema@.grant_writer(regrole) IS
$$let role write signals: USAGE on schema obs and EXECUTE on obs.log, obs.debug .. obs.critical, obs.start_span, obs.finish_span, obs.set_traceparent, obs.record_span, obs.record_metric, obs.record_flow_execution and obs.record_task_execution; no SELECT on anything.
Runs as the caller, who needs the grant option (the extension owner or a superuser).  Re-run after ALTER EXTENSION obs UPDATE.$$;

CREATE FUNCTION @extschema@.revoke_writer(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22004';
    END IF;
    PERFORM @extschema@._set_function_privileges('writer', false, $1::text);
    PERFORM @extschema@._release_schema_usage($1);
END
$$;
COMMENT ON FUNCTION @extschema@.revoke_writer(regrole) IS
    'undo obs.grant_writer(role); USAGE on schema obs is revoked too unless the role still holds reader privileges';

CREATE FUNCTION @extschema@.grant_reader(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22004';
    END IF;
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA @extschema@ TO %s', $1);
    EXECUTE pg_catalog.format('GRANT SELECT ON ALL TABLES IN SCHEMA @extschema@ TO %s', $1);
    PERFORM @extschema@._set_function_privileges('reader', true, $1::text);
END
$$;
COMMENT ON FUNCTION @extschema@.grant_reader(regrole) IS
$$let role read everything: USAGE on schema obs, SELECT on all its tables and views, EXECUTE on the read functions (get_flow_health, get_task_performance, get_task_summary, high_latency_by_endpoint, latency_heatmap, log_json, jaeger_json, current_*, open_spans, parse_traceparent); no write function.
Runs as the caller, who needs the grant option (the extension owner or a superuser).  Re-run after ALTER EXTENSION obs UPDATE.$$;

CREATE FUNCTION @extschema@.revoke_reader(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22004';
    END IF;
    EXECUTE pg_catalog.format('REVOKE SELECT ON ALL TABLES IN SCHEMA @extschema@ FROM %s', $1);
    PERFORM @extschema@._set_function_privileges('reader', false, $1::text);
    PERFORM @extschema@._release_schema_usage($1);
END
$$;
COMMENT ON FUNCTION @extschema@.revoke_reader(regrole) IS
    'undo obs.grant_reader(role); USAGE on schema obs is revoked too unless the role still holds writer privileges';

/* nobody but the owner writes until grant_writer() says so */
SELECT @extschema@._set_function_privileges('writer', false, 'PUBLIC');
SELECT @extschema@._set_function_privileges('admin', false, 'PUBLIC');
/*
 * the buffered path's counters and worker pids: readers only (grant_reader),
 * the one reader function PUBLIC may not execute
 */
REVOKE EXECUTE ON FUNCTION @extschema@.ingest_stats() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._set_function_privileges(text, boolean, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._release_schema_usage(regrole) FROM PUBLIC;

