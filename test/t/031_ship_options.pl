# Shipping options and the worker's manners: gzip bodies, basic auth from a
# credentials file only the server may read (a readable one is refused),
# a receiver that never answers (the sink's timeout bounds each request,
# and a fast shutdown is not held up), pause and resume, and DROP DATABASE
# of a database whose ship worker is running.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;
use MIME::Base64;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Time::HiRes qw(time usleep);

my $shipdir = abs_path(dirname(__FILE__) . '/../ship');
ok(-d "$shipdir/node_modules/\@elastic/elasticsearch",
	'the Elasticsearch client the receiver uses is installed (npm ci in test/ship)')
  or BAIL_OUT('npm ci in test/ship first (test/suites/ship_encode.sh does)');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $credfile = "$tmp/obs-credentials";
my $secret = 'FILE-SECRET-PW-4hG7';

my $node = PostgreSQL::Test::Cluster->new('shipopt');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.write_path = 'transactional'
obs.credentials_file = '$credfile'
max_worker_processes = 16
});
open(my $cf, '>', $credfile) or die;
print $cf "# sink credentials\nelastic_user = shipper\nelastic_password = $secret\n";
close $cf;
chmod 0600, $credfile;
$node->start;
sub sql { return $node->safe_psql($_[1] // 'postgres', $_[0]); }
sql('CREATE EXTENSION obs');

my @receivers;
END { local $?; $_->kill_kill for grep { $_->pumpable } @receivers; }
sub start_receiver
{
	my ($port, $log) = @_;
	my $h = IPC::Run::start(['node', "$shipdir/es-receiver.mjs", $port, $log], '>', "$log.out", '2>&1');
	for (1 .. 100) { last if -s $log; usleep(50_000); }
	push @receivers, $h;
	return $h;
}
sub control { my ($port, $json) = @_; return `curl -s -m 5 -X POST -d '$json' http://127.0.0.1:$port/_control`; }
sub events
{
	open(my $f, '<', $_[0]) or return ();
	# whole lines only: the receiver may be writing the last one
	my @e = map { decode_json($_) } grep { /\S/ && /\n\z/ } <$f>;
	close $f;
	return @e;
}
sub wait_for
{
	my ($cond, $secs) = @_;
	my $deadline = time + ($secs // 30);
	while (time < $deadline) { return 1 if $cond->(); usleep(100_000); }
	return 0;
}
sub arrived { my ($log, $msg) = @_; return scalar grep { ($_->{doc}{message} // '') =~ $msg } events($log); }

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $log = "$tmp/es.log";
start_receiver($port, $log);

# ---------------------------------------------- gzip, basic auth from the file
sql(qq{SELECT obs.setup_logging_to_elk('127.0.0.1', $port, gzip => true, flush_interval => '100ms',
        headers => '{"X-Team": "data"}', timeout => '1s', name => 'es')});
sql(q{SELECT obs.info('gz ' || g) FROM generate_series(1, 20) g});
ok(wait_for(sub { arrived($log, qr/^gz /) == 20 }), 'a gzip sink: 20 rows arrive, the receiver gunzips them');
is((grep { defined $_->{violation} } events($log)), 0, 'no protocol violation');
my ($doc) = grep { ($_->{doc}{message} // '') eq 'gz 1' } events($log);
my $basic = 'Basic ' . MIME::Base64::encode_base64("shipper:$secret", '');
is($doc->{auth}, $basic, 'basic auth from obs.credentials_file');

# a credentials file others may read is ignored
chmod 0644, $credfile;
$node->reload;
usleep(500_000);
sql(q{SELECT obs.info('readable ' || g) FROM generate_series(1, 3) g});
ok(wait_for(sub { arrived($log, qr/^readable /) == 3 }), 'rows still ship');
($doc) = grep { ($_->{doc}{message} // '') eq 'readable 1' } events($log);
is($doc->{auth}, undef, 'a credentials file readable by others is ignored: no auth sent');
like(slurp_file($node->logfile), qr/credentials file ".*" is readable by others; it is ignored/,
	'and the server log says why');
chmod 0600, $credfile;
$node->reload;

# ----------------------------------------- a receiver that never answers
# the receiver hangs until told otherwise: a writer held up by it would run
# into the psql timeout
control($port, '{"mode":"hang","count":1000000}');
sql(q{SELECT obs.info('hang ' || g) FROM generate_series(1, 5) g});
ok(wait_for(sub { sql(q{SELECT failures >= 1 AND last_error ~ 'timed out' FROM obs.sink_stats}) eq 't' }, 20),
	'a request that gets no answer fails after the sink timeout (1 s)');
$node->safe_psql('postgres', q{SELECT obs.info('writer during hang ' || g) FROM generate_series(1, 1000) g},
	timeout => $PostgreSQL::Test::Utils::timeout_default);
is(sql(q{SELECT count(*) FROM obs.logs WHERE message LIKE 'writer during hang %'}), '1000',
	'writers are not held up by a hanging receiver: their rows are stored');
is(arrived($log, qr/^hang /), 0, 'while the receiver still hangs');
control($port, '{"mode":"ok"}');
ok(wait_for(sub { arrived($log, qr/^hang /) == 5 }, 90), 'the rows arrive once the receiver answers again');

# ----------------------------------------------------------- pause, resume
ok(wait_for(sub { sql(q{SELECT lag_rows FROM obs.sink_stats}) eq '0' }, 30), 'the sink catches up: no lag');
sql(q{SELECT obs.pause_sink('es')});
usleep(300_000);
sql(q{SELECT obs.info('paused ' || g) FROM generate_series(1, 4) g});
usleep(1_500_000);
is(arrived($log, qr/^paused /), 0, 'a paused sink ships nothing');
is(sql(q{SELECT lag_rows FROM obs.sink_stats}), '4', 'sink_stats shows the lag of a paused sink');
sql(q{SELECT obs.resume_sink('es')});
ok(wait_for(sub { arrived($log, qr/^paused /) == 4 }), 'resumed, it ships what was written meanwhile');

# --------------------------------- max_retries: then a dead letter, and on
my $port2 = PostgreSQL::Test::Cluster::get_free_port();
my $log2 = "$tmp/es2.log";
start_receiver($port2, $log2);
control($port2, '{"mode":"status","status":503,"count":100}');
sql(qq{SELECT obs.setup_logging_to_elk('127.0.0.1', $port2, flush_interval => '100ms', max_retries => 2,
        name => 'capped')});
sql(q{SELECT obs.info('capped ' || g) FROM generate_series(1, 3) g});
my @capped = split /\n/, sql(q{SELECT log_id FROM obs.logs WHERE message LIKE 'capped %' ORDER BY 1});
ok(wait_for(sub { sql(q{SELECT count(*) FROM obs.ship_dead_letters WHERE sink = 'capped'}) eq '1' }, 60),
	'max_retries => 2: the batch becomes a dead letter');
is(sql(q{SELECT status || ' ' || array_to_string(row_ids, ',') || ' ' || (response LIKE 'gave up after 2 retries: HTTP 503%')
         || ' ' || (payload LIKE '%capped 1%') FROM obs.ship_dead_letters WHERE sink = 'capped'}),
	'503 ' . join(',', @capped) . ' true true', 'with the last status, the rows, the error and the request');
is(scalar(grep { ($_->{refused} // 0) == 503 && grep { $_ eq $capped[0] } @{ $_->{ids} } } events($log2)), 3,
	'after the first attempt and 2 retries');
is(sql(q{SELECT failures || ' ' || dead_letters || ' ' || lag_rows FROM obs.sink_stats WHERE sink = 'capped'}), '3 1 0',
	'sink_stats counts the 3 failed attempts and the dead letter; nothing is left to ship');
like(slurp_file($node->logfile), qr/obs sink "capped" gave up on 3 logs rows after 2 retries/, 'the server log says so');
control($port2, '{"mode":"ok"}');
sql(q{SELECT obs.info('capped after')});
ok(wait_for(sub { arrived($log2, qr/^capped after$/) == 1 }), 'shipping goes on with the next rows');
sql(q{SELECT obs.drop_sink('capped')});

# ---------------------------- a hanging request does not delay a fast stop
# a sink timeout of 10 minutes (its maximum) and a receiver that hangs until
# told otherwise: a stop that waited for the request would outlast pg_ctl's
# own wait, and $node->stop dies when pg_ctl fails
sql(q{UPDATE obs.sinks SET timeout_ms = 600000 WHERE name = 'es'});
control($port, '{"mode":"hang","count":1000000}');
sql(q{SELECT obs.info('at stop')});
usleep(1_000_000);
eval { $node->stop('fast'); };
is($@, '', 'pg_ctl stop -m fast is not held up by a request in flight');
is(arrived($log, qr/^at stop$/), 0, 'the receiver still hung when the server stopped');
control($port, '{"mode":"ok"}');
$node->start;
sql(q{UPDATE obs.sinks SET timeout_ms = 1000 WHERE name = 'es'});
ok(wait_for(sub { arrived($log, qr/^at stop$/) >= 1 }, 30), 'after the restart the row is shipped');

# ------------------------------- DROP DATABASE with a running ship worker
sql('CREATE DATABASE shipdb');
sql('CREATE EXTENSION obs', 'shipdb');
sql(qq{SELECT obs.setup_logging_to_elk('127.0.0.1', $port, flush_interval => '100ms')}, 'shipdb');
sql(q{SELECT obs.info('from shipdb')}, 'shipdb');
ok(wait_for(sub { arrived($log, qr/^from shipdb$/) == 1 }), 'a second database ships');
ok(wait_for(sub { sql(q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'obs ship worker'}) eq '2' }),
	'one ship worker per database');
my ($rc, $o, $e) = $node->psql('postgres', 'DROP DATABASE shipdb');
is($rc, 0, 'DROP DATABASE of a database with a ship worker succeeds') or diag($e);
sql(q{SELECT obs.info('still shipping')});
ok(wait_for(sub { arrived($log, qr/^still shipping$/) == 1 }), 'the other database keeps shipping');

$node->stop('fast');
unlike(slurp_file($node->logfile), qr/\Q$secret\E/, 'the password never reaches the server log');
done_testing();
