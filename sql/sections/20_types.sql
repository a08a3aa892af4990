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

