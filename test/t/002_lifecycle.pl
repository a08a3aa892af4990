# Lifecycle of the buffered write path: procedures that COMMIT, parallel
# workers, databases without obs, a terminated flusher under load, idle
# flushers leaving so that a database can be dropped and its slot reused,
# and traced calls facing a full buffer.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('lifecycle');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.flush_interval = '100ms'
obs.max_databases = 2
max_worker_processes = 16
});
$node->start;

sub sql { return $node->safe_psql($_[1] // 'postgres', $_[0]); }

sub counters_ok
{
	return sql(q{SELECT coalesce(bool_and(accepted = stored + dropped_full + dropped_other
	                                              + dead_lettered + pending), true)
	                  AND coalesce(sum(pending), 0) = 0
	             FROM obs.ingest_stats});
}

sql('CREATE EXTENSION obs');

# ------------------------------------------- a traced procedure that COMMITs
sql(q{
CREATE PROCEDURE public.proc_commit() LANGUAGE plpgsql AS $$
BEGIN
  PERFORM obs.info('proc before commit');
  COMMIT;
  PERFORM obs.info('proc after commit');
END $$;
CREATE FUNCTION public.par_fn(x int) RETURNS int LANGUAGE plpgsql PARALLEL SAFE AS $$
BEGIN RETURN x + 1; END $$;
CREATE FUNCTION public.fail_fn() RETURNS int LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'fail_fn failed' USING ERRCODE = '22012'; END $$;
CREATE FUNCTION public.ok_fn() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
ALTER DATABASE postgres SET obs.instrument_functions = 'proc_commit, par_fn, fail_fn, ok_fn';
});
is(sql(q{CALL proc_commit(); SELECT obs.current_span_id() IS NULL}), 't',
	'a traced procedure that COMMITs leaves no open span');
is( sql(q{SELECT obs.flush();
        SELECT string_agg(status::text, ',') FROM obs.spans WHERE operation = 'proc_commit'}),
	"t\nok", 'its span is recorded with status ok');
is(sql(q{SELECT count(*) FROM obs.logs WHERE message LIKE 'proc % commit'}), '2',
	'records written around the COMMIT are stored');

# ----------------------------------------------------------- parallel workers
my $plan = sql(q{SET force_parallel_mode = on; SET parallel_setup_cost = 0;
    EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT par_fn(1)});
like($plan, qr/Workers Launched: 1/, 'the traced function ran in a parallel worker');
is(sql(q{SELECT obs.flush(); SELECT count(*) FROM obs.spans WHERE operation = 'par_fn'}), "t\n0",
	'calls in parallel workers are not traced (no orphan root spans)');

# ------------------------------------------------------------- hot standby
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->start;
$node->wait_for_catchup($standby);
is($standby->safe_psql('postgres', q{SELECT ok_fn(); SELECT count(*) FROM obs.ingest_stats}), "1\n0",
	'on a standby a traced function runs untraced and claims no buffer');
my ($sret, $sout, $serr) = $standby->psql('postgres', q{SELECT obs.info('on standby')});
like($serr, qr/read-only transaction/, 'on a standby a buffered write fails as an INSERT would');
$standby->stop('fast');

# ---------------------------------------------------- a database without obs
sql('CREATE DATABASE noobs');
sql(q{CREATE FUNCTION public.f_noobs() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
    ALTER DATABASE noobs SET obs.instrument_functions = 'f_noobs';}, 'noobs');
is(sql('SELECT f_noobs()', 'noobs'), '1', 'a traced function in a database without obs runs');
is( sql(q{SELECT count(*) FROM obs.ingest_stats WHERE database = 'noobs'})
	  . sql(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'noobs' AND backend_type = 'obs flusher'}),
	'00', 'it claims no buffer and starts no flusher');
my ($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE noobs');
is($ret, 0, 'that database drops at once');

# --------------------- a flusher kept busy by a trickle of records stays
# Records every 200 ms for longer than the 10 s an idle flusher waits:
# every pass stores some and then finds the ring empty.  Only a flusher
# that stored nothing for 10 s may leave; this one must not.
sql(q{SELECT obs.info('trickle start'); SELECT obs.flush()});
my $trickle_pid = sql(q{SELECT pid FROM pg_stat_activity
    WHERE backend_type = 'obs flusher' AND datname = 'postgres'});
like($trickle_pid, qr/^\d+$/, 'one flusher before the trickle');
my $trickle = $node->basedir . '/trickle.sql';
PostgreSQL::Test::Utils::append_to_file($trickle, q{SELECT obs.info('trickle');
});
my ($tout, $terr) = ('', '');
IPC::Run::run(
	[ 'pgbench', '-n', '-c', '1', '-R', '5', '-T', '13', '-f', $trickle,
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$tout, '2>', \$terr) or die "pgbench failed: $terr";
is( sql(q{SELECT obs.flush(); SELECT string_agg(pid::text, ',') FROM pg_stat_activity
    WHERE backend_type = 'obs flusher' AND datname = 'postgres'}),
	"t\n$trickle_pid", 'the flusher that stored records all along did not leave as idle');

# -------------------------------------- SIGTERM while writers keep it busy
my $script = $node->basedir . '/busy.sql';
PostgreSQL::Test::Utils::append_to_file($script,
	q{SELECT obs.info('busy', jsonb_build_object('n', random()));
});
my ($stdout, $stderr) = ('', '');
my $h = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '2', '-j', '2', '-T', '8', '-f', $script,
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$stdout, '2>', \$stderr);
$node->poll_query_until('postgres', q{SELECT count(*) > 2000 FROM obs.logs WHERE message = 'busy'})
  or die 'no busy records stored';
my $fpid = sql(q{SELECT worker_pid FROM obs.ingest_stats WHERE signal = 'log'});
my $t0 = time;
sql("SELECT pg_terminate_backend($fpid)");
my $gone = 0;
# the loop only bounds the wait; a flusher that ignored SIGTERM would still be there
while (time - $t0 < 60)
{
	if (sql("SELECT count(*) FROM pg_stat_activity WHERE pid = $fpid") eq '0') { $gone = 1; last; }
	usleep(100_000);
}
ok($gone, 'a busy flusher obeys SIGTERM');
$h->finish;
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'obs flusher' AND datname = 'postgres'}),
	'the launcher starts a new flusher');
