# A hot standby: obs's write functions fail cleanly (25006) on either write
# path, nothing is acknowledged that the standby cannot store, the readers
# and the HTML dashboard work, evaluate_alert_rules() refuses to run (it
# used to fail every rule with a WARNING and return as if it had run), and
# after promotion the buffered path stores again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.write_path = 'buffered'
});
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION obs;
SELECT obs.add_alert_rule('standby_rule', 'standby.m', 1, '>', '1 hour');
SELECT obs.record_metric('standby.m', 5);
SELECT obs.info('on the primary');
SELECT obs.flush();
});
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

for my $path ('buffered', 'transactional')
{
	for my $call (
		"obs.info('x')",
		"obs.record_metric('standby.m', 2)",
		"obs.record_span(obs.new_trace_id(), obs.new_span_id(), NULL, 'op', 'CUSTOM', now(), now())",
		"obs.record_flow_execution('f', 'r', now(), NULL, 'Running')",
		"obs.record_task_execution('t', 'r', now())",
		"obs.finish_span(obs.start_span('s'))")
	{
		my ($rc, $out, $err) = $standby->psql('postgres',
			"SET obs.write_path = '$path'; SELECT $call",
			extra_params => [ '-v', 'VERBOSITY=verbose' ]);
		like($err, qr/ERROR:  25006: cannot execute obs\.\w+\(\) in a read-only transaction/,
			"$path path on a standby: $call fails with 25006");
	}
}

my ($rc, $out, $err) = $standby->psql('postgres', 'SELECT count(*) FROM obs.evaluate_alert_rules()',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  25006: cannot execute obs\.evaluate_alert_rules\(\) in a read-only transaction/,
	'evaluate_alert_rules() on a standby fails with 25006');
unlike($err, qr/WARNING/, 'and fails no rule one by one');

is($standby->safe_psql('postgres', q{
	SELECT count(*) FROM obs.ingest_stats WHERE accepted > 0}), '0',
	'nothing was accepted into the standby\'s buffer');
is($standby->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM obs.logs)::text || ' ' || (SELECT count(*) FROM obs.metric_points)}),
	'1 1', 'the standby reads what the primary stored');
like($standby->safe_psql('postgres', q{
	SELECT obs.dashboard_html(now() - interval '1 hour', now() + interval '1 minute')}),
	qr/<!DOCTYPE html>/, 'the HTML dashboard renders on a standby');

# promoted, the former standby's flusher starts and stores buffered records
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()');
$standby->safe_psql('postgres', q{SELECT obs.info('after promotion'); SELECT obs.flush('30 seconds')});
is($standby->safe_psql('postgres', q{SELECT count(*) FROM obs.logs WHERE message = 'after promotion'}),
	'1', 'after promotion the buffered path stores');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM obs.evaluate_alert_rules()}),
	'1', 'after promotion evaluate_alert_rules() stores the breach');

$standby->stop;
$primary->stop;
done_testing();
