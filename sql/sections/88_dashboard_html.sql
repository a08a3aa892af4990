/* ------------------------------------------------------------------------
 * Section: the HTML dashboard (SQL)
 * ------------------------------------------------------------------------ */

/*
 * obs.dashboard_html(since, until) renders the dashboard panels as one
 * self-contained HTML page: inline CSS and inline SVG, no script, no
 * request to any network (a Content-Security-Policy of default-src 'none'
 * says so to the browser too).  It runs as its caller, so privileges and
 * row-level security hold: a panel whose figures the caller may not read
 * says so (42501 is caught per panel) and the others are drawn.
 *
 * Every text that comes from data (names, messages, tags, errors) goes
 * through _html(), which escapes & < > " and ', so it can neither open an
 * element nor leave an attribute.  Numbers and timestamps are formatted
 * by obs itself.
 *
 * The panels read the dashboard functions over [since, until) (so the
 * time indexes are used) with one time bucket, chosen so that the range
 * has at most 48 of them.
 */

/* text escaped for HTML element content and quoted attribute values */
CREATE FUNCTION @extschema@._html(t text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
               t, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;');
END;
COMMENT ON FUNCTION @extschema@._html(text) IS
    'internal: text escaped for HTML content and quoted attributes (& < > " and '')';

/* a number for people: 3 significant places, k/M/G beyond 10 000; a dash for none */
CREATE FUNCTION @extschema@._dash_num(x double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE
        WHEN x IS NULL OR x IN ('NaN'::double precision, 'Infinity'::double precision,
                                '-Infinity'::double precision) THEN '&#8211;'
        WHEN pg_catalog.abs(x) >= 1e9 THEN pg_catalog.trim_scale(pg_catalog.round((x / 1e9)::numeric, 1))::text || 'G'
        WHEN pg_catalog.abs(x) >= 1e6 THEN pg_catalog.trim_scale(pg_catalog.round((x / 1e6)::numeric, 1))::text || 'M'
        WHEN pg_catalog.abs(x) >= 1e4 THEN pg_catalog.trim_scale(pg_catalog.round((x / 1e3)::numeric, 1))::text || 'k'
        WHEN pg_catalog.abs(x) >= 100 THEN pg_catalog.round(x::numeric)::text
        WHEN pg_catalog.abs(x) >= 1 THEN pg_catalog.trim_scale(pg_catalog.round(x::numeric, 2))::text
        ELSE pg_catalog.trim_scale(pg_catalog.round(x::numeric, 3))::text
    END;
END;
COMMENT ON FUNCTION @extschema@._dash_num(double precision) IS
    'internal: a number as the HTML dashboard prints it (3 significant places, k/M/G suffixes, a dash for NULL, NaN and infinity)';

/* a round axis step (1, 2, 2.5 or 5 times a power of ten) giving about 5 ticks up to top */
CREATE FUNCTION @extschema@._dash_step(top double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN m.x <= 1 THEN 1 WHEN m.x <= 2 THEN 2 WHEN m.x <= 2.5 THEN 2.5
                WHEN m.x <= 5 THEN 5 ELSE 10 END * m.p
      FROM (SELECT r / 10 ^ pg_catalog.floor(pg_catalog.log(r)) AS x,
                   10 ^ pg_catalog.floor(pg_catalog.log(r)) AS p
              FROM (SELECT GREATEST(COALESCE(top, 0), 1e-9) / 5 AS r) r0) m;
END;
COMMENT ON FUNCTION @extschema@._dash_step(double precision) IS
    'internal: a round axis step (1, 2, 2.5 or 5 x 10^k) that divides [0, top] into about 5 ticks';

CREATE FUNCTION @extschema@.dashboard_html(
    since timestamptz, until timestamptz,
    error_threshold double precision DEFAULT NULL,
    latency_metric text DEFAULT 'request_latency_ms')
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_since timestamptz := COALESCE($1, COALESCE($2, pg_catalog.now()) - interval '1 day');
    v_until timestamptz := COALESCE($2, pg_catalog.now());
    v_bounds double precision[] := '{10,50,100,250,500,1000,2500,5000}';
    v_bucket_s double precision;
    v_bucket interval;
    v_origin timestamptz;
    v_ncols integer;
    v_tfmt text;
    v_bucket_txt text;
    v_colw double precision;
    v_max double precision;
    v_step double precision;
    v_top double precision;
    v_thr double precision;
    v_thr_src text;
    v_n bigint;
    v_total bigint;
    v_a text;
    v_b text;
    v_c text;
    v_ext oid;
    v_sink regclass;
    p text;
    h text := '';
BEGIN
    IF NOT pg_catalog.isfinite(v_since) OR NOT pg_catalog.isfinite(v_until) THEN
        RAISE EXCEPTION 'since and until must be finite'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The range given was [%s, %s).', v_since, v_until);
    END IF;
    PERFORM @extschema@._check_range(v_since, v_until);
    IF $3 IS NOT NULL AND NOT ($3 >= 0 AND $3 <= 1) THEN
        RAISE EXCEPTION 'error_threshold must be between 0 and 1'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The error_threshold given was %s.', $3);
    END IF;
    IF $4 IS NULL THEN
        RAISE EXCEPTION 'latency_metric must not be null' USING ERRCODE = '22004';
    END IF;

    /* one time bucket for every panel: the smallest round one giving at most 48 */
    v_bucket_s := COALESCE(
        (SELECT b FROM pg_catalog.unnest('{60,120,300,600,900,1800,3600,7200,10800,21600,43200,86400,172800,604800}'::double precision[]) b
          WHERE pg_catalog.date_part('epoch', v_until - v_since) / b <= 48 ORDER BY b LIMIT 1),
        pg_catalog.ceil(pg_catalog.date_part('epoch', v_until - v_since) / 48 / 86400) * 86400);
    v_bucket := pg_catalog.make_interval(secs => v_bucket_s);
    v_origin := pg_catalog.date_bin(v_bucket, v_since, '2000-01-01 00:00:00+00'::timestamptz);
    v_ncols := GREATEST(1, pg_catalog.ceil(pg_catalog.date_part('epoch', v_until - v_origin) / v_bucket_s)::integer);
    v_bucket_txt := CASE WHEN v_bucket_s < 3600 THEN (v_bucket_s / 60)::integer || ' min'
                         WHEN v_bucket_s < 86400 THEN (v_bucket_s / 3600)::integer || ' h'
                         ELSE (v_bucket_s / 86400)::integer || ' d' END;
    v_tfmt := CASE WHEN v_until - v_since <= interval '1 day' THEN 'HH24:MI'
                   WHEN v_until - v_since <= interval '7 days' THEN 'MM-DD HH24:MI'
                   ELSE 'YYYY-MM-DD' END;

    h := pg_catalog.concat(
        '<!DOCTYPE html>', E'\n', '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<title>obs dashboard</title><style>',
        '*{box-sizing:border-box}',
        'body{margin:0;font:13px/1.4 "DejaVu Sans",system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#eef1f5;color:#1f2933}',
        'header{background:#1f2a44;color:#fff;padding:10px 18px;display:flex;justify-content:space-between;align-items:baseline;gap:16px}',
        'header h1{font-size:18px;margin:0}header .range{font-size:13px;color:#cbd2e1}',
        'main{display:grid;grid-template-columns:repeat(12,minmax(0,1fr));gap:12px;padding:12px;max-width:1280px;margin:0 auto}',
        'section{background:#fff;border-radius:6px;box-shadow:0 1px 2px rgba(0,0,0,.1);padding:10px 14px;min-width:0}',
        'section h2{font-size:14px;margin:0 0 6px;color:#243b53}h3{font-size:12px;margin:8px 0 4px;color:#486581}',
        '.c4{grid-column:span 4}.c5{grid-column:span 5}.c7{grid-column:span 7}.c8{grid-column:span 8}.c12{grid-column:span 12}',
        '.cols3{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:16px}',
        'table{border-collapse:collapse;width:100%;font-size:12px;table-layout:auto}',
        'th,td{padding:3px 6px;border-bottom:1px solid #e4e7eb;text-align:left;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:260px}',
        'td.name{max-width:170px}td.tags{max-width:150px}',
        'th{color:#52606d;font-weight:600;background:#f5f7fa}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}',
        'td.msg{white-space:normal;max-width:none;word-break:break-word}',
        '.bar{height:8px;background:#4c8bf5;border-radius:2px;min-width:1px}td.barcell{width:30%}',
        '.muted{color:#7b8794}.note{color:#7b8794;font-size:11px;margin:4px 0 0}',
        '.sev{padding:0 6px;border-radius:8px;color:#fff;font-size:11px}.sev-high{background:#d9453d}.sev-warning{background:#e69b00}',
        '.lvl-ERROR{color:#d9453d;font-weight:600}.lvl-CRITICAL{color:#8e2c8e;font-weight:700}',
        '.chips span{display:inline-block;margin:0 6px 4px 0;padding:1px 8px;border-radius:10px;background:#f0f4f8;font-size:12px}',
        'svg{width:100%;height:auto;display:block}svg text{font-size:11px;fill:#334e68}',
        'svg .axis{stroke:#9aa5b1;stroke-width:1}svg .grid{stroke:#e4e7eb;stroke-width:1}',
        'svg text.title{font-size:11px;fill:#52606d;font-weight:600}',
        '</style></head><body>',
        pg_catalog.format('<header><h1>obs dashboard</h1><span class="range">%s &#8211; %s (%s) &#183; bucket %s &#183; database %s</span></header><main>',
                          pg_catalog.to_char(v_since, 'YYYY-MM-DD HH24:MI'), pg_catalog.to_char(v_until, 'YYYY-MM-DD HH24:MI'),
                          @extschema@._html(pg_catalog.current_setting('TimeZone')),
                          v_bucket_txt, @extschema@._html(pg_catalog.current_database())));

    /* ---- flow success: the seed's pie, as a donut with a legend ---- */
    BEGIN
        SELECT COALESCE(pg_catalog.sum(x.n), 0) INTO v_total
          FROM (SELECT pg_catalog.count(*) AS n FROM @extschema@.flow_runs r
                 WHERE r.start_time >= v_since AND r.start_time < v_until) x;
        WITH counts AS (
            SELECT r.status, pg_catalog.count(*) AS n
              FROM @extschema@.flow_runs r
             WHERE r.start_time >= v_since AND r.start_time < v_until
             GROUP BY r.status
        ), slices AS (
            SELECT s.ord, s.label, s.colour,
                   COALESCE((SELECT pg_catalog.sum(c.n) FROM counts c
                              WHERE c.status::text = ANY (s.states)), 0)::bigint AS n
              FROM (VALUES (1, 'Completed', '#2e9d5b', '{Completed}'::text[]),
                           (2, 'Failed', '#d9453d', '{Failed}'::text[]),
                           (3, 'Crashed', '#8e2c8e', '{Crashed}'::text[]),
                           (4, 'Cancelled', '#9aa5b1', '{Cancelled}'::text[]),
                           (5, 'other (running, scheduled, ...)', '#4c8bf5',
                            '{Scheduled,Pending,Running,Paused,Cancelling}'::text[])) s(ord, label, colour, states)
        ), arcs AS (
            SELECT s.*, 2 * pi() * 70 AS circ,
                   (pg_catalog.sum(s.n) OVER (ORDER BY s.ord) - s.n)::double precision AS before
              FROM slices s
        )
        SELECT pg_catalog.string_agg(
                   pg_catalog.format('<circle cx="100" cy="100" r="70" fill="none" stroke="%s" stroke-width="34" stroke-dasharray="%s %s" stroke-dashoffset="%s" transform="rotate(-90 100 100)"><title>%s: %s runs (%s%%)</title></circle>',
                                     a.colour, pg_catalog.round((a.n::double precision / v_total * a.circ)::numeric, 2),
                                     pg_catalog.round(((1 - a.n::double precision / v_total) * a.circ)::numeric, 2),
                                     pg_catalog.round((-a.before / v_total * a.circ)::numeric, 2),
                                     a.label, a.n, @extschema@._dash_num(100.0 * a.n / v_total)), '' ORDER BY a.ord)
                   FILTER (WHERE a.n > 0),
               pg_catalog.string_agg(
                   pg_catalog.format('<rect x="215" y="%s" width="12" height="12" rx="2" fill="%s"/><text x="233" y="%s">%s</text><text x="375" y="%s" text-anchor="end">%s &#183; %s%%</text>',
                                     40 + 22 * a.ord, a.colour, 50 + 22 * a.ord,
                                     CASE WHEN a.ord = 5 THEN 'other' ELSE a.label END, 50 + 22 * a.ord,
                                     a.n, CASE WHEN v_total > 0 THEN @extschema@._dash_num(100.0 * a.n / v_total) ELSE '0' END),
                   '' ORDER BY a.ord),
               @extschema@._dash_num(100.0 * pg_catalog.sum(a.n) FILTER (WHERE a.ord = 1)
                                     / NULLIF(pg_catalog.sum(a.n) FILTER (WHERE a.ord <= 3), 0))
          INTO v_a, v_b, v_c
          FROM arcs a;
        p := pg_catalog.concat(
            '<section class="c4" id="flow-success"><h2>Flow success</h2>',
            '<svg viewBox="0 0 380 200" role="img" aria-label="flow runs by final state">',
            '<circle cx="100" cy="100" r="70" fill="none" stroke="#e4e7eb" stroke-width="34"/>', v_a,
            pg_catalog.format('<text x="100" y="98" text-anchor="middle" style="font-size:20px;font-weight:700">%s%s</text>',
                              v_c, CASE WHEN v_c = '&#8211;' THEN '' ELSE '%' END),
            '<text x="100" y="116" text-anchor="middle">success rate</text>',
            pg_catalog.format('<text x="215" y="40" class="title">runs by final state</text><text x="215" y="180" class="title">%s runs started</text>', v_total),
            v_b, '</svg>',
            '<p class="note">Success rate = Completed / (Completed + Failed + Crashed); Cancelled runs count neither way.</p>');
        SELECT pg_catalog.string_agg(
                   pg_catalog.format('<tr><td class="name" title="%s">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td></tr>',
                                     @extschema@._html(f.flow_name), @extschema@._html(pg_catalog.left(f.flow_name, 40)),
                                     f.total_runs, f.failure_count,
                                     CASE WHEN f.success_rate IS NULL THEN '&#8211;'
                                          ELSE @extschema@._dash_num(100 * f.success_rate) || '%' END),
                   '' ORDER BY f.failure_count DESC, f.total_runs DESC, f.flow_name)
          INTO v_a
          FROM (SELECT * FROM @extschema@._flow_health(NULL, v_since, v_until, true) x
                 ORDER BY x.failure_count DESC, x.total_runs DESC, x.flow_name LIMIT 5) f;
        p := p || CASE WHEN v_a IS NULL THEN '<p class="muted">No flow runs started in this range.</p>'
                       ELSE '<h3>Flows with most failures</h3><table><tr><th>flow</th><th class="n">runs</th><th class="n">failed</th><th class="n">success</th></tr>'
                            || v_a || '</table>' END || '</section>';
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c4" id="flow-success"><h2>Flow success</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    /* ---- error-rate trend with the alert threshold ---- */
    BEGIN
        IF $3 IS NOT NULL THEN
            v_thr := $3;
            v_thr_src := 'error_threshold';
        ELSE
            SELECT r.threshold, pg_catalog.format('alert rule &quot;%s&quot;', @extschema@._html(r.rule_name))
              INTO v_thr, v_thr_src
              FROM @extschema@.alert_rules r
             WHERE r.metric_name = 'error_rate' AND r.enabled
               AND r.comparison IN ('greater', 'greater_or_equal')
             ORDER BY r.threshold, r.rule_name LIMIT 1;
            IF v_thr IS NULL THEN
                v_thr := 0.05;
                v_thr_src := 'default';
            END IF;
        END IF;
        WITH rates AS (
            SELECT 1 AS series, t.time_bucket AS tb,
                   pg_catalog.sum(t.errors)::double precision / NULLIF(pg_catalog.sum(t.spans), 0) AS rate
              FROM @extschema@.throughput(v_since, v_until, v_bucket) t
             GROUP BY t.time_bucket
            UNION ALL
            SELECT 2, pg_catalog.date_bin(v_bucket, pt.ts, '2000-01-01 00:00:00+00'::timestamptz),
                   pg_catalog.avg(pt.value)
              FROM @extschema@.metric_series s
              JOIN @extschema@.metric_points pt ON pt.series_id = s.series_id
             WHERE s.name = 'error_rate' AND pt.ts >= v_since AND pt.ts < v_until
             GROUP BY 2
        ), scale AS (
            SELECT @extschema@._dash_step(GREATEST(COALESCE(pg_catalog.max(r.rate), 0), v_thr, 0.01) * 1.1) AS step,
                   GREATEST(COALESCE(pg_catalog.max(r.rate), 0), v_thr, 0.01) * 1.1 AS top
              FROM rates r
        ), pts AS (
            SELECT r.series, r.tb,
                   60 + (pg_catalog.date_part('epoch', r.tb - v_origin) / v_bucket_s + 0.5) * (720.0 / v_ncols) AS x,
                   30 + 240 - r.rate / (sc.step * pg_catalog.ceil(sc.top / sc.step)) * 240 AS y, r.rate
              FROM rates r, scale sc
             WHERE r.rate IS NOT NULL
        )
        SELECT (SELECT sc.step * pg_catalog.ceil(sc.top / sc.step) FROM scale sc),
               (SELECT sc.step FROM scale sc),
               (SELECT pg_catalog.string_agg(pg_catalog.concat(
                           pg_catalog.format('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>',
                                             CASE l.series WHEN 1 THEN '#4c8bf5' ELSE '#f08c00' END, l.points),
                           l.dots), '' ORDER BY l.series)
                  FROM (SELECT q.series,
                               pg_catalog.string_agg(pg_catalog.format('%s,%s', pg_catalog.round(q.x::numeric, 1),
                                                                       pg_catalog.round(q.y::numeric, 1)), ' ' ORDER BY q.tb) AS points,
                               pg_catalog.string_agg(pg_catalog.format('<circle cx="%s" cy="%s" r="2.5" fill="%s"><title>%s: %s%%</title></circle>',
                                                                       pg_catalog.round(q.x::numeric, 1), pg_catalog.round(q.y::numeric, 1),
                                                                       CASE q.series WHEN 1 THEN '#4c8bf5' ELSE '#f08c00' END,
                                                                       pg_catalog.to_char(q.tb, v_tfmt), @extschema@._dash_num(100 * q.rate)),
                                                     '' ORDER BY q.tb) AS dots
                          FROM pts q GROUP BY q.series) l),
               (SELECT pg_catalog.count(*) FROM pts)
          INTO v_top, v_step, v_a, v_n;
        /* y grid and ticks, x ticks */
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<line class="grid" x1="60" x2="780" y1="%1$s" y2="%1$s"/><text x="54" y="%2$s" text-anchor="end">%3$s%%</text>',
                   pg_catalog.round((270 - k * v_step / v_top * 240)::numeric, 1),
                   pg_catalog.round((274 - k * v_step / v_top * 240)::numeric, 1),
                   @extschema@._dash_num(100 * k * v_step)), '' ORDER BY k)
          INTO v_b
          FROM pg_catalog.generate_series(0, pg_catalog.round(v_top / v_step)::integer) k;
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<line class="axis" x1="%1$s" x2="%1$s" y1="270" y2="275"/><text x="%1$s" y="288" text-anchor="middle">%2$s</text>',
                   pg_catalog.round((60 + k * 720.0 / v_ncols)::numeric, 1),
                   pg_catalog.to_char(v_origin + k * v_bucket, v_tfmt)), '' ORDER BY k)
          INTO v_c
          FROM pg_catalog.generate_series(0, v_ncols, GREATEST(1, pg_catalog.ceil(v_ncols / 6.0)::integer)) k;
        p := pg_catalog.concat(
            '<section class="c8" id="error-rate"><h2>Error-rate trend</h2>',
            '<svg viewBox="0 0 800 320" role="img" aria-label="error rate per time bucket with the alert threshold">',
            v_b, v_c,
            '<line class="axis" x1="60" x2="780" y1="270" y2="270"/><line class="axis" x1="60" x2="60" y1="30" y2="270"/>',
            '<text x="14" y="150" class="title" transform="rotate(-90 14 150)" text-anchor="middle">error rate (%)</text>',
            pg_catalog.format('<text x="420" y="310" class="title" text-anchor="middle">time (%s, bucket %s)</text>',
                              @extschema@._html(pg_catalog.current_setting('TimeZone')), v_bucket_txt),
            v_a,
            pg_catalog.format('<line x1="60" x2="780" y1="%1$s" y2="%1$s" stroke="#d9453d" stroke-width="1.5" stroke-dasharray="6 4"/>',
                              pg_catalog.round((270 - v_thr / v_top * 240)::numeric, 1)),
            '<g transform="translate(70 8)"><line x1="0" x2="18" y1="0" y2="0" stroke="#4c8bf5" stroke-width="2"/><text x="22" y="4">spans: errors / spans</text>',
            '<line x1="160" x2="178" y1="0" y2="0" stroke="#f08c00" stroke-width="2"/><text x="182" y="4">metric error_rate (average)</text>',
            '<line x1="350" x2="368" y1="0" y2="0" stroke="#d9453d" stroke-width="1.5" stroke-dasharray="6 4"/><text x="372" y="4">',
            pg_catalog.format('alert threshold %s%% (%s)</text></g>', @extschema@._dash_num(100 * v_thr), v_thr_src),
            CASE WHEN v_n = 0 THEN '<text x="420" y="150" text-anchor="middle" class="title">no spans or error_rate samples in this range</text>' END,
            '</svg></section>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c8" id="error-rate"><h2>Error-rate trend</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    /* ---- latency heatmap: time x latency bucket, colour = count ---- */
    BEGIN
        v_colw := 610.0 / v_ncols;
        SELECT pg_catalog.max(c.requests), pg_catalog.sum(c.requests),
               pg_catalog.string_agg(pg_catalog.format(
                   '<rect x="%s" y="%s" width="%s" height="22" fill="%s"><title>%s, %s ms: %s samples</title></rect>',
                   pg_catalog.round((80 + c.col * v_colw)::numeric, 2), 10 + (8 - c.row) * 22,
                   pg_catalog.round(GREATEST(v_colw - 1, 0.5)::numeric, 2),
                   (ARRAY['#deebf7', '#b5d4ea', '#85bcdb', '#529dcc', '#2b7bba', '#08519c'])[
                       LEAST(6, GREATEST(1, pg_catalog.ceil(6.0 * c.requests / c.mx)::integer))],
                   pg_catalog.to_char(c.time_bucket, v_tfmt),
                   CASE WHEN c.lower_ms IS NULL THEN '&lt; ' || c.upper_ms
                        WHEN c.upper_ms IS NULL THEN '&#8805; ' || c.lower_ms
                        ELSE c.lower_ms || '&#8211;' || c.upper_ms END,
                   c.requests), '')
          INTO v_max, v_n, v_a
          FROM (SELECT hm.*, pg_catalog.max(hm.requests) OVER () AS mx,
                       pg_catalog.floor(pg_catalog.date_part('epoch', hm.time_bucket - v_origin) / v_bucket_s)::integer AS col,
                       CASE WHEN hm.lower_ms IS NULL THEN 0 ELSE pg_catalog.array_position(v_bounds, hm.lower_ms) END AS row
                  FROM @extschema@.latency_heatmap($4, v_bucket, v_bounds, v_since, v_until) hm) c;
        SELECT pg_catalog.string_agg(pg_catalog.format('<text x="74" y="%s" text-anchor="end">%s</text>',
                   10 + (8 - k) * 22 + 15,
                   CASE WHEN k = 0 THEN '&lt; ' || v_bounds[1]
                        WHEN k = 9 - 1 THEN '&#8805; ' || v_bounds[8]
                        ELSE v_bounds[k] || '&#8211;' || v_bounds[k + 1] END), '' ORDER BY k)
          INTO v_b FROM pg_catalog.generate_series(0, 8) k;
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<line class="axis" x1="%1$s" x2="%1$s" y1="208" y2="213"/><text x="%1$s" y="226" text-anchor="middle">%2$s</text>',
                   pg_catalog.round((80 + k * v_colw)::numeric, 1), pg_catalog.to_char(v_origin + k * v_bucket, v_tfmt)), '' ORDER BY k)
          INTO v_c
          FROM pg_catalog.generate_series(0, v_ncols, GREATEST(1, pg_catalog.ceil(v_ncols / 6.0)::integer)) k;
        p := pg_catalog.concat(
            '<section class="c7" id="latency-heatmap"><h2>Latency heatmap</h2>',
            '<svg viewBox="0 0 700 290" role="img" aria-label="samples per time bucket and latency bucket">',
            '<rect x="80" y="10" width="610" height="198" fill="#f5f7fa"/>', v_a, v_b, v_c,
            '<line class="axis" x1="80" x2="690" y1="208" y2="208"/><line class="axis" x1="80" x2="80" y1="10" y2="208"/>',
            '<text x="12" y="110" class="title" transform="rotate(-90 12 110)" text-anchor="middle">latency (ms)</text>',
            pg_catalog.format('<text x="385" y="242" class="title" text-anchor="middle">time (%s, bucket %s) &#183; metric %s</text>',
                              @extschema@._html(pg_catalog.current_setting('TimeZone')), v_bucket_txt,
                              @extschema@._html($4)),
            '<text x="80" y="270" class="title">samples per cell:</text>',
            (SELECT pg_catalog.string_agg(pg_catalog.format(
                        '<rect x="%s" y="259" width="46" height="14" fill="%s"/><text x="%s" y="284" text-anchor="middle">%s</text>',
                        190 + (k - 1) * 48, (ARRAY['#deebf7', '#b5d4ea', '#85bcdb', '#529dcc', '#2b7bba', '#08519c'])[k],
                        213 + (k - 1) * 48,
                        CASE WHEN v_max IS NULL THEN '' ELSE '&#8804; ' || @extschema@._dash_num(pg_catalog.floor(k * v_max / 6.0)) END),
                        '' ORDER BY k)
               FROM pg_catalog.generate_series(1, 6) k),
            pg_catalog.format('<rect x="490" y="259" width="46" height="14" fill="#f5f7fa" stroke="#d9dee4"/><text x="513" y="284" text-anchor="middle">0</text><text x="690" y="270" text-anchor="end">%s samples</text>',
                              COALESCE(v_n, 0)),
            CASE WHEN v_n IS NULL THEN '<text x="385" y="110" text-anchor="middle" class="title">no samples of this metric in this range</text>' END,
            '</svg></section>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c7" id="latency-heatmap"><h2>Latency heatmap</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    /* ---- service performance: avg and p95 by service, coloured by error rate ---- */
    BEGIN
        SELECT pg_catalog.max(s.p95_ms), pg_catalog.count(*)
          INTO v_max, v_n
          FROM (SELECT * FROM @extschema@.service_performance(v_since, v_until) sp
                 ORDER BY sp.spans DESC, sp.service_name LIMIT 10) s;
        v_step := @extschema@._dash_step(COALESCE(v_max, 1));
        v_top := v_step * GREATEST(1, pg_catalog.ceil(COALESCE(v_max, 1) / v_step));
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<text x="128" y="%1$s" text-anchor="end"><title>%2$s (%3$s)</title>%4$s</text>'
                   '<rect x="132" y="%5$s" width="%6$s" height="16" fill="%7$s" fill-opacity="0.35"><title>p95 %8$s ms</title></rect>'
                   '<rect x="132" y="%9$s" width="%10$s" height="8" fill="%7$s"><title>avg %11$s ms</title></rect>'
                   '<text x="%12$s" y="%1$s" style="font-size:10px">%11$s / %8$s ms &#183; %13$s%%</text>',
                   36 + s.i * 26, @extschema@._html(s.service_name), s.service_type,
                   @extschema@._html(CASE WHEN pg_catalog.length(s.service_name) > 18
                                          THEN pg_catalog.left(s.service_name, 17) || '...' ELSE s.service_name END),
                   24 + s.i * 26, pg_catalog.round(GREATEST(0.5, s.p95_ms / v_top * 220)::numeric, 1),
                   CASE WHEN s.error_rate < 0.01 THEN '#2e9d5b' WHEN s.error_rate < 0.05 THEN '#e6b800'
                        WHEN s.error_rate < 0.10 THEN '#f08c00' ELSE '#d9453d' END,
                   @extschema@._dash_num(s.p95_ms), 28 + s.i * 26,
                   pg_catalog.round(GREATEST(0.5, s.avg_ms / v_top * 220)::numeric, 1),
                   @extschema@._dash_num(s.avg_ms),
                   pg_catalog.round((136 + GREATEST(s.p95_ms, s.avg_ms) / v_top * 220)::numeric, 1),
                   @extschema@._dash_num(100 * s.error_rate)), '' ORDER BY s.i)
          INTO v_a
          FROM (SELECT sp.*, (pg_catalog.row_number() OVER (ORDER BY sp.avg_ms DESC, sp.service_name) - 1)::integer AS i
                  FROM (SELECT * FROM @extschema@.service_performance(v_since, v_until) x
                         ORDER BY x.spans DESC, x.service_name LIMIT 10) sp) s;
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<line class="grid" x1="%1$s" x2="%1$s" y1="20" y2="%2$s"/><text x="%1$s" y="%3$s" text-anchor="middle">%4$s</text>',
                   pg_catalog.round((132 + k * v_step / v_top * 220)::numeric, 1), 22 + GREATEST(v_n, 1) * 26,
                   36 + GREATEST(v_n, 1) * 26, @extschema@._dash_num(k * v_step)), '' ORDER BY k)
          INTO v_b
          FROM pg_catalog.generate_series(0, pg_catalog.round(v_top / v_step)::integer) k;
        v_c := (22 + GREATEST(v_n, 1) * 26)::text;
        p := pg_catalog.concat(
            '<section class="c5" id="service-performance"><h2>Service performance</h2>',
            pg_catalog.format('<svg viewBox="0 0 470 %s" role="img" aria-label="average and p95 span duration by service, coloured by error rate">',
                              90 + GREATEST(v_n, 1) * 26),
            v_b,
            pg_catalog.format('<line class="axis" x1="132" x2="132" y1="20" y2="%1$s"/><line class="axis" x1="132" x2="352" y1="%1$s" y2="%1$s"/>', v_c),
            '<text x="360" y="14" class="title">avg / p95 &#183; errors</text>',
            v_a,
            CASE WHEN v_n = 0 THEN '<text x="240" y="40" text-anchor="middle" class="title">no spans in this range</text>' END,
            pg_catalog.format('<text x="242" y="%s" class="title" text-anchor="middle">span duration (ms)</text>', 52 + GREATEST(v_n, 1) * 26),
            pg_catalog.format('<g transform="translate(10 %s)">', 66 + GREATEST(v_n, 1) * 26),
            '<rect x="0" y="0" width="16" height="8" fill="#52606d"/><text x="20" y="8">avg</text>',
            '<rect x="50" y="-4" width="16" height="16" fill="#52606d" fill-opacity="0.35"/><text x="70" y="8">p95</text>',
            '<text x="110" y="8">error rate:</text>',
            '<rect x="172" y="0" width="10" height="10" fill="#2e9d5b"/><text x="186" y="9">&lt; 1%</text>',
            '<rect x="228" y="0" width="10" height="10" fill="#e6b800"/><text x="242" y="9">1&#8211;5%</text>',
            '<rect x="290" y="0" width="10" height="10" fill="#f08c00"/><text x="304" y="9">5&#8211;10%</text>',
            '<rect x="358" y="0" width="10" height="10" fill="#d9453d"/><text x="372" y="9">&#8805; 10%</text></g>',
            '</svg>',
            CASE WHEN v_n = 10 THEN '<p class="note">The 10 services with most spans.</p>' END,
            '</section>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c5" id="service-performance"><h2>Service performance</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    /* ---- task performance: slowest, highest throughput, bottlenecks over 30 s ---- */
    BEGIN
        WITH t AS (SELECT * FROM @extschema@.get_task_summary(v_since, v_until))
        SELECT (SELECT pg_catalog.string_agg(pg_catalog.format(
                           '<tr><td class="name" title="%s">%s</td><td class="n">%s s</td><td class="n">%s s</td><td class="barcell"><div class="bar" style="width:%s%%"></div></td></tr>',
                           @extschema@._html(x.task_name), @extschema@._html(pg_catalog.left(x.task_name, 32)),
                           @extschema@._dash_num(x.duration_seconds), @extschema@._dash_num(x.max_duration_seconds),
                           pg_catalog.round((100 * x.duration_seconds / NULLIF(x.mx, 0))::numeric, 1)),
                           '' ORDER BY x.duration_seconds DESC, x.task_name)
                  FROM (SELECT t.*, pg_catalog.max(t.duration_seconds) OVER () AS mx FROM t
                         WHERE t.duration_seconds IS NOT NULL ORDER BY t.duration_seconds DESC, t.task_name LIMIT 5) x),
               (SELECT pg_catalog.string_agg(pg_catalog.format(
                           '<tr><td class="name" title="%s">%s</td><td class="n">%s/s</td><td class="n">%s</td><td class="barcell"><div class="bar" style="width:%s%%;background:#2e9d5b"></div></td></tr>',
                           @extschema@._html(x.task_name), @extschema@._html(pg_catalog.left(x.task_name, 32)),
                           @extschema@._dash_num(x.throughput), @extschema@._dash_num(x.inputs_processed),
                           pg_catalog.round((100 * x.throughput / NULLIF(x.mx, 0))::numeric, 1)),
                           '' ORDER BY x.throughput DESC, x.task_name)
                  FROM (SELECT t.*, pg_catalog.max(t.throughput) OVER () AS mx FROM t
                         WHERE t.throughput IS NOT NULL ORDER BY t.throughput DESC, t.task_name LIMIT 5) x),
               (SELECT pg_catalog.string_agg(pg_catalog.format(
                           '<tr><td class="name" title="%s">%s</td><td class="n">%s s</td><td class="n">%s</td><td class="n">%s</td></tr>',
                           @extschema@._html(x.task_name), @extschema@._html(pg_catalog.left(x.task_name, 32)),
                           @extschema@._dash_num(x.duration_seconds), x.runs, x.failures),
                           '' ORDER BY x.duration_seconds DESC, x.task_name)
                  FROM (SELECT * FROM t WHERE t.duration_seconds > 30
                         ORDER BY t.duration_seconds DESC, t.task_name LIMIT 10) x)
          INTO v_a, v_b, v_c;
        p := pg_catalog.concat(
            '<section class="c12" id="task-performance"><h2>Task performance</h2><div class="cols3">',
            '<div id="slowest-tasks"><h3>Slowest tasks (average duration)</h3>',
            COALESCE('<table><tr><th>task</th><th class="n">avg</th><th class="n">max</th><th></th></tr>' || v_a || '</table>',
                     '<p class="muted">No finished task runs in this range.</p>'),
            '</div><div id="throughput-tasks"><h3>Highest throughput (records/s)</h3>',
            COALESCE('<table><tr><th>task</th><th class="n">records/s</th><th class="n">inputs</th><th></th></tr>' || v_b || '</table>',
                     '<p class="muted">No task runs with inputs in this range.</p>'),
            '</div><div id="bottleneck-tasks"><h3>Bottlenecks (average over 30 s)</h3>',
            COALESCE('<table><tr><th>task</th><th class="n">avg</th><th class="n">runs</th><th class="n">failed</th></tr>' || v_c || '</table>',
                     '<p class="muted">No task averages over 30 s in this range.</p>'),
            '</div></div></section>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c12" id="task-performance"><h2>Task performance</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    /* ---- active alerts ---- */
    BEGIN
        SELECT pg_catalog.count(*) INTO v_total FROM @extschema@.active_alerts;
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<tr><td>%s</td><td><span class="sev sev-%s">%s</span></td><td class="name" title="%s">%s</td><td class="n">%s</td><td>%s %s</td><td class="name">%s</td><td class="tags" title="%s">%s</td></tr>',
                   pg_catalog.to_char(a.observed_at, 'MM-DD HH24:MI'), a.severity, a.severity,
                   @extschema@._html(a.metric_name), @extschema@._html(pg_catalog.left(a.metric_name, 32)),
                   @extschema@._dash_num(a.value),
                   CASE a.comparison WHEN 'greater' THEN '&gt;' WHEN 'less' THEN '&lt;'
                                     WHEN 'greater_or_equal' THEN '&#8805;' ELSE '&#8804;' END,
                   @extschema@._dash_num(a.threshold),
                   COALESCE(@extschema@._html(a.rule_name), '<span class="muted">(check)</span>'),
                   @extschema@._html(a.tags::text), @extschema@._html(pg_catalog.left(a.tags::text, 48))),
                   '' ORDER BY a.observed_at DESC, a.alert_id DESC)
          INTO v_a
          FROM (SELECT * FROM @extschema@.active_alerts x ORDER BY x.observed_at DESC, x.alert_id DESC LIMIT 12) a;
        p := pg_catalog.concat(
            pg_catalog.format('<section class="c7" id="active-alerts"><h2>Active alerts (%s unacknowledged)</h2>', v_total),
            COALESCE('<table><tr><th>observed</th><th>severity</th><th>metric</th><th class="n">value</th><th>condition</th><th>rule</th><th>tags</th></tr>'
                     || v_a || '</table>', '<p class="muted">No active alerts.</p>'),
            CASE WHEN v_total > 12 THEN pg_catalog.format('<p class="note">The newest 12 of %s; all in obs.active_alerts.</p>', v_total) END,
            '</section>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c7" id="active-alerts"><h2>Active alerts</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    /* ---- ingest health (readers only) and sink health (once shipping exists) ---- */
    p := '<section class="c5" id="ingest-health"><h2>Ingest health</h2>';
    BEGIN
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<tr><td>%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td>%s</td></tr>',
                   @extschema@._html(s.signal), @extschema@._dash_num(s.accepted), @extschema@._dash_num(s.stored),
                   @extschema@._dash_num(s.dropped_full + s.dropped_other), @extschema@._dash_num(s.dead_lettered),
                   @extschema@._dash_num(s.pending),
                   COALESCE(pg_catalog.to_char(s.last_flush_at, 'MM-DD HH24:MI:SS'), '<span class="muted">never</span>')),
                   '' ORDER BY s.signal)
          INTO v_a
          FROM @extschema@.ingest_stats() s
         WHERE s.database = pg_catalog.current_database();
        p := p || COALESCE('<table><tr><th>signal</th><th class="n">accepted</th><th class="n">stored</th><th class="n">dropped</th><th class="n">dead</th><th class="n">pending</th><th>last flush</th></tr>'
                           || v_a || '</table>',
                           '<p class="muted">No buffered ingest in this database: obs is not in shared_preload_libraries, or nothing was written through the buffer yet.</p>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := p || '<p class="muted">Ingest counters not permitted: obs.ingest_stats is for readers (obs.grant_reader()).</p>';
    END;
    BEGIN
        SELECT pg_catalog.count(*) INTO v_n FROM @extschema@.dead_letters;
        p := p || pg_catalog.format('<p class="note">%s dead-lettered records kept in obs.dead_letters.</p>', v_n);
    EXCEPTION WHEN insufficient_privilege THEN
        NULL;
    END;

    /* obs.sink_stats, when this version of obs has it: a member of obs's extension */
    SELECT d.refobjid INTO v_ext
      FROM pg_catalog.pg_depend d
     WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
       AND d.objid = '@extschema@.dashboard_html(timestamptz, timestamptz, double precision, text)'::pg_catalog.regprocedure
       AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e';
    SELECT c.oid::pg_catalog.regclass INTO v_sink
      FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_class c ON c.oid = d.objid
     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'e'
       AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.refobjid = v_ext
       AND c.relname = 'sink_stats' AND c.relkind IN ('v', 'r', 'm');
    p := p || '<h3 id="sink-health">Sink health</h3>';
    IF v_sink IS NULL THEN
        p := p || '<p class="muted">No sinks.</p>';
    ELSE
        BEGIN
            /* the view's own columns, whatever they are, as a table */
            EXECUTE pg_catalog.format(
                'SELECT pg_catalog.string_agg(''<tr>'' || r.tr || ''</tr>'', '''' ORDER BY r.n), pg_catalog.min(r.th)
                   FROM (SELECT pg_catalog.row_number() OVER () AS n,
                                (SELECT pg_catalog.string_agg(''<td>'' || COALESCE(@extschema@._html(e.value), '''') || ''</td>'', '''' ORDER BY e.ord)
                                   FROM pg_catalog.json_each_text(pg_catalog.row_to_json(s)) WITH ORDINALITY e(key, value, ord)) AS tr,
                                (SELECT pg_catalog.string_agg(''<th>'' || @extschema@._html(e.key) || ''</th>'', '''' ORDER BY e.ord)
                                   FROM pg_catalog.json_each_text(pg_catalog.row_to_json(s)) WITH ORDINALITY e(key, value, ord)) AS th
                           FROM %s s LIMIT 20) r', v_sink)
               INTO v_a, v_b;
            p := p || COALESCE('<table><tr>' || v_b || '</tr>' || v_a || '</table>', '<p class="muted">No sinks.</p>');
        EXCEPTION WHEN insufficient_privilege THEN
            p := p || '<p class="muted">Sink figures not permitted: ' || @extschema@._html(SQLERRM) || '</p>';
        END;
    END IF;
    h := h || p || '</section>';

    /* ---- logs: volume per level and the latest errors ---- */
    BEGIN
        SELECT pg_catalog.string_agg(pg_catalog.format('<span class="lvl-%s">%s %s</span>', v.level, v.level,
                                                       @extschema@._dash_num(v.n)), '' ORDER BY v.level)
          INTO v_a
          FROM (SELECT lv.level, pg_catalog.sum(lv.records) AS n
                  FROM @extschema@.log_volume(v_since, v_until, v_bucket) lv GROUP BY lv.level) v;
        SELECT pg_catalog.string_agg(pg_catalog.format(
                   '<tr><td>%s</td><td class="lvl-%s">%s</td><td>%s</td><td class="msg">%s</td></tr>',
                   pg_catalog.to_char(l.ts, 'MM-DD HH24:MI:SS'), l.level, l.level,
                   @extschema@._html(pg_catalog.left(l.logger, 40)),
                   @extschema@._html(pg_catalog.left(l.message, 300))
                   || COALESCE(' <span class="muted">' || @extschema@._html(pg_catalog.left(l.error::text, 200)) || '</span>', '')),
                   '' ORDER BY l.ts DESC, l.log_id DESC)
          INTO v_b
          FROM (SELECT * FROM @extschema@.logs x
                 WHERE x.ts >= v_since AND x.ts < v_until AND x.level >= 'ERROR'
                 ORDER BY x.ts DESC, x.log_id DESC LIMIT 8) l;
        p := pg_catalog.concat(
            '<section class="c12" id="recent-errors"><h2>Logs: records per level and the latest errors</h2>',
            COALESCE('<div class="chips">' || v_a || '</div>', '<p class="muted">No log records in this range.</p>'),
            COALESCE('<table><tr><th>time</th><th>level</th><th>logger</th><th>message</th></tr>' || v_b || '</table>',
                     '<p class="muted">No ERROR or CRITICAL records in this range.</p>'),
            '</section>');
    EXCEPTION WHEN insufficient_privilege THEN
        p := '<section class="c12" id="recent-errors"><h2>Logs</h2><p class="muted">Not permitted: '
             || @extschema@._html(SQLERRM) || '</p></section>';
    END;
    h := h || p;

    RETURN h || pg_catalog.format('</main><footer style="text-align:center;color:#7b8794;font-size:11px;padding:0 0 12px">obs.dashboard_html(%s, %s) at %s</footer></body></html>',
                                  @extschema@._html(v_since::text), @extschema@._html(v_until::text),
                                  @extschema@._html(pg_catalog.now()::text));
END
$$;
COMMENT ON FUNCTION @extschema@.dashboard_html(timestamptz, timestamptz, double precision, text) IS
$$one self-contained HTML page (inline CSS and SVG, no script) with the dashboard panels over [since, until): flow success, error-rate trend with the alert threshold, latency heatmap of latency_metric, service performance, task performance, active alerts, ingest and sink health, log volume and latest errors.
NULL until is now(), NULL since is 24 hours before until.  The threshold line is error_threshold when given, else the lowest threshold of an enabled greater/greater_or_equal alert rule on metric error_rate, else 0.05.
Runs as the caller: a panel the caller may not read says so.  Data text is HTML-escaped.
Errors: 22023 when until is earlier than since, either is infinite, or error_threshold is outside [0, 1]; 22004 for a NULL latency_metric.$$;
