/* ------------------------------------------------------------------------
 * Section: shipping encoders (the payloads of the OTLP and CloudWatch sinks)
 * ------------------------------------------------------------------------ */

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
