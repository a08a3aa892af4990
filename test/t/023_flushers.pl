# obs.flushers_per_database = 2: a database's buffer is two rings (lanes),
# each with its own flusher.  Sessions take the lanes in turn; the records
# of a run go through one lane whoever writes them, so that its updates keep
# their order; obs.flush(), obs.ingest_stats and the lock skips cover both
# lanes; each lane saves its own crash state.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('flushers');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.flushers_per_database = 2
obs.buffer_size = '1MB'
obs.flush_interval = '100ms'
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub set_conf
{
	my ($line) = @_;
	$node->append_conf('postgresql.conf', $line);
	$node->reload;
	sleep 1;
}

my $counters_ok = q{SELECT bool_and(accepted = stored + dropped_full + dropped_other + dead_lettered + pending)
	FROM obs.ingest_stats};

sql('CREATE EXTENSION obs');
is(sql('SHOW obs.flushers_per_database'), '2', 'the setting is shown');

# ---------------------------------------------------- sessions share lanes
# four sessions in turn: two per lane
for my $s (1 .. 4)
{
	sql(qq{SELECT count(obs.info('lane test', jsonb_build_object('session', $s))) FROM generate_series(1, 2000)});
}
is( sql(q{SELECT obs.flush();
	SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'obs flusher'}),
	"t\n2", 'each lane of the database has its flusher');
is( sql(q{SELECT string_agg(n::text, ',') FROM (SELECT count(*) AS n FROM obs.logs
	WHERE message = 'lane test' GROUP BY context->>'session' ORDER BY 1) c}),
	'2000,2000,2000,2000', 'every record of every session is stored once');
is( sql(q{SELECT count(*) || ',' || sum(accepted) || ',' || sum(stored) || ',' || sum(pending) || ',' || sum(buffer_size)
	FROM obs.ingest_stats WHERE signal = 'log'}),
	'1,8000,8000,0,1048576',
	'obs.ingest_stats has one row per signal, the sums of both lanes (the buffer is split)');

# --------------------------------------------------- a run keeps its order
# session A writes Running, session B (the other lane) Completed and enough
# logs that its flusher stores them at once, while the flush interval keeps
# A's lane waiting; unless both records of a run go through the same lane,
# Completed would be stored before Running and Running would win
set_conf("obs.flush_interval = '60s'");
my $a = $node->background_psql('postgres');
my $b = $node->background_psql('postgres');
$a->query_safe(q{SELECT count(obs.record_flow_execution('laneflow', 'lane-run-' || g, now(), NULL, 'Running'))
	FROM generate_series(1, 50) g});
$b->query_safe(q{SELECT count(obs.record_flow_execution('laneflow', 'lane-run-' || g, now(), now(), 'Completed'))
	FROM generate_series(1, 50) g});
$b->query_safe(q{SELECT count(obs.info('fill', jsonb_build_object('pad', repeat('x', 200)))) FROM generate_series(1, 1000)});
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1000 FROM obs.logs WHERE message = 'fill'}),
	'the lane past one eighth full is stored without obs.flush()');
is( sql(q{SELECT obs.flush();
	SELECT string_agg(DISTINCT status::text, ',') || ',' || count(*) FROM obs.flow_runs WHERE flow_name = 'laneflow'}),
	"t\nCompleted,50", 'the updates of a run keep their order across sessions and lanes');

# ------------------------------------------------ obs.flush() covers lanes
$a->query_safe(q{SELECT obs.info('from session A')});
$b->query_safe(q{SELECT obs.info('from session B')});
is( sql(q{SELECT obs.flush();
	SELECT count(*) FROM obs.logs WHERE message IN ('from session A', 'from session B')}),
	"t\n2", 'obs.flush() stores what both lanes hold');
set_conf("obs.flush_interval = '100ms'");

# ------------------------------------------ lock skips in both flushers
my $lock = $node->background_psql('postgres');
$lock->query_safe(q{BEGIN; LOCK TABLE obs.logs IN SHARE MODE});
$a->query_safe(q{SELECT count(obs.info('locked a ' || g)) FROM generate_series(1, 100) g});
$b->query_safe(q{SELECT count(obs.info('locked b ' || g)) FROM generate_series(1, 100) g});
$a->query_safe(q{SELECT obs.record_metric('lane.metric', 1)});
$b->query_safe(q{SELECT obs.record_metric('lane.metric', 2)});
ok( $node->poll_query_until('postgres',
		q{SELECT count(*) = 2 FROM obs.metrics WHERE name = 'lane.metric'}),
	'behind a lock on obs.logs, both flushers store the metric samples');
