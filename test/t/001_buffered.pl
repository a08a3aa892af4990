# Buffered ingest with obs in shared_preload_libraries: survival of
# ROLLBACK and ERROR, instrumentation, flush ordering, clean stop,
# concurrent writers, dead letters, full buffers and crashes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('buffered');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.flush_interval = '100ms'
max_worker_processes = 16
restart_after_crash = on
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

# the log signal's counters add up and nothing is pending
sub counters_ok
{
	return sql(q{SELECT coalesce(bool_and(accepted = stored + dropped_full + dropped_other
	                                              + dead_lettered + pending), true)
	                  AND coalesce(sum(pending), 0) = 0
	             FROM obs.ingest_stats});
}

sub set_conf
{
	my ($line, $restart) = @_;
	$node->append_conf('postgresql.conf', "$line\n");
	if ($restart) { $node->restart; }
	else { $node->reload; usleep(300_000); }
}

sql('CREATE EXTENSION obs');
is(sql('SHOW obs.write_path'), 'buffered', 'buffered is the default when preloaded');
sql(q{SELECT obs.info('first')});
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'obs flusher'}),
	'the first buffered write starts a flusher for the database');

# ---------------------------------------------------------------- survival
sql(q{
BEGIN;
SELECT obs.info('rb log');
SELECT obs.record_metric('rb.metric', 1);
SELECT obs.finish_span(obs.start_span('rb span'));
SELECT obs.record_flow_execution('rbflow', 'rb-run', now(), NULL, 'Running');
SELECT obs.record_task_execution('rbtask', 'rb-run', now());
ROLLBACK;
});
my $count_sql = q{SELECT (SELECT count(*) FROM obs.logs WHERE message = '%1$s log')
	|| ',' || (SELECT count(*) FROM obs.metrics WHERE name = '%1$s.metric')
	|| ',' || (SELECT count(*) FROM obs.spans WHERE operation = '%1$s span')
	|| ',' || (SELECT count(*) FROM obs.flow_runs WHERE flow_run_id = '%1$s-run')
	|| ',' || (SELECT count(*) FROM obs.task_runs WHERE flow_run_id = '%1$s-run')};
is(sql('SELECT obs.flush(); ' . sprintf($count_sql, 'rb')), "t\n1,1,1,1,1",
	'log, metric, span, flow run and task run survive ROLLBACK');

my ($ret, $out, $err) = $node->psql('postgres', q{
DO $$ BEGIN
  PERFORM obs.error('err log');
  PERFORM obs.record_metric('err.metric', 1);
  PERFORM obs.finish_span(obs.start_span('err span'), 'error', 'boom');
  PERFORM obs.record_flow_execution('errflow', 'err-run', now(), NULL, 'Failed');
  PERFORM obs.record_task_execution('errtask', 'err-run', now(), NULL, 'Failed');
  RAISE EXCEPTION 'pipeline broke';
END $$;});
isnt($ret, 0, 'the failing block raised');
is(sql('SELECT obs.flush(); ' . sprintf($count_sql, 'err')), "t\n1,1,1,1,1",
	'every signal written before an ERROR survives it');

sql(q{BEGIN; SET LOCAL obs.write_path = 'transactional'; SELECT obs.info('tx log'); ROLLBACK;});
is(sql(q{SELECT obs.flush(); SELECT count(*) FROM obs.logs WHERE message = 'tx log'}), "t\n0",
	'SET LOCAL obs.write_path = transactional ties a record to its transaction');

# Running then Completed keeps its order through the ring
sql(q{SELECT obs.record_flow_execution('ordflow', 'ord-run', now(), NULL, 'Running');
    SELECT obs.record_flow_execution('ordflow', 'ord-run', now(), now(), 'Completed');});
is(sql(q{SELECT obs.flush(); SELECT status FROM obs.flow_runs WHERE flow_run_id = 'ord-run'}),
	"t\nCompleted", 'run updates are applied in the order they were made');

