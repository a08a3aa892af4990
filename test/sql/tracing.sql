-- distributed tracing: span stack, parents, statuses, traceparent
\ir test/setup.sql
SET obs.service_name = 'finance-pipeline';
-- finished(span, us): us, what obs.finish_span(span) returned, is the stored
-- span's duration_us, which is its end_time - start_time to the microsecond
CREATE FUNCTION pg_temp.finished(span obs.span_id, us bigint) RETURNS boolean LANGUAGE sql AS $$
    SELECT us = s.duration_us AND s.duration_us = (extract(epoch FROM s.end_time - s.start_time) * 1000000)::bigint
      FROM obs.spans s WHERE s.span_id = span $$;

-- nothing open yet
SELECT obs.current_span_id() IS NULL AS no_span, obs.current_trace_id() IS NULL AS no_trace,
       obs.current_traceparent() IS NULL AS no_header;

-- the seed: a span around fetch_company_data, with a nested span
SELECT obs.start_span('fetch_company_data', 'DATA_FETCH', '{"ticker": "AAPL", "source": "SEC"}') AS root \gset
SELECT obs.start_span('parse_filings', 'transform') AS child \gset
SELECT obs.current_span_id() = :'child' AS child_is_current;
SELECT depth, operation, service_type, service_name, parent_span_id = :'root' AS under_root
  FROM obs.open_spans() ORDER BY depth;
-- a log inside a span carries its trace and span id
SELECT obs.info('parsing') AS log_id \gset
SELECT span_id = :'child' AS log_has_span, trace_id = obs.current_trace_id() AS log_has_trace
  FROM obs.logs WHERE log_id = :log_id;
-- the W3C header names the current span
SELECT obs.current_traceparent() = '00-' || obs.current_trace_id() || '-' || :'child' || '-01' AS header_ok;
SELECT pg_temp.finished(:'child', obs.finish_span(:'child', 'success')) AS finished;
SELECT obs.current_span_id() = :'root' AS root_is_current_again;
SELECT pg_temp.finished(:'root', obs.finish_span(:'root', status => 'error', error => 'SEC API timeout')) AS finished;
SELECT operation, service_type, service_name, status, error, tags,
       parent_span_id IS NULL AS is_root, length(trace_id::text) AS trace_hex, length(span_id::text) AS span_hex
  FROM obs.spans ORDER BY span_seq;
-- one trace, parent-child
SELECT count(DISTINCT c.trace_id) AS traces,
       bool_and(c.parent_span_id = p.span_id) AS linked
  FROM obs.spans c JOIN obs.spans p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id;
-- duration is exact to the microsecond
SELECT bool_and(duration_us = (extract(epoch FROM end_time - start_time) * 1000000)::bigint) AS exact,
       bool_and(duration_us >= 0) AS non_negative
  FROM obs.spans;

-- status defaults: ok, or error when an error is given; unset is kept
SELECT obs.start_span('a') AS a \gset
SELECT pg_temp.finished(:'a', obs.finish_span(:'a'));
SELECT obs.start_span('b') AS b \gset
SELECT pg_temp.finished(:'b', obs.finish_span(:'b', error => 'it broke'));
SELECT obs.start_span('c') AS c \gset
SELECT pg_temp.finished(:'c', obs.finish_span(:'c', 'UNSET'));
SELECT operation, service_type, status, error FROM obs.spans WHERE operation IN ('a', 'b', 'c') ORDER BY operation;

-- finishing twice, or a span never started, is an error
SELECT replace(pg_temp.err(format('SELECT obs.finish_span(%L)', :'a')), :'a', '<a>');
SELECT pg_temp.err($$SELECT obs.finish_span('0123456789abcdef')$$);
SELECT pg_temp.err($$SELECT obs.finish_span(NULL)$$);
-- bad status leaves the span open
SELECT obs.start_span('d') AS d \gset
SELECT pg_temp.err(format('SELECT obs.finish_span(%L, %L)', :'d', 'done'));
SELECT count(*) AS still_open FROM obs.open_spans() WHERE span_id = :'d';
SELECT pg_temp.finished(:'d', obs.finish_span(:'d'));

