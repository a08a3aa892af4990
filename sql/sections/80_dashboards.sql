/* ------------------------------------------------------------------------
 * Section: query recipes and dashboards (SQL)
 * ------------------------------------------------------------------------ */

/*
 * The seed's CloudWatch Insights queries and Kibana panels as views and
 * functions, the JSON-lines rendering of logs, the Jaeger JSON export and
 * retention.
 *
 * Every dashboard function takes a time range [since, until) on the
 * table's time column (logs.ts, spans.start_time, metric_points.ts): NULL
 * leaves that side open, until earlier than since is an error (22023).  The
 * range is written as col >= COALESCE(since, '-infinity') AND col <
 * COALESCE(until, 'infinity'), never as (since IS NULL OR ...), so that it
 * is an index condition whether the query is planned with the values (an
 * inlined call, Grafana's $__timeFrom()/$__timeTo()) or generically (a SQL
 * function's own plan).  The functions are inlinable SQL (BEGIN ATOMIC: bound
 * at creation, no search_path at run time) where they can be; the views keep
 * the 0.1.0 names and select from them with an open range.
 *
 * Time buckets use date_bin() from 2000-01-01 00:00 UTC, so a 1-minute
 * bucket is the UTC minute.
 */

/* bucket must be a positive interval without months or years; true when it is */
CREATE FUNCTION @extschema@._check_bucket(bucket interval)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'bucket must not be null' USING ERRCODE = '22004';
    END IF;
    IF $1 <= '0'::interval OR pg_catalog.date_part('month', $1) <> 0
       OR pg_catalog.date_part('year', $1) <> 0 THEN
        RAISE EXCEPTION 'bucket must be a positive interval without months or years'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The bucket given was %s.', $1);
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@._check_bucket(interval) IS
    'internal: raises 22004 for a NULL bucket and 22023 for one that is not positive or has months or years, else true';

CREATE FUNCTION @extschema@.high_latency_by_endpoint(
    threshold_ms double precision DEFAULT 1000,
    metric_name text DEFAULT 'request_latency_ms',
    since timestamptz DEFAULT NULL,
    until timestamptz DEFAULT NULL)
RETURNS TABLE(endpoint text, requests bigint, avg_latency_ms double precision,
              max_latency_ms double precision)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.tags ->> 'endpoint',
           pg_catalog.count(*),
           pg_catalog.avg(p.value),
           pg_catalog.max(p.value)
      FROM @extschema@.metric_series s
      JOIN @extschema@.metric_points p ON p.series_id = s.series_id
     WHERE @extschema@._check_range(high_latency_by_endpoint.since, high_latency_by_endpoint.until)
       AND s.name = high_latency_by_endpoint.metric_name
       AND s.tags ? 'endpoint'
       AND p.value > high_latency_by_endpoint.threshold_ms
       AND p.ts >= COALESCE(high_latency_by_endpoint.since, '-infinity'::timestamptz)
       AND p.ts < COALESCE(high_latency_by_endpoint.until, 'infinity'::timestamptz)
     GROUP BY 1
     ORDER BY 2 DESC, 1;
END;
COMMENT ON FUNCTION @extschema@.high_latency_by_endpoint(double precision, text, timestamptz, timestamptz) IS
$$the seed's "high latency requests" query: samples of metric_name above threshold_ms taken in [since, until), counted per "endpoint" tag, most first.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since.$$;

/* spans per service over [since, until): the figures of two views */
CREATE FUNCTION @extschema@.service_performance(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(service_name text, service_type @extschema@.service_type, spans bigint,
              avg_ms double precision, p95_ms double precision, max_ms double precision,
              errors bigint, error_rate double precision)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.service_name, s.service_type,
           pg_catalog.count(*),
           pg_catalog.avg(s.duration_us::double precision / 1000.0),
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY s.duration_us::double precision / 1000.0),
           pg_catalog.max(s.duration_us)::double precision / 1000.0,
           pg_catalog.count(*) FILTER (WHERE s.status = 'error'),
           pg_catalog.count(*) FILTER (WHERE s.status = 'error')::double precision
               / pg_catalog.count(*)
      FROM @extschema@.spans s
     WHERE @extschema@._check_range(service_performance.since, service_performance.until)
       AND s.start_time >= COALESCE(service_performance.since, '-infinity'::timestamptz)
       AND s.start_time < COALESCE(service_performance.until, 'infinity'::timestamptz)
     GROUP BY s.service_name, s.service_type;
