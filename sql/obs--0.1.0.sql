/* obs 0.1.0: the observability store for data pipelines */

\echo Use "CREATE EXTENSION obs" to load this file. \quit

/* ------------------------------------------------------------------------
 * Section: identifiers (W3C trace context sized ids, stored as raw bytes)
 * ------------------------------------------------------------------------ */

CREATE TYPE @extschema@.trace_id;
CREATE FUNCTION @extschema@.trace_id_in(cstring) RETURNS @extschema@.trace_id
    AS 'MODULE_PATHNAME', 'obs_trace_id_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_out(@extschema@.trace_id) RETURNS cstring
    AS 'MODULE_PATHNAME', 'obs_trace_id_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_recv(internal) RETURNS @extschema@.trace_id
    AS 'MODULE_PATHNAME', 'obs_trace_id_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_send(@extschema@.trace_id) RETURNS bytea
    AS 'MODULE_PATHNAME', 'obs_trace_id_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.trace_id (
    INPUT = @extschema@.trace_id_in, OUTPUT = @extschema@.trace_id_out,
    RECEIVE = @extschema@.trace_id_recv, SEND = @extschema@.trace_id_send,
    INTERNALLENGTH = 16, ALIGNMENT = char, STORAGE = plain
);
COMMENT ON TYPE @extschema@.trace_id IS
    'W3C trace context trace id: 16 bytes, shown as 32 lowercase hex digits';

CREATE TYPE @extschema@.span_id;
CREATE FUNCTION @extschema@.span_id_in(cstring) RETURNS @extschema@.span_id
    AS 'MODULE_PATHNAME', 'obs_span_id_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_out(@extschema@.span_id) RETURNS cstring
    AS 'MODULE_PATHNAME', 'obs_span_id_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_recv(internal) RETURNS @extschema@.span_id
    AS 'MODULE_PATHNAME', 'obs_span_id_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_send(@extschema@.span_id) RETURNS bytea
    AS 'MODULE_PATHNAME', 'obs_span_id_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.span_id (
    INPUT = @extschema@.span_id_in, OUTPUT = @extschema@.span_id_out,
    RECEIVE = @extschema@.span_id_recv, SEND = @extschema@.span_id_send,
    INTERNALLENGTH = 8, ALIGNMENT = char, STORAGE = plain
);
COMMENT ON TYPE @extschema@.span_id IS
    'W3C trace context span id: 8 bytes, shown as 16 lowercase hex digits';

