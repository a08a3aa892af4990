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
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
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
 * Whether transaction x precedes the full transaction id horizon (false for
 * a NULL horizon).  x is a row's 32-bit xmin; it is compared modulo 2^32, as
 * the server does, so the answer holds for rows less than 2^31 transactions
 * older than horizon.  Frozen and bootstrap ids (below 3) precede everything.
 */
CREATE FUNCTION @extschema@._xid_precedes(x xid, horizon xid8)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT horizon IS NOT NULL
       AND (x::text::bigint < 3
            OR ((x::text::bigint - (horizon::text::bigint % 4294967296) + 4294967296)
                % 4294967296) >= 2147483648);
END;
COMMENT ON FUNCTION @extschema@._xid_precedes(xid, xid8) IS
    'internal: whether transaction x (a row''s xmin) precedes the full transaction id horizon';

/*
 * The one place alerts are computed and stored; returns the ids of the
 * alerts it stored, in insertion order, and logs each one at WARNING.
 *
 * It checks the breaching samples of the series named p_metric_name whose
 * tags contain p_tags:
 * - with ts in the window (p_since, p_until], unless the previous
 *   evaluation (p_last_window, p_last_xmin) already checked them;
 * - with ts in (p_since - p_lateness, p_since] (only when there was a
 *   previous evaluation) that the previous evaluation did not check: stored
 *   by a transaction that does not precede p_last_xmin, or with ts after
 *   p_last_window.
 * The previous evaluation checked a sample when the sample's transaction
 * precedes p_last_xmin (the xmin of that evaluation's snapshot: every such
 * transaction had finished, so the sample was visible to it) and its ts
 * was in p_last_window.  Ad-hoc checks pass NULL for all three.
 *
 * Identical samples (same series, ts and value) are numbered 1..n, and
 * when one of them is to be checked all n are: n identical samples give
 * n alerts (sample_no 1..n) however they arrive, and a re-check gives
 * none.  The unique key alerts_sample_key includes the rule name (NULL for
 * ad-hoc checks); ON CONFLICT DO NOTHING absorbs re-checks and concurrent
 * evaluations with one index probe per sample, whatever the statistics.
 * Severity is computed in numeric, which cannot overflow on finite floats.
 */
CREATE FUNCTION @extschema@._store_alerts(
    p_metric_name text, p_threshold double precision, p_comparison text,
    p_tags jsonb, p_rule_name text, p_since timestamptz, p_until timestamptz,
    p_lateness interval, p_last_window tstzrange, p_last_xmin xid8)
RETURNS bigint[]
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_scan_since timestamptz := p_since;
    v_last_xmin xid8 := p_last_xmin;
    v_last_lo timestamptz;
    v_last_hi timestamptz;
    v_new bigint[] := '{}';
    v_symbol text;
    r record;