# --------------------------------------------------------- instrumentation
sql(q{
CREATE FUNCTION public.inner_fn(x int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  IF x < 0 THEN RAISE EXCEPTION 'negative: %', x USING ERRCODE = '22003'; END IF;
  RETURN x * 2;
END $$;
CREATE FUNCTION public.outer_fn(x int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN RETURN inner_fn(x) + 1; END $$;
CREATE FUNCTION public.untraced_fn(x int) RETURNS int LANGUAGE sql AS $$ SELECT x $$;
CREATE FUNCTION public.traced_sql(x int) RETURNS int LANGUAGE sql AS $$ SELECT x + 1 $$;
ALTER DATABASE postgres SET obs.instrument_functions = 'outer_fn, public.inner_fn(integer), traced_sql(int)';
ALTER DATABASE postgres SET obs.instrument_metric_prefix = 'fn';
});
is(sql('SELECT outer_fn(3)'), '7', 'a traced function returns its result');
($ret, $out, $err) = $node->psql('postgres', 'BEGIN; SELECT outer_fn(-1); COMMIT;');
like($err, qr/negative: -1/, 'a traced function raises as before');
sql('SELECT untraced_fn(1), traced_sql(g) FROM generate_series(1, 3) g');
is( sql(q{SELECT obs.flush();
        SELECT string_agg(s.operation || ':' || s.status || ':' || coalesce(s.error, '')
                          || ':' || coalesce(p.operation, '-'), ' | ' ORDER BY s.span_seq)
          FROM obs.spans s LEFT JOIN obs.spans p ON p.span_id = s.parent_span_id
         WHERE s.operation IN ('inner_fn', 'outer_fn')}),
	"t\ninner_fn:ok::outer_fn | outer_fn:ok::- | "
	  . "inner_fn:error:22003: negative: -1:outer_fn | outer_fn:error:22003: negative: -1:-",
	'nested traced calls build a tree; a raising call leaves error spans with the SQLSTATE');
is( sql(q{SELECT string_agg(name || ':' || (tags->>'status') || ':' || n, ',' ORDER BY name, tags->>'status')
          FROM (SELECT name, tags, count(*) AS n FROM obs.metrics WHERE name LIKE 'fn.%' GROUP BY 1, 2) m}),
	'fn.inner_fn:error:1,fn.inner_fn:ok:1,fn.outer_fn:error:1,fn.outer_fn:ok:1,fn.traced_sql:ok:3',
	'each traced call records <prefix>.<function> in ms');
is(sql(q{SELECT count(*) FROM obs.spans WHERE operation = 'untraced_fn'}), '0',
	'functions not named are not traced');

# obs.instrument_metric_interval: per session, function and status, the
# mean duration and the number of calls, once per interval and at the end
# of each transaction (committed or not)
sql(q{ALTER DATABASE postgres SET obs.instrument_metric_prefix = 'agg';
    ALTER DATABASE postgres SET obs.instrument_metric_interval = '1h';});
sql('SELECT traced_sql(g) FROM generate_series(1, 3) g');
sql('SELECT traced_sql(g) FROM generate_series(1, 2) g');
$node->psql('postgres', 'SELECT outer_fn(g) FROM generate_series(1, 2) g; SELECT outer_fn(-1)');
is( sql(q{SELECT obs.flush();
        SELECT string_agg(name || ':' || kind || ':' || (tags->>'status') || ':' || n || ':' || total,
                          ',' ORDER BY name, tags->>'status')
          FROM (SELECT name, kind, tags, count(*) AS n, sum(value) AS total FROM obs.metrics
                 WHERE name LIKE 'agg.%.calls' GROUP BY 1, 2, 3) m}),
	"t\nagg.inner_fn.calls:counter:error:1:1,agg.inner_fn.calls:counter:ok:1:2,"
	  . "agg.outer_fn.calls:counter:error:1:1,agg.outer_fn.calls:counter:ok:1:2,"
	  . "agg.traced_sql.calls:counter:ok:2:5",
	'with an interval, each transaction records the number of calls per function and status');
is( sql(q{SELECT string_agg(name || ':' || kind || ':' || (tags->>'status') || ':' || n || ':' || positive,
                          ',' ORDER BY name, tags->>'status')
          FROM (SELECT name, kind, tags, count(*) AS n, bool_and(value > 0) AS positive FROM obs.metrics
                 WHERE name LIKE 'agg.%' AND name NOT LIKE '%.calls' GROUP BY 1, 2, 3) m}),
	'agg.inner_fn:gauge:error:1:true,agg.inner_fn:gauge:ok:1:true,'
	  . 'agg.outer_fn:gauge:error:1:true,agg.outer_fn:gauge:ok:1:true,agg.traced_sql:gauge:ok:2:true',
	'and their mean duration in ms, one point each');
is( sql(q{SET obs.instrument_metric_prefix = 'agg2';
        SET obs.instrument_metric_interval = '1ms';
        SELECT count(traced_sql(g)) FROM generate_series(1, 20000) g;
        SELECT obs.flush();
        SELECT count(*) > 1 AND sum(value) = 20000 FROM obs.metrics WHERE name = 'agg2.traced_sql.calls'}),
	"20000\nt\nt", 'a long statement records a point per interval, and every call is counted');
# an aggregate keeps the prefix of its calls: a SET LOCAL of the prefix in
# the transaction neither renames the calls made before it nor, when
# empty, records them as ".<function>"
is( sql(q{SET obs.instrument_metric_interval = '1h';
        BEGIN;
        SET LOCAL obs.instrument_metric_prefix = 'agg3';
        SELECT count(traced_sql(g)) FROM generate_series(1, 2) g;
        SET LOCAL obs.instrument_metric_prefix = 'agg4';
        SELECT count(traced_sql(g)) FROM generate_series(1, 3) g;
        SET LOCAL obs.instrument_metric_prefix = '';
        SELECT count(traced_sql(g)) FROM generate_series(1, 4) g;
        COMMIT;
        SELECT obs.flush();
        SELECT string_agg(name || ':' || total, ',' ORDER BY name)
          FROM (SELECT name, sum(value) AS total FROM obs.metrics
                 WHERE name ~ '^(agg3|agg4|)[.]traced_sql[.]calls$' GROUP BY 1) m}),
	"2\n3\n4\nt\nagg3.traced_sql.calls:2,agg4.traced_sql.calls:3",
	'each aggregate is recorded under the prefix its calls were made with');
sql(q{ALTER DATABASE postgres RESET obs.instrument_functions;
    ALTER DATABASE postgres RESET obs.instrument_metric_prefix;
    ALTER DATABASE postgres RESET obs.instrument_metric_interval;});

# ------------------------------------------------------------ flush order
set_conf("obs.flush_interval = '60s'", 0);
my $a = $node->background_psql('postgres');
$a->query_safe(q{BEGIN});
$a->query_safe(q{SELECT obs.info('from session A')});
is(sql(q{SELECT count(*) FROM obs.logs WHERE message = 'from session A'}), '0',
	'with a long flush interval the record is still buffered');
is(sql(q{SELECT obs.flush(); SELECT count(*) FROM obs.logs WHERE message = 'from session A'}),
	"t\n1", 'obs.flush() in session B stores what session A buffered before it');
# a timeout too long for a timestamp is clamped, not an overflowed deadline
$a->query_safe(q{SELECT obs.info('from session A, again')});
is( sql(q{SELECT obs.flush('1000000 years');
        SELECT count(*) FROM obs.logs WHERE message = 'from session A, again'}),
	"t\n1", 'obs.flush(\'1000000 years\') waits for the records instead of timing out at once');
$a->query_safe(q{ROLLBACK});
$a->quit;

# --------------------------------------------------------------- clean stop
sql(q{SELECT count(obs.info('stop ' || g, jsonb_build_object('n', g))) FROM generate_series(1, 5000) g});
$node->stop('fast');
$node->start;
is(sql(q{SELECT count(*) FROM obs.logs WHERE message LIKE 'stop %'}), '5000',
	'pg_ctl stop -m fast stores everything buffered');
set_conf("obs.flush_interval = '100ms'", 0);

# ------------------------------------------------------- concurrent writers
$node->pgbench(
	'-n -c 4 -j 4 -t 500', 0,
	[qr{processed: 2000/2000}], [qr{^$}],
	'concurrent writers',
	{
		'001_conc' => q{SELECT obs.info('conc', jsonb_build_object('client', :client_id));
SELECT obs.record_metric('conc.metric', 1, NULL, 'counter');}
	});
is( sql(q{SELECT obs.flush();
        SELECT string_agg(n::text, ',') FROM (SELECT count(*) AS n FROM obs.logs WHERE message = 'conc'
               GROUP BY context->>'client' ORDER BY 1) c}),
	"t\n500,500,500,500", 'four concurrent writers: every record stored exactly once');
is(sql(q{SELECT count(*) FROM obs.metrics WHERE name = 'conc.metric'}), '2000',
	'concurrent metric samples all stored');
is(counters_ok(), 't', 'counters add up after concurrent writes');

# -------------------------------------------------------------- dead letters
# a unique index the second "bad" record violates, and a metric whose
# series exists with another kind: both only fail in the flusher (obs.logs
# is partitioned by ts and has no time partition yet: the rows go to its
# default partition, which takes a unique index without ts)
sql(q{CREATE UNIQUE INDEX logs_bad_once ON obs.logs_default (message) WHERE message LIKE 'bad%'});
sql(q{SELECT obs.record_metric('dl.metric', 1)});
sql(q{SELECT obs.info(m) FROM unnest(ARRAY['good 1', 'bad 1', 'good 2', 'bad 1', 'good 3']) m;
      SELECT obs.record_metric('dl.metric', 1, kind => 'counter');});
is(sql(q{SELECT obs.flush(); SELECT count(*) FROM obs.logs WHERE message LIKE 'good %' OR message LIKE 'bad %'}),
	"t\n4", 'good records of a batch with bad ones are stored');
is( sql(q{SELECT string_agg(signal || '|' || coalesce(record->>'message', record->>'name') || '|' || sqlstate
                          || '|' || (reason LIKE '%logs_bad_once%' OR reason LIKE '%gauge, not a counter%'),
                          ',' ORDER BY dead_letter_id) FROM obs.dead_letters}),
	'log|bad 1|23505|true,metric|dl.metric|22023|true',
	'bad records go to obs.dead_letters with the reason and SQLSTATE');
is(sql(q{SELECT string_agg(signal || ':' || dead_lettered, ',' ORDER BY signal) FROM obs.ingest_stats
          WHERE signal IN ('log', 'metric')}), 'log:1,metric:1',
	'dead letters are counted');
sql(q{DROP INDEX obs.logs_bad_once});
is(counters_ok(), 't', 'counters add up with dead letters');

# a NOT NULL a DBA adds holds in the flusher's batch as in an INSERT (in
# a database of its own: the logs here have rows without context)
sql(q{CREATE DATABASE obs_notnull});
$node->safe_psql('obs_notnull', q{CREATE EXTENSION obs;
    ALTER TABLE obs.logs ALTER COLUMN context SET NOT NULL;
    SELECT obs.info('nn ' || g, CASE WHEN g = 2 THEN NULL ELSE '{}'::jsonb END) FROM generate_series(1, 3) g});
is( $node->safe_psql('obs_notnull', q{SELECT obs.flush();
        SELECT string_agg(message, ',' ORDER BY message) FROM obs.logs}),
	"t\nnn 1,nn 3", 'the rows that fill a NOT NULL column are stored');
is( $node->safe_psql('obs_notnull', q{SELECT string_agg(record->>'message' || '|' || sqlstate || '|'
        || (reason LIKE '%"context"%'), ',') FROM obs.dead_letters}),
	'nn 2|23502|true', 'the row with a null there is dead-lettered with 23502');
sql(q{DROP DATABASE obs_notnull WITH (FORCE)});
ok($node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM obs.ingest_stats WHERE database = 'obs_notnull'}),
	'the buffer slot of that database is freed');

