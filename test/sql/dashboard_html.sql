-- obs.dashboard_html() (issue 11, part 2): one self-contained page, every
-- panel present, data text escaped, no script; each panel degrades on its
-- own when the caller may not read its figures; obs.sink_stats is shown
-- only when it is a member of obs.  The browser checks (rendering, a
-- screenshot, the live DOM) are in test/suites/dashboard.sh.
\ir test/setup.sql
SET timezone = 'UTC';
\ir test/dashboard/seed.sql

-- tags(html): the tags of a page as written, quoted attribute values
-- emptied (every value obs writes is double-quoted; data text in them and
-- in elements has its quotes and angle brackets escaped)
CREATE FUNCTION pg_temp.tags(html text) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT m[1] FROM regexp_matches(regexp_replace(html, '"[^"]*"', '""', 'g'), '(<[^<>]*>)', 'g') m $$;
CREATE FUNCTION pg_temp.page(since timestamptz DEFAULT now() - interval '1 day', until timestamptz DEFAULT now())
RETURNS text LANGUAGE sql AS $$ SELECT obs.dashboard_html(since, until) $$;

SELECT obs.dashboard_html(now() - interval '1 day', now()) AS page \gset
-- a whole page, with every panel
SELECT left(:'page', 15) AS doctype, right(:'page', 14) AS ending;
SELECT id, strpos(:'page', format('id="%s"', id)) > 0 AS present
  FROM unnest(ARRAY['flow-success', 'error-rate', 'latency-heatmap', 'service-performance',
                    'task-performance', 'slowest-tasks', 'throughput-tasks', 'bottleneck-tasks',
                    'active-alerts', 'ingest-health', 'sink-health', 'recent-errors']) id;
-- charts have axes titles, units and legends
SELECT t, strpos(:'page', t) > 0 AS present
  FROM unnest(ARRAY['error rate (%)', 'alert threshold 5% (alert rule &quot;error_rate_high&quot;)',
                    'spans: errors / spans', 'latency (ms)', 'samples per cell:', 'span duration (ms)',
                    'error rate:', 'success rate', 'runs by final state', '&lt; 10', '&#8805; 5000']) t;
-- the seeded figures: the runs started in the range, the two bottleneck tasks, the 12 alerts
SELECT (regexp_match(:'page', '(\d+) runs started'))[1] AS runs_started,
       (SELECT count(*) FROM obs.flow_runs WHERE start_time >= now() - interval '1 day') AS runs_in_range;
SELECT (regexp_match(:'page', 'Active alerts \((\d+) unacknowledged\)'))[1] AS active_alerts,
       (SELECT count(*) FROM obs.active_alerts) AS in_view;
SELECT (SELECT string_agg(m[1], ', ') FROM regexp_matches(
            substring(:'page' FROM 'id="bottleneck-tasks".*?</table>'), '<td class="name" title="([^"]*)"', 'g') m) AS bottlenecks,
       (SELECT string_agg(task_name, ', ' ORDER BY duration_seconds DESC)
          FROM obs.get_task_summary(now() - interval '1 day', now()) WHERE duration_seconds > 30) AS expected;
-- nothing but HTML, CSS and SVG: no script, no event handler, no link out
SELECT DISTINCT lower(substring(t FROM '^<([A-Za-z][A-Za-z0-9]*)')) AS element
  FROM pg_temp.tags(:'page') t WHERE t ~ '^<[A-Za-z]' ORDER BY 1;
SELECT count(*) FILTER (WHERE t ~* '\son[a-z]+\s*=') AS event_handlers,
       count(*) FILTER (WHERE t ~* '\s(src|href|xlink:href|action|formaction)\s*=') AS links,
       count(*) FILTER (WHERE t ~* '^<!DOCTYPE') AS doctypes,
       strpos(:'page', 'javascript:') AS javascript_urls
  FROM pg_temp.tags(:'page') t;
-- the payloads are in the data and reach the page only escaped
SELECT count(*) AS payload_rows FROM obs.flow_runs WHERE flow_name LIKE '%<img%';
SELECT strpos(:'page', '<script') AS raw_script, strpos(:'page', '<img') AS raw_img,
       strpos(:'page', '&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;') > 0 AS script_escaped,
       strpos(:'page', '&quot;&gt;&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;') > 0 AS img_escaped;
SELECT obs._html($$<a href="x" onclick='y'>&amp;</a>$$) AS escaped, obs._html(NULL) IS NULL AS null_stays_null;

-- the threshold line: the argument, else the alert rule's, else 0.05
SELECT strpos(obs.dashboard_html(now() - interval '1 day', now(), 0.08), 'alert threshold 8% (error_threshold)') > 0 AS argument;
UPDATE obs.alert_rules SET enabled = false WHERE rule_name = 'error_rate_high';
SELECT strpos(pg_temp.page(), 'alert threshold 5% (default)') > 0 AS default_threshold;
UPDATE obs.alert_rules SET enabled = true, threshold = 0.03 WHERE rule_name = 'error_rate_high';
SELECT strpos(pg_temp.page(), 'alert threshold 3% (alert rule &quot;error_rate_high&quot;)') > 0 AS rule_threshold;

