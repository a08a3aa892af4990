# The rollups of spans and logs under concurrency (issue 10, item 5): two
# sessions write through the buffered path (two flushers), one through the
# transactional path, one updates and deletes through the parent, and one
# ticks the rollups, all at once; meanwhile a checker compares, in one
# REPEATABLE READ snapshot at a time, error_rate_by_service, throughput()
# and log_volume() with a direct aggregate of the tables.  Every comparison
# must be equal, and so must the figures at the end; a tick killed with
# kill -9 leaves the rollups as they were.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('signal_rollups');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.flushers_per_database = 2
obs.buffer_size = '1MB'
obs.flush_interval = '50ms'
timezone = 'UTC'
restart_after_crash = on
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sql(q{CREATE EXTENSION obs});
sql(q{
CREATE FUNCTION differences() RETURNS bigint LANGUAGE sql AS $$
    WITH t AS (SELECT * FROM obs.throughput(NULL, NULL, '1 minute')),
         td AS (SELECT date_bin('1 minute', s.start_time, '2000-01-01 00:00:00+00') AS b, s.service_name,
                       count(*) AS n, count(*) FILTER (WHERE s.status = 'error') AS e
                  FROM obs.spans s GROUP BY 1, 2),
         l AS (SELECT * FROM obs.log_volume(NULL, NULL, '5 minutes')),
         ld AS (SELECT date_bin('5 minutes', x.ts, '2000-01-01 00:00:00+00') AS b, x.level, count(*) AS n
                  FROM obs.logs x GROUP BY 1, 2),
         r AS (SELECT * FROM obs.error_rate_by_service),
         rd AS (SELECT s.service_name, s.service_type, count(*) AS n, count(*) FILTER (WHERE s.status = 'error') AS e,
                       count(*) FILTER (WHERE s.status = 'error')::double precision / count(*) AS rate
                  FROM obs.spans s GROUP BY 1, 2)
    SELECT (SELECT count(*) FROM ((TABLE t EXCEPT ALL TABLE td) UNION ALL (TABLE td EXCEPT ALL TABLE t)) a)
         + (SELECT count(*) FROM ((TABLE l EXCEPT ALL TABLE ld) UNION ALL (TABLE ld EXCEPT ALL TABLE l)) a)
         + (SELECT count(*) FROM ((TABLE r EXCEPT ALL TABLE rd) UNION ALL (TABLE rd EXCEPT ALL TABLE r)) a)
$$;
CREATE FUNCTION write_some(n integer, svc text) RETURNS void LANGUAGE sql AS $$
    SELECT count(obs.record_span(obs.new_trace_id(), obs.new_span_id(), NULL, 'op', 'api', t, t,
                                 CASE WHEN random() < 0.3 THEN 'error' ELSE 'ok' END, NULL, NULL, svc))
         + count(obs.log(CASE WHEN random() < 0.5 THEN 'INFO' ELSE 'ERROR' END, 'm', ts => t))
      FROM (SELECT now() - random() * interval '3 hours' AS t FROM generate_series(1, n)) g
$$;
});
sql(q{SELECT write_some(2000, 'svc-start')});
sql(q{SELECT obs.flush()});
is(sql(q{SELECT count(*) FROM obs.refresh_rollups() WHERE rollup_rows > 0}), '2', 'the first tick builds both rollups');

# the sessions, each from a file (IPC::Run feeds stdin only while pumped)
my %script;
$script{buffered_a} = join('', map { "SELECT write_some(300, 'svc-a');\n" } 1 .. 40);
$script{buffered_b} = join('', map { "SELECT write_some(300, 'svc-b');\n" } 1 .. 40);
$script{transactional} = "SET obs.write_path = 'transactional';\n"
  . join('', map { "BEGIN; SELECT write_some(100, 'svc-t'); SELECT pg_sleep(0.02); COMMIT;\n" } 1 .. 40);
