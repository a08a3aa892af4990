# Two transactions that record runs of the same tasks in opposite orders:
# with the health rollups off (the default) both commit, as each write
# touches its own run's row only; with the rollups on they update the same
# rollup rows, and PostgreSQL cancels one of them (deadlock, 40P01) while
# the other commits: the behaviour README "Pipeline health" documents.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('runs_concurrency');
$node->init;
$node->append_conf('postgresql.conf', qq{
obs.write_path = 'transactional'
deadlock_timeout = '100ms'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION obs');

# session $who records $first then $second in one transaction, with a pause
# between, so that the two sessions each hold their first run's rows
sub crossed
{
	my ($tag) = @_;
	my @h;
	my %out;
	for my $s ([ 'a', 'extract', 'load' ], [ 'b', 'load', 'extract' ])
	{
		my ($who, $first, $second) = @$s;
		my $sql = qq{\\set ON_ERROR_STOP 1
BEGIN;
SELECT obs.record_task_execution('$first', 'fr-$tag-$who', now() - interval '1 minute', now(), 'Completed', task_run_id => '$tag-$who-1');
SELECT pg_sleep(1);
SELECT obs.record_task_execution('$second', 'fr-$tag-$who', now() - interval '1 minute', now(), 'Completed', task_run_id => '$tag-$who-2');
COMMIT;
};
		# from a file, not stdin: IPC::Run feeds stdin only while it is
		# pumped, which would run the two sessions one after the other
		my $file = $node->basedir . "/crossed_${tag}_$who.sql";
		PostgreSQL::Test::Utils::append_to_file($file, $sql);
		$out{$who} = '';
		push @h,
		  IPC::Run::start(
			[ 'psql', '-X', '-q', '-f', $file, '-d', $node->connstr('postgres') ],
			'>', \my $stdout, '2>', \$out{$who},
			IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	}
	my @ok = map { $_->finish ? 1 : 0 } @h;
	return (\@ok, \%out);
}

my ($ok, $err) = crossed('off');
is_deeply($ok, [ 1, 1 ], 'rollups off: both crossed transactions commit')
  or diag("a: $err->{a}\nb: $err->{b}");
is($node->safe_psql('postgres', q{SELECT count(*) FROM obs.task_runs WHERE task_run_id LIKE 'off-%'}),
	'4', 'rollups off: the four runs are stored');

is($node->safe_psql('postgres', 'SELECT obs.enable_rollups()'), 't', 'rollups turned on');
($ok, $err) = crossed('on');
is($ok->[0] + $ok->[1], 1, 'rollups on: one crossed transaction commits, the other is cancelled');
like($err->{a} . $err->{b}, qr/deadlock detected/, 'rollups on: the cancelled one gets "deadlock detected"');
is($node->safe_psql('postgres', q{SELECT count(*) FROM obs.task_runs WHERE task_run_id LIKE 'on-%'}),
	'2', 'rollups on: the committed transaction\'s two runs are stored');
is( $node->safe_psql(
		'postgres', q{SELECT sum(runs) FROM obs.task_run_rollup WHERE all_time}),
	$node->safe_psql('postgres', q{SELECT count(*) FROM obs.task_runs}),
	'rollups on: the rollups count exactly the runs stored');

$node->stop;
done_testing();