# ------------------------------------------------------ TRUNCATE of metrics
# the flusher has the series cached; a TRUNCATE ... RESTART IDENTITY holds
# the lock while the flusher stores a sample of it and another session
# creates a new series: the sample keeps its name, not the reused id's
sql(q{TRUNCATE obs.metric_series, obs.metric_points RESTART IDENTITY;
    SELECT obs.record_metric('race.a', 1); SELECT obs.flush()});
my $trunc = $node->background_psql('postgres');
$trunc->query_safe(q{BEGIN});
$trunc->query_safe(q{TRUNCATE obs.metric_series, obs.metric_points RESTART IDENTITY});
sql(q{SELECT obs.record_metric('race.a', 2)});
ok( $node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'obs flusher' AND wait_event_type = 'Lock'}),
	'the flusher waits for the TRUNCATE');
$trunc->query_safe(q{SET LOCAL obs.write_path = 'transactional'});
$trunc->query_safe(q{SELECT obs.record_metric('race.b', 3)});
$trunc->query_safe(q{COMMIT});
$trunc->quit;
is( sql(q{SELECT obs.flush();
        SELECT string_agg(name || ':' || value, ',' ORDER BY value) FROM obs.metrics;
        SELECT count(*) FROM obs.metric_points}),
	"t\nrace.a:2,race.b:3\n2", 'a sample the flusher stored across a TRUNCATE keeps its metric name');

