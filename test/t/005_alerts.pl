# Alert rules against the buffered write path and other sessions (issue 7
# items 14 and 16): a sample taken before an evaluation and stored by the
# flusher after it is checked by the next evaluation; a rule whose row
# another session holds locked is skipped without stalling the run.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('alerts');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.flush_interval = '60s'
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sql('CREATE EXTENSION obs');
sql(q{SELECT obs.add_alert_rule('late', 'late_ms', 500, '>', '1 minute')});

# ------------------------------------------- a buffered sample stored late
# taken at 12:00:50 and still in the buffer when the rule is evaluated at
# 12:01:00 (lookback 1 minute = the schedule)
# (the series exists already; the writer's session stays open, as in a
# pipeline that keeps its connection)
sql(q{SELECT obs.record_metric('late_ms', 100, ts => '2024-01-01 11:00:00+00'); SELECT obs.flush()});
my $writer = $node->background_psql('postgres');
$writer->query_safe(q{SELECT obs.record_metric('late_ms', 700, ts => '2024-01-01 12:00:50+00')});
is(sql(q{SELECT count(*) FROM obs.metric_points WHERE value = 700}), '0',
	'with a long flush interval the sample is still buffered');
is(sql(q{SELECT count(*) FROM obs.evaluate_alert_rules('2024-01-01 12:01:00+00')}), '0',
	'the evaluation at 12:01 cannot see it');
is(sql(q{SELECT obs.flush(); SELECT count(*) FROM obs.metric_points WHERE value = 700}), "t\n1",
	'the flusher stores it after that evaluation');
$writer->quit;
is( sql(q{SELECT string_agg(value || '@' || to_char(observed_at AT TIME ZONE 'UTC', 'HH24:MI:SS'), ',')
            FROM obs.evaluate_alert_rules('2024-01-01 12:02:00+00')}),
	'700@12:00:50',
	'the evaluation at 12:02, window (12:01, 12:02], alerts the sample stored late');
is(sql(q{SELECT count(*) FROM obs.evaluate_alert_rules('2024-01-01 12:03:00+00')}), '0',
	'and the next one does not alert it again');

# ------------------------------------------------ a rule row held locked
sql(q{SELECT obs.add_alert_rule('locked', 'late_ms', 600, '>', '1 hour');
      SELECT obs.add_alert_rule('other', 'late_ms', 650, '>', '1 hour');});
my $locker = $node->background_psql('postgres');
$locker->query_safe(q{BEGIN});
$locker->query_safe(q{SELECT 1 FROM obs.alert_rules WHERE rule_name = 'locked' FOR UPDATE});
my ($ret, $out, $err) = $node->psql('postgres',
	q{SELECT string_agg(rule_name || ':' || value, ',') FROM obs.evaluate_alert_rules('2024-01-01 12:05:00+00')},
	timeout => 60);
is($ret, 0, 'the run does not wait for a rule row another session holds locked');
is($out, 'other:700', 'the other rules are evaluated');
like($err, qr/WARNING:  alert rule "locked" failed: could not obtain lock on row in relation "alert_rules"/,
	'the locked rule is skipped, with a WARNING');
like($err, qr/SQLSTATE 55P03/, 'the WARNING names the SQLSTATE');
$locker->query_safe(q{ROLLBACK});
$locker->quit;
is(sql(q{SELECT string_agg(rule_name || ':' || value, ',') FROM obs.evaluate_alert_rules('2024-01-01 12:05:00+00')}),
	'locked:700', 'once released, the rule is evaluated');
is(sql(q{SELECT count(*) FROM obs.alert_rules WHERE last_error IS NOT NULL}), '0',
	'no error is kept after a successful evaluation');

$node->stop;
done_testing();
