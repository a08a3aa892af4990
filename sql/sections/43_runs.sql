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


/*
 * Rollups of the runs (issue 10, item 5; tables in 30_tables.sql).  Every
 * write to flow_runs and task_runs (the C upsert through SPI, a user's
 * INSERT/UPDATE/DELETE, obs.purge(), COPY, a restore) fires a statement
 * trigger whose transition tables hold the rows written: it adds the new
 * rows to their buckets and takes the old ones out, with one
 * INSERT ... ON CONFLICT DO UPDATE per statement (rows in key order, so two
 * writers lock shared bucket rows in the same order).  Writers of the same
 * name and status in the same hour update the same rows: they queue on the
 * row lock until the first commits.  Maxima cannot be taken out: a bucket
 * that loses its longest (flows: latest) run gets it again from the runs
 * of that hour, and all_time from the hours.  The triggers run as the
 * writer: obs's own writes run as the table owner; a role you let write the
 * runs directly needs the same privileges on the rollup tables.  A
 * statement that writes one run (obs's own upserts) takes the fast path,
 * _{flow,task}_rollup_row(): plain upserts of that run's rows, no grouping.
 */

/* the UTC hour holding ts (date_bin from 2000-01-01); an infinite ts is its own bucket */
CREATE FUNCTION @extschema@._run_hour(ts timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN pg_catalog.isfinite(_run_hour.ts)
                THEN pg_catalog.date_bin('1 hour'::interval, _run_hour.ts, '2000-01-01 00:00:00+00'::timestamptz)
                ELSE _run_hour.ts END;
END;
COMMENT ON FUNCTION @extschema@._run_hour(timestamptz) IS
    'internal: the rollup bucket of a run started at ts: its UTC hour, or ts itself when infinite';

/* the first bucket boundary at or after ts */
CREATE FUNCTION @extschema@._run_hour_ceil(ts timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN @extschema@._run_hour(_run_hour_ceil.ts) = _run_hour_ceil.ts THEN _run_hour_ceil.ts
                ELSE @extschema@._run_hour(_run_hour_ceil.ts) + '1 hour'::interval END;
END;
COMMENT ON FUNCTION @extschema@._run_hour_ceil(timestamptz) IS
    'internal: the first hour boundary at or after ts (ts itself when infinite)';

/*
 * The duration sketch (DDSketch-style): a duration x > 0 goes to bucket
 * ceil(log_g(x)) with g = 1.01 / 0.99, so that the bucket's estimate
 * 2 g^k / (g + 1) is within 1% of every value in it; 0 is bucket 0 and a
 * negative x the mirror of -x (obs refuses end_time < start_time, but a
 * direct INSERT may store one).  Keys are offset by 100000 to sort
 * negative < 0 < positive.
 */
CREATE FUNCTION @extschema@._duration_key(seconds double precision)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN _duration_key.seconds > 0
                THEN pg_catalog.ceil(pg_catalog.ln(_duration_key.seconds)
                                     / pg_catalog.ln(1.01::double precision / 0.99::double precision))::integer + 100000
                WHEN _duration_key.seconds < 0
                THEN -(pg_catalog.ceil(pg_catalog.ln(-_duration_key.seconds)
                                       / pg_catalog.ln(1.01::double precision / 0.99::double precision))::integer + 100000)
                ELSE 0 END;
END;
COMMENT ON FUNCTION @extschema@._duration_key(double precision) IS
    'internal: the duration sketch bucket of a duration in seconds (logarithmic, 1% relative error)';

CREATE FUNCTION @extschema@._duration_of_key(key integer)
RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.sign(_duration_of_key.key::double precision) * 2::double precision
           * pg_catalog.exp(pg_catalog.ln(1.01::double precision / 0.99::double precision)
                            * LEAST(GREATEST(pg_catalog.abs(_duration_of_key.key) - 100000, -30000), 30000)::double precision)
           / (1.01::double precision / 0.99::double precision + 1::double precision);
END;
COMMENT ON FUNCTION @extschema@._duration_of_key(integer) IS
    'internal: the estimate of the durations in a sketch bucket (within 1% of each)';

/* one run added to (sign 1) or taken out of (sign -1) the rollups: the triggers' fast path */
CREATE FUNCTION @extschema@._flow_rollup_row(sign integer, r @extschema@.flow_runs)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_bucket timestamptz := @extschema@._run_hour(r.start_time);
    v_xdur numeric := EXTRACT(epoch FROM r.end_time - r.start_time);
BEGIN
    INSERT INTO @extschema@.flow_run_rollup AS t
    SELECT g.all_time, g.bucket, r.flow_name, r.status, sign,
           CASE WHEN r.duration_seconds IS NOT NULL THEN sign ELSE 0 END, COALESCE(sign * v_xdur, 0),
           CASE WHEN sign > 0 THEN r.duration_seconds END, CASE WHEN sign > 0 THEN r.start_time END
      FROM (VALUES (false, v_bucket), (true, '-infinity'::timestamptz)) g(all_time, bucket)
     WHERE NOT g.all_time OR r.start_time < 'infinity'
     ORDER BY 1, 2
    ON CONFLICT (all_time, bucket, flow_name, status) DO UPDATE SET
        runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
        duration_sum = t.duration_sum + EXCLUDED.duration_sum,
        duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
        last_start_time = GREATEST(t.last_start_time, EXCLUDED.last_start_time);
    IF r.status IN ('Completed', 'Failed', 'Crashed') AND r.duration_seconds IS NOT NULL
       AND r.start_time < 'infinity' THEN
        INSERT INTO @extschema@.flow_run_sketch AS s
        VALUES (r.flow_name, @extschema@._duration_key(r.duration_seconds), sign, r.duration_seconds, r.duration_seconds)
        ON CONFLICT (flow_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
    END IF;
    IF sign > 0 THEN
        RETURN;
    END IF;
    DELETE FROM @extschema@.flow_run_rollup t
     WHERE (NOT t.all_time AND t.bucket = v_bucket OR t.all_time AND t.bucket = '-infinity')
       AND t.flow_name = r.flow_name AND t.status = r.status AND t.runs = 0;
    IF r.duration_seconds IS NOT NULL THEN
        DELETE FROM @extschema@.flow_run_sketch s
         WHERE s.flow_name = r.flow_name AND s.key = @extschema@._duration_key(r.duration_seconds) AND s.runs = 0;
        UPDATE @extschema@.flow_run_rollup t
           SET duration_max = (SELECT max(x.duration_seconds) FROM @extschema@.flow_runs x
                                WHERE x.flow_name = t.flow_name AND x.status = t.status
                                  AND x.start_time >= t.bucket
                                  AND (x.start_time < t.bucket + interval '1 hour' OR x.start_time = t.bucket))
         WHERE NOT t.all_time AND t.bucket = v_bucket AND t.flow_name = r.flow_name AND t.status = r.status
           AND r.duration_seconds >= t.duration_max;
        UPDATE @extschema@.flow_run_rollup t
           SET duration_max = (SELECT max(h.duration_max) FROM @extschema@.flow_run_rollup h
                                WHERE NOT h.all_time AND h.flow_name = t.flow_name AND h.status = t.status
                                  AND h.bucket < 'infinity')
         WHERE t.all_time AND t.bucket = '-infinity' AND t.flow_name = r.flow_name AND t.status = r.status
           AND r.start_time < 'infinity' AND r.duration_seconds >= t.duration_max;
    END IF;
    UPDATE @extschema@.flow_run_rollup t
       SET last_start_time = (SELECT max(x.start_time) FROM @extschema@.flow_runs x
                               WHERE x.flow_name = t.flow_name AND x.status = t.status
                                 AND x.start_time >= t.bucket
                                 AND (x.start_time < t.bucket + interval '1 hour' OR x.start_time = t.bucket))
     WHERE NOT t.all_time AND t.bucket = v_bucket AND t.flow_name = r.flow_name AND t.status = r.status
       AND r.start_time >= t.last_start_time;
    UPDATE @extschema@.flow_run_rollup t
       SET last_start_time = (SELECT max(h.last_start_time) FROM @extschema@.flow_run_rollup h
                               WHERE NOT h.all_time AND h.flow_name = t.flow_name AND h.status = t.status
                                 AND h.bucket < 'infinity')
     WHERE t.all_time AND t.bucket = '-infinity' AND t.flow_name = r.flow_name AND t.status = r.status
       AND r.start_time < 'infinity' AND r.start_time >= t.last_start_time;
END
$$;
COMMENT ON FUNCTION @extschema@._flow_rollup_row(integer, @extschema@.flow_runs) IS
    'internal: add the run r to (sign 1) or take it out of (sign -1) obs.flow_run_rollup and obs.flow_run_sketch; the rollup triggers'' path for a statement that writes one run';

CREATE FUNCTION @extschema@._flow_runs_rollup()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_rows bigint;
    v_run @extschema@.flow_runs;
BEGIN
    /* rollups off: nothing to keep */
    IF NOT EXISTS (SELECT FROM @extschema@.health_rollups) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM @extschema@.flow_run_rollup;
        DELETE FROM @extschema@.flow_run_sketch;
        RETURN NULL;
    END IF;
    /* an UPDATE is its old rows taken out and its new rows added */
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        SELECT count(*) INTO v_rows FROM new_rows;
        IF v_rows = 1 THEN
            SELECT * INTO v_run FROM new_rows;
            PERFORM @extschema@._flow_rollup_row(1, v_run);
        ELSIF v_rows > 1 THEN
        WITH d AS (SELECT 1 AS sign, flow_name, status, start_time, end_time, duration_seconds FROM new_rows),
             p AS (SELECT g.all_time, g.bucket, d.flow_name, d.status, d.sign, d.duration_seconds AS dur,
                          EXTRACT(epoch FROM d.end_time - d.start_time) AS xdur, d.start_time
                     FROM d CROSS JOIN LATERAL (VALUES (false, @extschema@._run_hour(d.start_time)),
                                                       (true, '-infinity'::timestamptz)) g(all_time, bucket)
                    WHERE NOT g.all_time OR d.start_time < 'infinity'),
             r AS (INSERT INTO @extschema@.flow_run_rollup AS t
                   SELECT p.all_time, p.bucket, p.flow_name, p.status, sum(p.sign),
                          COALESCE(sum(p.sign) FILTER (WHERE p.dur IS NOT NULL), 0), COALESCE(sum(p.sign * p.xdur), 0),
                          max(p.dur) FILTER (WHERE p.sign > 0),
                          max(p.start_time) FILTER (WHERE p.sign > 0)
                     FROM p GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                   ON CONFLICT (all_time, bucket, flow_name, status) DO UPDATE SET
                       runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
                       duration_sum = t.duration_sum + EXCLUDED.duration_sum,
                       duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
                       last_start_time = GREATEST(t.last_start_time, EXCLUDED.last_start_time))
        INSERT INTO @extschema@.flow_run_sketch AS s
        SELECT d.flow_name, @extschema@._duration_key(d.duration_seconds), sum(d.sign),
               min(d.duration_seconds), max(d.duration_seconds)
          FROM d
         WHERE d.status IN ('Completed', 'Failed', 'Crashed') AND d.duration_seconds IS NOT NULL
           AND d.start_time < 'infinity'
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (flow_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
        SELECT count(*) INTO v_rows FROM old_rows;
        IF v_rows = 1 THEN
            SELECT * INTO v_run FROM old_rows;
            PERFORM @extschema@._flow_rollup_row(-1, v_run);
        ELSIF v_rows > 1 THEN
        WITH d AS (SELECT -1 AS sign, flow_name, status, start_time, end_time, duration_seconds FROM old_rows),
             p AS (SELECT g.all_time, g.bucket, d.flow_name, d.status, d.sign, d.duration_seconds AS dur,
                          EXTRACT(epoch FROM d.end_time - d.start_time) AS xdur, d.start_time
                     FROM d CROSS JOIN LATERAL (VALUES (false, @extschema@._run_hour(d.start_time)),
                                                       (true, '-infinity'::timestamptz)) g(all_time, bucket)
                    WHERE NOT g.all_time OR d.start_time < 'infinity'),
             r AS (INSERT INTO @extschema@.flow_run_rollup AS t
                   SELECT p.all_time, p.bucket, p.flow_name, p.status, sum(p.sign),
                          COALESCE(sum(p.sign) FILTER (WHERE p.dur IS NOT NULL), 0), COALESCE(sum(p.sign * p.xdur), 0),
                          max(p.dur) FILTER (WHERE p.sign > 0),
                          max(p.start_time) FILTER (WHERE p.sign > 0)
                     FROM p GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                   ON CONFLICT (all_time, bucket, flow_name, status) DO UPDATE SET
                       runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
                       duration_sum = t.duration_sum + EXCLUDED.duration_sum,
                       duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
                       last_start_time = GREATEST(t.last_start_time, EXCLUDED.last_start_time))
        INSERT INTO @extschema@.flow_run_sketch AS s
        SELECT d.flow_name, @extschema@._duration_key(d.duration_seconds), sum(d.sign),
               min(d.duration_seconds), max(d.duration_seconds)
          FROM d
         WHERE d.status IN ('Completed', 'Failed', 'Crashed') AND d.duration_seconds IS NOT NULL
           AND d.start_time < 'infinity'
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (flow_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
        /* rows whose runs fell to 0 go */
        DELETE FROM @extschema@.flow_run_rollup t
         USING (SELECT DISTINCT @extschema@._run_hour(o.start_time) AS bucket, o.flow_name, o.status FROM old_rows o) o
         WHERE NOT t.all_time AND t.bucket = o.bucket AND t.flow_name = o.flow_name AND t.status = o.status
           AND t.runs = 0;
        DELETE FROM @extschema@.flow_run_rollup t
         USING (SELECT DISTINCT o.flow_name, o.status FROM old_rows o) o
         WHERE t.all_time AND t.bucket = '-infinity' AND t.flow_name = o.flow_name AND t.status = o.status
           AND t.runs = 0;
        DELETE FROM @extschema@.flow_run_sketch s
         USING (SELECT DISTINCT o.flow_name, @extschema@._duration_key(o.duration_seconds) AS key
                  FROM old_rows o WHERE o.duration_seconds IS NOT NULL) o
         WHERE s.flow_name = o.flow_name AND s.key = o.key AND s.runs = 0;
        /*
         * the longest duration of a bucket that lost its longest run: an hour
         * from the runs (index range scan), then all_time from the hours
         */
        UPDATE @extschema@.flow_run_rollup t
           SET duration_max = (SELECT max(r.duration_seconds) FROM @extschema@.flow_runs r
                                WHERE r.flow_name = t.flow_name AND r.status = t.status
                                  AND r.start_time >= t.bucket
                                  AND (r.start_time < t.bucket + interval '1 hour' OR r.start_time = t.bucket))
          FROM (SELECT @extschema@._run_hour(o.start_time) AS bucket, o.flow_name, o.status, max(o.duration_seconds) AS m
                  FROM old_rows o GROUP BY 1, 2, 3) o
         WHERE NOT t.all_time AND t.bucket = o.bucket AND t.flow_name = o.flow_name AND t.status = o.status
           AND o.m >= t.duration_max;
        UPDATE @extschema@.flow_run_rollup t
           SET duration_max = (SELECT max(h.duration_max) FROM @extschema@.flow_run_rollup h
                                WHERE NOT h.all_time AND h.flow_name = t.flow_name AND h.status = t.status
                                  AND h.bucket < 'infinity')
          FROM (SELECT o.flow_name, o.status, max(o.duration_seconds) AS m
                  FROM old_rows o WHERE o.start_time < 'infinity' GROUP BY 1, 2) o
         WHERE t.all_time AND t.bucket = '-infinity' AND t.flow_name = o.flow_name AND t.status = o.status
           AND o.m >= t.duration_max;
        /* the latest start_time of a bucket that lost its latest run */
        UPDATE @extschema@.flow_run_rollup t
           SET last_start_time = (SELECT max(r.start_time) FROM @extschema@.flow_runs r
                                   WHERE r.flow_name = t.flow_name AND r.status = t.status
                                     AND r.start_time >= t.bucket
                                     AND (r.start_time < t.bucket + interval '1 hour' OR r.start_time = t.bucket))
          FROM (SELECT @extschema@._run_hour(o.start_time) AS bucket, o.flow_name, o.status, max(o.start_time) AS m
                  FROM old_rows o GROUP BY 1, 2, 3) o
         WHERE NOT t.all_time AND t.bucket = o.bucket AND t.flow_name = o.flow_name AND t.status = o.status
           AND o.m >= t.last_start_time;
        UPDATE @extschema@.flow_run_rollup t
           SET last_start_time = (SELECT max(h.last_start_time) FROM @extschema@.flow_run_rollup h
                                   WHERE NOT h.all_time AND h.flow_name = t.flow_name AND h.status = t.status
                                     AND h.bucket < 'infinity')
          FROM (SELECT o.flow_name, o.status, max(o.start_time) AS m
                  FROM old_rows o WHERE o.start_time < 'infinity' GROUP BY 1, 2) o
         WHERE t.all_time AND t.bucket = '-infinity' AND t.flow_name = o.flow_name AND t.status = o.status
           AND o.m >= t.last_start_time;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._flow_runs_rollup() IS
    'internal: trigger on obs.flow_runs (per statement, with transition tables) that keeps obs.flow_run_rollup and obs.flow_run_sketch';
CREATE TRIGGER flow_runs_rollup_insert AFTER INSERT ON @extschema@.flow_runs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._flow_runs_rollup();
CREATE TRIGGER flow_runs_rollup_update AFTER UPDATE ON @extschema@.flow_runs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._flow_runs_rollup();
CREATE TRIGGER flow_runs_rollup_delete AFTER DELETE ON @extschema@.flow_runs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._flow_runs_rollup();
CREATE TRIGGER flow_runs_rollup_truncate AFTER TRUNCATE ON @extschema@.flow_runs
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._flow_runs_rollup();

/* one run added to (sign 1) or taken out of (sign -1) the rollups: the triggers' fast path */
CREATE FUNCTION @extschema@._task_rollup_row(sign integer, r @extschema@.task_runs)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_bucket timestamptz := @extschema@._run_hour(r.start_time);
    v_xdur numeric := EXTRACT(epoch FROM r.end_time - r.start_time);
BEGIN
    INSERT INTO @extschema@.task_run_rollup AS t
    SELECT g.all_time, g.bucket, r.task_name, r.status, sign,
           CASE WHEN r.duration_seconds IS NOT NULL THEN sign ELSE 0 END, COALESCE(sign * v_xdur, 0),
           CASE WHEN sign > 0 THEN r.duration_seconds END, CASE WHEN r.inputs_processed IS NOT NULL THEN sign ELSE 0 END, COALESCE(sign * r.inputs_processed, 0),
           CASE WHEN r.outputs_produced IS NOT NULL THEN sign ELSE 0 END, COALESCE(sign * r.outputs_produced, 0),
           CASE WHEN r.duration_seconds IS NOT NULL THEN COALESCE(sign * r.inputs_processed, 0) ELSE 0 END,
           CASE WHEN r.inputs_processed IS NOT NULL THEN COALESCE(sign * v_xdur, 0) ELSE 0 END
      FROM (VALUES (false, v_bucket), (true, '-infinity'::timestamptz)) g(all_time, bucket)
     WHERE NOT g.all_time OR r.start_time < 'infinity'
     ORDER BY 1, 2
    ON CONFLICT (all_time, bucket, task_name, status) DO UPDATE SET
        runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
        duration_sum = t.duration_sum + EXCLUDED.duration_sum,
        duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
        inputs_runs = t.inputs_runs + EXCLUDED.inputs_runs, inputs_sum = t.inputs_sum + EXCLUDED.inputs_sum,
        outputs_runs = t.outputs_runs + EXCLUDED.outputs_runs, outputs_sum = t.outputs_sum + EXCLUDED.outputs_sum,
        paired_inputs = t.paired_inputs + EXCLUDED.paired_inputs,
        paired_duration = t.paired_duration + EXCLUDED.paired_duration;
    IF r.status IN ('Completed', 'Failed', 'Crashed') AND r.duration_seconds IS NOT NULL
       AND r.start_time < 'infinity' THEN
        INSERT INTO @extschema@.task_run_sketch AS s
        VALUES (r.task_name, @extschema@._duration_key(r.duration_seconds), sign, r.duration_seconds, r.duration_seconds)
        ON CONFLICT (task_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
    END IF;
    IF sign > 0 THEN
        RETURN;
    END IF;
    DELETE FROM @extschema@.task_run_rollup t
     WHERE (NOT t.all_time AND t.bucket = v_bucket OR t.all_time AND t.bucket = '-infinity')
       AND t.task_name = r.task_name AND t.status = r.status AND t.runs = 0;
    IF r.duration_seconds IS NOT NULL THEN
        DELETE FROM @extschema@.task_run_sketch s
         WHERE s.task_name = r.task_name AND s.key = @extschema@._duration_key(r.duration_seconds) AND s.runs = 0;
        UPDATE @extschema@.task_run_rollup t
           SET duration_max = (SELECT max(x.duration_seconds) FROM @extschema@.task_runs x
                                WHERE x.task_name = t.task_name AND x.status = t.status
                                  AND x.start_time >= t.bucket
                                  AND (x.start_time < t.bucket + interval '1 hour' OR x.start_time = t.bucket))
         WHERE NOT t.all_time AND t.bucket = v_bucket AND t.task_name = r.task_name AND t.status = r.status
           AND r.duration_seconds >= t.duration_max;
        UPDATE @extschema@.task_run_rollup t
           SET duration_max = (SELECT max(h.duration_max) FROM @extschema@.task_run_rollup h
                                WHERE NOT h.all_time AND h.task_name = t.task_name AND h.status = t.status
                                  AND h.bucket < 'infinity')
         WHERE t.all_time AND t.bucket = '-infinity' AND t.task_name = r.task_name AND t.status = r.status
           AND r.start_time < 'infinity' AND r.duration_seconds >= t.duration_max;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._task_rollup_row(integer, @extschema@.task_runs) IS
    'internal: add the run r to (sign 1) or take it out of (sign -1) obs.task_run_rollup and obs.task_run_sketch; the rollup triggers'' path for a statement that writes one run';

CREATE FUNCTION @extschema@._task_runs_rollup()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_rows bigint;
    v_run @extschema@.task_runs;
BEGIN
    /* rollups off: nothing to keep */
    IF NOT EXISTS (SELECT FROM @extschema@.health_rollups) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM @extschema@.task_run_rollup;
        DELETE FROM @extschema@.task_run_sketch;
        RETURN NULL;
    END IF;
    /* an UPDATE is its old rows taken out and its new rows added */
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        SELECT count(*) INTO v_rows FROM new_rows;
        IF v_rows = 1 THEN
            SELECT * INTO v_run FROM new_rows;
            PERFORM @extschema@._task_rollup_row(1, v_run);
        ELSIF v_rows > 1 THEN
        WITH d AS (SELECT 1 AS sign, task_name, status, start_time, end_time, duration_seconds, inputs_processed, outputs_produced FROM new_rows),
             p AS (SELECT g.all_time, g.bucket, d.task_name, d.status, d.sign, d.duration_seconds AS dur,
                          EXTRACT(epoch FROM d.end_time - d.start_time) AS xdur,
                          d.inputs_processed AS inp, d.outputs_produced AS outp
                     FROM d CROSS JOIN LATERAL (VALUES (false, @extschema@._run_hour(d.start_time)),
                                                       (true, '-infinity'::timestamptz)) g(all_time, bucket)
                    WHERE NOT g.all_time OR d.start_time < 'infinity'),
             r AS (INSERT INTO @extschema@.task_run_rollup AS t
                   SELECT p.all_time, p.bucket, p.task_name, p.status, sum(p.sign),
                          COALESCE(sum(p.sign) FILTER (WHERE p.dur IS NOT NULL), 0), COALESCE(sum(p.sign * p.xdur), 0),
                          max(p.dur) FILTER (WHERE p.sign > 0),
                          COALESCE(sum(p.sign) FILTER (WHERE p.inp IS NOT NULL), 0), COALESCE(sum(p.sign * p.inp), 0),
                          COALESCE(sum(p.sign) FILTER (WHERE p.outp IS NOT NULL), 0), COALESCE(sum(p.sign * p.outp), 0),
                          COALESCE(sum(p.sign * p.inp) FILTER (WHERE p.dur IS NOT NULL), 0),
                          COALESCE(sum(p.sign * p.xdur) FILTER (WHERE p.inp IS NOT NULL), 0)
                     FROM p GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                   ON CONFLICT (all_time, bucket, task_name, status) DO UPDATE SET
                       runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
                       duration_sum = t.duration_sum + EXCLUDED.duration_sum,
                       duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
                       inputs_runs = t.inputs_runs + EXCLUDED.inputs_runs, inputs_sum = t.inputs_sum + EXCLUDED.inputs_sum,
                       outputs_runs = t.outputs_runs + EXCLUDED.outputs_runs, outputs_sum = t.outputs_sum + EXCLUDED.outputs_sum,
                       paired_inputs = t.paired_inputs + EXCLUDED.paired_inputs,
                       paired_duration = t.paired_duration + EXCLUDED.paired_duration)
        INSERT INTO @extschema@.task_run_sketch AS s
        SELECT d.task_name, @extschema@._duration_key(d.duration_seconds), sum(d.sign),
               min(d.duration_seconds), max(d.duration_seconds)
          FROM d
         WHERE d.status IN ('Completed', 'Failed', 'Crashed') AND d.duration_seconds IS NOT NULL
           AND d.start_time < 'infinity'
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (task_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
        SELECT count(*) INTO v_rows FROM old_rows;
        IF v_rows = 1 THEN
            SELECT * INTO v_run FROM old_rows;
            PERFORM @extschema@._task_rollup_row(-1, v_run);
        ELSIF v_rows > 1 THEN
        WITH d AS (SELECT -1 AS sign, task_name, status, start_time, end_time, duration_seconds, inputs_processed, outputs_produced FROM old_rows),
             p AS (SELECT g.all_time, g.bucket, d.task_name, d.status, d.sign, d.duration_seconds AS dur,
                          EXTRACT(epoch FROM d.end_time - d.start_time) AS xdur,
                          d.inputs_processed AS inp, d.outputs_produced AS outp
                     FROM d CROSS JOIN LATERAL (VALUES (false, @extschema@._run_hour(d.start_time)),
                                                       (true, '-infinity'::timestamptz)) g(all_time, bucket)
                    WHERE NOT g.all_time OR d.start_time < 'infinity'),
             r AS (INSERT INTO @extschema@.task_run_rollup AS t
                   SELECT p.all_time, p.bucket, p.task_name, p.status, sum(p.sign),
                          COALESCE(sum(p.sign) FILTER (WHERE p.dur IS NOT NULL), 0), COALESCE(sum(p.sign * p.xdur), 0),
                          max(p.dur) FILTER (WHERE p.sign > 0),
                          COALESCE(sum(p.sign) FILTER (WHERE p.inp IS NOT NULL), 0), COALESCE(sum(p.sign * p.inp), 0),
                          COALESCE(sum(p.sign) FILTER (WHERE p.outp IS NOT NULL), 0), COALESCE(sum(p.sign * p.outp), 0),
                          COALESCE(sum(p.sign * p.inp) FILTER (WHERE p.dur IS NOT NULL), 0),
                          COALESCE(sum(p.sign * p.xdur) FILTER (WHERE p.inp IS NOT NULL), 0)
                     FROM p GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                   ON CONFLICT (all_time, bucket, task_name, status) DO UPDATE SET
                       runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
                       duration_sum = t.duration_sum + EXCLUDED.duration_sum,
                       duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
                       inputs_runs = t.inputs_runs + EXCLUDED.inputs_runs, inputs_sum = t.inputs_sum + EXCLUDED.inputs_sum,
                       outputs_runs = t.outputs_runs + EXCLUDED.outputs_runs, outputs_sum = t.outputs_sum + EXCLUDED.outputs_sum,
                       paired_inputs = t.paired_inputs + EXCLUDED.paired_inputs,
                       paired_duration = t.paired_duration + EXCLUDED.paired_duration)
        INSERT INTO @extschema@.task_run_sketch AS s
        SELECT d.task_name, @extschema@._duration_key(d.duration_seconds), sum(d.sign),
               min(d.duration_seconds), max(d.duration_seconds)
          FROM d
         WHERE d.status IN ('Completed', 'Failed', 'Crashed') AND d.duration_seconds IS NOT NULL
           AND d.start_time < 'infinity'
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (task_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
        /* rows whose runs fell to 0 go */
        DELETE FROM @extschema@.task_run_rollup t
         USING (SELECT DISTINCT @extschema@._run_hour(o.start_time) AS bucket, o.task_name, o.status FROM old_rows o) o
         WHERE NOT t.all_time AND t.bucket = o.bucket AND t.task_name = o.task_name AND t.status = o.status
           AND t.runs = 0;
        DELETE FROM @extschema@.task_run_rollup t
         USING (SELECT DISTINCT o.task_name, o.status FROM old_rows o) o
         WHERE t.all_time AND t.bucket = '-infinity' AND t.task_name = o.task_name AND t.status = o.status
           AND t.runs = 0;
        DELETE FROM @extschema@.task_run_sketch s
         USING (SELECT DISTINCT o.task_name, @extschema@._duration_key(o.duration_seconds) AS key
                  FROM old_rows o WHERE o.duration_seconds IS NOT NULL) o
         WHERE s.task_name = o.task_name AND s.key = o.key AND s.runs = 0;
        /*
         * the longest duration of a bucket that lost its longest run: an hour
         * from the runs (index range scan), then all_time from the hours
         */
        UPDATE @extschema@.task_run_rollup t
           SET duration_max = (SELECT max(r.duration_seconds) FROM @extschema@.task_runs r
                                WHERE r.task_name = t.task_name AND r.status = t.status
                                  AND r.start_time >= t.bucket
                                  AND (r.start_time < t.bucket + interval '1 hour' OR r.start_time = t.bucket))
          FROM (SELECT @extschema@._run_hour(o.start_time) AS bucket, o.task_name, o.status, max(o.duration_seconds) AS m
                  FROM old_rows o GROUP BY 1, 2, 3) o
         WHERE NOT t.all_time AND t.bucket = o.bucket AND t.task_name = o.task_name AND t.status = o.status
           AND o.m >= t.duration_max;
        UPDATE @extschema@.task_run_rollup t
           SET duration_max = (SELECT max(h.duration_max) FROM @extschema@.task_run_rollup h
                                WHERE NOT h.all_time AND h.task_name = t.task_name AND h.status = t.status
                                  AND h.bucket < 'infinity')
          FROM (SELECT o.task_name, o.status, max(o.duration_seconds) AS m
                  FROM old_rows o WHERE o.start_time < 'infinity' GROUP BY 1, 2) o
         WHERE t.all_time AND t.bucket = '-infinity' AND t.task_name = o.task_name AND t.status = o.status
           AND o.m >= t.duration_max;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._task_runs_rollup() IS
    'internal: trigger on obs.task_runs (per statement, with transition tables) that keeps obs.task_run_rollup and obs.task_run_sketch';
CREATE TRIGGER task_runs_rollup_insert AFTER INSERT ON @extschema@.task_runs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._task_runs_rollup();
CREATE TRIGGER task_runs_rollup_update AFTER UPDATE ON @extschema@.task_runs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._task_runs_rollup();
CREATE TRIGGER task_runs_rollup_delete AFTER DELETE ON @extschema@.task_runs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._task_runs_rollup();
CREATE TRIGGER task_runs_rollup_truncate AFTER TRUNCATE ON @extschema@.task_runs
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._task_runs_rollup();

CREATE FUNCTION @extschema@.rebuild_rollups()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    /* writers wait until the rollups are whole again */
    LOCK TABLE @extschema@.flow_runs, @extschema@.task_runs IN SHARE MODE;
    IF NOT EXISTS (SELECT FROM @extschema@.health_rollups) THEN
        RAISE EXCEPTION 'health rollups are off'
            USING ERRCODE = '55000', HINT = 'Turn them on with obs.enable_rollups(), which builds them.';
    END IF;
    DELETE FROM @extschema@.flow_run_rollup;
    DELETE FROM @extschema@.flow_run_sketch;
    DELETE FROM @extschema@.task_run_rollup;
    DELETE FROM @extschema@.task_run_sketch;
    WITH d AS (SELECT 1 AS sign, flow_name, status, start_time, end_time, duration_seconds FROM @extschema@.flow_runs),
             p AS (SELECT g.all_time, g.bucket, d.flow_name, d.status, d.sign, d.duration_seconds AS dur,
                          EXTRACT(epoch FROM d.end_time - d.start_time) AS xdur, d.start_time
                     FROM d CROSS JOIN LATERAL (VALUES (false, @extschema@._run_hour(d.start_time)),
                                                       (true, '-infinity'::timestamptz)) g(all_time, bucket)
                    WHERE NOT g.all_time OR d.start_time < 'infinity'),
             r AS (INSERT INTO @extschema@.flow_run_rollup AS t
                   SELECT p.all_time, p.bucket, p.flow_name, p.status, sum(p.sign),
                          COALESCE(sum(p.sign) FILTER (WHERE p.dur IS NOT NULL), 0), COALESCE(sum(p.sign * p.xdur), 0),
                          max(p.dur) FILTER (WHERE p.sign > 0),
                          max(p.start_time) FILTER (WHERE p.sign > 0)
                     FROM p GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                   ON CONFLICT (all_time, bucket, flow_name, status) DO UPDATE SET
                       runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
                       duration_sum = t.duration_sum + EXCLUDED.duration_sum,
                       duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
                       last_start_time = GREATEST(t.last_start_time, EXCLUDED.last_start_time))
        INSERT INTO @extschema@.flow_run_sketch AS s
        SELECT d.flow_name, @extschema@._duration_key(d.duration_seconds), sum(d.sign),
               min(d.duration_seconds), max(d.duration_seconds)
          FROM d
         WHERE d.status IN ('Completed', 'Failed', 'Crashed') AND d.duration_seconds IS NOT NULL
           AND d.start_time < 'infinity'
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (flow_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
    WITH d AS (SELECT 1 AS sign, task_name, status, start_time, end_time, duration_seconds, inputs_processed, outputs_produced FROM @extschema@.task_runs),
             p AS (SELECT g.all_time, g.bucket, d.task_name, d.status, d.sign, d.duration_seconds AS dur,
                          EXTRACT(epoch FROM d.end_time - d.start_time) AS xdur,
                          d.inputs_processed AS inp, d.outputs_produced AS outp
                     FROM d CROSS JOIN LATERAL (VALUES (false, @extschema@._run_hour(d.start_time)),
                                                       (true, '-infinity'::timestamptz)) g(all_time, bucket)
                    WHERE NOT g.all_time OR d.start_time < 'infinity'),
             r AS (INSERT INTO @extschema@.task_run_rollup AS t
                   SELECT p.all_time, p.bucket, p.task_name, p.status, sum(p.sign),
                          COALESCE(sum(p.sign) FILTER (WHERE p.dur IS NOT NULL), 0), COALESCE(sum(p.sign * p.xdur), 0),
                          max(p.dur) FILTER (WHERE p.sign > 0),
                          COALESCE(sum(p.sign) FILTER (WHERE p.inp IS NOT NULL), 0), COALESCE(sum(p.sign * p.inp), 0),
                          COALESCE(sum(p.sign) FILTER (WHERE p.outp IS NOT NULL), 0), COALESCE(sum(p.sign * p.outp), 0),
                          COALESCE(sum(p.sign * p.inp) FILTER (WHERE p.dur IS NOT NULL), 0),
                          COALESCE(sum(p.sign * p.xdur) FILTER (WHERE p.inp IS NOT NULL), 0)
                     FROM p GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                   ON CONFLICT (all_time, bucket, task_name, status) DO UPDATE SET
                       runs = t.runs + EXCLUDED.runs, timed_runs = t.timed_runs + EXCLUDED.timed_runs,
                       duration_sum = t.duration_sum + EXCLUDED.duration_sum,
                       duration_max = GREATEST(t.duration_max, EXCLUDED.duration_max),
                       inputs_runs = t.inputs_runs + EXCLUDED.inputs_runs, inputs_sum = t.inputs_sum + EXCLUDED.inputs_sum,
                       outputs_runs = t.outputs_runs + EXCLUDED.outputs_runs, outputs_sum = t.outputs_sum + EXCLUDED.outputs_sum,
                       paired_inputs = t.paired_inputs + EXCLUDED.paired_inputs,
                       paired_duration = t.paired_duration + EXCLUDED.paired_duration)
        INSERT INTO @extschema@.task_run_sketch AS s
        SELECT d.task_name, @extschema@._duration_key(d.duration_seconds), sum(d.sign),
               min(d.duration_seconds), max(d.duration_seconds)
          FROM d
         WHERE d.status IN ('Completed', 'Failed', 'Crashed') AND d.duration_seconds IS NOT NULL
           AND d.start_time < 'infinity'
         GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (task_name, key) DO UPDATE SET
            runs = s.runs + EXCLUDED.runs, min_value = LEAST(s.min_value, EXCLUDED.min_value),
            max_value = GREATEST(s.max_value, EXCLUDED.max_value);
END
$$;
COMMENT ON FUNCTION @extschema@.rebuild_rollups() IS
$$recompute obs.flow_run_rollup, obs.task_run_rollup and their duration sketches from obs.flow_runs and obs.task_runs (locked against writes meanwhile).
The triggers on the runs keep the rollups on every write, bulk loads included; rebuild after writing the runs with triggers disabled (session_replication_role = replica, pg_restore --disable-triggers, a logical replication subscriber).$$;

/*
 * The switch: a row inserted into obs.health_rollups (enable_rollups(), a
 * restore) builds the rollups from the runs; the row deleted
 * (disable_rollups()) empties them.
 */
CREATE FUNCTION @extschema@._health_rollups_switch()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM @extschema@.rebuild_rollups();
    ELSE
        LOCK TABLE @extschema@.flow_runs, @extschema@.task_runs IN SHARE MODE;
        DELETE FROM @extschema@.flow_run_rollup;
        DELETE FROM @extschema@.flow_run_sketch;
        DELETE FROM @extschema@.task_run_rollup;
        DELETE FROM @extschema@.task_run_sketch;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._health_rollups_switch() IS
    'internal: trigger on obs.health_rollups; a row inserted builds the rollups from the runs, the row deleted empties them';
CREATE TRIGGER health_rollups_on AFTER INSERT ON @extschema@.health_rollups
    FOR EACH ROW EXECUTE FUNCTION @extschema@._health_rollups_switch();
CREATE TRIGGER health_rollups_off AFTER DELETE ON @extschema@.health_rollups
    FOR EACH ROW EXECUTE FUNCTION @extschema@._health_rollups_switch();

CREATE FUNCTION @extschema@.enable_rollups()
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO @extschema@.health_rollups DEFAULT VALUES ON CONFLICT DO NOTHING;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION @extschema@.enable_rollups() IS
$$turn the health rollups on: build them from the runs (writers of runs wait meanwhile) and keep them on every write from then on, so that flow_health, task_summary and task_performance take the same time at 10M runs as at 1M.
Returns false when they were on already.  Writers of runs of the same name and status then wait for each other's commit (README "Pipeline health").$$;

CREATE FUNCTION @extschema@.disable_rollups()
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM @extschema@.health_rollups;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION @extschema@.disable_rollups() IS
    'turn the health rollups off and empty them: the health figures come from the runs again; returns false when they were off already';
