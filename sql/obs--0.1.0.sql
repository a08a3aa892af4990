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
    log_id      bigint GENERATED BY DEFAULT AS IDENTITY (CACHE 64) PRIMARY KEY,
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
    span_seq       bigint GENERATED BY DEFAULT AS IDENTITY (CACHE 64) NOT NULL,
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
    'insert or update a task run (task_run_id defaults to flow_run_id:task_name)';

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

/* ------------------------------------------------------------------------
 * Section: pipeline health (SQL)
 * ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------
 * Section: query recipes and dashboards (SQL)
 * ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------
 * Section: privileges
 * ------------------------------------------------------------------------ */