BEGIN
    /* a watermark from the future comes from another cluster (a restored
       dump): then this is like a first evaluation */
    IF p_last_xmin > pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot()) THEN
        v_last_xmin := NULL;
    END IF;
    IF v_last_xmin IS NOT NULL AND p_lateness IS NOT NULL THEN
        v_scan_since := p_since - p_lateness;
    END IF;
    IF v_last_xmin IS NOT NULL AND p_last_window IS NOT NULL
       AND NOT pg_catalog.isempty(p_last_window) THEN
        v_last_lo := pg_catalog.lower(p_last_window);
        v_last_hi := pg_catalog.upper(p_last_window);
    END IF;
    v_symbol := CASE p_comparison WHEN 'greater' THEN '>' WHEN 'less' THEN '<'
                                  WHEN 'greater_or_equal' THEN '>=' ELSE '<=' END;

    FOR r IN
        INSERT INTO @extschema@.alerts AS a
               (metric_name, series_id, tags, observed_at, value, threshold,
                comparison, severity, rule_name, sample_no)
        SELECT b.name, b.series_id, b.tags, b.ts, b.value, p_threshold,
               p_comparison,
               CASE WHEN pg_catalog.abs(b.value::numeric - p_threshold::numeric)
                         > 0.1 * pg_catalog.abs(p_threshold::numeric)
                    THEN 'high' ELSE 'warning' END::@extschema@.alert_severity,
               p_rule_name, b.sample_no
          FROM (SELECT c.*,
                       pg_catalog.row_number() OVER w AS sample_no,
                       pg_catalog.bool_or(c.candidate) OVER w AS group_candidate
                  FROM (SELECT s.series_id, s.name, s.tags, p.ts, p.value,
                               NOT (k.seen AND p.ts > v_last_lo AND p.ts <= v_last_hi) IS TRUE
                               AND (p.ts > p_since OR NOT k.seen
                                    OR COALESCE(p.ts > v_last_hi, false)) AS candidate
                          FROM @extschema@.metric_series s
                          JOIN @extschema@.metric_points p ON p.series_id = s.series_id
                         CROSS JOIN LATERAL (
                               SELECT @extschema@._xid_precedes(p.xmin, v_last_xmin) AS seen) k
                         WHERE s.name = p_metric_name
                           AND (p_tags IS NULL OR s.tags @> p_tags)
                           AND p.ts > v_scan_since AND p.ts <= p_until
                           AND CASE p_comparison
                                   WHEN 'greater' THEN p.value > p_threshold
                                   WHEN 'less' THEN p.value < p_threshold
                                   WHEN 'greater_or_equal' THEN p.value >= p_threshold
                                   ELSE p.value <= p_threshold
                               END) c
                WINDOW w AS (PARTITION BY c.series_id, c.ts, c.value)) b
         WHERE b.group_candidate
         ORDER BY b.series_id, b.ts, b.value, b.sample_no
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
                'comparison', p_comparison, 'severity', r.severity,
                'observed_at', r.observed_at, 'rule_name', p_rule_name),
            r.tags,
            'obs.alerts');
    END LOOP;
    RETURN v_new;
END
$$;
COMMENT ON FUNCTION @extschema@._store_alerts(text, double precision, text, jsonb, text, timestamptz, timestamptz, interval, tstzrange, xid8) IS
    'internal: store the new breaches of one alert condition and return their ids (see check_alert_conditions and evaluate_alert_rules)';

/*
 * Ad-hoc checks share one namespace (rule_name NULL): every breach of the
 * window is returned, read back in a separate statement so that the rows
 * inserted by _store_alerts() are visible.  (PL/pgSQL, behind the SQL
 * check_alert_conditions(), whose output columns share its arguments' names.)
 */
CREATE FUNCTION @extschema@._check_alerts(
    p_metric_name text, p_threshold double precision, p_comparison text,
    p_lookback interval, p_tags jsonb, p_as_of timestamptz)
RETURNS TABLE(o_alert_id bigint, o_metric_name text, o_tags jsonb, o_value double precision,
              o_threshold double precision, o_comparison text,
              o_severity @extschema@.alert_severity, o_observed_at timestamptz, o_is_new boolean)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_comparison text;
    v_until timestamptz;
    v_since timestamptz;
    v_new bigint[];
BEGIN
    v_comparison := @extschema@._alert_args(p_metric_name, p_threshold, p_comparison, p_lookback, p_tags);
    v_until := COALESCE(p_as_of, pg_catalog.clock_timestamp());
    v_since := v_until - p_lookback;
    v_new := @extschema@._store_alerts(p_metric_name, p_threshold, v_comparison, p_tags, NULL,
                                       v_since, v_until, NULL, NULL, NULL);
    RETURN QUERY
        SELECT a.alert_id, a.metric_name, a.tags, a.value, a.threshold, a.comparison,
               a.severity, a.observed_at, a.alert_id = ANY (v_new)
          FROM @extschema@.alerts a
          JOIN @extschema@.metric_series s ON s.series_id = a.series_id
         WHERE a.rule_name IS NULL
           AND s.name = p_metric_name
           AND (p_tags IS NULL OR s.tags @> p_tags)
           AND a.observed_at > v_since AND a.observed_at <= v_until
           AND a.comparison = v_comparison
           AND a.threshold = p_threshold
         ORDER BY a.observed_at, a.series_id, a.value, a.sample_no;
END
$$;
COMMENT ON FUNCTION @extschema@._check_alerts(text, double precision, text, interval, jsonb, timestamptz) IS
    'internal: obs.check_alert_conditions() (store and return the breaches of one ad-hoc alert condition)';
