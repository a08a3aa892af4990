# Shipping to Elasticsearch and webhooks: the ship worker against test
# receivers (test/ship/es-receiver.mjs, webhook-receiver.mjs) that check
# every request and answer like Elasticsearch.  Every row of every signal
# arrives exactly once in normal operation; a receiver that is down, 429
# with Retry-After, 500, 400 and a partial bulk failure each give their
# documented outcome; kill -9 of the worker and of the postmaster
# mid-batch repeat at most one batch; SIGHUP picks up a new endpoint and
# a new credential; commits out of id order lose nothing; credentials
# never reach the server log or a non-superuser.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Time::HiRes qw(time usleep);

my $secret1 = 'SECRET-ES-KEY-1x7Qz';
my $secret2 = 'SECRET-ES-KEY-2k9Wv';
my $shipdir = abs_path(dirname(__FILE__) . '/../ship');
ok(-d "$shipdir/node_modules/\@elastic/elasticsearch",
	'the Elasticsearch client the receiver uses is installed (npm ci in test/ship)')
  or BAIL_OUT('npm ci in test/ship first (test/suites/ship_encode.sh does)');
my $tmp = PostgreSQL::Test::Utils::tempdir;

my $node = PostgreSQL::Test::Cluster->new('ship');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
restart_after_crash = on
obs.write_path = 'transactional'
obs.elastic_api_key = '$secret1'
max_worker_processes = 16
log_min_messages = debug1
});
$node->start;
sub sql { return $node->safe_psql('postgres', $_[0]); }
sql('CREATE EXTENSION obs');

# ------------------------------------------------------------ receivers
my @receivers;
sub start_receiver
{
	my ($script, $port, $log) = @_;
	my $h = IPC::Run::start(['node', "$shipdir/$script", $port, $log],
		'>', "$log.out", '2>&1', init => sub { $ENV{RECEIVER_LIFETIME_MS} = 600000 });
	for (1 .. 100)
	{
		last if -s $log;
		usleep(50_000);
	}
	push @receivers, $h;
	return $h;
}
sub stop_receiver { my $h = shift; $h->signal('KILL'); $h->finish; }
END { local $?; $_->kill_kill for grep { $_->pumpable } @receivers; }

sub control
{
	my ($port, $json) = @_;
	my $out = `curl -s -m 5 -X POST -d '$json' http://127.0.0.1:$port/_control`;
	return $out;
}

# the receiver's log as a list of hashes
sub events
{
	my $log = shift;
	open(my $f, '<', $log) or return ();
	# whole lines only: the receiver may be writing the last one
	my @e = map { decode_json($_) } grep { /\S/ && /\n\z/ } <$f>;
	close $f;
	return @e;
}
# how many times each doc id arrived in index pattern $re
sub arrivals
{
	my ($log, $re) = @_;
	my %n;
	for my $e (events($log))
	{
		next unless defined $e->{id} && defined $e->{index} && $e->{index} =~ $re;
		$n{ $e->{id} }++;
	}
	return \%n;
}
sub violations { return scalar grep { defined $_->{violation} } events($_[0]); }

