# The flusher under faults: records that cannot be dead-lettered, user
# locks held by open and prepared transactions, a stop while blocked,
# retry pauses under writers waiting for room, and the loss bound after a
# crash (issue 7 items 2, 3, 20, 22, 23 and 25).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('faults');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.flush_interval = '100ms'
max_worker_processes = 16
max_prepared_transactions = 4
restart_after_crash = on
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub set_conf
{
	my ($line, $restart) = @_;
	$node->append_conf('postgresql.conf', "$line\n");
	if ($restart) { $node->restart; }
	else { $node->reload; usleep(300_000); }
}

sub counters_ok
{
	return sql(q{SELECT coalesce(bool_and(accepted = stored + dropped_full + dropped_other
	                                              + dead_lettered + pending), true)
	                  AND coalesce(sum(pending), 0) = 0
	             FROM obs.ingest_stats});
}

sub counter
{
	my ($col, $signal) = @_;
	return sql("SELECT coalesce(sum($col), 0) FROM obs.ingest_stats WHERE signal = '$signal'");
}

sub log_from
{
	my $offset = shift;
	my $log = slurp_file($node->logfile);
	return substr($log, $offset);
}

sql('CREATE EXTENSION obs');
sql(q{SELECT obs.info('warm up'); SELECT obs.flush()});

# ------------------------------------ item 2: a record too deep to render
# The stack limit is lowered so that a jsonb a few thousand levels deep
# cannot be parsed again; the record fails to store (its flow run id
# belongs to another flow) and its JSON rendering fails with 54001.
sql(q{CREATE FUNCTION deep(n int) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE j jsonb := '1';
BEGIN FOR i IN 1..n LOOP j := jsonb_build_object('a', j); END LOOP; RETURN j; END $$});
sql(q{SET max_stack_depth = '2MB'; CREATE TABLE deepval AS SELECT deep(4000) AS j});
set_conf("max_stack_depth = '200kB'", 0);
my ($ret, $out, $err) = $node->psql('postgres', q{SELECT j::text::jsonb IS NOT NULL FROM deepval});
like($err, qr/stack depth limit exceeded/, 'the deep jsonb cannot be parsed again');
sql(q{SELECT obs.record_flow_execution('flow a', 'deep-run', now())});
set_conf("obs.flush_interval = '60s'", 0);
sql(q{SET max_stack_depth = '2MB';
    SELECT obs.record_flow_execution('flow b', 'deep-run', now(), tags => j) FROM deepval;
    SELECT count(obs.info('beside deep ' || g)) FROM generate_series(1, 300) g});
is(sql(q{SELECT obs.flush(); SELECT count(*) FROM obs.logs WHERE message LIKE 'beside deep %'}),
	"t\n300", 'the 300 good records of the batch are stored');
is( sql(q{SELECT signal || '|' || sqlstate || '|' || (reason LIKE '%already recorded for another flow%')
                 || '|' || (reason LIKE '%kept as raw bytes%stack depth limit exceeded%')
                 || '|' || (decode(record->>'raw_record_base64', 'base64') IS NOT NULL)
            FROM obs.dead_letters WHERE signal = 'flow_run'}),
	'flow_run|22023|true|true|true',
	'the poisoned record is a dead letter: raw bytes in base64, both reasons');
is(counter('dead_lettered', 'flow_run'), '1', 'the dead letter is counted');
set_conf("max_stack_depth = '2MB'", 0);
set_conf("obs.flush_interval = '100ms'", 0);
is(counters_ok(), 't', 'counters add up after the deep record');

# ------------------- item 23: neither the record nor its dead letter fits
sql(q{ALTER TABLE obs.logs ADD CONSTRAINT no_poison CHECK (message <> 'poison');
    ALTER TABLE obs.dead_letters ADD CONSTRAINT no_log_letters CHECK (signal <> 'log')});
my $offset = -s $node->logfile;
set_conf("obs.flush_interval = '60s'", 0);
sql(q{SELECT count(obs.info(CASE WHEN g = 500 THEN 'poison' ELSE 'checked ' || g END))
        FROM generate_series(1, 1000) g});
is(sql(q{SELECT obs.flush(); SELECT count(*) FROM obs.logs WHERE message LIKE 'checked %'}),
	"t\n999", 'all 999 good records are stored when the bad one cannot be dead-lettered');
is(counter('dropped_other', 'log'), '1', 'the bad record is counted as dropped_other');
like(log_from($offset), qr/dropping a log record that could not be stored nor dead-lettered/,
	'the dropped record is logged');