/* an admin function like check_alert_conditions (see 90_privileges.sql) */
REVOKE EXECUTE ON FUNCTION @extschema@._check_alerts(text, double precision, text, interval, jsonb, timestamptz) FROM PUBLIC;

CREATE FUNCTION @extschema@.check_alert_conditions(
    metric_name text, threshold double precision, comparison text DEFAULT 'greater',
    lookback interval DEFAULT '5 minutes', tags jsonb DEFAULT NULL,
    as_of timestamptz DEFAULT NULL)
RETURNS TABLE(alert_id bigint, metric_name text, tags jsonb, value double precision,
              threshold double precision, comparison text,
              severity @extschema@.alert_severity, observed_at timestamptz, is_new boolean)
LANGUAGE sql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM @extschema@._check_alerts($1, $2, $3, $4, $5, $6)
$$;
COMMENT ON FUNCTION @extschema@.check_alert_conditions(text, double precision, text, interval, jsonb, timestamptz) IS
$$return every sample of metric metric_name in (as_of - lookback, as_of] (as_of NULL = the current time, clock_timestamp()) that breaches threshold, storing each in obs.alerts once (rule_name NULL: ad-hoc checks share one namespace, apart from the rules').
comparison: greater, less, greater_or_equal, less_or_equal or >, <, >=, <= (case-insensitive; stored as the word).
tags: only series whose tags contain these (@>) count.
severity: high when |value - threshold| > 0.1 * |threshold|, computed on the values cast to numeric (15 significant digits), else warning; so a breach of exactly 10% is warning and any strict breach of a threshold of 0 is high.
is_new: the alert was stored by this call; a re-check of the same window stores nothing twice, and n identical samples (same series, ts and value) give n alerts.  Each new alert is also logged once with obs.warning(..., logger => 'obs.alerts').
Errors: 22004 for NULL metric_name, threshold, comparison or lookback; 22003 for a NaN or infinite threshold; 22023 for an invalid comparison, a negative lookback or tags that are not a JSON object.$$;

CREATE FUNCTION @extschema@.add_alert_rule(
    rule_name text, metric_name text, threshold double precision,
    comparison text DEFAULT 'greater', lookback interval DEFAULT '5 minutes',
    tags jsonb DEFAULT NULL)
RETURNS @extschema@.alert_rules
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
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
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
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

/*
 * A definition change (metric, threshold, comparison, tags) forgets what
 * the rule has checked: its next evaluation checks its window afresh.
 */
CREATE FUNCTION @extschema@._alert_rule_changed()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.last_window := NULL;
    NEW.last_xmin := NULL;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@._alert_rule_changed() IS
    'internal: trigger that resets a rule''s evaluation watermark when its condition changes';

CREATE TRIGGER alert_rules_changed
    BEFORE UPDATE OF metric_name, threshold, comparison, tags ON @extschema@.alert_rules
    FOR EACH ROW
    WHEN (OLD.metric_name IS DISTINCT FROM NEW.metric_name
          OR OLD.threshold IS DISTINCT FROM NEW.threshold
          OR OLD.comparison IS DISTINCT FROM NEW.comparison
          OR OLD.tags IS DISTINCT FROM NEW.tags)
    EXECUTE FUNCTION @extschema@._alert_rule_changed();

/*
 * Each rule runs in its own subtransaction: a rule that fails (e.g. a row
 * edited into an invalid condition) is rolled back alone, reported with a
 * WARNING and recorded in last_error / last_error_at, and the other rules
 * are evaluated.  The rule's row is locked while it is evaluated, NOWAIT:
 * a rule that another transaction holds (an overlapping run, an open
 * UPDATE) is skipped the same way (55P03) instead of stalling the run, and
 * the next run catches up through the watermark.  The watermark
 * (last_window, last_xmin) is taken from a snapshot taken before the
 * samples are read; see _store_alerts().
 */
CREATE FUNCTION @extschema@.evaluate_alert_rules(as_of timestamptz DEFAULT NULL)
RETURNS SETOF @extschema@.alerts
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_as_of timestamptz := COALESCE($1, pg_catalog.clock_timestamp());
    v_name text;
    v_rule @extschema@.alert_rules;
    v_comparison text;
    v_xmin xid8;
    v_new bigint[];
    v_state text;
    v_message text;
BEGIN
    /* every rule would fail alone, and the run would seem to succeed */
    IF pg_catalog.current_setting('transaction_read_only')::boolean THEN
        RAISE EXCEPTION 'cannot execute obs.evaluate_alert_rules() in a read-only transaction'
            USING ERRCODE = '25006',
                  HINT = 'Evaluate alert rules on the primary (not on a standby), in a read-write transaction.';
    END IF;
    FOR v_name IN
        SELECT r.rule_name FROM @extschema@.alert_rules r WHERE r.enabled ORDER BY r.rule_name
    LOOP
        BEGIN
            SELECT * INTO v_rule FROM @extschema@.alert_rules r
             WHERE r.rule_name = v_name AND r.enabled FOR UPDATE NOWAIT;
            CONTINUE WHEN NOT FOUND;
            v_comparison := @extschema@._alert_args(v_rule.metric_name, v_rule.threshold,
                                                    v_rule.comparison, v_rule.lookback, v_rule.tags);
            v_xmin := pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot());
            v_new := @extschema@._store_alerts(v_rule.metric_name, v_rule.threshold, v_comparison,
                                               v_rule.tags, v_rule.rule_name,
                                               v_as_of - v_rule.lookback, v_as_of, v_rule.lateness,
                                               v_rule.last_window, v_rule.last_xmin);
            UPDATE @extschema@.alert_rules r
               SET last_evaluated_at = pg_catalog.clock_timestamp(),
                   last_window = pg_catalog.tstzrange(v_as_of - v_rule.lookback, v_as_of, '(]'),
                   last_xmin = v_xmin, last_error = NULL, last_error_at = NULL
             WHERE r.rule_name = v_name;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            RAISE WARNING 'alert rule "%" failed: %', v_name, v_message
                USING DETAIL = pg_catalog.format('The rule failed with SQLSTATE %s and stored no alert; the other rules were evaluated.', v_state),
                      HINT = 'The error is kept in obs.alert_rules.last_error until the rule is evaluated without error.';
            /* the rule's row may be what failed (locked by another
               transaction): keeping the error must not end the run either */
            BEGIN
                PERFORM FROM @extschema@.alert_rules r
                  WHERE r.rule_name = v_name FOR UPDATE NOWAIT;
                UPDATE @extschema@.alert_rules r
                   SET last_error = v_state || ': ' || v_message,
                       last_error_at = pg_catalog.clock_timestamp()
                 WHERE r.rule_name = v_name;
            EXCEPTION WHEN OTHERS THEN
                NULL;
            END;
            CONTINUE;
        END;
        RETURN QUERY
            SELECT * FROM @extschema@.alerts a
             WHERE a.alert_id = ANY (v_new)
             ORDER BY a.observed_at, a.alert_id;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.evaluate_alert_rules(timestamptz) IS