# poll $cond (a sub) for at most $secs
sub wait_for
{
	my ($cond, $secs) = @_;
	my $deadline = time + ($secs // 60);
	while (time < $deadline)
	{
		return 1 if $cond->();
		usleep(100_000);
	}
	return 0;
}
sub ids_of { return [ split /\n/, sql($_[0]) ]; }
sub all_arrived
{
	my ($log, $re, $ids) = @_;
	return sub { my $got = arrivals($log, $re); return !grep { !$got->{$_} } @$ids; };
}

my $es_port = PostgreSQL::Test::Cluster::get_free_port();
my $es_log = "$tmp/es.log";
my $es = start_receiver('es-receiver.mjs', $es_port, $es_log);

# ---------------------------------------- N rows of each signal, exactly once
is( sql(qq{SELECT obs.setup_logging_to_elk('127.0.0.1', $es_port, 'obs-%{signal}-%Y.%m.%d',
        signals => '{logs,spans,metrics,alerts}', batch_size => 50, flush_interval => '100ms',
        timeout => '2s', name => 'es')}), 'es', 'setup_logging_to_elk returns the sink name');
sql(q{SELECT obs.info('row ' || g, context => jsonb_build_object('g', g)) FROM generate_series(1, 120) g});
sql(q{SELECT obs.finish_span(obs.start_span('op ' || g)) FROM generate_series(1, 30) g});
sql(q{SELECT obs.record_metric('ship.lat', g, '{"k": "v"}') FROM generate_series(1, 40) g});
sql(q{SELECT count(*) FROM obs.check_alert_conditions('ship.lat', 35, 'greater')});
my $logs = ids_of(q{SELECT log_id FROM obs.logs ORDER BY 1});
my $spans = ids_of(q{SELECT trace_id || '-' || span_id FROM obs.spans ORDER BY 1});
my $alerts = ids_of(q{SELECT alert_id FROM obs.alerts ORDER BY 1});
is(sql(q{SELECT count(*) FROM obs.logs WHERE message LIKE 'row %'}), '120', '120 logs written');
is(scalar @$alerts, 5, '5 alerts stored');
ok(wait_for(all_arrived($es_log, qr/^obs-logs-\d{4}\.\d\d\.\d\d$/, $logs), 60), 'every log arrives');
ok(wait_for(all_arrived($es_log, qr/^obs-spans-/, $spans), 30), 'every span arrives');
ok(wait_for(all_arrived($es_log, qr/^obs-alerts-/, $alerts), 30), 'every alert arrives');
ok(wait_for(sub { keys %{ arrivals($es_log, qr/^obs-metrics-/) } == 40 }, 30), '40 metric points arrive');
{
	my $got = arrivals($es_log, qr/^obs-logs-/);
	is_deeply([ sort { $a <=> $b } keys %$got ], $logs, 'exactly the log ids arrive, no other');
	is((grep { $_ != 1 } values %$got), 0, 'each log arrives once');
	my $m = arrivals($es_log, qr/^obs-metrics-/);
	is((grep { $_ != 1 } values %$m), 0, 'each metric point arrives once');
	my @vals = sort { $a <=> $b } map { $_->{doc}{value} } grep { ($_->{index} // '') =~ /^obs-metrics-/ } events($es_log);
	is_deeply(\@vals, [ 1 .. 40 ], 'the metric points carry their values');
	my ($doc) = grep { ($_->{doc}{message} // '') eq 'row 1' } events($es_log);
	is($doc->{doc}{context}{g}, 1, 'a log document is the row');
	like($doc->{doc}{'@timestamp'}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00$/, 'with an @timestamp in UTC');
	is($doc->{auth}, "ApiKey $secret1", 'the API key of obs.elastic_api_key is sent');
}
is(violations($es_log), 0, 'the receiver saw no protocol violation');
is(sql(q{SELECT string_agg(signal || '=' || rows_shipped || '/' || lag_rows, ',' ORDER BY signal) FROM obs.sink_stats}),
	'alerts=5/0,logs=125/0,metrics=40/0,spans=30/0', 'sink_stats counts every row shipped, no lag');

# ------------------------------------------------ the buffered path ships too
sql(q{SET obs.write_path = 'buffered'; SELECT obs.info('buffered ' || g) FROM generate_series(1, 30) g; SELECT obs.flush('10s')});
my $buffered = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE 'buffered %' ORDER BY 1});
is(scalar @$buffered, 30, 'the flusher stored 30 buffered logs');
ok(wait_for(all_arrived($es_log, qr/^obs-logs-/, $buffered), 30), 'the flusher-written logs arrive');

# ---------------------------------- receiver down, more rows, receiver back
stop_receiver($es);
sql(q{SELECT obs.info('while down ' || g) FROM generate_series(1, 100) g});
ok(wait_for(sub { sql(q{SELECT failures > 0 AND last_error LIKE 'network error:%' FROM obs.sink_stats WHERE signal = 'logs'}) eq 't' }, 30),
	'a receiver that is down counts failures with a network error');
# a writer held up until the receiver is back would run into the psql timeout
$node->safe_psql('postgres', q{SELECT obs.info('ingest while down ' || g) FROM generate_series(1, 1000) g},
	timeout => $PostgreSQL::Test::Utils::timeout_default);
# still down: the writes returned and are stored, the sink lags behind them
is(sql(q{SELECT count(*) FROM obs.logs WHERE message LIKE 'ingest while down %'}), '1000',
	'ingest is not held up by the receiver being down: the rows are stored');
ok(sql(q{SELECT lag_rows FROM obs.sink_stats WHERE signal = 'logs'}) > 0,
	'while the receiver is down the sink lags behind them');
$es = start_receiver('es-receiver.mjs', $es_port, $es_log);
my $down = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE '%while down %' ORDER BY 1});
ok(wait_for(all_arrived($es_log, qr/^obs-logs-/, $down), 90), 'every row written while it was down arrives after it is back');

# -------------------------------------------------------- 429 with Retry-After
control($es_port, '{"mode":"status","status":429,"retry_after":2,"count":1}');
my $retries0 = sql(q{SELECT retries FROM obs.sink_stats WHERE signal = 'logs'});
my $t429 = time;
sql(q{SELECT obs.info('after 429 ' || g) FROM generate_series(1, 5) g});
my $r429 = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE 'after 429 %' ORDER BY 1});
ok(wait_for(all_arrived($es_log, qr/^obs-logs-/, $r429), 30), '429: the batch arrives later');
ok(time - $t429 >= 1.9, '429: not before Retry-After (2 s)');
ok(sql(q{SELECT retries FROM obs.sink_stats WHERE signal = 'logs'}) > $retries0, '429: counted as a retry');
ok((grep { ($_->{refused} // 0) == 429 } events($es_log)) >= 1, '429: the receiver refused once');

# ----------------------------------------------------------------------- 500
control($es_port, '{"mode":"status","status":500,"count":2}');
sql(q{SELECT obs.info('after 500 ' || g) FROM generate_series(1, 5) g});
my $r500 = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE 'after 500 %' ORDER BY 1});
ok(wait_for(all_arrived($es_log, qr/^obs-logs-/, $r500), 30), '500 twice: the batch arrives on the third attempt');
is(sql(q{SELECT count(*) FROM obs.ship_dead_letters}), '0', 'no dead letter from 429 or 500');

# ----------------------------------------------------------------------- 400
control($es_port, '{"mode":"status","status":400,"count":1}');
sql(q{SELECT obs.info('refused ' || g) FROM generate_series(1, 5) g});
my $r400 = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE 'refused %' ORDER BY 1});
ok(wait_for(sub { sql(q{SELECT count(*) FROM obs.ship_dead_letters WHERE status = 400}) eq '1' }, 30),
	'400: the batch becomes a dead letter');
