# Shipping over OTLP/HTTP and to CloudWatch Logs: the ship worker against
# test receivers that decode or verify every request with the ecosystem's
# own code (test/ship/otlp-receiver.mjs: @opentelemetry/otlp-transformer's
# OTLP definitions; cloudwatch-receiver.mjs: SigV4 recomputed by
# @smithy/signature-v4).  N spans, logs and metric points arrive exactly,
# in JSON and in gzip'd protobuf; a 503 is retried; CloudWatch gets every
# log in order, signed with the key of the obs.aws_* settings (and a
# session token once), the secret never reaches the server log, and a 400
# makes a dead letter.
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

my $shipdir = abs_path(dirname(__FILE__) . '/../ship');
my $tmp = PostgreSQL::Test::Utils::tempdir;
ok(-d "$shipdir/node_modules/\@opentelemetry/otlp-transformer",
	'the reference decoders are installed (npm ci in test/ship)')
  or BAIL_OUT('npm ci in test/ship first (test/suites/ship_encode.sh does)');

my $key_id = 'AKIDOBSTAPTEST';
my $secret = 'SECRET-AWS-9fQ2xLp7Zr';
my $token = 'SESSION-TOKEN-3hN8vT';

my $node = PostgreSQL::Test::Cluster->new('shipotlp');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.write_path = 'transactional'
obs.aws_access_key_id = '$key_id'
obs.aws_secret_access_key = '$secret'
max_worker_processes = 16
log_min_messages = debug1
});
$node->start;
sub sql { return $node->safe_psql('postgres', $_[0]); }
sql('CREATE EXTENSION obs');

# ------------------------------------------------------------ receivers
my @receivers;
# start a receiver; returns (handle, port)
sub start_receiver
{
	my ($script, $name, %env) = @_;
	my $out = "$tmp/$name.out";
	unlink $out;
	my $h = IPC::Run::start(['node', "$shipdir/$script", '0'],
		'>', $out, '2>', "$tmp/$name.err", init => sub { $ENV{$_} = $env{$_} for keys %env; });
	my $port;
	for (1 .. 200)
	{
		if (open(my $f, '<', $out))
		{
			my $l = <$f>;
			close $f;
			if (defined $l && $l =~ /^(\d+)\n/) { $port = $1; last; }
		}
		usleep(50_000);
	}
	die "$script did not start: " . `cat $tmp/$name.err` unless $port;
	push @receivers, $h;
	return ($h, $port);
}
sub stop_receiver { my $h = shift; $h->signal('TERM'); $h->finish; }
END { local $?; $_->kill_kill for grep { $_->pumpable } @receivers; }

sub get_json
{
	my ($port, $path) = @_;
	my $out = `curl -s -m 5 http://127.0.0.1:$port$path`;
	return decode_json($out);
}
sub post_json
{
	my ($port, $path, $json) = @_;
	return `curl -s -m 5 -X POST -d '$json' http://127.0.0.1:$port$path`;
}

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
sub sorted { return [ sort @{ $_[0] } ]; }

# ================================================================== OTLP
my ($otlp, $oport) = start_receiver('otlp-receiver.mjs', 'otlp');
is( sql(qq{SELECT obs.setup_otlp_export('http://127.0.0.1:$oport', service_name => 'tapsvc',
        batch_size => 50, flush_interval => '100ms', timeout => '2s', name => 'otlp')}),
	'otlp', 'setup_otlp_export returns the sink name');
is(sql(q{SELECT string_agg(signal, ',' ORDER BY signal) FROM obs.sink_cursors WHERE sink = 'otlp'}),
	'logs,metrics,spans', 'traces, logs and metrics: one cursor each');