# ---------------------------------------------------------------- full buffer
set_conf("obs.buffer_size = '16kB'", 1);
my $locker = $node->background_psql('postgres');
$locker->query_safe(q{BEGIN});
$locker->query_safe(q{LOCK TABLE obs.logs IN ACCESS EXCLUSIVE MODE});
sql(q{SET obs.buffer_full_action = 'drop';
    SELECT count(*) FROM (SELECT obs.info(repeat('x', 200)) FROM generate_series(1, 500)) s});
my ($acc, $dropped) = split /\|/,
  sql(q{SELECT accepted, dropped_full FROM obs.ingest_stats WHERE signal = 'log'});
is($acc, '500', 'drop mode: every record is accepted or counted');
ok($dropped > 400, "drop mode: a full buffer drops and counts ($dropped dropped)");
my $t0 = time;
sql(q{SET obs.buffer_full_action = 'wait'; SET obs.buffer_full_timeout = '300ms';
    SELECT obs.info('waited 1 ' || repeat('x', 200)) IS NULL, obs.info('waited 2 ' || repeat('x', 200)) IS NULL});
my $elapsed = time - $t0;
# a lower bound only: it shows that each record waited for its bound
ok($elapsed >= 0.55, sprintf('wait mode waits up to the bound (%.2fs for two records)', $elapsed));
is(sql(q{SELECT dropped_full FROM obs.ingest_stats WHERE signal = 'log'}), $dropped + 2,
	'wait mode drops and counts after the bound');
