/* ------------------------------------------------------------------------
 * Section: logging API (src/logs.c)
 * ------------------------------------------------------------------------ */

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

