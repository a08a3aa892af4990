-- obs.trace_id / obs.span_id types, random ids, traceparent parsing
\ir test/setup.sql

-- text form is lowercase hex; input accepts upper case
SELECT '4BF92F3577B34DA6A3CE929D0E0E4736'::obs.trace_id AS trace,
       '00F067AA0BA902B7'::obs.span_id AS span;
-- binary round trip and comparison as unsigned bytes
SELECT obs.trace_id_send('0af7651916cd43dd8448eb211c80319c') AS send;
SELECT 'ff00000000000000'::obs.span_id > '0100000000000000'::obs.span_id AS unsigned_order,
       '0af7651916cd43dd8448eb211c80319c'::obs.trace_id = '0AF7651916CD43DD8448EB211C80319C'::obs.trace_id AS eq;
-- bad input
SELECT pg_temp.err($$SELECT 'abc'::obs.trace_id$$);
SELECT pg_temp.err($$SELECT '4bf92f3577b34da6a3ce929d0e0e473g'::obs.trace_id$$);
SELECT pg_temp.err($$SELECT '00f067aa0ba902b7ff'::obs.span_id$$);
-- random ids: right size, never zero, distinct
SELECT length(obs.new_trace_id()::text) AS trace_len, length(obs.new_span_id()::text) AS span_len;
SELECT count(DISTINCT obs.new_span_id()) AS distinct_ids FROM generate_series(1, 1000);
-- indexable: btree and hash
CREATE TEMP TABLE t (id obs.trace_id PRIMARY KEY);
INSERT INTO t SELECT obs.new_trace_id() FROM generate_series(1, 100);
CREATE INDEX ON t USING hash (id);
SELECT count(*) FROM t a JOIN t b USING (id);

-- W3C traceparent
SELECT * FROM obs.parse_traceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
SELECT sampled FROM obs.parse_traceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00');
-- a future version may carry more fields
SELECT version, trace_id FROM obs.parse_traceparent('cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds');
SELECT pg_temp.err($$SELECT obs.parse_traceparent('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01')$$);
SELECT pg_temp.err($$SELECT obs.parse_traceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7')$$);
SELECT pg_temp.err($$SELECT obs.parse_traceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')$$);
SELECT pg_temp.err($$SELECT obs.parse_traceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01')$$);
SELECT pg_temp.err($$SELECT obs.parse_traceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')$$);
SELECT pg_temp.err($$SELECT obs.parse_traceparent('00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01')$$);
SELECT pg_temp.err($$SELECT obs.parse_traceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra')$$);
SELECT obs.parse_traceparent(NULL) IS NULL AS null_in_null_out;