($ret, $out, $err) = $node->psql('postgres', q{SELECT obs.flush('300ms')});
like($err, qr/timed out/, 'obs.flush() times out while the flusher is blocked');
($ret, $out, $err) = $node->psql('postgres', q{SELECT obs.info(repeat('y', 20000))});
like($err, qr/does not fit in the buffer/, 'a record larger than the buffer is an error');
$locker->query_safe(q{COMMIT});
$locker->quit;
is( sql(q{SELECT obs.flush();
        SELECT s.stored = (SELECT count(*) FROM obs.logs WHERE message LIKE '%' || repeat('x', 200))
           AND s.accepted = s.stored + s.dropped_full
          FROM obs.ingest_stats s WHERE signal = 'log'}),
	"t\nt", 'after the blockage: stored + dropped = accepted, and stored rows are there');
set_conf("obs.buffer_size = '8MB'", 1);

# ----------------------------------------------------------------- crashes
my $script = $node->basedir . '/crash.sql';
PostgreSQL::Test::Utils::append_to_file($script,
	q{SELECT obs.info('k ' || x, jsonb_build_object('n', x), '{"t": 1}') FROM (SELECT (random() * 1e9)::bigint AS x) s;
SELECT obs.record_metric('k.metric', random());
});

sub integrity
{
	my $what = shift;
	is( sql(q{SELECT count(*) FROM obs.logs WHERE message LIKE 'k %'
             AND (context->>'n' IS NULL OR message <> 'k ' || (context->>'n') OR tags <> '{"t": 1}')}),
		'0', "$what: no stored record is damaged");
	# every btree index, with heapallindexed: each heap row is in the index
	my ($rc, $out, $err) = $node->psql('postgres', q{SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS amcheck;
        SELECT string_agg(i.indexrelid::regclass::text, ',' ORDER BY i.indexrelid::regclass::text)
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam,
               LATERAL bt_index_check(i.indexrelid, true)
         WHERE i.indrelid IN (SELECT t.relid FROM pg_partition_tree('obs.logs') t
                              UNION ALL SELECT t.relid FROM pg_partition_tree('obs.metric_points') t)
           AND a.amname = 'btree'});
	# (the tables are partitioned: their indexes are on the partitions)
	ok( $rc == 0 && $err eq ''
		  && $out =~ /\bobs\.logs_default_pkey\b/ && $out =~ /\bobs\.metric_points_series_ts_idx\b/,
		"$what: indexes of obs.logs and obs.metric_points check out")
	  or diag("rc $rc, checked: $out, error: $err");
	is( sql(q{SELECT obs.info('after crash') IS NOT NULL; SELECT obs.flush();
            SELECT stored FROM obs.ingest_stats WHERE signal = 'log'}),
		"t\nt\n1", "$what: counters restart with shared memory");
	is(counters_ok(), 't', "$what: counters add up");
	sql(q{DELETE FROM obs.logs WHERE message = 'after crash'});
}