END;
COMMENT ON FUNCTION @extschema@.service_performance(timestamptz, timestamptz) IS
$$the Kibana "service performance" panel over spans started in [since, until): spans per service name and type with average, p95 and maximum duration in milliseconds, error spans and the error ratio (0-1).
NULL since or until leaves that side open; errors: 22023 when until is earlier than since.$$;

/*
 * error_rate_by_service, throughput() and log_volume() read the rollups of
 * spans and logs (75_signal_rollups.sql) when they may: the rollup rows in
 * range plus the rows of the tail (txid not visible in the rollups'
 * snapshot), in one statement.  Otherwise (rollups not built, row-level
 * security, no SELECT on the rollups or on the txid column, a range or
 * bucket not on whole minutes) they aggregate the table.  The choice is a scalar subquery (an InitPlan): the branch not
 * taken is never run.
 */
CREATE VIEW @extschema@.error_rate_by_service WITH (security_invoker = true) AS
    SELECT x.service_name, x.service_type, pg_catalog.sum(x.spans)::bigint AS spans,
           pg_catalog.sum(x.errors)::bigint AS errors,
           pg_catalog.sum(x.errors)::double precision / pg_catalog.sum(x.spans)::double precision AS error_rate
      FROM (SELECT r.service_name, r.service_type, r.spans, r.errors
              FROM @extschema@._span_rollup_rows(true, '-infinity', 'infinity') r
             WHERE (SELECT @extschema@._rollup_snapshot('spans')) IS NOT NULL
            UNION ALL
            SELECT t.service_name, t.service_type, t.spans, t.errors
              FROM @extschema@._span_tail_rows((SELECT @extschema@._rollup_snapshot('spans')), '-infinity', 'infinity') t
             WHERE (SELECT @extschema@._rollup_snapshot('spans')) IS NOT NULL
            UNION ALL
            SELECT c.service_name, c.service_type, c.spans, c.errors
              FROM @extschema@._span_service_counts() c
             WHERE (SELECT @extschema@._rollup_snapshot('spans')) IS NULL) x
     GROUP BY x.service_name, x.service_type
    HAVING pg_catalog.sum(x.spans) > 0;
COMMENT ON VIEW @extschema@.error_rate_by_service IS
    'the seed''s "error rate by service" query: finished spans, error spans and their ratio (0-1) per service, from the rollups when built (obs.refresh_rollups()); obs.service_performance(since, until) over a range';

CREATE FUNCTION @extschema@.throughput(
    since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL, bucket interval DEFAULT '1 minute')