# write N of each signal; returns (log ids, span ids, metric values)
sub write_rows
{
	my ($tag, $nlogs, $nspans, $npoints) = @_;
	sql(qq{SELECT obs.info('$tag log ' || g) FROM generate_series(1, $nlogs) g});
	sql(qq{SELECT obs.finish_span(obs.start_span('$tag op ' || g)) FROM generate_series(1, $nspans) g});
	sql(qq{SELECT obs.record_metric('$tag.m', g, '{"k": "v"}') FROM generate_series(1, $npoints) g});
	return (ids_of(qq{SELECT log_id FROM obs.logs WHERE message LIKE '$tag log %' ORDER BY 1}),
		ids_of(qq{SELECT trace_id::text || '-' || span_id::text FROM obs.spans WHERE operation LIKE '$tag op %' ORDER BY 1}));
}
sub received { return get_json($oport, '/_received'); }
sub got_logs { my ($r, $re) = @_; return [ map { $_->{logId} } grep { $_->{body} =~ $re } @{ $r->{logs} } ]; }
sub got_spans { my ($r, $re) = @_; return [ map { "$_->{traceId}-$_->{spanId}" } grep { $_->{name} =~ $re } @{ $r->{spans} } ]; }
sub got_points { my ($r, $name) = @_; return [ sort { $a <=> $b } map { $_->{value} } grep { $_->{name} eq $name } @{ $r->{points} } ]; }

# ---------------------------------------------------- N of each, JSON
my ($logs, $spans) = write_rows('j', 60, 20, 30);
is(scalar @$logs, 60, '60 logs written');
is(scalar @$spans, 20, '20 spans written');
ok( wait_for(
		sub {
			my $r = received();
			return @{ got_logs($r, qr/^j log /) } >= 60 && @{ got_spans($r, qr/^j op /) } >= 20
			  && @{ got_points($r, 'j.m') } >= 30;
		},
		60),
	'OTLP JSON: every log, span and metric point arrives');
{
	my $r = received();
	is_deeply(sorted(got_logs($r, qr/^j log /)), sorted($logs), 'exactly the log ids arrive, once each');
	is_deeply(sorted(got_spans($r, qr/^j op /)), sorted($spans), 'exactly the span ids arrive, once each');
	is_deeply(got_points($r, 'j.m'), [ 1 .. 30 ], 'exactly the metric points arrive, with their values');
	my ($l) = grep { $_->{body} eq 'j log 1' } @{ $r->{logs} };
	is($l->{severityNumber}, 9, 'a log record has the INFO severity number');
	is($l->{service}, 'tapsvc', 'and the service.name given');
	my ($p) = grep { $_->{name} eq 'j.m' } @{ $r->{points} };
	is($p->{attributes}{k}, 'v', 'a metric point carries its tags as attributes');
	my $q = get_json($oport, '/_requests');
	is($q->{rejected}, 0, 'the receiver refused no request') or diag explain $q->{errors};
	ok($q->{json} >= 3 && $q->{protobuf} == 0 && $q->{gzip} == 0, 'JSON bodies, not compressed');
}
is(sql(q{SELECT string_agg(signal || '=' || rows_shipped || '/' || lag_rows, ',' ORDER BY signal) FROM obs.sink_stats WHERE sink = 'otlp'}),
	'logs=60/0,metrics=30/0,spans=20/0', 'sink_stats counts every row shipped, no lag');

# ------------------------------------------------ 503 once, then success
post_json($oport, '/_fail', '{"status":503,"count":1,"retryAfter":"1"}');
sql(q{SELECT obs.info('r503 log ' || g) FROM generate_series(1, 5) g});
my $r503 = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE 'r503 log %' ORDER BY 1});
ok(wait_for(sub { @{ got_logs(received(), qr/^r503 log /) } >= 5 }, 30), '503: the batch arrives on a later attempt');
is_deeply(sorted(got_logs(received(), qr/^r503 log /)), sorted($r503), '503: exactly those logs, once each');
is(get_json($oport, '/_requests')->{failed}, 1, '503: the receiver answered 503 once');
ok(sql(q{SELECT retries > 0 AND last_error LIKE 'HTTP 503%' FROM obs.sink_stats WHERE sink = 'otlp' AND signal = 'logs'}) eq 't',
	'503: counted as a retry, with its error');
is(sql(q{SELECT count(*) FROM obs.ship_dead_letters}), '0', '503: no dead letter');

