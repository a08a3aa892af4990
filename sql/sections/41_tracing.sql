/* ------------------------------------------------------------------------
 * Section: tracing API (src/spans.c, src/traceparent.c)
 * ------------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.start_span(
    operation text, service text DEFAULT 'CUSTOM', tags jsonb DEFAULT NULL,
    service_name text DEFAULT NULL, traceparent text DEFAULT NULL)
RETURNS @extschema@.span_id AS 'MODULE_PATHNAME', 'obs_start_span' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.start_span(text, text, jsonb, text, text) IS
    'open a span in this session; its parent is the innermost open span, else the traceparent';

CREATE FUNCTION @extschema@.finish_span(
    span @extschema@.span_id, status text DEFAULT NULL, error text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_finish_span' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.finish_span(@extschema@.span_id, text, text) IS
    'close an open span of this session and store it; returns its duration in microseconds';

CREATE FUNCTION @extschema@.current_span_id() RETURNS @extschema@.span_id
    AS 'MODULE_PATHNAME', 'obs_current_span_id' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.current_span_id() IS 'the innermost open span of this session, or NULL';

CREATE FUNCTION @extschema@.current_trace_id() RETURNS @extschema@.trace_id
    AS 'MODULE_PATHNAME', 'obs_current_trace_id' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.current_trace_id() IS
    'the trace of the innermost open span, else of obs.traceparent, else NULL';

CREATE FUNCTION @extschema@.current_traceparent() RETURNS text
    AS 'MODULE_PATHNAME', 'obs_current_traceparent' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.current_traceparent() IS
    'W3C traceparent header for the innermost open span (else obs.traceparent), or NULL';

CREATE FUNCTION @extschema@.set_traceparent(traceparent text) RETURNS void
    AS 'MODULE_PATHNAME', 'obs_set_traceparent' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.set_traceparent(text) IS
    'continue an external trace: new root spans become children of this traceparent (NULL clears it)';

CREATE FUNCTION @extschema@.parse_traceparent(traceparent text,
    OUT version text, OUT trace_id @extschema@.trace_id, OUT parent_id @extschema@.span_id, OUT sampled boolean)
RETURNS record AS 'MODULE_PATHNAME', 'obs_parse_traceparent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.parse_traceparent(text) IS 'split a W3C traceparent header into its fields';

CREATE FUNCTION @extschema@.open_spans(
    OUT depth integer, OUT trace_id @extschema@.trace_id, OUT span_id @extschema@.span_id,
    OUT parent_span_id @extschema@.span_id, OUT operation text, OUT service_type @extschema@.service_type,
    OUT service_name text, OUT start_time timestamptz)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'obs_open_spans' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.open_spans() IS 'the spans this session has started and not finished, outermost first';

CREATE FUNCTION @extschema@.reset_spans() RETURNS integer
    AS 'MODULE_PATHNAME', 'obs_reset_spans' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reset_spans() IS
    'forget every open span of this session without storing it (e.g. before returning a pooled connection); returns how many';


CREATE FUNCTION @extschema@.record_span(
    trace_id @extschema@.trace_id, span_id @extschema@.span_id, parent_span_id @extschema@.span_id,
    operation text, service text, start_time timestamptz, end_time timestamptz,
    status text DEFAULT NULL, error text DEFAULT NULL, tags jsonb DEFAULT NULL,
    service_name text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_record_span' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.record_span(@extschema@.trace_id, @extschema@.span_id, @extschema@.span_id, text, text, timestamptz, timestamptz, text, text, jsonb, text) IS
$$store a span that a client timed itself (its trace context kept in the client, not in this session); returns its duration in microseconds.
The trace is head-sampled by its id at obs.trace_sample_rate.  Errors: 22004 for a NULL id, operation, service or time; 22023 for end_time before start_time, an unknown service or status, all-zero ids; 22008 for a time that is infinite or past obs's range; 23505 when (trace_id, span_id) is stored already (a dead letter on the buffered path).$$;
