# pg_cron runs obs's alert rules and retention in a database other than
# cron.database_name, as README's "Scheduling with pg_cron" shows:
# cron.schedule_in_database() from the cron database, the job owned by the
# role that scheduled it.  pg_cron's finest schedule is one minute, so this
# test waits for up to two runs.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron, obs'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
obs.flush_interval = '100ms'
});
$node->start;

sub sql { return $node->safe_psql($_[1] // 'postgres', $_[0]); }

sql('CREATE EXTENSION pg_cron');
sql('CREATE DATABASE pipelines');
sql(q{CREATE EXTENSION obs;
      SELECT obs.record_metric('cron.latency_ms', 900);
      SELECT obs.flush();
      SELECT obs.add_alert_rule('cron_slow', 'cron.latency_ms', 500, '>', '1 hour');},
	'pipelines');

my $jobid = sql(q{SELECT cron.schedule_in_database('obs-alerts', '* * * * *',
    'SELECT obs.evaluate_alert_rules()', 'pipelines')});
like($jobid, qr/^\d+$/, 'cron.schedule_in_database() takes the alert job for database pipelines');
sql(q{SELECT cron.schedule_in_database('obs-retention', '* * * * *',
    $$SELECT obs.purge('30 days')$$, 'pipelines')});

# wait (bounded: 150 s) for both jobs to have run once
my $runs = '';
foreach my $i (1 .. 300)
{
	$runs = sql(q{SELECT string_agg(j.jobname || ':' || d.status, ',' ORDER BY j.jobname)
	                FROM (SELECT DISTINCT ON (jobid) jobid, status FROM cron.job_run_details
	                       WHERE status IN ('succeeded', 'failed') ORDER BY jobid, runid) d
	                JOIN cron.job j USING (jobid)});
	last if ($runs // '') =~ /obs-alerts.*obs-retention/;
	usleep(500_000);
}
is($runs, 'obs-alerts:succeeded,obs-retention:succeeded',
	'both jobs ran in database pipelines and succeeded');
is(sql(q{SELECT count(*) || ':' || min(rule_name) || ':' || min(severity::text)
           FROM obs.alerts}, 'pipelines'),
	'1:cron_slow:high', 'the scheduled evaluation stored the rule\'s alert');
sql('SELECT obs.flush()', 'pipelines');
is(sql(q{SELECT count(*) FROM obs.logs WHERE logger = 'obs.alerts'}, 'pipelines'),
	'1', 'and logged it once');
my $detail = sql(q{SELECT string_agg(return_message, ',') FROM cron.job_run_details
                    WHERE status = 'failed'});
is($detail, '', 'no job failed');

$node->stop;
done_testing();