is(sql(q{SELECT pending FROM obs.ingest_stats WHERE signal = 'log'}), '200',
	'the logs of both lanes wait for the lock, counted as pending');
$lock->query_safe('COMMIT');
is( sql(q{SELECT obs.flush();
	SELECT count(*) FROM obs.logs WHERE message LIKE 'locked %'}),
	"t\n200", 'once the lock is gone the records set aside are stored');
is(sql($counters_ok), 't', 'counters add up');
$lock->quit;

# ------------------------------------------- a record larger than a lane
my ($ret, $out, $err) = $node->psql('postgres',
	q{SELECT obs.info('big', jsonb_build_object('pad', repeat('x', 600000)))});
like($err, qr/ERROR:  obs record of \d+ bytes does not fit in the buffer\nDETAIL:  obs.buffer_size is 1024 kB, shared by 2 flushers\./,
	'a record larger than one lane is error 54000 and says why');

# ---------------------------- an aggregate whose count cannot be buffered
# obs.instrument_metric_interval: the mean goes into the buffer at COMMIT,
# then the count's record (6 bytes longer) does not fit in a lane (54000,
# the commit fails); the abort's flush sends only what is missing, so the
# mean is accepted once, not twice (the count is dropped, counted)
sql(q{CREATE FUNCTION agg_fn(int) RETURNS int LANGUAGE sql AS 'SELECT $1'});
my $probe = 600000;
(undef, undef, $err) = $node->psql('postgres', qq{
	SET obs.instrument_functions = 'public.agg_fn';
	SELECT set_config('obs.instrument_metric_prefix', repeat('p', $probe), false);
	SELECT agg_fn(1)});
my ($probe_len) = $err =~ /obs record of (\d+) bytes/;
ok(defined $probe_len, 'a duration metric record larger than a lane is refused with its size');
my $ring = 1024 * 1024 / 2;
my $accepted_metrics = q{SELECT sum(accepted) FROM obs.ingest_stats WHERE signal = 'metric'};
# the first prefix length at which the commit fails: there the mean (6
# bytes shorter than the count) still fits, since the count fitted one
# byte shorter
my ($failing, $delta);
for my $len ($ring - ($probe_len - $probe) - 16 .. $ring - ($probe_len - $probe) + 16)
{
	my $before = sql($accepted_metrics);
	(undef, undef, $err) = $node->psql('postgres', qq{
		SET obs.instrument_functions = 'public.agg_fn';
		SET obs.instrument_metric_interval = '1h';
		SELECT set_config('obs.instrument_metric_prefix', repeat('p', $len), false);
		BEGIN;
		SELECT agg_fn(1);
		COMMIT;});
	next unless $err =~ /obs record of \d+ bytes does not fit in the buffer/;
	$failing = $len;
	$delta = sql($accepted_metrics) - $before;
	last;
}
ok(defined $failing, 'the count of the aggregate does not fit: the commit fails');
is($delta, 2, 'the mean is accepted once and the count once (dropped), nothing twice');

# ------------------------------------------------- crash states per lane
my $dboid = sql(q{SELECT oid FROM pg_database WHERE datname = 'postgres'});
$a->quit;
$b->quit;
for my $s (1 .. 2)
{
	sql(q{SELECT obs.info('before crash'); SELECT obs.flush()});
}
my $pgdata = $node->data_dir;
ok(-f "$pgdata/pg_stat/obs_ingest_$dboid.state" && -f "$pgdata/pg_stat/obs_ingest_${dboid}_1.state",
	'each lane saves its own state');
$node->stop('immediate');
my $offset = -s $node->logfile;
$node->start;
ok( $node->poll_query_until('postgres',
		q{SELECT coalesce(sum(lost_at_crash_max), 0) > 0 FROM obs.ingest_stats}),
	'after a crash the bound of each lane is shown');
my $log = slurp_file($node->logfile, $offset);
my $reports = () = $log =~ /may have been lost/g;
is($reports, 2, 'and logged once per lane');
is( sql(q{SELECT count(*) FROM obs.logs WHERE message = 'before crash'}), '2',
	'committed rows survive the crash');

$node->stop;
done_testing();