$script{changer} = join('', map {
	"UPDATE obs.spans SET status = 'error' WHERE span_seq % 97 = $_ % 97 AND status = 'ok';\n"
	  . "DELETE FROM obs.logs WHERE log_id % 89 = $_ % 89;\n"
	  . "DELETE FROM obs.spans WHERE span_seq % 101 = $_ % 101;\n"
	  . "SELECT pg_sleep(0.05);\n" } 1 .. 30);
$script{ticker} = join('', map { "SELECT count(*) FROM obs.refresh_rollups();\nSELECT pg_sleep(0.05);\n" } 1 .. 40);
$script{checker} = join('', map {
	"BEGIN ISOLATION LEVEL REPEATABLE READ;\nSELECT 'differences=' || differences();\nCOMMIT;\n" } 1 .. 25);

my (%out, %err, @h);
for my $name (sort keys %script)
{
	my $file = $node->basedir . "/$name.sql";
	PostgreSQL::Test::Utils::append_to_file($file, "\\set ON_ERROR_STOP 1\n" . $script{$name});
	$out{$name} = '';
	$err{$name} = '';
	push @h,
	  IPC::Run::start(
		[ 'psql', '-X', '-q', '-At', '-f', $file, '-d', $node->connstr('postgres') ],
		'>', \$out{$name}, '2>', \$err{$name},
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
}
my @done = map { $_->finish ? 1 : 0 } @h;
is_deeply(\@done, [ (1) x scalar(@h) ], 'every concurrent session ran to its end')
  or diag(join("\n", map { "$_: $err{$_}" } sort keys %err));

my @checks = ($out{checker} =~ /^differences=(\d+)$/mg);
is(scalar(@checks), 25, 'the checker compared 25 snapshots taken during the writes');
is(join(',', grep { $_ != 0 } @checks), '', 'in every snapshot the rolled-up figures equal the direct aggregates');

sql(q{SELECT obs.flush()});
is(sql(q{SELECT differences()}), '0', 'after the writes: equal, with the tail');
sql(q{SELECT count(*) FROM obs.refresh_rollups()});
is(sql(q{SELECT differences()}), '0', 'after a last tick: equal');
ok(sql(q{SELECT count(*) FROM obs.spans WHERE service_name IN ('svc-a', 'svc-b', 'svc-t')}) > 0,
	'the rows of every writer are stored');

# ------------------------------------------------------- kill -9 in a tick
# a tick that holds the state row's lock (a transaction left open) is
# killed with the server; after the restart the rollups are as before it
sql(q{SELECT write_some(500, 'svc-k'); SELECT obs.flush()});
my $before = sql(q{SELECT snap FROM obs.rollup_state WHERE signal = 'spans'});
my $held = $node->background_psql('postgres');
$held->query_safe(q{BEGIN; SELECT count(*) FROM obs.refresh_rollups()});
my $pid = $held->query_safe(q{SELECT pg_backend_pid()});
is(sql(q{SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	WHERE c.relname = 'span_rollup' AND l.pid = } . $pid . q{ AND l.mode = 'RowExclusiveLock'}),
	'1', 'the tick has written the rollups, not yet committed');
kill 'KILL', $pid;
eval { $held->quit; };
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
is(sql(q{SELECT snap FROM obs.rollup_state WHERE signal = 'spans'}), $before,
	'after kill -9 in a tick and the restart: the state is the one before the tick');
is(sql(q{SELECT differences()}), '0', 'after kill -9 in a tick: the figures equal the direct aggregates');
sql(q{SELECT count(*) FROM obs.refresh_rollups()});
is(sql(q{SELECT differences()}), '0', 'the next tick adds what the killed one had read');

# ------------------------------------- a writer holding the rollup state
# a DELETE not yet committed holds the state row: run_maintenance() leaves
# the tick to its next run (lock_timeout) and still makes partitions
sql(q{SELECT count(*) FROM obs.run_maintenance()});
my $snap0 = sql(q{SELECT snap FROM obs.rollup_state WHERE signal = 'spans'});
my $holder = $node->background_psql('postgres');
# literal bounds: the planner prunes the other partitions (the default one
# included), which the DELETE then does not lock
my ($lo, $hi) = split /\|/, sql(q{SELECT now() - interval '10 minutes', now()});
$holder->query_safe(qq{BEGIN; DELETE FROM obs.spans WHERE start_time >= '$lo' AND start_time < '$hi'});
is( sql(q{SELECT string_agg(DISTINCT action, ',') FROM obs.run_maintenance(now() + interval '30 days') WHERE signal = 'spans'}),
	'created', 'a DELETE holding the rollup state: run_maintenance() still makes the partitions');
is(sql(q{SELECT snap FROM obs.rollup_state WHERE signal = 'spans'}), $snap0, 'and leaves the tick to its next run');
$holder->query_safe(q{COMMIT});
$holder->quit;
is(sql(q{SELECT differences()}), '0', 'after the DELETE commits: equal');
sql(q{SELECT count(*) FROM obs.run_maintenance()});
isnt(sql(q{SELECT snap FROM obs.rollup_state WHERE signal = 'spans'}), $snap0, 'the next run ticks');
is(sql(q{SELECT differences()}), '0', 'and the figures stay equal');

# ------------------------------------------------- a transaction left open
# a transaction holding an xid (idle in transaction, or a prepared one
# forgotten) is the xmin of every later tick's snapshot.  The tail and the
# tick read the txid index from the snapshot's running list and xmax, so
# they read the rows not yet rolled up, not every row written since it
sql(q{
CREATE FUNCTION tuples_read() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(pg_stat_get_xact_tuples_returned(c.oid))::bigint
      FROM pg_class c
     WHERE c.oid IN (SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent IN ('obs.spans'::regclass, 'obs.logs'::regclass))
        OR c.oid IN (SELECT x.indexrelid FROM pg_index x JOIN pg_inherits i ON i.inhrelid = x.indrelid
                      WHERE i.inhparent IN ('obs.spans'::regclass, 'obs.logs'::regclass))
$$;
CREATE FUNCTION read_cost(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE b bigint := tuples_read();
BEGIN
    EXECUTE q;
    RETURN tuples_read() - b;
END $$;
});
my $open = $node->background_psql('postgres');
$open->query_safe(q{BEGIN; SELECT pg_current_xact_id()});
for (1 .. 5)
{
	sql(q{SET obs.write_path = 'transactional'; SELECT write_some(400, 'svc-open')});
	sql(q{SELECT count(*) FROM obs.refresh_rollups()});
}
sql(q{ANALYZE obs.spans, obs.logs});
is( sql(q{SELECT pg_snapshot_xmin(r.snap) < (SELECT min(s.txid) FROM obs.spans s WHERE s.service_name = 'svc-open')
	FROM obs.rollup_state r WHERE r.signal = 'spans'}),
	't', 'an open transaction holds the xmin of the rollups\' snapshot back');
my $reads = sql(q{SELECT read_cost('SELECT count(*) FROM obs.throughput()') + read_cost('SELECT count(*) FROM obs.log_volume()')
	+ read_cost('SELECT count(*) FROM obs.error_rate_by_service')});
ok($reads < 400, "with it open, the figures read the tail, not the 4000 rows written since ($reads rows read)");
sql(q{SET obs.write_path = 'transactional'; SELECT write_some(50, 'svc-open')});
$reads = sql(q{SELECT read_cost('SELECT count(*) FROM obs.refresh_rollups()')});
ok($reads < 800, "and a tick reads the 100 rows written since the last, not the 4100 since it ($reads rows read)");
is(sql(q{SELECT differences()}), '0', 'the figures equal the direct aggregates with it open');
$open->query_safe(q{COMMIT});
$open->quit;
sql(q{SELECT count(*) FROM obs.refresh_rollups()});
is(sql(q{SELECT differences()}), '0', 'and after it ends and a tick');

# ------------------------------------------------ writers share the state
# two DELETEs of different services at once: the second does not wait for
# the first (both hold the state row FOR SHARE), which lock_timeout would show
sql(q{SET obs.write_path = 'transactional'; SELECT write_some(200, 'svc-x'), write_some(200, 'svc-y')});
sql(q{SELECT count(*) FROM obs.refresh_rollups()});
my $first = $node->background_psql('postgres');
$first->query_safe(q{BEGIN; DELETE FROM obs.spans WHERE service_name = 'svc-x'});
my ($rc, $out, $err) = $node->psql('postgres',
	q{SET lock_timeout = '2s'; DELETE FROM obs.spans WHERE service_name = 'svc-y'; SELECT 'deleted'});
is($out, 'deleted', 'a second DELETE does not wait for the rollup state the first one holds') or diag($err);
$first->query_safe(q{COMMIT});
$first->quit;
is(sql(q{SELECT differences()}), '0', 'both DELETEs are taken out of the rollups');

# ------------------------------------------- a rollup table locked by another
# retention is due while someone holds a rollup table: the drop waits for a
# later run, the partitions to make are made
sql(q{SELECT obs.set_retention('spans', '1 day')});
my $day = sql(q{SELECT to_char(now() - interval '3 days', 'YYYY-MM-DD')});
sql(qq{SELECT obs.record_span(obs.new_trace_id(), obs.new_span_id(), NULL, 'old', 'api', '$day 12:00+00', '$day 12:00+00')});
sql(q{SELECT count(*) FROM obs.run_maintenance(now() - interval '2 days')});
my $locker = $node->background_psql('postgres');
$locker->query_safe(q{BEGIN; LOCK TABLE obs.span_rollup IN ACCESS EXCLUSIVE MODE});
is( sql(q{SELECT string_agg(DISTINCT action, ',' ORDER BY action) FROM obs.run_maintenance(now() + interval '40 days') WHERE signal = 'spans'}),
	'created,skipped', 'a locked rollup table: the drop of the old partition is skipped, the new partitions are made');
$locker->query_safe(q{COMMIT});
$locker->quit;
is( sql(q{SELECT string_agg(DISTINCT action, ',' ORDER BY action) FROM obs.run_maintenance(now() + interval '40 days') WHERE signal = 'spans'}),
	'dropped', 'the next run drops it');
is(sql(q{SELECT differences()}), '0', 'and the figures equal the direct aggregates');

# ------------------------------------------- writers during the first tick
# the rollups are not built yet: a DELETE not yet committed (READ
# COMMITTED) or a REPEATABLE READ writer whose snapshot is older than the
# first tick must not be missed by it.  A writer makes the state row when
# there is none, so the first tick waits for the DELETE (here: gives up
# after lock_timeout), and the REPEATABLE READ DELETE fails (40001)
# instead of leaving its rows in the rollups
$node->safe_psql('postgres', q{CREATE DATABASE first_tick});
$node->safe_psql('first_tick', q{CREATE EXTENSION obs});
my $differences = sql(q{SELECT pg_get_functiondef('differences()'::regprocedure)});
my $write_some = sql(q{SELECT pg_get_functiondef('write_some(integer, text)'::regprocedure)});
$node->safe_psql('first_tick', "$differences;\n$write_some;\nSET obs.write_path = 'transactional';\nSELECT write_some(300, 'svc-f');");
my $rc_deleter = $node->background_psql('first_tick');
$rc_deleter->query_safe(q{BEGIN; DELETE FROM obs.logs WHERE level = 'ERROR'});
my ($rc_tick) = $node->psql('first_tick', q{SET lock_timeout = '500ms'; SELECT obs._rollup_tick('logs')});
isnt($rc_tick, 0, 'the first tick of logs waits for a DELETE not yet committed');
$rc_deleter->query_safe(q{COMMIT});
$rc_deleter->quit;
my $rr_deleter = $node->background_psql('first_tick');
$rr_deleter->query_safe(q{BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM obs.spans});
$node->safe_psql('first_tick', q{SELECT obs._rollup_tick('logs'), obs._rollup_tick('spans')});
# psql stops at the serialization error (ON_ERROR_STOP): the DELETE is rolled back
eval { $rr_deleter->query(q{DELETE FROM obs.spans WHERE status = 'error'}); $rr_deleter->query(q{COMMIT}); };
eval { $rr_deleter->quit; };
is($node->safe_psql('first_tick', q{SELECT differences()}), '0',
	'writers around the first tick: the figures equal the direct aggregates');
$node->safe_psql('first_tick', q{SELECT count(*) FROM obs.refresh_rollups()});
is($node->safe_psql('first_tick', q{SELECT differences()}), '0', 'and after the next tick');

# ------------------------------------------ UPDATEs in crossed directions
# one UPDATE moves spans of service a to b, another of b to a: each takes
# its old rows out and puts its new ones in, and must not deadlock with the
# other on the rollup rows.  A third session holds one rollup row (of b) so
# that the first UPDATE stops half-way while the second runs
sql(q{SET obs.write_path = 'transactional';
	SELECT obs.record_span(obs.new_trace_id(), obs.new_span_id(), NULL, 'op', 'API', '2026-06-01 01:00:10', '2026-06-01 01:00:11', 'ok', NULL, NULL, 'svc-dl-a');
	SELECT obs.record_span(obs.new_trace_id(), obs.new_span_id(), NULL, 'op', 'API', '2026-06-01 01:00:20', '2026-06-01 01:00:21', 'ok', NULL, NULL, 'svc-dl-b');
	SELECT obs.record_span(obs.new_trace_id(), obs.new_span_id(), NULL, 'op', 'API', '2026-06-01 02:00:10', '2026-06-01 02:00:11', 'ok', NULL, NULL, 'svc-dl-b')});
sql(q{SELECT count(*) FROM obs.refresh_rollups()});
my $gate = $node->background_psql('postgres');
$gate->query_safe(q{BEGIN; UPDATE obs.span_rollup SET spans = spans
	WHERE NOT all_time AND service_name = 'svc-dl-b' AND bucket = '2026-06-01 01:00+00'});
my %moves = (
	a_to_b => q{UPDATE obs.spans SET service_name = 'svc-dl-b' WHERE service_name = 'svc-dl-a'},
	b_to_a => q{UPDATE obs.spans SET service_name = 'svc-dl-a' WHERE service_name = 'svc-dl-b' AND start_time >= '2026-06-01 02:00+00'});
my (%mout, %merr, %mh);
for my $name (sort keys %moves)
{
	my $file = $node->basedir . "/$name.sql";
	PostgreSQL::Test::Utils::append_to_file($file,
		"\\set ON_ERROR_STOP 1\nSET deadlock_timeout = '100ms';\n$moves{$name};\nSELECT 'moved';\n");
	($mout{$name}, $merr{$name}) = ('', '');
	$mh{$name} = IPC::Run::start(
		[ 'psql', '-X', '-q', '-At', '-f', $file, '-d', $node->connstr('postgres') ],
		'>', \$mout{$name}, '2>', \$merr{$name},
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	# the first one waits for the held row before the second starts
	$node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE obs.spans%'})
	  or die 'the UPDATE did not wait' if $name eq 'a_to_b';
}
sleep(1);    # the second one now waits for the first (deadlock_timeout: 100 ms)
$gate->query_safe(q{COMMIT});
$gate->quit;
$_->finish for values %mh;
is(join(',', map { $mout{$_} =~ /moved/ ? "$_ moved" : "$_: $merr{$_}" } sort keys %moves), 'a_to_b moved,b_to_a moved',
	'two UPDATEs moving spans between two services in crossed directions do not deadlock');
is(sql(q{SELECT differences()}), '0', 'and the figures equal the direct aggregates');

$node->stop;
done_testing();