is(sql(q{SELECT array_to_string(row_ids, ',') FROM obs.ship_dead_letters WHERE status = 400}), join(',', @$r400),
	'400: the dead letter names the batch rows');
like(sql(q{SELECT response FROM obs.ship_dead_letters WHERE status = 400}), qr/status 400/, '400: with the answer');
like(sql(q{SELECT payload FROM obs.ship_dead_letters WHERE status = 400}), qr/refused 1.*\n$/s, '400: and the payload');
sql(q{SELECT obs.info('after refused ' || g) FROM generate_series(1, 5) g});
my $after400 = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE 'after refused %' ORDER BY 1});
ok(wait_for(all_arrived($es_log, qr/^obs-logs-/, $after400), 30), '400: shipping goes on');
is(sql(q{SELECT dead_letters FROM obs.sink_stats WHERE signal = 'logs'}), '1', '400: sink_stats counts the dead letter');

# ------------------------------------------------ a partial bulk failure (200)
sql(q{SELECT obs.pause_sink('es')});
sql(q{SELECT obs.info('partial ' || g) FROM generate_series(1, 4) g});
my $part = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE 'partial %' ORDER BY 1});
control($es_port, qq{{"mode":"partial","fail_ids":["$part->[0]"],"fail_status":400,"count":1}});
sql(q{SELECT obs.resume_sink('es')});
ok(wait_for(all_arrived($es_log, qr/^obs-logs-/, [ @$part[1 .. 3] ]), 30), 'partial: the accepted items are stored');
ok(wait_for(sub { sql(qq{SELECT count(*) FROM obs.ship_dead_letters WHERE status = 400 AND row_ids = '{$part->[0]}'}) eq '1' }, 30),
	'partial: the refused item alone is a dead letter');