-- bad input to start_span
SELECT pg_temp.err($$SELECT obs.start_span('x', 'MAGIC')$$);
SELECT pg_temp.err($$SELECT obs.start_span(NULL)$$);
SELECT pg_temp.err($$SELECT obs.start_span('')$$);
SELECT pg_temp.err($$SELECT obs.start_span('x', NULL)$$);
SELECT pg_temp.err($$SELECT obs.start_span('x', tags => '[]')$$);
SELECT pg_temp.err($$SELECT obs.start_span('x', traceparent => '00-zz')$$);
SELECT count(*) AS nothing_opened FROM obs.open_spans();

-- a free service name beside the closed service type
SELECT obs.start_span('load', 'STORAGE', service_name => 'warehouse-loader') AS s \gset
SELECT pg_temp.finished(:'s', obs.finish_span(:'s'));
SELECT service_type, service_name FROM obs.spans WHERE operation = 'load';

-- continuing an external trace: new root spans become its children
SELECT obs.set_traceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
SELECT obs.current_trace_id() AS external_trace, obs.current_traceparent() AS header;
SELECT obs.start_span('handle_request', 'API') AS r \gset
SELECT obs.start_span('query', 'DATABASE') AS q \gset
SELECT pg_temp.finished(:'q', obs.finish_span(:'q')), pg_temp.finished(:'r', obs.finish_span(:'r'));
SELECT operation, trace_id, parent_span_id = '00f067aa0ba902b7' AS child_of_external
  FROM obs.spans WHERE operation IN ('handle_request', 'query') ORDER BY span_seq DESC;
SELECT obs.set_traceparent(NULL);
SELECT obs.current_traceparent() IS NULL AS cleared;
-- the same through the setting, which validates its value
SET obs.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
SELECT obs.start_span('via_setting') AS v \gset
SELECT obs.current_traceparent() = '00-0af7651916cd43dd8448eb211c80319c-' || :'v' || '-00' AS keeps_flags;
SELECT pg_temp.finished(:'v', obs.finish_span(:'v'));
SELECT parent_span_id FROM obs.spans WHERE span_id = :'v';
RESET obs.traceparent;
SELECT pg_temp.err($$SET obs.traceparent = 'garbage'$$);
SELECT pg_temp.err($$SELECT obs.set_traceparent('00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01')$$);
-- an explicit traceparent argument wins over the stack
SELECT obs.start_span('outer') AS o \gset
SELECT obs.start_span('remote_child', traceparent => '00-11111111111111111111111111111111-2222222222222222-01') AS rc \gset
SELECT trace_id, parent_span_id FROM obs.open_spans() WHERE span_id = :'rc';
SELECT pg_temp.finished(:'rc', obs.finish_span(:'rc')), pg_temp.finished(:'o', obs.finish_span(:'o'));

-- a span survives the failure of the work it measures
CREATE FUNCTION pg_temp.risky() RETURNS text LANGUAGE plpgsql AS $$
DECLARE s obs.span_id;
BEGIN
    s := obs.start_span('risky_work', 'ANALYTICS');
    BEGIN
        PERFORM 1 / 0;
        PERFORM obs.finish_span(s, 'success');
    EXCEPTION WHEN OTHERS THEN
        PERFORM obs.finish_span(s, 'error', SQLERRM);
    END;
    RETURN 'handled';
END $$;
SELECT pg_temp.risky();
SELECT status, error FROM obs.spans WHERE operation = 'risky_work';

-- the open-span limit
SET obs.max_open_spans = 2;
SELECT obs.start_span('l1') AS l1 \gset
SELECT obs.start_span('l2') AS l2 \gset
SELECT pg_temp.err($$SELECT obs.start_span('l3')$$);
SELECT pg_temp.finished(:'l2', obs.finish_span(:'l2')), pg_temp.finished(:'l1', obs.finish_span(:'l1'));
RESET obs.max_open_spans;

-- finishing a parent first leaves the child open and still linked
SELECT obs.start_span('p') AS p \gset
SELECT obs.start_span('k') AS k \gset
SELECT pg_temp.finished(:'p', obs.finish_span(:'p'));
SELECT operation, parent_span_id = :'p' AS linked FROM obs.open_spans();
SELECT pg_temp.finished(:'k', obs.finish_span(:'k'));
SELECT count(*) AS open_left FROM obs.open_spans();

