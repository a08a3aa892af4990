/* ------------------------------------------------------------------------
 * Section: parquet export (src/parquet/)
 * COPY ... TO ... (FORMAT parquet) needs no SQL objects: it is a hook.
 * ------------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.save_metrics_to_parquet(dir text) RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'obs_save_metrics_to_parquet' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.save_metrics_to_parquet(text) IS
    'write obs.metrics and obs.alerts to metrics_<UTC timestamp>.parquet and alerts_<UTC timestamp>.parquet in dir (a server directory); returns the paths';

CREATE FUNCTION @extschema@.save_to_parquet(dir text) RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'obs_save_to_parquet' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.save_to_parquet(text) IS
    'write obs.flow_runs and obs.task_runs to flow_executions_<UTC timestamp>.parquet and task_executions_<UTC timestamp>.parquet in dir; returns the paths';

CREATE FUNCTION @extschema@.save_logs_to_parquet(dir text) RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'obs_save_logs_to_parquet' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.save_logs_to_parquet(text) IS
    'write obs.logs to logs_<UTC timestamp>.parquet in dir; returns the path';

CREATE FUNCTION @extschema@.save_spans_to_parquet(dir text) RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'obs_save_spans_to_parquet' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.save_spans_to_parquet(text) IS
    'write obs.spans to spans_<UTC timestamp>.parquet in dir; returns the path';