sql(q{ALTER TABLE obs.logs DROP CONSTRAINT no_poison;
    ALTER TABLE obs.dead_letters DROP CONSTRAINT no_log_letters});
set_conf("obs.flush_interval = '100ms'", 0);
is(counters_ok(), 't', 'counters add up after the dropped record');

# --------------- item 3: an open transaction holds a new series' lock
my $a = $node->background_psql('postgres');
$a->query_safe(q{BEGIN});
$a->query_safe(q{SET LOCAL obs.write_path = 'transactional'});
$a->query_safe(q{SELECT obs.record_metric('held.series', 1)});
my $retries0 = counter('retries', 'log');
$offset = -s $node->logfile;
sql(q{SELECT obs.record_metric('held.series', 2);
    SELECT count(obs.info('behind the lock ' || g)) FROM generate_series(1, 100) g;
    SELECT obs.record_metric('other.series', 3)});
# the record behind the lock is set aside: the others are stored meanwhile
ok( $node->poll_query_until('postgres',
		q{SELECT (SELECT count(*) FROM obs.logs WHERE message LIKE 'behind the lock %') = 100
		     AND (SELECT count(*) FROM obs.metrics WHERE name = 'other.series' AND value = 3) = 1}),
	'records of other series and signals behind the held record are stored while the lock is held');
ok($node->poll_query_until('postgres', "SELECT sum(retries) > $retries0 + 2 FROM obs.ingest_stats"),
	'the flusher times out on the lock and retries instead of waiting on it');
is(sql(q{SELECT pending FROM obs.ingest_stats WHERE signal = 'metric'}), '1',
	'the record set aside stays pending');
($ret, $out, $err) = $node->psql('postgres', q{SELECT obs.flush('1s')});
like($err, qr/obs.flush\(\) timed out/, 'obs.flush() waits for the record set aside');
is( sql(q{SELECT bool_and(accepted = stored + dropped_full + dropped_other + dead_lettered + pending)
            FROM obs.ingest_stats}),
	't', 'counters add up while a record is set aside');
like(log_from($offset), qr/obs flusher: waiting for a lock held by another transaction/,
	'the wait for the lock is logged');
ok( $node->poll_query_until('postgres',
		q{SELECT wait_event IS DISTINCT FROM 'transactionid' OR state <> 'active'
		    FROM pg_stat_activity WHERE backend_type = 'obs flusher'}),
	'the flusher is not stuck in the lock wait');
is(sql(q{SELECT count(*) FROM obs.metrics WHERE name = 'held.series'}), '0',
	'nothing of the series is stored while the lock is held');
$a->query_safe(q{COMMIT});
$a->quit;
is( sql(q{SELECT obs.flush();
        SELECT (SELECT string_agg(value::text, ',' ORDER BY value) FROM obs.metrics WHERE name = 'held.series')
            || '|' || (SELECT count(*) FROM obs.logs WHERE message LIKE 'behind the lock %')}),
	"t\n1,2|100", 'after the commit everything behind the lock is stored');
is(counter('dead_lettered', 'log') + counter('dead_lettered', 'metric'), 0,
	'no record behind the lock was dead-lettered');
is(counters_ok(), 't', 'counters add up after the lock wait');

# ------- item 20: a prepared transaction holds LOCK TABLE obs.logs IN SHARE MODE
set_conf("obs.shutdown_timeout = '2s'", 0);
sql(q{BEGIN; LOCK TABLE obs.logs IN SHARE MODE; PREPARE TRANSACTION 'share_lock'});
sql(q{SELECT count(obs.info('stuck ' || g)) FROM generate_series(1, 200) g});
ok($node->poll_query_until('postgres', q{SELECT pending = 200 AND retries > 0 FROM obs.ingest_stats WHERE signal = 'log'}),
	'the records wait behind the prepared transaction');
my $fpid = sql(q{SELECT worker_pid FROM obs.ingest_stats WHERE signal = 'log'});
$offset = -s $node->logfile;
my ($stdout, $stderr) = ('', '');
my $t0 = time;
my $stop = IPC::Run::start(
	[ 'pg_ctl', '-D', $node->data_dir, '-m', 'fast', '-w', '-t', '120', 'stop' ],
	'>', \$stdout, '2>', \$stderr, IPC::Run::timeout(90));
