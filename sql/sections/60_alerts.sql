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
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
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
LANGUAGE sql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
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

CREATE FUNCTION @extschema@.evaluate_alert_rules(as_of timestamptz DEFAULT NULL)
RETURNS SETOF @extschema@.alerts
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
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