RETURNS TABLE(time_bucket timestamptz, service_name text, spans bigint, errors bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.date_bin(throughput.bucket, x.t, '2000-01-01 00:00:00+00'::timestamptz),
           x.service_name, pg_catalog.sum(x.spans)::bigint, pg_catalog.sum(x.errors)::bigint
      FROM (SELECT r.bucket AS t, r.service_name, r.spans, r.errors
              FROM @extschema@._span_rollup_rows(false, COALESCE(throughput.since, '-infinity'::timestamptz),
                                                 COALESCE(throughput.until, 'infinity'::timestamptz)) r
             WHERE (SELECT @extschema@._rollup_snapshot('spans', throughput.since, throughput.until, throughput.bucket)) IS NOT NULL
            UNION ALL
            SELECT t.bucket, t.service_name, t.spans, t.errors
              FROM @extschema@._span_tail_rows((SELECT @extschema@._rollup_snapshot('spans', throughput.since, throughput.until, throughput.bucket)),
                                               COALESCE(throughput.since, '-infinity'::timestamptz),
                                               COALESCE(throughput.until, 'infinity'::timestamptz)) t
             WHERE (SELECT @extschema@._rollup_snapshot('spans', throughput.since, throughput.until, throughput.bucket)) IS NOT NULL
            UNION ALL
            SELECT s.start_time, s.service_name, 1, CASE WHEN s.status = 'error' THEN 1 ELSE 0 END
              FROM @extschema@.spans s
             WHERE (SELECT @extschema@._rollup_snapshot('spans', throughput.since, throughput.until, throughput.bucket)) IS NULL
               AND s.start_time >= COALESCE(throughput.since, '-infinity'::timestamptz)
               AND s.start_time < COALESCE(throughput.until, 'infinity'::timestamptz)) x
     WHERE @extschema@._check_bucket(throughput.bucket)
       AND @extschema@._check_range(throughput.since, throughput.until)
     GROUP BY 1, 2
    HAVING pg_catalog.sum(x.spans) > 0;
END;
COMMENT ON FUNCTION @extschema@.throughput(timestamptz, timestamptz, interval) IS
$$the seed's "throughput trend": spans started in [since, until) per time bucket (date_bin from 2000-01-01 UTC) and service, with their errors.  From the rollups (obs.refresh_rollups()) when since, until and bucket fall on whole minutes, else from obs.spans; exact either way.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since, 22004 for a NULL bucket, 22023 for a bucket that is not positive or has months or years.$$;

CREATE VIEW @extschema@.throughput_per_minute WITH (security_invoker = true) AS
    SELECT t.time_bucket AS minute, t.service_name, t.spans, t.errors
      FROM @extschema@.throughput(NULL, NULL, '1 minute') t;
COMMENT ON VIEW @extschema@.throughput_per_minute IS
    'the seed''s "throughput trend" query: spans started per minute and service, with their errors (the Kibana error-rate trend); obs.throughput(since, until) over a range';

CREATE FUNCTION @extschema@.log_volume(
    since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL, bucket interval DEFAULT '1 minute')
RETURNS TABLE(time_bucket timestamptz, level @extschema@.log_level, records bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.date_bin(log_volume.bucket, x.t, '2000-01-01 00:00:00+00'::timestamptz),
           x.level, pg_catalog.sum(x.records)::bigint
      FROM (SELECT r.bucket AS t, r.level, r.records
              FROM @extschema@._log_rollup_rows(COALESCE(log_volume.since, '-infinity'::timestamptz),
                                                COALESCE(log_volume.until, 'infinity'::timestamptz)) r
             WHERE (SELECT @extschema@._rollup_snapshot('logs', log_volume.since, log_volume.until, log_volume.bucket)) IS NOT NULL
            UNION ALL
            SELECT t.bucket, t.level, t.records
              FROM @extschema@._log_tail_rows((SELECT @extschema@._rollup_snapshot('logs', log_volume.since, log_volume.until, log_volume.bucket)),
                                              COALESCE(log_volume.since, '-infinity'::timestamptz),
                                              COALESCE(log_volume.until, 'infinity'::timestamptz)) t
             WHERE (SELECT @extschema@._rollup_snapshot('logs', log_volume.since, log_volume.until, log_volume.bucket)) IS NOT NULL
            UNION ALL
            SELECT l.ts, l.level, 1
              FROM @extschema@.logs l
             WHERE (SELECT @extschema@._rollup_snapshot('logs', log_volume.since, log_volume.until, log_volume.bucket)) IS NULL
               AND l.ts >= COALESCE(log_volume.since, '-infinity'::timestamptz)
               AND l.ts < COALESCE(log_volume.until, 'infinity'::timestamptz)) x
     WHERE @extschema@._check_bucket(log_volume.bucket)
       AND @extschema@._check_range(log_volume.since, log_volume.until)
     GROUP BY 1, 2
    HAVING pg_catalog.sum(x.records) > 0;
END;
COMMENT ON FUNCTION @extschema@.log_volume(timestamptz, timestamptz, interval) IS
$$log records with ts in [since, until) per time bucket (date_bin from 2000-01-01 UTC) and level (the CloudWatch "stats count() by bin(1m)" over logs).  From the rollups (obs.refresh_rollups()) when since, until and bucket fall on whole minutes, else from obs.logs; exact either way.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since, 22004 for a NULL bucket, 22023 for a bucket that is not positive or has months or years.$$;

CREATE VIEW @extschema@.log_volume_per_minute WITH (security_invoker = true) AS
    SELECT v.time_bucket AS minute, v.level, v.records
      FROM @extschema@.log_volume(NULL, NULL, '1 minute') v;
COMMENT ON VIEW @extschema@.log_volume_per_minute IS
    'log records per minute and level (the CloudWatch "stats count() by bin(1m)" over logs); obs.log_volume(since, until) over a range';

/* the heatmap's cells; latency_heatmap() checks the arguments first */
CREATE FUNCTION @extschema@._latency_heatmap(
    metric_name text, bucket interval, bounds double precision[], since timestamptz, until timestamptz)
RETURNS TABLE(time_bucket timestamptz, lower_ms double precision, upper_ms double precision,
              requests bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT h.tb, CASE WHEN h.wb > 0 THEN _latency_heatmap.bounds[h.wb] END,
           _latency_heatmap.bounds[h.wb + 1], pg_catalog.count(*)
      FROM (SELECT pg_catalog.date_bin(_latency_heatmap.bucket, p.ts, '2000-01-01 00:00:00+00'::timestamptz) AS tb,
                   pg_catalog.width_bucket(p.value, _latency_heatmap.bounds) AS wb
              FROM @extschema@.metric_series s
              JOIN @extschema@.metric_points p ON p.series_id = s.series_id
             WHERE s.name = _latency_heatmap.metric_name
               AND p.ts >= COALESCE(_latency_heatmap.since, '-infinity'::timestamptz)
               AND p.ts < COALESCE(_latency_heatmap.until, 'infinity'::timestamptz)) h
     GROUP BY h.tb, h.wb
     ORDER BY h.tb, h.wb;
END;
COMMENT ON FUNCTION @extschema@._latency_heatmap(text, interval, double precision[], timestamptz, timestamptz) IS
    'internal: the cells of obs.latency_heatmap(), whose arguments it has checked';

CREATE FUNCTION @extschema@.latency_heatmap(
    metric_name text DEFAULT 'request_latency_ms',
    bucket interval DEFAULT '1 minute',
    bounds double precision[] DEFAULT '{10,50,100,250,500,1000,2500,5000}',
    since timestamptz DEFAULT NULL,
    until timestamptz DEFAULT NULL)
RETURNS TABLE(time_bucket timestamptz, lower_ms double precision, upper_ms double precision,
              requests bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'metric_name must not be null' USING ERRCODE = '22004';
    END IF;
    PERFORM @extschema@._check_bucket($2);
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
    PERFORM @extschema@._check_range($4, $5);
    RETURN QUERY SELECT * FROM @extschema@._latency_heatmap($1, $2, $3, $4, $5);
END
$$;
COMMENT ON FUNCTION @extschema@.latency_heatmap(text, interval, double precision[], timestamptz, timestamptz) IS
$$the Kibana "request latency heatmap": samples of metric_name taken in [since, until), counted per time bucket (date_bin from 2000-01-01 UTC) and value bucket [lower_ms, upper_ms) cut at bounds; lower_ms NULL is below bounds[1], upper_ms NULL is at or above the last bound; only non-empty cells are returned.
NULL since or until leaves that side open.  Errors: 22004 for NULL metric_name, bucket or bounds; 22023 for a bucket that is not positive or has months/years, bounds that are empty, not finite or not strictly ascending, or until earlier than since.$$;

CREATE VIEW @extschema@.service_performance WITH (security_invoker = true) AS
    SELECT p.service_name, p.service_type, p.spans, p.avg_ms, p.p95_ms, p.max_ms, p.errors, p.error_rate
      FROM @extschema@.service_performance(NULL, NULL) p;
COMMENT ON VIEW @extschema@.service_performance IS
    'the Kibana "service performance" panel: spans per service with average, p95 and maximum duration in milliseconds and the error ratio; obs.service_performance(since, until) over a range';

CREATE FUNCTION @extschema@.log_json(l @extschema@.logs)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
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
               'log_id', l.log_id)::text;
END;
COMMENT ON FUNCTION @extschema@.log_json(@extschema@.logs) IS
$$one log record as a single-line JSON object for CloudWatch/ELK ingestion, keys in this order: timestamp (ISO-8601 UTC with microseconds and Z), level, logger, message, context, tags, trace_id, span_id, error, log_id; absent values are null.$$;

CREATE VIEW @extschema@.logs_json WITH (security_invoker = true) AS
    SELECT l.log_id, l.ts, @extschema@.log_json(l) AS line
      FROM @extschema@.logs l;
COMMENT ON VIEW @extschema@.logs_json IS
    'every log record as one JSON line (see obs.log_json); e.g. psql -XAt -c "SELECT line FROM obs.logs_json ORDER BY log_id" > app.ndjson';

/* a span tag value as a Jaeger key/type/value object */
CREATE FUNCTION @extschema@._jaeger_tag(key text, value jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
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
                             ELSE pg_catalog.to_jsonb((_jaeger_tag.value)::text) END);
END;
COMMENT ON FUNCTION @extschema@._jaeger_tag(text, jsonb) IS
    'internal: one Jaeger tag; JSON numbers become int64 or float64, booleans bool, everything else a string';

/*
 * jaeger_json() is not inlinable (it returns one value), so its query is
 * planned once per call site with its arguments as parameters.  The traces
 * are therefore picked by two branches that a one-time filter switches:
 * by id through the primary key (the time condition there is a filter on
 * purpose, so that it is not taken for an index range), or by time range
 * through spans_start_idx; a single (trace_ids IS NULL OR ...) condition
 * could use neither index.
 */
CREATE FUNCTION @extschema@.jaeger_json(
    trace_ids @extschema@.trace_id[] DEFAULT NULL, since timestamptz DEFAULT NULL,
    until timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH traces AS (
        SELECT s.trace_id
          FROM @extschema@.spans s
         WHERE jaeger_json.trace_ids IS NOT NULL
           AND s.trace_id = ANY (jaeger_json.trace_ids)
           AND (jaeger_json.since IS NULL OR s.start_time >= jaeger_json.since)
           AND (jaeger_json.until IS NULL OR s.start_time < jaeger_json.until)
        UNION
        SELECT s.trace_id
          FROM @extschema@.spans s
         WHERE jaeger_json.trace_ids IS NULL
           AND s.start_time >= COALESCE(jaeger_json.since, '-infinity'::timestamptz)
           AND s.start_time < COALESCE(jaeger_json.until, 'infinity'::timestamptz)
    ), trace_spans AS (
        /* each trace's spans through the primary key (OFFSET 0 keeps the
           lookup per trace rather than a join over the whole table) */
        SELECT s.*,
               pg_catalog.min(s.start_time) OVER (PARTITION BY s.trace_id, s.service_name) AS service_start
          FROM traces t
         CROSS JOIN LATERAL (SELECT x.* FROM @extschema@.spans x
                              WHERE x.trace_id = t.trace_id OFFSET 0) s
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
     WHERE @extschema@._check_range(jaeger_json.since, jaeger_json.until)
$$;
COMMENT ON FUNCTION @extschema@.jaeger_json(@extschema@.trace_id[], timestamptz, timestamptz) IS
$$the traces trace_ids (all when NULL) that have a span started in [since, until) (NULL leaves that side open), with all their spans, as a Jaeger JSON document ({"data": [trace, ...]}) that the Jaeger UI opens with "JSON File"; one process per service name; span tags are the span's tags plus service.type, otel.status_code (OK/ERROR, absent when unset), otel.status_description (the error text) and error=true for error spans.
Errors: 22023 when until is earlier than since.$$;

CREATE FUNCTION @extschema@.purge(older_than interval)
RETURNS TABLE(table_name text, deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_cutoff timestamptz;
    v_count bigint;
    v_sig text;
    v_tab text;
    v_col text;
    v_part regclass;
    v_lo timestamptz;
    v_hi timestamptz;
    v_rows bigint;
    v_open boolean;
    v_lock_timeout text := pg_catalog.current_setting('lock_timeout');
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

    /*
     * The time-partitioned tables: a partition wholly older than the cutoff
     * is dropped (alerts: unless it holds an unacknowledged alert); what is
     * left older than the cutoff (the partition straddling it, the default
     * partition, a partition whose lock was not had within lock_timeout) is
     * deleted.
     */
    FOREACH v_sig IN ARRAY ARRAY['logs', 'spans', 'metrics', 'alerts'] LOOP
        SELECT pg_catalog.quote_ident(c.relname), s.time_column INTO v_tab, v_col
          FROM @extschema@._partition_signal(v_sig) s JOIN pg_catalog.pg_class c ON c.oid = s.parent;
        v_count := 0;
        FOR v_part, v_lo, v_hi IN
            SELECT p.partition_name, p.lower_bound, p.upper_bound FROM @extschema@.partitions() p
             WHERE p.signal = v_sig AND NOT p.is_default AND p.upper_bound <= v_cutoff
             ORDER BY p.lower_bound
        LOOP
            IF v_sig = 'alerts' THEN
                EXECUTE pg_catalog.format('SELECT EXISTS (SELECT 1 FROM %s a WHERE a.acknowledged_at IS NULL)', v_part)
                   INTO STRICT v_open;
                CONTINUE WHEN v_open;
            END IF;
            BEGIN
                PERFORM pg_catalog.set_config('lock_timeout', '500ms', true);
                EXECUTE pg_catalog.format('SELECT count(*) FROM %s', v_part) INTO v_rows;
                /* a file of the partition in the lake is now its only copy */
                UPDATE @extschema@.archived_partitions ap SET dropped_at = pg_catalog.now()
                 WHERE ap.signal = v_sig AND ap.lower_bound = v_lo AND ap.upper_bound = v_hi
                   AND ap.dropped_at IS NULL;
                PERFORM @extschema@._rollup_forget(v_sig, v_part, v_lo, v_hi);
                EXECUTE pg_catalog.format('DROP TABLE %s', v_part);
                v_count := v_count + v_rows;
            EXCEPTION WHEN lock_not_available THEN
                NULL;   /* its rows are deleted below */
            END;
            PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
        END LOOP;
        IF v_sig = 'alerts' THEN
            /* an alert nobody acknowledged stays, however old: purge never closes one */
            EXECUTE pg_catalog.format('DELETE FROM @extschema@.%s t WHERE t.%I < $1 AND t.acknowledged_at IS NOT NULL',
                                      v_tab, v_col) USING v_cutoff;
        ELSE
            EXECUTE pg_catalog.format('DELETE FROM @extschema@.%s t WHERE t.%I < $1', v_tab, v_col) USING v_cutoff;
        END IF;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        table_name := CASE v_sig WHEN 'metrics' THEN 'metric_points' ELSE v_sig END;
        deleted := v_count + v_rows;
        RETURN NEXT;
    END LOOP;

    DELETE FROM @extschema@.task_runs t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'task_runs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.flow_runs t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'flow_runs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.dead_letters t WHERE t.received_at < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'dead_letters'; deleted := v_count; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.purge(interval) IS
$$retention: remove logs (ts), spans (start_time), metric_points (ts), acknowledged alerts (observed_at), task_runs and flow_runs (start_time) and dead_letters (received_at) older than now() - older_than; metric_series, alert_rules and unacknowledged alerts are kept.  Time partitions wholly older than the cutoff are dropped (alerts: unless they hold an unacknowledged alert); only the partition straddling the cutoff and the default partition see a DELETE.  Returns the rows removed per table.
pg_cron: SELECT cron.schedule('obs-retention', '17 3 * * *', 'SELECT obs.purge(''30 days'')');
Errors: 22004 for NULL, 22023 for a negative interval.$$;