my $stopped = eval { $stop->finish; 1 } && $? == 0;
if (!$stopped)
{
	# do not leave a hung server behind
	eval { $stop->kill_kill; };
	system('pg_ctl', '-D', $node->data_dir, '-m', 'immediate', 'stop');
}
ok($stopped, sprintf('pg_ctl stop -m fast completes while the flusher is blocked (%.1fs)', time - $t0));
$node->_update_pid(0);
like(log_from($offset), qr/obs flusher stopping with 200 buffered records not stored/,
	'the records that could not be stored within obs.shutdown_timeout are counted and logged');
$node->start;
is(sql(q{SELECT coalesce(sum(lost_at_crash_max), 0) FROM obs.ingest_stats}), '0',
	'a clean stop reports no crash loss');
sql(q{ROLLBACK PREPARED 'share_lock'});

# ---------- item 20: pg_terminate_backend ends the flusher's lock wait too
sql(q{BEGIN; LOCK TABLE obs.logs IN SHARE MODE; PREPARE TRANSACTION 'share_lock2'});
sql(q{SELECT count(obs.info('terminated ' || g)) FROM generate_series(1, 50) g});
ok($node->poll_query_until('postgres', q{SELECT retries > 0 FROM obs.ingest_stats WHERE signal = 'log'}),
	'the flusher is blocked again');
$fpid = sql(q{SELECT worker_pid FROM obs.ingest_stats WHERE signal = 'log'});
sql("SELECT pg_terminate_backend($fpid)");
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $fpid"),
	'pg_terminate_backend ends a flusher that waits on a lock');
sql(q{ROLLBACK PREPARED 'share_lock2'});
is(counters_ok(), 't', 'counters add up after the terminated flusher');

# ---------------- item 25: a crash with records pending behind a lock
sql(q{BEGIN; LOCK TABLE obs.logs IN SHARE MODE; PREPARE TRANSACTION 'crash_lock'});
my $cr0 = counter('retries', 'log');
sql(q{SELECT count(obs.info('lost ' || g)) FROM generate_series(1, 300) g});
ok($node->poll_query_until('postgres', qq{SELECT pending = 300 AND retries > $cr0 FROM obs.ingest_stats WHERE signal = 'log'}),
	'300 records pending behind the lock');
usleep(300_000);
$offset = -s $node->logfile;
$node->kill9;
my $started = 0;
for (1 .. 60)
{
	last if ($started = $node->start(fail_ok => 1));
	$node->{_pid} = undef;
	usleep(500_000);
}
ok($started, 'the server restarts after kill -9');
sql(q{ROLLBACK PREPARED 'crash_lock'});
my $real_loss = 300 - sql(q{SELECT count(*) FROM obs.logs WHERE message LIKE 'lost %'});
my $bound = sql(q{SELECT lost_at_crash_max FROM obs.ingest_stats WHERE signal = 'log'});
ok($bound =~ /^\d+$/ && $bound > 0 && $bound >= $real_loss,
	"obs.ingest_stats.lost_at_crash_max bounds the loss ($bound >= $real_loss)");
is($real_loss, 300, 'the records behind the lock were lost');
my $log = log_from($offset);
like($log, qr/obs: up to (\d+) records accepted into the buffer of database "postgres" but not stored may have been lost/,
	'the bound is logged at restart');
like($log, qr/300 records were pending when its flusher last saved its state/,
	'the log gives the records pending at the last saved state');
$offset = -s $node->logfile;
$node->restart;
unlike(log_from($offset), qr/may have been lost/, 'a clean restart after that reports nothing');

# a saved state that cannot be trusted (a write cut short): the flusher
# saves in place, so the launcher checks the state's crc and then bounds
# the loss by the whole buffer
my $dboid = sql(q{SELECT oid FROM pg_database WHERE datname = 'postgres'});
my $statefile = $node->data_dir . "/pg_stat/obs_ingest_$dboid.state";
$node->stop('fast');
ok(-s $statefile, 'the flusher left its saved state');
open(my $sf, '+<', $statefile) or die "could not open $statefile: $!";
binmode $sf;
seek($sf, 40, 0);
print $sf "\x07";
close $sf;
$offset = -s $node->logfile;
$node->start;
like(log_from($offset), qr/obs: up to \d+ records accepted into the buffer of database "postgres" but not stored may have been lost/,
	'a damaged saved state is reported as a possible loss');
like(log_from($offset), qr/is damaged; the bound is what the whole \d+-byte buffer holds/,
	'bounded by the whole buffer');