-- an empty range draws every panel empty, with a note
SELECT p ~ 'No flow runs started in this range' AS no_runs,
       p ~ 'no samples of this metric in this range' AS no_samples,
       p ~ 'no spans in this range' AS no_spans,
       p ~ 'No finished task runs in this range' AS no_tasks,
       p ~ 'No log records in this range' AS no_logs
  FROM pg_temp.page('2001-01-01', '2001-01-02') p;
-- ranges from a minute to a year, and open ends
SELECT r AS range, length(pg_temp.page(now() - r::interval, now())) > 10000 AS rendered
  FROM unnest(ARRAY['1 minute', '1 hour', '7 days', '400 days']) r;
SELECT length(obs.dashboard_html(NULL, NULL)) > 10000 AS open_ends;

-- bad arguments
SELECT pg_temp.err($$SELECT obs.dashboard_html('2024-01-02', '2024-01-01')$$);
SELECT pg_temp.err($$SELECT obs.dashboard_html('-infinity', '2024-01-01')$$);
SELECT pg_temp.err($$SELECT obs.dashboard_html(now() - interval '1 day', now(), 1.5)$$);
SELECT pg_temp.err($$SELECT obs.dashboard_html(now() - interval '1 day', now(), 'NaN')$$);
SELECT pg_temp.err($$SELECT obs.dashboard_html(now() - interval '1 day', now(), NULL, NULL)$$);

-- the function runs as its caller, pins its path, reads only
SELECT p.prosecdef AS security_definer, p.provolatile AS volatility, p.proconfig
  FROM pg_proc p WHERE p.oid = 'obs.dashboard_html'::regproc;
SELECT 'dashboard_html' = ANY (obs._privilege_functions('reader')) AS reader_group;

-- a reader sees every panel; without ingest_stats the ingest panel says so
CREATE ROLE regress_obs_dash_reader;
CREATE ROLE regress_obs_dash_plain;
SELECT obs.grant_reader('regress_obs_dash_reader');
GRANT USAGE ON SCHEMA obs TO regress_obs_dash_plain;
SET ROLE regress_obs_dash_reader;
SELECT p !~ 'Not permitted' AS all_panels,
       p ~ 'No buffered ingest in this database|<th>signal</th>' AS ingest_shown
  FROM pg_temp.page() p;
RESET ROLE;
REVOKE EXECUTE ON FUNCTION obs.ingest_stats() FROM regress_obs_dash_reader;
SET ROLE regress_obs_dash_reader;
SELECT p ~ 'Ingest counters not permitted' AS ingest_not_permitted,
       p ~ 'Flows with most failures' AS flows_still_shown,
       p ~ 'dead-lettered records' AS dead_letters_shown
  FROM pg_temp.page() p;
RESET ROLE;
-- a role that may read no table gets the page, every panel saying so
SET ROLE regress_obs_dash_plain;
SELECT (SELECT count(*) FROM regexp_matches(p, 'Not permitted: permission denied for table', 'g')) AS panels_not_permitted,
       p ~ 'Ingest counters not permitted' AS ingest_not_permitted,
       p ~ '</html>$' AS whole_page
  FROM pg_temp.page() p;
RESET ROLE;
-- row-level security holds through the page: a policy hiding the payload flow
ALTER TABLE obs.flow_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY dash_hide ON obs.flow_runs FOR SELECT USING (flow_name NOT LIKE '%<img%');
SET ROLE regress_obs_dash_reader;
SELECT (regexp_match(pg_temp.page(), '(\d+) runs started'))[1] AS runs_seen_by_reader;
RESET ROLE;
DROP POLICY dash_hide ON obs.flow_runs;
ALTER TABLE obs.flow_runs DISABLE ROW LEVEL SECURITY;

-- sinks: obs.sink_stats, found by its membership in the extension; a sink
-- name is data and is escaped like any other
SELECT pg_temp.page() ~ '<h3 id="sink-health">Sink health</h3><p class="muted">No sinks.</p>' AS no_sinks;
SELECT obs.setup_logging_to_elk('127.0.0.1', name => 'es-main');
SELECT obs.setup_alert_webhook('http://127.0.0.1:9/hook', name => '<script>document.title=''pwned''</script>');
SELECT p ~ '<h3 id="sink-health">Sink health</h3><table>' AS sinks_shown,
       p ~ '<td>es-main</td>' AS es_sink_shown,
       strpos(p, '<td>&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;</td>') > 0 AS hostile_name_escaped,
       strpos(p, '<script') = 0 AS no_script
  FROM pg_temp.page() p;
-- a view of that name that is not obs's is not shown
ALTER EXTENSION obs DROP VIEW obs.sink_stats;
SELECT pg_temp.page() ~ '<h3 id="sink-health">Sink health</h3><p class="muted">No sinks.</p>' AS not_a_member_not_shown;
ALTER EXTENSION obs ADD VIEW obs.sink_stats;
SELECT obs.drop_sink('es-main'), obs.drop_sink('<script>document.title=''pwned''</script>');

SELECT obs.revoke_reader('regress_obs_dash_reader');
REVOKE USAGE ON SCHEMA obs FROM regress_obs_dash_plain;
DROP ROLE regress_obs_dash_reader;
DROP ROLE regress_obs_dash_plain;
