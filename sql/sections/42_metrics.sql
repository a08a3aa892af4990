/* ------------------------------------------------------------------------
 * Section: metrics API (src/metrics.c)
 * ------------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.record_metric(
    name text, value double precision, tags jsonb DEFAULT NULL,
    kind text DEFAULT 'gauge', ts timestamptz DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'obs_record_metric' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.record_metric(text, double precision, jsonb, text, timestamptz) IS
    'store one metric sample (a gauge value or a counter increment) for the series name+tags';