like(sql(qq{SELECT response FROM obs.ship_dead_letters WHERE row_ids = '{$part->[0]}'}), qr/mapper_parsing_exception/,
	'partial: with the item error');
ok(!arrivals($es_log, qr/^obs-logs-/)->{ $part->[0] }, 'partial: the refused item was not stored');
sql(q{SELECT obs.pause_sink('es')});
sql(q{SELECT obs.info('partial429 ' || g) FROM generate_series(1, 4) g});
my $p429 = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE 'partial429 %' ORDER BY 1});
control($es_port, qq{{"mode":"partial","fail_ids":["$p429->[1]"],"fail_status":429,"count":1}});
sql(q{SELECT obs.resume_sink('es')});
ok(wait_for(all_arrived($es_log, qr/^obs-logs-/, $p429), 30), 'partial 429: the item is retried and arrives');
is(arrivals($es_log, qr/^obs-logs-/)->{ $p429->[0] }, 1, 'partial 429: only the refused item is sent again');

# -------------------------------------------------- out-of-order commits
{
	my ($in, $out) = ('', '');
	my $h = IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-f', '-' ],
		'<', \$in, '>', \$out, '2>', \$out);
	$in .= "BEGIN;\nSELECT obs.info('ooo first');\nSELECT 'started';\n";
	$h->pump until $out =~ /started/;
	sql(q{SELECT obs.info('ooo second')});
	my $second = sql(q{SELECT log_id FROM obs.logs WHERE message = 'ooo second'});
	ok(wait_for(all_arrived($es_log, qr/^obs-logs-/, [$second]), 30), 'out of order: the later id commits first and ships');
	$in .= "COMMIT;\n";
	$h->finish;
	my $first = sql(q{SELECT log_id FROM obs.logs WHERE message = 'ooo first'});
	ok($first < $second, "out of order: the first id ($first) is lower than the shipped one ($second)");
	ok(wait_for(all_arrived($es_log, qr/^obs-logs-/, [$first]), 30), 'out of order: the lower id, committed later, arrives');
}