# --------------------------------------------- protobuf and gzip, a new sink
sql(q{SELECT obs.drop_sink('otlp')});
post_json($oport, '/_reset', '{}');
sql(qq{SELECT obs.setup_otlp_export('http://127.0.0.1:$oport/', '{traces,logs,metrics}', protobuf => true, gzip => true,
        batch_size => 50, flush_interval => '100ms', timeout => '2s', name => 'otlp_pb')});
my ($plogs, $pspans) = write_rows('p', 12, 7, 9);
ok( wait_for(
		sub {
			my $r = received();
			return @{ got_logs($r, qr/^p log /) } >= 12 && @{ got_spans($r, qr/^p op /) } >= 7
			  && @{ got_points($r, 'p.m') } >= 9;
		},
		60),
	'OTLP protobuf, gzip: every log, span and metric point arrives');
{
	my $r = received();
	is_deeply(sorted(got_logs($r, qr/^p log /)), sorted($plogs), 'protobuf: exactly the log ids');
	is_deeply(sorted(got_spans($r, qr/^p op /)), sorted($pspans), 'protobuf: exactly the span ids');
	is_deeply(got_points($r, 'p.m'), [ 1 .. 9 ], 'protobuf: exactly the metric points');
	is(scalar @{ $r->{logs} } + scalar @{ $r->{spans} } + scalar @{ $r->{points} }, 28, 'and nothing else (rows before the sink are not sent)');
	my $q = get_json($oport, '/_requests');
	ok($q->{accepted} >= 3 && $q->{protobuf} == $q->{accepted} && $q->{gzip} == $q->{accepted} && $q->{rejected} == 0,
		'every request was gzip\'d protobuf') or diag explain $q;
}
sql(q{SELECT obs.drop_sink('otlp_pb')});

# ============================================================ CloudWatch
my ($cw, $cport) = start_receiver('cloudwatch-receiver.mjs', 'cw',
	CW_KEY_ID => $key_id, CW_SECRET => $secret, CW_REGION => 'eu-west-1');
is( sql(qq{SELECT obs.setup_logging_to_cloudwatch('/obs/tap', 'stream-1', 'eu-west-1', 'http://127.0.0.1:$cport/',
        batch_size => 50, flush_interval => '100ms', timeout => '2s', name => 'cw')}),
	'cw', 'setup_logging_to_cloudwatch returns the sink name');