$$check every enabled rule of obs.alert_rules at as_of (NULL = the current time), store the breaches under the rule's name, and return the alerts stored by this call, by rule name.
A rule checks the samples in its window (as_of - lookback, as_of] that its previous evaluation did not check, and the samples stored since its previous evaluation whose ts is up to lateness before the window (README: "Lookback against schedule").
A rule that fails is skipped with a WARNING and its error kept in last_error; the other rules are evaluated.
Errors: 25006 in a read-only transaction (a standby, or BEGIN READ ONLY), where every rule would fail.
Schedule it with pg_cron: SELECT cron.schedule('obs-alerts', '* * * * *', 'SELECT obs.evaluate_alert_rules()');$$;

CREATE FUNCTION @extschema@.acknowledge_alert(alert_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
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

CREATE VIEW @extschema@.active_alerts WITH (security_invoker = true) AS
    SELECT a.alert_id, a.created_at, a.metric_name, a.series_id, a.tags, a.observed_at,
           a.value, a.threshold, a.comparison, a.severity, a.rule_name
      FROM @extschema@.alerts a
     WHERE a.acknowledged_at IS NULL
     ORDER BY a.observed_at DESC, a.alert_id DESC;
COMMENT ON VIEW @extschema@.active_alerts IS 'alerts not yet acknowledged, newest observation first';

