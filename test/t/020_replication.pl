# Logical replication of obs's tables, and obs.purge() on a published
# database: every table has a replica identity, so the publisher's purge
# succeeds and the subscriber ends up with exactly the publisher's rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->start;
my $sub = PostgreSQL::Test::Cluster->new('subscriber');
$sub->init;
$sub->start;

$pub->safe_psql('postgres', 'CREATE EXTENSION obs');
$sub->safe_psql('postgres', 'CREATE EXTENSION obs');

# every table has a replica identity: a key, or the whole row
is($pub->safe_psql('postgres', q{
	SELECT coalesce(string_agg(c.relname, ',' ORDER BY c.relname), 'none')
	  FROM pg_class c
	 WHERE c.relnamespace = 'obs'::regnamespace AND c.relkind = 'r'
	   AND NOT (c.relreplident = 'f'
	            OR (c.relreplident = 'd' AND EXISTS (SELECT 1 FROM pg_index i
	                                                  WHERE i.indrelid = c.oid AND i.indisprimary)))}),
	'none', 'every obs table has a replica identity');

# rows older than a day in every table, and rows of today
my $data = q{
SET obs.write_path = 'transactional';
SELECT obs.info('log ' || i, logger => 'repl') FROM generate_series(1, 20) i;
SELECT obs.finish_span(obs.start_span('span ' || i)) FROM generate_series(1, 5) i;
SELECT obs.record_metric('repl.m', i, '{"k": "v"}', ts => now() - i * interval '1 hour' - interval '30 minutes') FROM generate_series(1, 48) i;
SELECT obs.record_metric('repl.m', 7, '{"k": "v"}', ts => now() - interval '30 hours') FROM generate_series(1, 3);
SELECT obs.record_flow_execution('flow', 'fr' || i, now() - i * interval '10 hours', NULL, 'Completed')
  FROM generate_series(1, 4) i;
SELECT obs.record_task_execution('task', 'fr' || i, now() - i * interval '10 hours') FROM generate_series(1, 4) i;
SELECT obs.add_alert_rule('repl_rule', 'repl.m', 40, 'greater', '3 days');
SELECT count(*) FROM obs.evaluate_alert_rules();
SELECT obs.acknowledge_alert(a.alert_id) FROM obs.alerts a WHERE a.value > 45;
INSERT INTO obs.dead_letters (received_at, signal, record, reason)
VALUES (now() - interval '2 days', 'log', '{}', 'old'), (now(), 'log', '{}', 'new');
UPDATE obs.logs SET ts = ts - interval '2 days' WHERE message IN ('log 1', 'log 2', 'log 3');
UPDATE obs.spans SET start_time = start_time - interval '2 days' WHERE operation = 'span 1';
};
$pub->safe_psql('postgres', $data);
# the rollups of spans and logs, ticked on the publisher, then more rows (the tail)
$pub->safe_psql('postgres', q{SELECT count(*) FROM obs.refresh_rollups();
SET obs.write_path = 'transactional';
SELECT obs.finish_span(obs.start_span('late span ' || i), CASE WHEN i % 2 = 0 THEN 'error' END) FROM generate_series(1, 6) i;
SELECT obs.warning('late log ' || i) FROM generate_series(1, 7) i;});
my $figures = q{
SELECT (SELECT string_agg(concat_ws(':', service_name, spans, errors), ',' ORDER BY service_name) FROM obs.error_rate_by_service)
    || '|' || (SELECT string_agg(concat_ws(':', minute, service_name, spans, errors), ',' ORDER BY minute, service_name) FROM obs.throughput_per_minute)
    || '|' || (SELECT string_agg(concat_ws(':', minute, level, records), ',' ORDER BY minute, level) FROM obs.log_volume_per_minute)};