is(sql(q{SELECT obs.flush('30s')}), 't', 'obs.flush() completes after the restart');
is(counters_ok(), 't', 'counters add up after the flusher was terminated');

# ---------------------- an idle flusher leaves: DROP DATABASE, slot reuse
sql('CREATE DATABASE db2');
sql(q{CREATE EXTENSION obs; SELECT obs.info('in db2') IS NOT NULL; SELECT obs.flush()}, 'db2');
is(sql(q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'db2' AND backend_type = 'obs flusher'}),
	'1', 'db2 has a flusher');
# the flusher leaves after 10 s with an empty ring; DROP waits up to 5 s for it
$t0 = time;
my $dropped = 0;
while (time - $t0 < 60)
{
	($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE db2');
	if ($ret == 0) { $dropped = 1; last; }
	usleep(500_000);
}
ok($dropped, sprintf('DROP DATABASE of a database with a flusher succeeds (%.0fs)', time - $t0));
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM obs.ingest_stats WHERE database IS DISTINCT FROM 'postgres'}),
	'the slot of the dropped database is freed');
sql('CREATE DATABASE db3');
is( sql(q{CREATE EXTENSION obs; SELECT obs.info('in db3') IS NOT NULL; SELECT obs.flush();
        SELECT stored FROM obs.ingest_stats WHERE database = 'db3' AND signal = 'log'}, 'db3'),
	"t\nt\n1", 'a new database claims the freed slot (obs.max_databases = 2)');
is(sql(q{SELECT count(*) FROM obs.logs WHERE message = 'in db3'}, 'db3'), '1',
	'and its records are stored');

# ------------------------------------------------ corrupt records are counted
sql(q{SET obs.debug_corrupt_records = on; SELECT obs.info('corrupt') IS NOT NULL;
    RESET obs.debug_corrupt_records; SELECT obs.info('after corrupt') IS NOT NULL;
    SELECT obs.record_metric('after.corrupt', 1) IS NOT NULL});