is(sql(q{SELECT bool_and(lost_at_crash_max > 0) FROM obs.ingest_stats}), 't',
	'and shown in obs.ingest_stats');
$offset = -s $node->logfile;
$node->restart;
unlike(log_from($offset), qr/may have been lost/, 'a clean restart after that reports nothing');

# -------------- item 22: retry pauses hold while writers wait for room
$offset = -s $node->logfile;
set_conf("obs.buffer_size = '16kB'", 1);
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'obs launcher'}),
	'the launcher runs');
usleep(500_000);
unlike(log_from($offset), qr/may have been lost/, 'clean restarts in a row report nothing');
set_conf("obs.flush_interval = '200ms'", 0);
sql(q{SELECT obs.info('ring claimed'); SELECT obs.flush()});
my $r0 = counter('retries', 'log');
my $d0 = counter('dead_lettered', 'log');
set_conf("obs.debug_store_error = on", 0);
my $script = $node->basedir . '/fill.sql';
PostgreSQL::Test::Utils::append_to_file($script,
	q{SET obs.buffer_full_timeout = '50ms';
SELECT obs.info('filler ' || repeat('x', 300));
});
$t0 = time;
my $h = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '3', '-j', '3', '-T', '6', '-f', $script,
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$stdout, '2>', \$stderr);
$h->finish;
my $retries = counter('retries', 'log') - $r0;
my $dead = counter('dead_lettered', 'log') - $d0;
my $elapsed = time - $t0;
# failures 1..5 pause 2, 4, 8, 16, 32 x obs.flush_interval: tries at 0, 0.4,
# 1.2, 2.8 and 6.0 s, the batch dead-lettered at 12.4 s.  Time only bounds
# how many retries were due; a slower machine makes fewer.
my @schedule = (0, 0.4, 1.2, 2.8, 6.0);
my $due = grep { $_ <= $elapsed } @schedule;
ok($retries >= 2 && $retries <= $due,
	sprintf('retries follow the schedule while writers wait for room: %d, at most %d due in %.1fs',
		$retries, $due, $elapsed));
is($dead, 0, 'no batch is dead-lettered before its pauses are over');
ok(counter('dropped_full', 'log') > 0, 'the writers found the buffer full');
set_conf("obs.debug_store_error = off", 0);
is(sql(q{SELECT obs.flush('60s'); SELECT count(*) > 0 FROM obs.logs WHERE message LIKE 'filler %'}),
	"t\nt", 'once storing works again the buffered records are stored');
is(counters_ok(), 't', 'counters add up after the retries');

# ------------- issue 10 item 8: behind a backlog, batches take more records
# The flusher is held back (its batches fail and it pauses) while the ring
# fills past half; once storing works again, the first batch takes more
# than obs.batch_size records, sharing its transaction's fsync waits.
# Without that every batch holds at most obs.batch_size (2) records.
set_conf("obs.batch_size = 2", 0);
set_conf("obs.flush_interval = '1s'", 0);
sql(q{SELECT obs.info('before the backlog'); SELECT obs.flush()});
my $b0 = sql(q{SELECT max(batches) FROM obs.ingest_stats WHERE signal = 'log'});
set_conf("obs.debug_store_error = on", 0);
my $n = 0;
while (sql(q{SELECT pending_bytes * 2 > buffer_size FROM obs.ingest_stats WHERE signal = 'log'}) ne 't')
{
	sql(q{SET obs.buffer_full_action = 'drop'; SELECT obs.info('backlog ' || repeat('x', 200))});
	die "the ring does not fill" if ++$n > 200;
}
is(sql("SELECT pending = $n AND pending_bytes * 2 > buffer_size FROM obs.ingest_stats WHERE signal = 'log'"),
	't', "the $n records wait in the ring, past half full");
set_conf("obs.debug_store_error = off", 0);
is(sql(q{SELECT obs.flush('60s'); SELECT count(*) FROM obs.logs WHERE message LIKE 'backlog %'}),
	"t\n$n", 'the backlog is stored');
my $batches = sql(q{SELECT max(batches) FROM obs.ingest_stats WHERE signal = 'log'}) - $b0;
ok($batches < $n / 2,
	"behind a backlog a batch takes more than obs.batch_size records: $n records in $batches batches");
is(counters_ok(), 't', 'counters add up after the backlog');
set_conf("obs.batch_size = 1000", 0);
set_conf("obs.flush_interval = '200ms'", 0);

$node->stop('fast');
done_testing();