my $direct = q{
SELECT (SELECT string_agg(concat_ws(':', service_name, n, e), ',' ORDER BY service_name)
          FROM (SELECT service_name, count(*) AS n, count(*) FILTER (WHERE status = 'error') AS e FROM obs.spans GROUP BY 1) x)
    || '|' || (SELECT string_agg(concat_ws(':', m, service_name, n, e), ',' ORDER BY m, service_name)
          FROM (SELECT date_trunc('minute', start_time) AS m, service_name, count(*) AS n, count(*) FILTER (WHERE status = 'error') AS e
                  FROM obs.spans GROUP BY 1, 2) x)
    || '|' || (SELECT string_agg(concat_ws(':', m, level, n), ',' ORDER BY m, level)
          FROM (SELECT date_trunc('minute', ts) AS m, level, count(*) AS n FROM obs.logs GROUP BY 1, 2) x)};

$pub->safe_psql('postgres', 'CREATE PUBLICATION obs_pub FOR TABLES IN SCHEMA obs');
my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres', "CREATE SUBSCRIPTION obs_sub CONNECTION '$connstr' PUBLICATION obs_pub");
$sub->wait_for_subscription_sync($pub, 'obs_sub');

# per table: count and an md5 over every replicated column of every row
my $contents = q{
CREATE FUNCTION pg_temp.rows_of(r regclass, OUT n bigint, OUT h text) LANGUAGE plpgsql AS $$
DECLARE cols text;
BEGIN
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
      FROM pg_attribute a WHERE a.attrelid = r AND a.attnum > 0 AND NOT a.attisdropped;
    EXECUTE format('SELECT count(*), md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), '''')) FROM (SELECT %s FROM %s) t', cols, r)
       INTO n, h;
END $$;
SELECT string_agg(c.relname || '=' || x.n || ':' || x.h, E'\n' ORDER BY c.relname)
  FROM pg_class c, pg_temp.rows_of(c.oid) x
 WHERE c.relnamespace = 'obs'::regnamespace AND c.relkind = 'r';
};
my $before = $pub->safe_psql('postgres', $contents);
is($sub->safe_psql('postgres', $contents), $before, 'the subscriber has every row of every obs table');
is($sub->safe_psql('postgres', $figures), $sub->safe_psql('postgres', $direct),
	'on the subscriber, the figures from the publisher\'s rollups and the tail equal the direct ones');
is($sub->safe_psql('postgres', q{SELECT string_agg(signal || '=' || coalesce(rollup_rows::text, 'none'), ',' ORDER BY signal)
	FROM obs.refresh_rollups()}), 'logs=none,spans=none', 'a subscriber of the tables does not tick');

# purge on the publisher: succeeds, and the subscriber follows
my ($rc, $out, $err) = $pub->psql('postgres',
	q{SELECT string_agg(table_name || '=' || deleted, ',' ORDER BY table_name) FROM obs.purge('1 day')});
is($err, '', 'obs.purge() succeeds on a published database');
is($out, 'alerts=3,dead_letters=1,flow_runs=2,logs=3,metric_points=28,spans=1,task_runs=2',
	'purge deleted the old rows of every table (acknowledged alerts only)');
$pub->wait_for_catchup('obs_sub');
my $after = $pub->safe_psql('postgres', $contents);
isnt($after, $before, 'the publisher lost rows');
is($sub->safe_psql('postgres', $contents), $after, 'after purge, the subscriber has exactly the publisher\'s rows');
is($sub->safe_psql('postgres', $figures), $sub->safe_psql('postgres', $direct),
	'after purge, the subscriber\'s figures equal the direct ones');
is($sub->safe_psql('postgres', q{SELECT count(*) FROM obs.metric_points WHERE ts < now() - interval '1 day'}),
	'0', 'no metric point older than a day is left on the subscriber');

# a write after the purge replicates too
$pub->safe_psql('postgres', q{SET obs.write_path = 'transactional'; SELECT obs.record_metric('repl.m', 99, '{"k": "v"}')});
$pub->wait_for_catchup('obs_sub');
is($sub->safe_psql('postgres', q{SELECT count(*) FROM obs.metrics WHERE value = 99}), '1',
	'a metric written after the purge reaches the subscriber');

$sub->safe_psql('postgres', 'DROP SUBSCRIPTION obs_sub');
$sub->stop;
$pub->stop;
done_testing();