sub writers
{
	my ($stdout, $stderr) = ('', '');
	my $n0 = sql(q{SELECT count(*) FROM obs.logs WHERE message LIKE 'k %'});
	local $ENV{PGAPPNAME} = 'obs_writer';
	my $h = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '3', '-j', '3', '-T', '5', '-f', $script,
		  '-h', $node->host, '-p', $node->port, 'postgres' ],
		'>', \$stdout, '2>', \$stderr);
	# wait until some records are stored
	$node->poll_query_until('postgres', "SELECT count(*) > $n0 + 500 FROM obs.logs WHERE message LIKE 'k %'")
	  or die 'no records stored';
	return $h;
}

my $h = writers();
my $victim = sql(q{SELECT pid FROM pg_stat_activity WHERE application_name = 'obs_writer' LIMIT 1});
ok($victim =~ /^\d+$/, 'a writer backend to kill');
kill 'KILL', $victim if $victim =~ /^\d+$/;
$h->finish;
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
my $before = sql(q{SELECT count(*) FROM obs.logs WHERE message LIKE 'k %'});
ok($before > 500, "kill -9 of a backend mid-ingest: $before records stored before the crash");
integrity('kill -9 of a backend');

$h = writers();
$node->kill9;
$h->finish;
my $started = 0;
for (1 .. 60)
{
	last if ($started = $node->start(fail_ok => 1));
	# children of the killed postmaster may still hold its shared memory
	$node->{_pid} = undef;
	usleep(500_000);
}
ok($started, 'the server restarts after kill -9 of the postmaster');
integrity('kill -9 of the postmaster');

$node->stop('fast');
done_testing();