# ------------------------------------------- kill -9 of the worker mid-batch
sub worker_pid { return sql(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'obs ship worker'}); }
sub crash_test
{
	my ($what, $kill) = @_;
	sql(q{SELECT obs.pause_sink('es')});
	sql(qq{SELECT obs.info('$what ' || g) FROM generate_series(1, 120) g});
	my $ids = ids_of(qq{SELECT log_id FROM obs.logs WHERE message LIKE '$what %' ORDER BY 1});
	my $before = arrivals($es_log, qr/^obs-logs-/);
	my $ndelayed = grep { defined $_->{delaying} } events($es_log);
	control($es_port, '{"mode":"slow","delay_ms":3000,"count":1}');
	sql(q{SELECT obs.resume_sink('es')});
	# the first batch is in flight, its answer delayed: crash now
	ok(wait_for(sub { (grep { defined $_->{delaying} } events($es_log)) > $ndelayed }, 30), "$what: a batch is in flight");
	my ($inflight) = grep { defined $_->{delaying} } reverse events($es_log);
	$kill->();
	ok(wait_for(all_arrived($es_log, qr/^obs-logs-/, $ids), 90), "$what: every row arrives after the crash");
	usleep(3_500_000);	# the delayed answer of the killed request is logged too
	my $after = arrivals($es_log, qr/^obs-logs-/);
	my @dups = grep { ($after->{$_} // 0) - ($before->{$_} // 0) > 1 } @$ids;
	my %inflight = map { $_ => 1 } @{ $inflight->{delaying} };
	ok(@dups <= 50 && !(grep { !$inflight{$_} } @dups),
		"$what: only rows of the batch in flight are repeated (" . scalar(@dups) . ' of ' . scalar(keys %inflight) . ')');
	ok(!(grep { ($after->{$_} // 0) - ($before->{$_} // 0) > 2 } @$ids), "$what: none more than twice");
}
crash_test('killworker', sub {
	my $pid = worker_pid();
	ok($pid =~ /^\d+$/, 'a ship worker runs');
	kill 'KILL', $pid;
	$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
});
crash_test('killpostmaster', sub {
	$node->kill9;
	my $started = 0;
	for (1 .. 60)
	{
		last if ($started = $node->start(fail_ok => 1));
		$node->{_pid} = undef;
		usleep(500_000);
	}
	ok($started, 'the server restarts after kill -9 of the postmaster');
});

# ------------------------------------- SIGHUP: a new endpoint, a new API key
my $es2_port = PostgreSQL::Test::Cluster::get_free_port();
my $es2_log = "$tmp/es2.log";
start_receiver('es-receiver.mjs', $es2_port, $es2_log);
$node->append_conf('postgresql.conf', "obs.elastic_api_key = '$secret2'\n");
sql(qq{UPDATE obs.sinks SET endpoint = 'http://127.0.0.1:$es2_port/_bulk' WHERE name = 'es'});
$node->reload;
sql(q{SELECT obs.info('after sighup ' || g) FROM generate_series(1, 5) g});
my $hup = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE 'after sighup %' ORDER BY 1});
ok(wait_for(all_arrived($es2_log, qr/^obs-logs-/, $hup), 30), 'SIGHUP: rows go to the new endpoint');
my ($hdoc) = grep { ($_->{id} // '') eq $hup->[0] } events($es2_log);
is($hdoc->{auth}, "ApiKey $secret2", 'SIGHUP: with the new API key');

# ------------------------------------------------------------------- webhooks
my $wh_port = PostgreSQL::Test::Cluster::get_free_port();
my $wh_log = "$tmp/wh.log";
start_receiver('webhook-receiver.mjs', $wh_port, $wh_log);
sql(qq{SELECT obs.setup_alert_webhook('http://127.0.0.1:$wh_port/hook', flush_interval => '100ms', name => 'hook')});
sql(qq{SELECT obs.setup_alert_webhook('http://127.0.0.1:$wh_port/slack', format => 'slack', flush_interval => '100ms', name => 'slack')});
control($wh_port, '{"mode":"status","status":503,"count":1}');
sql(q{SELECT obs.record_metric('ship.hook', g) FROM generate_series(100, 104) g});
sql(q{SELECT count(*) FROM obs.check_alert_conditions('ship.hook', 101, 'greater')});
my $new_alerts = ids_of(q{SELECT alert_id FROM obs.alerts WHERE metric_name = 'ship.hook' ORDER BY 1});
is(scalar @$new_alerts, 3, '3 new alerts');
ok(wait_for(sub {
	my %got = map { $_->{alert_id} => 1 } grep { defined $_->{alert_id} && !defined $_->{refused} } events($wh_log);
	!grep { !$got{$_} } @$new_alerts }, 30), 'webhook: every new alert is POSTed, after a 503');
ok(wait_for(sub { (grep { defined $_->{text} && $_->{text} =~ /ship\.hook/ } events($wh_log)) == 3 }, 30),
	'slack: one {"text"} message per alert');
is(violations($wh_log), 0, 'the webhook receiver saw no protocol violation');

# -------------------------------------------------------------- credentials
sql(q{CREATE ROLE ship_nobody LOGIN});
my ($rc, $o, $e) = $node->psql('postgres', 'SHOW obs.elastic_api_key', extra_params => [ '-U', 'ship_nobody' ]);
like($e, qr/must be superuser/, 'a non-superuser cannot SHOW the API key');
($rc, $o, $e) = $node->psql('postgres', q{SELECT obs.setup_logging_to_elk('127.0.0.1', 1)}, extra_params => [ '-U', 'ship_nobody' ]);
like($e, qr/permission denied/, 'a non-superuser cannot add a sink');
is(violations($es_log) + violations($es2_log), 0, 'no protocol violation on either ES receiver');

$node->stop('fast');
my $serverlog = slurp_file($node->logfile);
unlike($serverlog, qr/\Q$secret1\E|\Q$secret2\E/, 'the server log never contains an API key, after all those failures');
like($serverlog, qr/obs sink "es" could not ship logs/, 'the server log names the failing sink');
done_testing();