sql(q{SELECT obs.info('cw log ' || g, context => jsonb_build_object('g', g)) FROM generate_series(1, 120) g});
my $cwlogs = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE 'cw log %' ORDER BY ts, log_id});
sub cw_events { return [ grep { $_->{message} =~ /"cw log / } @{ get_json($_[0] // $cport, '/_events') } ]; }
ok(wait_for(sub { @{ cw_events() } >= 120 }, 60), 'CloudWatch: 120 logs arrive');
{
	my $ev = cw_events();
	is_deeply([ map { decode_json($_->{message})->{log_id} } @$ev ], $cwlogs, 'every log arrives once, in order');
	is((grep { $_->{logGroupName} ne '/obs/tap' || $_->{logStreamName} ne 'stream-1' } @$ev), 0,
		'into the log group and stream given');
	my $q = get_json($cport, '/_requests');
	is($q->{rejected}, 0, 'every request carried a valid SigV4 signature') or diag explain $q->{errors};
	ok($q->{accepted} >= 3, 'in several PutLogEvents requests (batches of 50)');
}

# ---------------------------------------------- a session token, on SIGHUP
stop_receiver($cw);
($cw, $cport) = start_receiver('cloudwatch-receiver.mjs', 'cw2',
	CW_KEY_ID => $key_id, CW_SECRET => $secret, CW_REGION => 'eu-west-1', CW_SESSION_TOKEN => $token);
$node->append_conf('postgresql.conf', "obs.aws_session_token = '$token'\n");
$node->reload;
sleep 2;
sql(qq{SELECT obs.setup_logging_to_cloudwatch('/obs/tap', 'stream-2', 'eu-west-1', 'http://127.0.0.1:$cport',
        batch_size => 50, flush_interval => '100ms', timeout => '2s', name => 'cw2')});
sql(q{SELECT obs.drop_sink('cw')});
sql(q{SELECT obs.info('cw log tok ' || g) FROM generate_series(1, 30) g});
my $toklogs = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE 'cw log tok %' ORDER BY ts, log_id});
ok(wait_for(sub { @{ cw_events() } >= 30 }, 60), 'session token: 30 logs arrive');
is_deeply([ map { decode_json($_->{message})->{log_id} } @{ cw_events() } ], $toklogs, 'session token: in order, once each');
is(get_json($cport, '/_requests')->{rejected}, 0, 'session token: sent as X-Amz-Security-Token and signed');

# --------------------------------------------------- 400: a dead letter
post_json($cport, '/_fail', '{"status":400,"count":1}');
sql(q{SELECT obs.info('cw refused ' || g) FROM generate_series(1, 5) g});
my $r400 = ids_of(q{SELECT log_id FROM obs.logs WHERE message LIKE 'cw refused %' ORDER BY 1});
ok(wait_for(sub { sql(q{SELECT count(*) FROM obs.ship_dead_letters WHERE sink = 'cw2' AND status = 400}) eq '1' }, 30),
	'400: the batch becomes a dead letter');
is(sql(q{SELECT array_to_string(row_ids, ',') FROM obs.ship_dead_letters WHERE sink = 'cw2'}), join(',', @$r400),
	'400: the dead letter names the batch rows');
like(sql(q{SELECT payload FROM obs.ship_dead_letters WHERE sink = 'cw2'}), qr/cw refused 1/, '400: with the payload');
sql(q{SELECT obs.info('cw after ' || g) FROM generate_series(1, 5) g});
ok(wait_for(sub { (grep { $_->{message} =~ /"cw after / } @{ get_json($cport, '/_events') }) == 5 }, 30),
	'400: shipping goes on');
is(sql(q{SELECT dead_letters FROM obs.sink_stats WHERE sink = 'cw2'}), '1', '400: sink_stats counts the dead letter');

# ------------- a batch in two PutLogEvents bodies, one refused: its rows only
# (events more than 24 hours apart go into separate bodies, the oldest first)
post_json($cport, '/_fail', '{"status":400,"count":1}');
sql(q{INSERT INTO obs.logs (ts, level, logger, message, backend_pid)
      SELECT now() - interval '3 days' + (g > 3)::int * interval '2 days', 'INFO', 'tap', 'cw split ' || g, 1
        FROM generate_series(1, 6) g});
my $split_old = ids_of(q{SELECT log_id FROM obs.logs WHERE message IN ('cw split 1', 'cw split 2', 'cw split 3') ORDER BY 1});
ok(wait_for(sub { sql(q{SELECT count(*) FROM obs.ship_dead_letters WHERE sink = 'cw2'}) eq '2' }, 30),
	'two bodies, the first refused: a dead letter');
is(sql(q{SELECT array_to_string(row_ids, ',') FROM obs.ship_dead_letters WHERE sink = 'cw2' AND payload LIKE '%cw split%'}),
	join(',', @$split_old), 'the dead letter names the rows of the refused body only');
ok(wait_for(sub { (grep { $_->{message} =~ /"cw split [456]"/ } @{ get_json($cport, '/_events') }) == 3 }, 30),
	'the rows of the other body arrive');
is((grep { $_->{message} =~ /"cw split [123]"/ } @{ get_json($cport, '/_events') }), 0,
	'and none of the refused body');

# ------------------------------------------------ secrets stay secret
my $log = slurp_file($node->logfile);
unlike($log, qr/\Q$secret\E/, 'the AWS secret never reaches the server log');
unlike($log, qr/\Q$token\E/, 'nor the session token');
is(sql(qq{SELECT count(*) FROM obs.sink_stats WHERE last_error LIKE '%$secret%'}
	  . qq{ UNION ALL SELECT count(*) FROM obs.ship_dead_letters WHERE response || payload LIKE '%$secret%'}), "0\n0",
	'nor sink_stats or a dead letter');

stop_receiver($_) for grep { $_->pumpable } @receivers;
$node->stop;
done_testing();