-- finishing is undone with the transaction that stored the span
SELECT obs.start_span('undone') AS u \gset
BEGIN;
SELECT pg_temp.finished(:'u', obs.finish_span(:'u')) AS finished;
ROLLBACK;
SELECT count(*) AS stored FROM obs.spans WHERE operation = 'undone';
SELECT count(*) AS open_again FROM obs.open_spans() WHERE span_id = :'u';
SELECT pg_temp.finished(:'u', obs.finish_span(:'u')) AS finished_for_real;
SELECT count(*) AS stored FROM obs.spans WHERE operation = 'undone';
-- the PL/pgSQL case: finished as success, then the block fails; the handler
-- can still record the failure
CREATE FUNCTION pg_temp.late_failure() RETURNS text LANGUAGE plpgsql AS $$
DECLARE s obs.span_id;
BEGIN
    s := obs.start_span('late_failure');
    BEGIN
        PERFORM obs.finish_span(s, 'success');
        PERFORM 1 / 0;
    EXCEPTION WHEN division_by_zero THEN
        PERFORM obs.finish_span(s, 'error', SQLERRM);
    END;
    RETURN 'handled';
END $$;
SELECT pg_temp.late_failure();
SELECT status, error FROM obs.spans WHERE operation = 'late_failure';

-- durations are real microseconds
SELECT obs.start_span('sleepy') AS z \gset
SELECT pg_sleep(0.02);
SELECT obs.finish_span(:'z') AS slept \gset
SELECT :slept BETWEEN 20000 AND 20000000 AS slept_20ms;

-- a span left open by a failed transaction can be discarded
BEGIN;
SELECT obs.start_span('leaked') IS NOT NULL AS started;
ROLLBACK;
SELECT operation FROM obs.open_spans();
SELECT obs.reset_spans() AS discarded;
SELECT count(*) AS open_left FROM obs.open_spans();
SELECT obs.current_trace_id() IS NULL AS no_stale_context;

-- a trace obs starts has an id that begins with the time in microseconds
-- (7 bytes), so that new spans go to the right edge of obs.spans' key; the
-- rest is random
SELECT obs.start_span('timed trace') AS tt \gset
SELECT abs(('x' || substr(obs.current_trace_id()::text, 1, 14))::bit(56)::bigint
           - (extract(epoch FROM clock_timestamp()) * 1000000)::bigint) < 60000000 AS trace_id_starts_with_us;
SELECT obs.start_span('second trace') IS NOT NULL AS nested;
SELECT obs.finish_span(obs.current_span_id()) >= 0 AS nested_done;
SELECT obs.finish_span(:'tt') >= 0 AS timed_done;
SELECT pg_sleep(0.005);  -- a later time
SELECT obs.start_span('later trace') AS lt \gset
SELECT substr(obs.current_trace_id()::text, 15) <> substr(t.trace_id::text, 15) AS random_tail,
       obs.current_trace_id() > t.trace_id AS later_trace_sorts_after
  FROM obs.spans t WHERE t.span_id = :'tt';
SELECT obs.finish_span(:'lt') >= 0 AS later_done;
-- traces started one after another, many in one millisecond, order by
-- their ids' time: a page of the key fills at its right edge
DO $$
DECLARE ids text[] := '{}'; s obs.span_id;
BEGIN
  FOR i IN 1..200 LOOP
    s := obs.start_span('burst');
    ids := ids || substr(obs.current_trace_id()::text, 1, 14);
    PERFORM obs.finish_span(s);
  END LOOP;
  CREATE TEMP TABLE burst_ids AS SELECT * FROM unnest(ids) WITH ORDINALITY u(prefix, n);
END $$;
SELECT bool_and(prefix >= lag) AS prefixes_in_start_order,
       count(DISTINCT prefix) > 1 AS several_microseconds
  FROM (SELECT prefix, lag(prefix) OVER (ORDER BY n) FROM burst_ids) b WHERE lag IS NOT NULL;
DROP TABLE burst_ids;
