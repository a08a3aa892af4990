/* ------------------------------------------------------------------------
 * Section: parquet export and import (src/parquet/)
 * COPY ... TO/FROM ... (FORMAT parquet) needs no SQL objects: it is a hook.
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

CREATE FUNCTION @extschema@.restore_archive(path text, target regclass DEFAULT NULL) RETURNS bigint
    AS 'MODULE_PATHNAME', 'obs_restore_archive' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.restore_archive(text, regclass) IS
    'load the Parquet file path (a server file) into target, as COPY target FROM path (FORMAT parquet); without target, the table comes from the path''s signal=<logs|spans|metrics|alerts> directory; returns the rows loaded';
