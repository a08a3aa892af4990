# One row the ship worker cannot parse as it is (a jsonb value nested more
# deeply than the JSON parser's 1000 levels) must not stall the sink.  An
# Elasticsearch sink sends the row as stored; an OTLP sink, which encodes
# parsed rows, gets the too-deep value as its JSON text.  The rows after it
# arrive in both.  A batch the worker cannot read (here: a lock not had in
# its lock_timeout) is counted in obs.sink_stats, so a stalled sink shows.
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
ok(-d "$shipdir/node_modules/\@elastic/elasticsearch",
	'the Elasticsearch client the receiver uses is installed (npm ci in test/ship)')
  or BAIL_OUT('npm ci in test/ship first (test/suites/ship_encode.sh does)');
my $tmp = PostgreSQL::Test::Utils::tempdir;

my $node = PostgreSQL::Test::Cluster->new('shipdeep');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.write_path = 'transactional'
max_worker_processes = 16
});
$node->start;
sub sql { return $node->safe_psql($_[1] // 'postgres', $_[0]); }
sql('CREATE EXTENSION obs');

my @receivers;
END { local $?; $_->kill_kill for grep { $_->pumpable } @receivers; }
sub events
{
	open(my $f, '<', $_[0]) or return ();
	my $js = JSON::PP->new->max_depth(100000);
	my @e = map { $js->decode($_) } grep { /\S/ } <$f>;
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
my $h = IPC::Run::start(['node', "$shipdir/es-receiver.mjs", $port, $log], '>', "$log.out", '2>&1');
for (1 .. 100) { last if -s $log; usleep(50_000); }
push @receivers, $h;

sql(qq{SELECT obs.setup_logging_to_elk('127.0.0.1', $port, flush_interval => '100ms', timeout => '2s', name => 'es')});
# context nested 1500 levels deep: valid jsonb, too deep for the worker's parser
sql(q{SELECT obs.info('deep row', context => (repeat('{"a":', 1500) || '1' || repeat('}', 1500))::jsonb)});
sql(q{SELECT obs.info('after deep ' || g) FROM generate_series(1, 5) g});
ok(wait_for(sub { arrived($log, qr/^after deep /) == 5 }), 'the rows after a too-deep row arrive');
my ($doc) = grep { ($_->{doc}{message} // '') eq 'deep row' } events($log);
ok(defined $doc, 'the too-deep row itself arrives');
is(ref($doc->{doc}{context}), 'HASH', 'Elasticsearch gets the row as stored');

# OTLP: the encoders work on parsed rows
my $oout = "$tmp/otlp.out";
my $oh = IPC::Run::start(['node', "$shipdir/otlp-receiver.mjs", '0'], '>', $oout, '2>', "$tmp/otlp.err");
push @receivers, $oh;
my $oport;
for (1 .. 200)
{
	if (open(my $f, '<', $oout)) { my $l = <$f>; close $f; if (defined $l && $l =~ /^(\d+)\n/) { $oport = $1; last; } }
	usleep(50_000);
}
die 'otlp receiver did not start' unless $oport;
sql(qq{SELECT obs.setup_otlp_export('http://127.0.0.1:$oport', signals => '{logs}', flush_interval => '100ms',
        timeout => '2s', name => 'otlp')});
sql(q{SELECT obs.info('otlp deep', context => (repeat('{"a":', 1500) || '1' || repeat('}', 1500))::jsonb)});
sql(q{SELECT obs.info('otlp after ' || g) FROM generate_series(1, 5) g});
sub otlp_bodies
{
	my $out = `curl -s -m 5 http://127.0.0.1:$oport/_received`;
	my $r = eval { JSON::PP->new->max_depth(100000)->decode($out) } or return ();
	return map { $_->{body} // '' } @{ $r->{logs} // [] };
}
ok(wait_for(sub { (grep { /^otlp after / } otlp_bodies()) == 5 }), 'OTLP: the rows after a too-deep row arrive');
ok((grep { $_ eq 'otlp deep' } otlp_bodies()) == 1, 'OTLP: the too-deep row arrives once');
is(sql(q{SELECT failures FROM obs.sink_stats WHERE sink = 'otlp'}), '0', 'OTLP: no failed attempt');
is(sql(q{SELECT failures FROM obs.sink_stats WHERE sink = 'es'}), '0', 'no failed attempt');

# a batch that cannot be read shows in sink_stats (read here from
# obs.sink_cursors: the view's lag waits for the lock too)
my $bg = $node->background_psql('postgres');
$bg->query_safe('BEGIN');
$bg->query_safe('LOCK TABLE obs.logs IN ACCESS EXCLUSIVE MODE');
ok(wait_for(sub { sql(q{SELECT failures > 0 FROM obs.sink_cursors WHERE sink = 'es'}) eq 't' }, 30),
	'a read that waits past lock_timeout counts as a failure');
like(sql(q{SELECT last_error FROM obs.sink_cursors WHERE sink = 'es'}), qr/^could not read a batch: .*lock timeout/,
	'with its error');
$bg->query_safe('COMMIT');
$bg->quit;
sql(q{SELECT obs.info('after the lock')});
ok(wait_for(sub { arrived($log, qr/^after the lock$/) == 1 }), 'shipping goes on once the lock is gone');

done_testing();