is(sql(q{SELECT obs.flush('30s'); SELECT sum(dropped_other) >= 1 FROM obs.ingest_stats}), "t\nt",
	'records discarded as unreadable are counted as dropped_other');
is(counters_ok(), 't', 'counters add up after unreadable records');

# ------------------- a record failing with a "transient" error is not retried forever
sql(q{CREATE FUNCTION public.poison(m text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF m = 'poison 53' THEN RAISE EXCEPTION 'poisoned' USING ERRCODE = '53000'; END IF;
  RETURN m;
END $$;
CREATE INDEX logs_poison ON obs.logs (public.poison(message));
SELECT obs.info(m) FROM unnest(ARRAY['pgood 1', 'poison 53', 'pgood 2']) m;});
is(sql(q{SELECT obs.flush('60s'); SELECT count(*) FROM obs.logs WHERE message LIKE 'pgood %'}), "t\n2",
	'after capped retries the good records of the batch are stored');
is(sql(q{SELECT string_agg(record->>'message' || '|' || sqlstate, ',') FROM obs.dead_letters}),
	'poison 53|53000', 'the poison record is dead-lettered');
is(sql(q{SELECT retries >= 5 FROM obs.ingest_stats WHERE signal = 'log' AND database = 'postgres'}), 't',
	'the batch was retried first');
sql(q{DROP INDEX obs.logs_poison});
is(counters_ok(), 't', 'counters add up after the poison record');

# ------------------------------------------- traced calls and a full buffer
$node->append_conf('postgresql.conf', "obs.buffer_size = '16kB'\n");
$node->restart;
my $locker = $node->background_psql('postgres');
$locker->query_safe(q{BEGIN});
$locker->query_safe(q{LOCK TABLE obs.logs IN ACCESS EXCLUSIVE MODE});
sql(q{SET obs.buffer_full_action = 'drop';
    SELECT count(*) FROM (SELECT obs.info(repeat('x', 200)) FROM generate_series(1, 200)) s;
    SELECT count(*) FROM (SELECT obs.info('y') FROM generate_series(1, 200)) s;
    SELECT count(*) FROM (SELECT obs.info('') FROM generate_series(1, 200)) s});
# buffer_full_timeout is 10 minutes (its maximum), longer than the psql
# timeout: an error span that waited for room would run into the psql
# timeout instead of returning the error
my $timed_out = 0;
($ret, $out, $err) = $node->psql('postgres', q{SET obs.buffer_full_action = 'wait';
    SET obs.buffer_full_timeout = '10min'; SELECT fail_fn()},
	timeout => $PostgreSQL::Test::Utils::timeout_default, timed_out => \$timed_out);
ok(!$timed_out, 'its error span does not wait for the full buffer');
like($err, qr/fail_fn failed/, 'a traced call that raises on a full buffer raises');
is(sql(q{SELECT dropped_full > 0 FROM obs.ingest_stats WHERE signal = 'span'}), 't',
	'the dropped error span is counted');
# buffer_full_timeout is 10 minutes: only statement_timeout can end this wait
$timed_out = 0;
($ret, $out, $err) = $node->psql('postgres', q{SET obs.buffer_full_action = 'wait';
    SET obs.buffer_full_timeout = '10min'; SET statement_timeout = '500ms'; SELECT ok_fn();
    SELECT obs.current_span_id() IS NULL}, on_error_stop => 0,
	timeout => $PostgreSQL::Test::Utils::timeout_default, timed_out => \$timed_out);
ok(!$timed_out, 'the wait for room ends before the psql timeout');
unlike($err, qr/outside the valid range/, 'buffer_full_timeout is 10 minutes there');
like($err, qr/canceling statement due to statement timeout/,
	'a traced call that returned waits for room interruptibly: statement_timeout cancels it');
is($out, 't', 'the cancelled call leaves no span open');
$locker->query_safe(q{COMMIT});
$locker->quit;
is(sql(q{SELECT obs.flush('30s')}), 't', 'the buffer drains after the blockage');
is(counters_ok(), 't', 'counters add up after the full buffer');

$node->stop('fast');
done_testing();