/* comparison support: both types compare as unsigned byte strings */
CREATE FUNCTION @extschema@.trace_id_cmp(@extschema@.trace_id, @extschema@.trace_id) RETURNS int
    AS 'MODULE_PATHNAME', 'obs_trace_id_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_eq(@extschema@.trace_id, @extschema@.trace_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_trace_id_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_ne(@extschema@.trace_id, @extschema@.trace_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_trace_id_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_lt(@extschema@.trace_id, @extschema@.trace_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_trace_id_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_le(@extschema@.trace_id, @extschema@.trace_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_trace_id_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_gt(@extschema@.trace_id, @extschema@.trace_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_trace_id_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_ge(@extschema@.trace_id, @extschema@.trace_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_trace_id_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.trace_id_hash(@extschema@.trace_id) RETURNS int
    AS 'MODULE_PATHNAME', 'obs_trace_id_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (LEFTARG = @extschema@.trace_id, RIGHTARG = @extschema@.trace_id,
    PROCEDURE = @extschema@.trace_id_eq, COMMUTATOR = OPERATOR(pg_catalog.=),
    NEGATOR = OPERATOR(pg_catalog.<>), RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (LEFTARG = @extschema@.trace_id, RIGHTARG = @extschema@.trace_id,
    PROCEDURE = @extschema@.trace_id_ne, COMMUTATOR = OPERATOR(pg_catalog.<>),
    NEGATOR = OPERATOR(pg_catalog.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (LEFTARG = @extschema@.trace_id, RIGHTARG = @extschema@.trace_id,
    PROCEDURE = @extschema@.trace_id_lt, COMMUTATOR = OPERATOR(pg_catalog.>),
    NEGATOR = OPERATOR(pg_catalog.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (LEFTARG = @extschema@.trace_id, RIGHTARG = @extschema@.trace_id,
    PROCEDURE = @extschema@.trace_id_le, COMMUTATOR = OPERATOR(pg_catalog.>=),
    NEGATOR = OPERATOR(pg_catalog.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (LEFTARG = @extschema@.trace_id, RIGHTARG = @extschema@.trace_id,
    PROCEDURE = @extschema@.trace_id_gt, COMMUTATOR = OPERATOR(pg_catalog.<),
    NEGATOR = OPERATOR(pg_catalog.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (LEFTARG = @extschema@.trace_id, RIGHTARG = @extschema@.trace_id,
    PROCEDURE = @extschema@.trace_id_ge, COMMUTATOR = OPERATOR(pg_catalog.<=),
    NEGATOR = OPERATOR(pg_catalog.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR CLASS @extschema@.trace_id_ops DEFAULT FOR TYPE @extschema@.trace_id USING btree AS
    OPERATOR 1 pg_catalog.<, OPERATOR 2 pg_catalog.<=, OPERATOR 3 pg_catalog.=,
    OPERATOR 4 pg_catalog.>=, OPERATOR 5 pg_catalog.>,
    FUNCTION 1 @extschema@.trace_id_cmp(@extschema@.trace_id, @extschema@.trace_id);
CREATE OPERATOR CLASS @extschema@.trace_id_hash_ops DEFAULT FOR TYPE @extschema@.trace_id USING hash AS
    OPERATOR 1 pg_catalog.=,
    FUNCTION 1 @extschema@.trace_id_hash(@extschema@.trace_id);

CREATE FUNCTION @extschema@.span_id_cmp(@extschema@.span_id, @extschema@.span_id) RETURNS int
    AS 'MODULE_PATHNAME', 'obs_span_id_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_eq(@extschema@.span_id, @extschema@.span_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_span_id_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_ne(@extschema@.span_id, @extschema@.span_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_span_id_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_lt(@extschema@.span_id, @extschema@.span_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_span_id_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_le(@extschema@.span_id, @extschema@.span_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_span_id_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_gt(@extschema@.span_id, @extschema@.span_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_span_id_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_ge(@extschema@.span_id, @extschema@.span_id) RETURNS bool
    AS 'MODULE_PATHNAME', 'obs_span_id_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.span_id_hash(@extschema@.span_id) RETURNS int
    AS 'MODULE_PATHNAME', 'obs_span_id_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (LEFTARG = @extschema@.span_id, RIGHTARG = @extschema@.span_id,
    PROCEDURE = @extschema@.span_id_eq, COMMUTATOR = OPERATOR(pg_catalog.=),
    NEGATOR = OPERATOR(pg_catalog.<>), RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (LEFTARG = @extschema@.span_id, RIGHTARG = @extschema@.span_id,
    PROCEDURE = @extschema@.span_id_ne, COMMUTATOR = OPERATOR(pg_catalog.<>),
    NEGATOR = OPERATOR(pg_catalog.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (LEFTARG = @extschema@.span_id, RIGHTARG = @extschema@.span_id,
    PROCEDURE = @extschema@.span_id_lt, COMMUTATOR = OPERATOR(pg_catalog.>),
    NEGATOR = OPERATOR(pg_catalog.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (LEFTARG = @extschema@.span_id, RIGHTARG = @extschema@.span_id,
    PROCEDURE = @extschema@.span_id_le, COMMUTATOR = OPERATOR(pg_catalog.>=),
    NEGATOR = OPERATOR(pg_catalog.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (LEFTARG = @extschema@.span_id, RIGHTARG = @extschema@.span_id,
    PROCEDURE = @extschema@.span_id_gt, COMMUTATOR = OPERATOR(pg_catalog.<),
    NEGATOR = OPERATOR(pg_catalog.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (LEFTARG = @extschema@.span_id, RIGHTARG = @extschema@.span_id,
    PROCEDURE = @extschema@.span_id_ge, COMMUTATOR = OPERATOR(pg_catalog.<=),
    NEGATOR = OPERATOR(pg_catalog.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR CLASS @extschema@.span_id_ops DEFAULT FOR TYPE @extschema@.span_id USING btree AS
    OPERATOR 1 pg_catalog.<, OPERATOR 2 pg_catalog.<=, OPERATOR 3 pg_catalog.=,
    OPERATOR 4 pg_catalog.>=, OPERATOR 5 pg_catalog.>,
    FUNCTION 1 @extschema@.span_id_cmp(@extschema@.span_id, @extschema@.span_id);
CREATE OPERATOR CLASS @extschema@.span_id_hash_ops DEFAULT FOR TYPE @extschema@.span_id USING hash AS
    OPERATOR 1 pg_catalog.=,
    FUNCTION 1 @extschema@.span_id_hash(@extschema@.span_id);

CREATE FUNCTION @extschema@.new_trace_id() RETURNS @extschema@.trace_id
    AS 'MODULE_PATHNAME', 'obs_new_trace_id' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.new_trace_id() IS
    'a fresh random trace id from the server''s strong random source';
CREATE FUNCTION @extschema@.new_span_id() RETURNS @extschema@.span_id
    AS 'MODULE_PATHNAME', 'obs_new_span_id' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.new_span_id() IS
    'a fresh random span id from the server''s strong random source';

/* ------------------------------------------------------------------------
 * Section: closed vocabularies
 * ------------------------------------------------------------------------ */

CREATE TYPE @extschema@.log_level AS ENUM ('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL');
COMMENT ON TYPE @extschema@.log_level IS 'log severity, ordered: DEBUG < INFO < WARNING < ERROR < CRITICAL';

CREATE TYPE @extschema@.service_type AS ENUM (
    'DATA_FETCH', 'PIPELINE', 'ANALYTICS', 'TRANSFORM', 'VALIDATION', 'STORAGE',
    'DATABASE', 'CACHE', 'API', 'MESSAGING', 'SCHEDULER', 'NOTIFICATION', 'ML', 'CUSTOM');
COMMENT ON TYPE @extschema@.service_type IS
    'the kind of work a span does (the seed''s ServiceType); the free-form service name is kept beside it';

CREATE TYPE @extschema@.span_status AS ENUM ('unset', 'ok', 'error');
COMMENT ON TYPE @extschema@.span_status IS
    'OpenTelemetry span status; finish_span accepts ''success'' as a synonym of ''ok''';

CREATE TYPE @extschema@.metric_kind AS ENUM ('gauge', 'counter');
COMMENT ON TYPE @extschema@.metric_kind IS
    'gauge: a value at a point in time; counter: a non-negative increment';

CREATE TYPE @extschema@.alert_severity AS ENUM ('warning', 'high');
COMMENT ON TYPE @extschema@.alert_severity IS
    'warning: the breach is within 10% of the threshold; high: beyond 10%';

CREATE TYPE @extschema@.run_state AS ENUM (
    'Scheduled', 'Pending', 'Running', 'Paused', 'Cancelling',
    'Completed', 'Failed', 'Crashed', 'Cancelled');
COMMENT ON TYPE @extschema@.run_state IS 'Prefect state types of a flow or task run';

/* ------------------------------------------------------------------------
 * Section: logs
 * ------------------------------------------------------------------------ */

CREATE TABLE @extschema@.logs (
    log_id      bigint GENERATED BY DEFAULT AS IDENTITY (CACHE 1000) PRIMARY KEY,
    ts          timestamptz NOT NULL,
    level       @extschema@.log_level NOT NULL,
    logger      text NOT NULL,
    message     text NOT NULL,
    context     jsonb,
    tags        jsonb,
    trace_id    @extschema@.trace_id,
    span_id     @extschema@.span_id,
    error       jsonb,
    backend_pid integer NOT NULL
);
CREATE INDEX logs_ts_idx ON @extschema@.logs (ts);
CREATE INDEX logs_trace_idx ON @extschema@.logs (trace_id) WHERE trace_id IS NOT NULL;
COMMENT ON TABLE @extschema@.logs IS 'structured log records written by obs.log() and obs.debug() .. obs.critical()';

/* ------------------------------------------------------------------------
 * Section: spans
 * ------------------------------------------------------------------------ */

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
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX spans_start_idx ON @extschema@.spans (start_time);
CREATE UNIQUE INDEX spans_seq_idx ON @extschema@.spans (span_seq);
COMMENT ON TABLE @extschema@.spans IS 'finished spans written by obs.finish_span()';

/* ------------------------------------------------------------------------
 * Section: metrics
 * ------------------------------------------------------------------------ */

CREATE TABLE @extschema@.metric_series (
    series_id  integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    kind       @extschema@.metric_kind NOT NULL,
    tags       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    UNIQUE (name, tags)
);
COMMENT ON TABLE @extschema@.metric_series IS
    'one row per metric name and tag set; obs never deletes series';

CREATE TABLE @extschema@.metric_points (
    series_id integer NOT NULL,
    ts        timestamptz NOT NULL,
    value     double precision NOT NULL
);
CREATE INDEX metric_points_series_ts_idx ON @extschema@.metric_points (series_id, ts);
CREATE INDEX metric_points_ts_idx ON @extschema@.metric_points USING brin (ts);
COMMENT ON TABLE @extschema@.metric_points IS 'metric samples written by obs.record_metric()';

CREATE VIEW @extschema@.metrics AS
    SELECT p.ts, s.name, s.kind, s.tags, p.value, p.series_id
      FROM @extschema@.metric_points p
      JOIN @extschema@.metric_series s USING (series_id);
COMMENT ON VIEW @extschema@.metrics IS 'metric samples with their name, kind and tags';

/* ------------------------------------------------------------------------
 * Section: alerts
 * ------------------------------------------------------------------------ */

CREATE TABLE @extschema@.alerts (
    alert_id        bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
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
    UNIQUE (series_id, observed_at, comparison, threshold)
);
CREATE INDEX alerts_created_idx ON @extschema@.alerts (created_at);
CREATE INDEX alerts_observed_idx ON @extschema@.alerts (observed_at);
COMMENT ON TABLE @extschema@.alerts IS
    'threshold breaches stored by obs.check_alert_conditions(); one row per sample, comparison and threshold';

CREATE TABLE @extschema@.alert_rules (
    rule_name   text PRIMARY KEY,
    metric_name text NOT NULL,
    threshold   double precision NOT NULL,
    comparison  text NOT NULL,
    lookback    interval NOT NULL DEFAULT '5 minutes',
    tags        jsonb,
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE @extschema@.alert_rules IS
    'alert conditions evaluated together by obs.evaluate_alert_rules(), e.g. from pg_cron';

/* ------------------------------------------------------------------------
 * Section: pipeline runs
 * ------------------------------------------------------------------------ */

CREATE TABLE @extschema@.flow_runs (
    flow_run_id text PRIMARY KEY,
    flow_name   text NOT NULL,
    status      @extschema@.run_state NOT NULL,
    start_time  timestamptz NOT NULL,
    end_time    timestamptz,
    num_tasks   integer,
    error       text,
    tags        jsonb,
    updated_at  timestamptz NOT NULL,
    duration_seconds double precision
        GENERATED ALWAYS AS (pg_catalog.date_part('epoch', end_time OPERATOR(pg_catalog.-) start_time)) STORED
);
CREATE INDEX flow_runs_name_start_idx ON @extschema@.flow_runs (flow_name, start_time);
CREATE INDEX flow_runs_start_idx ON @extschema@.flow_runs (start_time);
COMMENT ON TABLE @extschema@.flow_runs IS 'flow runs recorded by obs.record_flow_execution(), one row per run id';

CREATE TABLE @extschema@.task_runs (
    task_run_id      text PRIMARY KEY,
    task_name        text NOT NULL,
    flow_run_id      text NOT NULL,
    status           @extschema@.run_state NOT NULL,
    start_time       timestamptz NOT NULL,
    end_time         timestamptz,
    inputs_processed bigint,
    outputs_produced bigint,
    error            text,
    tags             jsonb,
    updated_at       timestamptz NOT NULL,
    duration_seconds double precision
        GENERATED ALWAYS AS (pg_catalog.date_part('epoch', end_time OPERATOR(pg_catalog.-) start_time)) STORED
);
CREATE INDEX task_runs_flow_idx ON @extschema@.task_runs (flow_run_id);
CREATE INDEX task_runs_name_start_idx ON @extschema@.task_runs (task_name, start_time);
CREATE INDEX task_runs_start_idx ON @extschema@.task_runs (start_time);
COMMENT ON TABLE @extschema@.task_runs IS 'task runs recorded by obs.record_task_execution(), one row per task run id';

/* ------------------------------------------------------------------------
 * Section: logging API (src/logs.c)
 * ------------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.log(
    level text, message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.log(text, text, jsonb, jsonb, text, text, text, text, text, text) IS
    'store a structured log record; returns its log_id, or NULL when the level is below obs.log_min_level';

CREATE FUNCTION @extschema@.debug(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_debug' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.debug(text, jsonb, jsonb, text, text, text, text, text, text) IS
    'obs.log() at level DEBUG';

CREATE FUNCTION @extschema@.info(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_info' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.info(text, jsonb, jsonb, text, text, text, text, text, text) IS
    'obs.log() at level INFO';

CREATE FUNCTION @extschema@.warning(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_warning' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.warning(text, jsonb, jsonb, text, text, text, text, text, text) IS
    'obs.log() at level WARNING';

CREATE FUNCTION @extschema@.error(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_error' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.error(text, jsonb, jsonb, text, text, text, text, text, text) IS
    'obs.log() at level ERROR';

CREATE FUNCTION @extschema@.critical(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_critical' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.critical(text, jsonb, jsonb, text, text, text, text, text, text) IS
    'obs.log() at level CRITICAL';

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

/* ------------------------------------------------------------------------
 * Section: metrics API (src/metrics.c)
 * ------------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.record_metric(
    name text, value double precision, tags jsonb DEFAULT NULL,
    kind text DEFAULT 'gauge', ts timestamptz DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'obs_record_metric' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.record_metric(text, double precision, jsonb, text, timestamptz) IS
    'store one metric sample (a gauge value or a counter increment) for the series name+tags';

/* ------------------------------------------------------------------------
 * Section: pipeline runs API (src/runs.c)
 * ------------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.record_flow_execution(
    flow_name text, flow_run_id text, start_time timestamptz,
    end_time timestamptz DEFAULT NULL, status text DEFAULT 'Completed',
    num_tasks integer DEFAULT NULL, error text DEFAULT NULL, tags jsonb DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'obs_record_flow_execution' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.record_flow_execution(text, text, timestamptz, timestamptz, text, integer, text, jsonb) IS
    'insert or update the flow run flow_run_id';

CREATE FUNCTION @extschema@.record_task_execution(
    task_name text, flow_run_id text, start_time timestamptz,
    end_time timestamptz DEFAULT NULL, status text DEFAULT 'Completed',
    inputs_processed bigint DEFAULT NULL, outputs_produced bigint DEFAULT NULL,
    error text DEFAULT NULL, task_run_id text DEFAULT NULL, tags jsonb DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'obs_record_task_execution' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.record_task_execution(text, text, timestamptz, timestamptz, text, bigint, bigint, text, text, jsonb) IS
    'insert or update a task run (task_run_id defaults to flow_run_id:task_name:start_time in UTC)';

/* ------------------------------------------------------------------------
 * Section: buffered ingest and instrumentation
 *          (src/buffer.c, src/worker.c, src/codec.c, src/instrument.c, src/sampling.c)
 * ------------------------------------------------------------------------ */

CREATE TABLE @extschema@.dead_letters (
    dead_letter_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    received_at    timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    signal         text NOT NULL,
    record         jsonb NOT NULL,
    reason         text NOT NULL,
    sqlstate       text
);
CREATE INDEX dead_letters_received_idx ON @extschema@.dead_letters (received_at);
COMMENT ON TABLE @extschema@.dead_letters IS
    'buffered records the flusher worker could not store, with the error that rejected each';

CREATE FUNCTION @extschema@.flush(timeout interval DEFAULT '30 seconds') RETURNS boolean
    AS 'MODULE_PATHNAME', 'obs_flush' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.flush(interval) IS
    'wait until every record buffered in this database before the call is stored; true, or error 57014 on timeout';

CREATE FUNCTION @extschema@.ingest_stats(
    OUT database text, OUT signal text, OUT accepted bigint, OUT stored bigint,
    OUT dropped_full bigint, OUT dropped_other bigint, OUT dead_lettered bigint,
    OUT pending bigint, OUT sampled_out bigint, OUT pending_bytes bigint,
    OUT buffer_size bigint, OUT batches bigint, OUT retries bigint,
    OUT last_flush_at timestamptz, OUT worker_pid integer)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'obs_ingest_stats' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.ingest_stats() IS
    'counters of the buffered write path since the server (re)initialised shared memory';

CREATE VIEW @extschema@.ingest_stats AS SELECT * FROM @extschema@.ingest_stats();
COMMENT ON VIEW @extschema@.ingest_stats IS
    'per database and signal: accepted = stored + dropped_full + dropped_other + dead_lettered + pending; sampled_out is apart';

CREATE FUNCTION @extschema@.trace_sampled(trace_id @extschema@.trace_id, rate double precision)
RETURNS boolean AS 'MODULE_PATHNAME', 'obs_trace_id_sampled' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.trace_sampled(@extschema@.trace_id, double precision) IS
    'head-sampling decision for a new trace at a rate (OpenTelemetry TraceIdRatioBased on the low 8 bytes)';

/* ------------------------------------------------------------------------
 * Section: alerts API (SQL)
 * ------------------------------------------------------------------------ */

/*
 * Alert arguments are checked in one place, so check_alert_conditions(),
 * add_alert_rule() and evaluate_alert_rules() agree on what is valid.
 * Comparisons are stored by their canonical word.
 */
CREATE FUNCTION @extschema@._alert_args(
    p_metric_name text, p_threshold double precision, p_comparison text,
    p_lookback interval, p_tags jsonb)
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
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

/*
 * The one place alerts are computed and stored.  Breaches are the samples
 * in (as_of - lookback, as_of] of the series named p_metric_name whose tags
 * contain p_tags.  Each is inserted once: breaches already stored are
 * skipped, and the unique key (series_id, observed_at, comparison,
 * threshold) with ON CONFLICT DO NOTHING absorbs a concurrent re-check.
 * Two samples of one series at the same instant make one alert, for the
 * value furthest from the threshold.  Newly stored ones are logged at
 * WARNING.  Every breach of the window is returned,
 * read back in a separate statement so that the rows inserted here are
 * visible.
 */
CREATE FUNCTION @extschema@._store_alerts(
    p_metric_name text, p_threshold double precision, p_comparison text,
    p_lookback interval, p_tags jsonb, p_as_of timestamptz, p_rule_name text)
RETURNS TABLE(o_alert_id bigint, o_metric_name text, o_tags jsonb, o_value double precision,
              o_threshold double precision, o_comparison text,
              o_severity @extschema@.alert_severity, o_observed_at timestamptz, o_is_new boolean)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
DECLARE
    v_comparison text;
    v_until timestamptz;
    v_since timestamptz;
    v_new bigint[] := '{}';
    v_symbol text;
    r record;
BEGIN
    v_comparison := @extschema@._alert_args(p_metric_name, p_threshold, p_comparison, p_lookback, p_tags);
    v_until := COALESCE(p_as_of, pg_catalog.clock_timestamp());
    v_since := v_until - p_lookback;
    v_symbol := CASE v_comparison WHEN 'greater' THEN '>' WHEN 'less' THEN '<'
                                  WHEN 'greater_or_equal' THEN '>=' ELSE '<=' END;

    FOR r IN
        INSERT INTO @extschema@.alerts AS a
               (metric_name, series_id, tags, observed_at, value, threshold,
                comparison, severity, rule_name)
        SELECT DISTINCT ON (b.series_id, b.ts)
               b.name, b.series_id, b.tags, b.ts, b.value, p_threshold,
               v_comparison,
               CASE WHEN pg_catalog.abs(b.value::numeric - p_threshold::numeric)
                         > 0.1 * pg_catalog.abs(p_threshold::numeric)
                    THEN 'high' ELSE 'warning' END::@extschema@.alert_severity,
               p_rule_name
          FROM (SELECT s.series_id, s.name, s.tags, p.ts, p.value
                  FROM @extschema@.metric_series s
                  JOIN @extschema@.metric_points p ON p.series_id = s.series_id
                 WHERE s.name = p_metric_name
                   AND (p_tags IS NULL OR s.tags @> p_tags)
                   AND p.ts > v_since AND p.ts <= v_until
                   AND CASE v_comparison
                           WHEN 'greater' THEN p.value > p_threshold
                           WHEN 'less' THEN p.value < p_threshold
                           WHEN 'greater_or_equal' THEN p.value >= p_threshold
                           ELSE p.value <= p_threshold
                       END) b
         WHERE NOT EXISTS (SELECT 1 FROM @extschema@.alerts o
                            WHERE o.series_id = b.series_id AND o.observed_at = b.ts
                              AND o.comparison = v_comparison AND o.threshold = p_threshold)
         ORDER BY b.series_id, b.ts,
                  pg_catalog.abs(b.value - p_threshold) DESC, b.value
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
                'comparison', v_comparison, 'severity', r.severity,
                'observed_at', r.observed_at, 'rule_name', p_rule_name),
            r.tags,
            'obs.alerts');
    END LOOP;

    RETURN QUERY
        SELECT a.alert_id, a.metric_name, a.tags, a.value, a.threshold, a.comparison,
               a.severity, a.observed_at, a.alert_id = ANY (v_new)
          FROM @extschema@.alerts a
          JOIN @extschema@.metric_series s ON s.series_id = a.series_id
         WHERE s.name = p_metric_name
           AND (p_tags IS NULL OR s.tags @> p_tags)
           AND a.observed_at > v_since AND a.observed_at <= v_until
           AND a.comparison = v_comparison
           AND a.threshold = p_threshold
         ORDER BY a.observed_at, a.series_id;
END
$$;
COMMENT ON FUNCTION @extschema@._store_alerts(text, double precision, text, interval, jsonb, timestamptz, text) IS
    'internal: store and return the breaches of one alert condition (see check_alert_conditions)';

CREATE FUNCTION @extschema@.check_alert_conditions(
    metric_name text, threshold double precision, comparison text DEFAULT 'greater',
    lookback interval DEFAULT '5 minutes', tags jsonb DEFAULT NULL,
    as_of timestamptz DEFAULT NULL)
RETURNS TABLE(alert_id bigint, metric_name text, tags jsonb, value double precision,
              threshold double precision, comparison text,
              severity @extschema@.alert_severity, observed_at timestamptz, is_new boolean)
LANGUAGE sql VOLATILE PARALLEL UNSAFE AS $$
    SELECT * FROM @extschema@._store_alerts($1, $2, $3, $4, $5, $6, NULL)
$$;
COMMENT ON FUNCTION @extschema@.check_alert_conditions(text, double precision, text, interval, jsonb, timestamptz) IS
$$return every sample of metric metric_name in (as_of - lookback, as_of] (as_of NULL = the current time, clock_timestamp()) that breaches threshold, storing each in obs.alerts once.
comparison: greater, less, greater_or_equal, less_or_equal or >, <, >=, <= (case-insensitive; stored as the word).
tags: only series whose tags contain these (@>) count.
severity: high when |value - threshold| > 0.1 * |threshold|, computed on the values cast to numeric (15 significant digits), else warning; so a breach of exactly 10% is warning and any strict breach of a threshold of 0 is high.
is_new: the alert was stored by this call; a re-check of the same window stores nothing twice.  Each new alert is also logged once with obs.warning(..., logger => 'obs.alerts').
Errors: 22004 for NULL metric_name, threshold, comparison or lookback; 22003 for a NaN or infinite threshold; 22023 for an invalid comparison, a negative lookback or tags that are not a JSON object.$$;

CREATE FUNCTION @extschema@.add_alert_rule(
    rule_name text, metric_name text, threshold double precision,
    comparison text DEFAULT 'greater', lookback interval DEFAULT '5 minutes',
    tags jsonb DEFAULT NULL)
RETURNS @extschema@.alert_rules
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
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

CREATE FUNCTION @extschema@.drop_alert_rule(rule_name text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
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

CREATE FUNCTION @extschema@.evaluate_alert_rules(as_of timestamptz DEFAULT NULL)
RETURNS SETOF @extschema@.alerts
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
DECLARE
    v_rule @extschema@.alert_rules;
    v_new bigint[] := '{}';
BEGIN
    FOR v_rule IN
        SELECT * FROM @extschema@.alert_rules r WHERE r.enabled ORDER BY r.rule_name
    LOOP
        v_new := v_new || ARRAY(
            SELECT x.o_alert_id
              FROM @extschema@._store_alerts(v_rule.metric_name, v_rule.threshold,
                                             v_rule.comparison, v_rule.lookback,
                                             v_rule.tags, $1, v_rule.rule_name) x
             WHERE x.o_is_new);
    END LOOP;
    RETURN QUERY
        SELECT * FROM @extschema@.alerts a
         WHERE a.alert_id = ANY (v_new)
         ORDER BY a.rule_name, a.observed_at, a.alert_id;
END
$$;
COMMENT ON FUNCTION @extschema@.evaluate_alert_rules(timestamptz) IS
$$check every enabled rule of obs.alert_rules over its lookback ending at as_of (NULL = the current time), store the breaches with the rule's name, and return the alerts stored by this call.
Schedule it with pg_cron: SELECT cron.schedule('obs-alerts', '* * * * *', 'SELECT obs.evaluate_alert_rules()');$$;

CREATE FUNCTION @extschema@.acknowledge_alert(alert_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
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

CREATE VIEW @extschema@.active_alerts AS
    SELECT a.alert_id, a.created_at, a.metric_name, a.series_id, a.tags, a.observed_at,
           a.value, a.threshold, a.comparison, a.severity, a.rule_name
      FROM @extschema@.alerts a
     WHERE a.acknowledged_at IS NULL
     ORDER BY a.observed_at DESC, a.alert_id DESC;
COMMENT ON VIEW @extschema@.active_alerts IS 'alerts not yet acknowledged, newest observation first';

/* ------------------------------------------------------------------------
 * Section: pipeline health (SQL)
 * ------------------------------------------------------------------------ */

/*
 * Success rate is Prefect's: Completed / (Completed + Failed + Crashed),
 * NULL when no run has reached one of those states.  Cancelled runs count
 * neither way; runs in a non-terminal state (Scheduled, Pending, Running,
 * Paused, Cancelling) are counted as running.  Durations are over finished
 * runs (Completed, Failed, Crashed) that have an end_time.  Time ranges
 * filter on start_time in [since, until); NULL leaves that side open.
 * The one-row functions and the per-name views compute the same columns;
 * keep each pair in step.
 */

CREATE FUNCTION @extschema@.get_flow_health(
    flow_name text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(flow_name text, total_runs bigint, success_count bigint, failure_count bigint,
              cancelled_count bigint, running_count bigint, success_rate double precision,
              avg_duration_seconds double precision, p50_duration_seconds double precision,
              p95_duration_seconds double precision, max_duration_seconds double precision,
              last_run_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT get_flow_health.flow_name,
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
     WHERE (get_flow_health.flow_name IS NULL OR r.flow_name = get_flow_health.flow_name)
       AND (get_flow_health.since IS NULL OR r.start_time >= get_flow_health.since)
       AND (get_flow_health.until IS NULL OR r.start_time < get_flow_health.until)
$$;
COMMENT ON FUNCTION @extschema@.get_flow_health(text, timestamptz, timestamptz) IS
$$one row of health figures for flow flow_name (all flows when NULL) over runs started in [since, until).
success_rate = Completed / (Completed + Failed + Crashed), NULL when that is 0; success_count = Completed; failure_count = Failed + Crashed; cancelled_count = Cancelled; running_count = Scheduled, Pending, Running, Paused or Cancelling.
Durations (seconds) are over Completed, Failed and Crashed runs with an end_time; last_run_at is the latest start_time.$$;

CREATE VIEW @extschema@.flow_health AS
    SELECT r.flow_name,
           pg_catalog.count(*) AS total_runs,
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed') AS success_count,
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')) AS failure_count,
           pg_catalog.count(*) FILTER (WHERE r.status = 'Cancelled') AS cancelled_count,
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Scheduled', 'Pending', 'Running', 'Paused', 'Cancelling')) AS running_count,
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed')::double precision
               / NULLIF(pg_catalog.count(*) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0) AS success_rate,
           pg_catalog.avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS avg_duration_seconds,
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS p50_duration_seconds,
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS p95_duration_seconds,
           pg_catalog.max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS max_duration_seconds,
           pg_catalog.max(r.start_time) AS last_run_at
      FROM @extschema@.flow_runs r
     GROUP BY r.flow_name;
COMMENT ON VIEW @extschema@.flow_health IS
    'obs.get_flow_health() per flow_name over all runs: success rate Completed / (Completed + Failed + Crashed), counts, durations';

CREATE FUNCTION @extschema@.get_task_performance(
    task_name text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(task_name text, total_runs bigint, avg_duration_seconds double precision,
              p50_duration_seconds double precision, p95_duration_seconds double precision,
              max_duration_seconds double precision, total_inputs bigint, total_outputs bigint,
              throughput double precision, failure_count bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT get_task_performance.task_name,
           pg_catalog.count(*),
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
                                                                   AND r.inputs_processed IS NOT NULL), 0),
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed'))
      FROM @extschema@.task_runs r
     WHERE (get_task_performance.task_name IS NULL OR r.task_name = get_task_performance.task_name)
       AND (get_task_performance.since IS NULL OR r.start_time >= get_task_performance.since)
       AND (get_task_performance.until IS NULL OR r.start_time < get_task_performance.until)
$$;
COMMENT ON FUNCTION @extschema@.get_task_performance(text, timestamptz, timestamptz) IS
$$one row of performance figures for task task_name (all tasks when NULL) over runs started in [since, until).
Durations (seconds) are over Completed, Failed and Crashed runs with an end_time; throughput = sum(inputs_processed) / sum(duration_seconds) in records per second over those runs that have both; failure_count = Failed + Crashed.$$;

CREATE VIEW @extschema@.task_performance AS
    SELECT r.task_name,
           pg_catalog.count(*) AS total_runs,
           pg_catalog.avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS avg_duration_seconds,
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS p50_duration_seconds,
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS p95_duration_seconds,
           pg_catalog.max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS max_duration_seconds,
           pg_catalog.sum(r.inputs_processed)::bigint AS total_inputs,
           pg_catalog.sum(r.outputs_produced)::bigint AS total_outputs,
           pg_catalog.sum(r.inputs_processed) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                        AND r.duration_seconds IS NOT NULL)::double precision
               / NULLIF(pg_catalog.sum(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                                   AND r.inputs_processed IS NOT NULL), 0) AS throughput,
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')) AS failure_count
      FROM @extschema@.task_runs r
     GROUP BY r.task_name;
COMMENT ON VIEW @extschema@.task_performance IS
    'obs.get_task_performance() per task_name over all runs: durations, p50/p95, inputs, outputs, throughput (records/s), failures';

CREATE FUNCTION @extschema@.get_task_summary(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(task_name text, runs bigint, failures bigint, success_rate double precision,
              duration_seconds double precision, max_duration_seconds double precision,
              throughput double precision, inputs_processed bigint, outputs_produced bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT r.task_name,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')),
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed')::double precision
               / NULLIF(pg_catalog.count(*) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0),
           pg_catalog.avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.sum(r.inputs_processed) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                        AND r.duration_seconds IS NOT NULL)::double precision
               / NULLIF(pg_catalog.sum(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                                   AND r.inputs_processed IS NOT NULL), 0),
           pg_catalog.sum(r.inputs_processed)::bigint,
           pg_catalog.sum(r.outputs_produced)::bigint
      FROM @extschema@.task_runs r
     WHERE (get_task_summary.since IS NULL OR r.start_time >= get_task_summary.since)
       AND (get_task_summary.until IS NULL OR r.start_time < get_task_summary.until)
     GROUP BY r.task_name
$$;
COMMENT ON FUNCTION @extschema@.get_task_summary(timestamptz, timestamptz) IS
$$one row per task_name over runs started in [since, until): runs, failures (Failed + Crashed), success_rate (Prefect's), duration_seconds (average) and max_duration_seconds over finished runs, throughput (records/s), inputs_processed, outputs_produced.
Slowest tasks: ORDER BY duration_seconds DESC LIMIT 5; highest throughput: ORDER BY throughput DESC NULLS LAST LIMIT 5; bottlenecks: WHERE duration_seconds > 30.$$;

-- plain SQL (not a call of the function), so that SELECT on the view is
-- all a reader needs; keep the aggregates in step with get_task_summary()
CREATE VIEW @extschema@.task_summary (task_name, runs, failures, success_rate, duration_seconds, max_duration_seconds, throughput, inputs_processed, outputs_produced) AS
    SELECT r.task_name,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')),
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed')::double precision
               / NULLIF(pg_catalog.count(*) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0),
           pg_catalog.avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.sum(r.inputs_processed) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                        AND r.duration_seconds IS NOT NULL)::double precision
               / NULLIF(pg_catalog.sum(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                                   AND r.inputs_processed IS NOT NULL), 0),
           pg_catalog.sum(r.inputs_processed)::bigint,
           pg_catalog.sum(r.outputs_produced)::bigint
      FROM @extschema@.task_runs r
     GROUP BY r.task_name;
COMMENT ON VIEW @extschema@.task_summary IS
    'obs.get_task_summary() over all runs: one row per task with runs, failures, success_rate, duration_seconds, throughput';

/* ------------------------------------------------------------------------
 * Section: query recipes and dashboards (SQL)
 * ------------------------------------------------------------------------ */

/*
 * The seed's CloudWatch Insights queries and Kibana panels as views and
 * functions, the JSON-lines rendering of logs, the Jaeger JSON export and
 * retention.  Minute buckets use date_trunc() and so follow the session's
 * TimeZone for zones with sub-hour offsets only; heatmap buckets use
 * date_bin() from 2000-01-01 00:00 UTC.
 */

CREATE FUNCTION @extschema@.high_latency_by_endpoint(
    threshold_ms double precision DEFAULT 1000,
    metric_name text DEFAULT 'request_latency_ms',
    since timestamptz DEFAULT NULL)
RETURNS TABLE(endpoint text, requests bigint, avg_latency_ms double precision,
              max_latency_ms double precision)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT s.tags ->> 'endpoint',
           pg_catalog.count(*),
           pg_catalog.avg(p.value),
           pg_catalog.max(p.value)
      FROM @extschema@.metric_series s
      JOIN @extschema@.metric_points p ON p.series_id = s.series_id
     WHERE s.name = high_latency_by_endpoint.metric_name
       AND s.tags ? 'endpoint'
       AND p.value > high_latency_by_endpoint.threshold_ms
       AND (high_latency_by_endpoint.since IS NULL OR p.ts >= high_latency_by_endpoint.since)
     GROUP BY 1
     ORDER BY 2 DESC, 1
$$;
COMMENT ON FUNCTION @extschema@.high_latency_by_endpoint(double precision, text, timestamptz) IS
    'the seed''s "high latency requests" query: samples of metric_name above threshold_ms since since, counted per "endpoint" tag, most first';

CREATE VIEW @extschema@.error_rate_by_service AS
    SELECT s.service_name, s.service_type,
           pg_catalog.count(*) AS spans,
           pg_catalog.count(*) FILTER (WHERE s.status = 'error') AS errors,
           pg_catalog.count(*) FILTER (WHERE s.status = 'error')::double precision
               / pg_catalog.count(*) AS error_rate
      FROM @extschema@.spans s
     GROUP BY s.service_name, s.service_type;
COMMENT ON VIEW @extschema@.error_rate_by_service IS
    'the seed''s "error rate by service" query: finished spans, error spans and their ratio (0-1) per service';

CREATE VIEW @extschema@.throughput_per_minute AS
    SELECT pg_catalog.date_trunc('minute', s.start_time) AS minute, s.service_name,
           pg_catalog.count(*) AS spans,
           pg_catalog.count(*) FILTER (WHERE s.status = 'error') AS errors
      FROM @extschema@.spans s
     GROUP BY 1, 2;
COMMENT ON VIEW @extschema@.throughput_per_minute IS
    'the seed''s "throughput trend" query: spans started per minute and service, with their errors (the Kibana error-rate trend)';

CREATE VIEW @extschema@.log_volume_per_minute AS
    SELECT pg_catalog.date_trunc('minute', l.ts) AS minute, l.level,
           pg_catalog.count(*) AS records
      FROM @extschema@.logs l
     GROUP BY 1, 2;
COMMENT ON VIEW @extschema@.log_volume_per_minute IS
    'log records per minute and level (the CloudWatch "stats count() by bin(1m)" over logs)';

CREATE FUNCTION @extschema@.latency_heatmap(
    metric_name text DEFAULT 'request_latency_ms',
    bucket interval DEFAULT '1 minute',
    bounds double precision[] DEFAULT '{10,50,100,250,500,1000,2500,5000}',
    since timestamptz DEFAULT NULL)
RETURNS TABLE(time_bucket timestamptz, lower_ms double precision, upper_ms double precision,
              requests bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'metric_name must not be null' USING ERRCODE = '22004';
    END IF;
    IF $2 IS NULL THEN
        RAISE EXCEPTION 'bucket must not be null' USING ERRCODE = '22004';
    END IF;
    IF $2 <= '0'::interval OR pg_catalog.date_part('month', $2) <> 0
       OR pg_catalog.date_part('year', $2) <> 0 THEN
        RAISE EXCEPTION 'bucket must be a positive interval without months or years'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The bucket given was %s.', $2);
    END IF;
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
    RETURN QUERY
        SELECT h.tb, CASE WHEN h.wb > 0 THEN ($3)[h.wb] END,
               ($3)[h.wb + 1], pg_catalog.count(*)
          FROM (SELECT pg_catalog.date_bin($2, p.ts, '2000-01-01 00:00:00+00'::timestamptz) AS tb,
                       pg_catalog.width_bucket(p.value, $3) AS wb
                  FROM @extschema@.metric_series s
                  JOIN @extschema@.metric_points p ON p.series_id = s.series_id
                 WHERE s.name = $1
                   AND ($4 IS NULL OR p.ts >= $4)) h
         GROUP BY h.tb, h.wb
         ORDER BY h.tb, h.wb;
END
$$;
COMMENT ON FUNCTION @extschema@.latency_heatmap(text, interval, double precision[], timestamptz) IS
$$the Kibana "request latency heatmap": samples of metric_name since since, counted per time bucket (date_bin from 2000-01-01 UTC) and value bucket [lower_ms, upper_ms) cut at bounds; lower_ms NULL is below bounds[1], upper_ms NULL is at or above the last bound; only non-empty cells are returned.
Errors: 22004 for NULL metric_name, bucket or bounds; 22023 for a bucket that is not positive or has months/years, or bounds that are empty, not finite or not strictly ascending.$$;

CREATE VIEW @extschema@.service_performance AS
    SELECT s.service_name, s.service_type,
           pg_catalog.count(*) AS spans,
           pg_catalog.avg(s.duration_us::double precision / 1000.0) AS avg_ms,
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY s.duration_us::double precision / 1000.0) AS p95_ms,
           pg_catalog.max(s.duration_us)::double precision / 1000.0 AS max_ms,
           pg_catalog.count(*) FILTER (WHERE s.status = 'error') AS errors,
           pg_catalog.count(*) FILTER (WHERE s.status = 'error')::double precision
               / pg_catalog.count(*) AS error_rate
      FROM @extschema@.spans s
     GROUP BY s.service_name, s.service_type;
COMMENT ON VIEW @extschema@.service_performance IS
    'the Kibana "service performance" panel: spans per service with average, p95 and maximum duration in milliseconds and the error ratio';

CREATE FUNCTION @extschema@.log_json(l @extschema@.logs)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
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
               'log_id', l.log_id)::text
$$;
COMMENT ON FUNCTION @extschema@.log_json(@extschema@.logs) IS
$$one log record as a single-line JSON object for CloudWatch/ELK ingestion, keys in this order: timestamp (ISO-8601 UTC with microseconds and Z), level, logger, message, context, tags, trace_id, span_id, error, log_id; absent values are null.$$;

CREATE VIEW @extschema@.logs_json AS
    SELECT l.log_id, l.ts, @extschema@.log_json(l) AS line
      FROM @extschema@.logs l;
COMMENT ON VIEW @extschema@.logs_json IS
    'every log record as one JSON line (see obs.log_json); e.g. psql -XAt -c "SELECT line FROM obs.logs_json ORDER BY log_id" > app.ndjson';

/* a span tag value as a Jaeger key/type/value object */
CREATE FUNCTION @extschema@._jaeger_tag(key text, value jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
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
                             ELSE pg_catalog.to_jsonb((_jaeger_tag.value)::text) END)
$$;
COMMENT ON FUNCTION @extschema@._jaeger_tag(text, jsonb) IS
    'internal: one Jaeger tag; JSON numbers become int64 or float64, booleans bool, everything else a string';

CREATE FUNCTION @extschema@.jaeger_json(
    trace_ids @extschema@.trace_id[] DEFAULT NULL, since timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH traces AS (
        SELECT DISTINCT s.trace_id
          FROM @extschema@.spans s
         WHERE (jaeger_json.trace_ids IS NULL OR s.trace_id = ANY (jaeger_json.trace_ids))
           AND (jaeger_json.since IS NULL OR s.start_time >= jaeger_json.since)
    ), trace_spans AS (
        SELECT s.*,
               pg_catalog.min(s.start_time) OVER (PARTITION BY s.trace_id, s.service_name) AS service_start
          FROM @extschema@.spans s
         WHERE s.trace_id IN (SELECT t.trace_id FROM traces t)
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
$$;
COMMENT ON FUNCTION @extschema@.jaeger_json(@extschema@.trace_id[], timestamptz) IS
$$the traces trace_ids (all when NULL) that have a span started at or after since (any when NULL), with all their spans, as a Jaeger JSON document ({"data": [trace, ...]}) that the Jaeger UI opens with "JSON File"; one process per service name; span tags are the span's tags plus service.type, otel.status_code (OK/ERROR, absent when unset), otel.status_description (the error text) and error=true for error spans.$$;

CREATE FUNCTION @extschema@.purge(older_than interval)
RETURNS TABLE(table_name text, deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
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

    DELETE FROM @extschema@.alerts t WHERE t.observed_at < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'alerts'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.task_runs t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'task_runs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.flow_runs t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'flow_runs'; deleted := v_count; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.purge(interval) IS
$$retention: delete logs (ts), spans (start_time), metric_points (ts), alerts (observed_at), task_runs and flow_runs (start_time) older than now() - older_than; metric_series are kept.  Returns the rows deleted per table.
pg_cron: SELECT cron.schedule('obs-retention', '17 3 * * *', 'SELECT obs.purge(''30 days'')');
Errors: 22004 for NULL, 22023 for a negative interval.$$;

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
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
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
            'parse_traceparent', 'reset_spans', 'flush', 'ingest_stats', 'trace_sampled']
        /* administration: revoked from PUBLIC, granted to no helper role */
        WHEN 'admin' THEN ARRAY[
            'check_alert_conditions', 'add_alert_rule', 'drop_alert_rule',
            'evaluate_alert_rules', 'acknowledge_alert', 'purge', '_store_alerts',
            'grant_writer', 'grant_reader', 'revoke_writer', 'revoke_reader']
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
$$let role write signals: USAGE on schema obs and EXECUTE on obs.log, obs.debug .. obs.critical, obs.start_span, obs.finish_span, obs.set_traceparent, obs.record_metric, obs.record_flow_execution and obs.record_task_execution; no SELECT on anything.
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
REVOKE EXECUTE ON FUNCTION @extschema@._set_function_privileges(text, boolean, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._release_schema_usage(regrole) FROM PUBLIC;

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
