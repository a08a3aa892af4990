# Log ids on the buffered path come from a block of obs.logs' identity
# sequence that the flusher reserves: the caller's transaction takes no
# xid (nextval()'s refill gave it one, and a WAL flush at its commit),
# ids follow call order across sessions, a RESTART of the sequence is
# honoured, and a restart never hands out an id twice.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('log_ids');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.flush_interval = '100ms'
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sql('CREATE EXTENSION obs');
# whether a buffered obs.info() leaves its transaction without an xid, and
# n calls in one transaction: no xid, ids consecutive in call order
sql(q{
CREATE FUNCTION probe() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM obs.info('probe');
    RETURN pg_current_xact_id_if_assigned() IS NULL;
END $$;
CREATE FUNCTION burst(n int, OUT no_xid boolean, OUT consecutive boolean) LANGUAGE plpgsql AS $$
DECLARE ids bigint[];
BEGIN
    SELECT array_agg(obs.info('tx ' || g) ORDER BY g) INTO ids FROM generate_series(1, n) g;
    no_xid := pg_current_xact_id_if_assigned() IS NULL;
    consecutive := ids[n] - ids[1] + 1 = n
                   AND ids = (SELECT array_agg(x ORDER BY x) FROM unnest(ids) x)
                   AND (SELECT count(DISTINCT x) FROM unnest(ids) x) = n;
END $$;
});

# true once the pool is ready (the flusher reserves a block when a writer asks)
sub pool_ready { return $node->poll_query_until('postgres', 'SELECT probe()'); }

sql(q{SELECT obs.info('first')});
ok(pool_ready(), 'the flusher reserves a block of log ids');

# a transaction of 3,000 buffered logs: no xid, ids consecutive
is(sql(q{SELECT * FROM burst(3000)}), 't|t',
   '3,000 buffered obs.info() calls: the transaction has no xid, the ids are consecutive in call order');

# the ids returned are the ids stored, in call order
sql(q{SELECT obs.flush()});
is(sql(q{SELECT count(*) FILTER (WHERE message <> 'tx ' || rn), count(*)
           FROM (SELECT message, row_number() OVER (ORDER BY log_id) AS rn
                   FROM obs.logs WHERE message LIKE 'tx %') s}),
   '0|3000', 'obs.logs holds the 3,000 rows in id order = call order');

# sessions in turn: each id is the previous one plus one (a sequence cache
# of 1,000 per session gave 1, 1001, 2001, ...)
my @ids = map { sql(qq{SELECT obs.info('session $_')}) } 1 .. 3;
is_deeply([ $ids[1] - $ids[0], $ids[2] - $ids[1] ], [ 1, 1 ],
	"three sessions in turn get consecutive ids (@ids)");

# ALTER SEQUENCE ... RESTART: ids reserved before are not handed out
sql(q{ALTER SEQUENCE obs.logs_log_id_seq RESTART WITH 5000000});
my $after = sql(q{SELECT obs.info('after restart')});
ok($after >= 5000000, "after RESTART WITH 5000000 the next id is $after");
ok(pool_ready(), 'the flusher reserves a block of the restarted sequence');
$after = sql(q{SELECT min(obs.info('after restart, pool')) FROM generate_series(1, 10)});
ok($after >= 5000000, "ids from the new block start at $after");

# a TRUNCATE ... RESTART IDENTITY while the next block is reserved too:
# both blocks are dropped, and the pool comes back with the new sequence
my $seq_before = sql(q{SELECT last_value FROM obs.logs_log_id_seq});
is(sql(q{SELECT * FROM burst(40000)}), 't|t', '40,000 more: a second block is asked for');
ok($node->poll_query_until('postgres',
		"SELECT last_value >= $seq_before + 65536 FROM obs.logs_log_id_seq"),
	'the flusher reserves the next block while the current one is half used');
sql(q{TRUNCATE obs.logs RESTART IDENTITY});
ok(pool_ready(), 'after TRUNCATE ... RESTART IDENTITY the pool serves again');
my $small = sql(q{SELECT max(obs.info('after truncate')) FROM generate_series(1, 10)});
ok($small < 200000, "its ids are of the restarted sequence ($small)");

# rows imported with explicit ids, then setval() past them: no later id
# repeats one of them (the pool is checked against the sequence)
my $cur = sql(q{SELECT obs.info('before import')});
sql(qq{INSERT INTO obs.logs (log_id, ts, level, logger, message, backend_pid)
       SELECT g, now(), 'INFO', 'import', 'imported ' || g, 0 FROM generate_series($cur + 1, $cur + 5000) g;
       SELECT setval('obs.logs_log_id_seq', $cur + 5000)});
my $next = sql(q{SELECT obs.info('after import')});
ok($next > $cur + 5000, "after the import and setval() the next id ($next) is past the imported ones ($cur + 5000)");
ok(pool_ready(), 'the pool serves again after setval()');
$next = sql(q{SELECT min(obs.info('after import, pool')) FROM generate_series(1, 10)});
ok($next > $cur + 5000, "and its ids are past them too ($next)");
sql(q{SELECT obs.flush()});
is(sql(q{SELECT count(*) FROM (SELECT log_id FROM obs.logs GROUP BY log_id HAVING count(*) > 1) d}),
   '0', 'no log id is stored twice after the import');

# a setval() while a transaction is taking ids, past the ids handed out so
# far: the transaction takes at most 1,000 more from the stale block (as
# from a sequence cache), a block reserved meanwhile does not keep the
# stale one, and no id is handed out twice
sql('CREATE EXTENSION dblink');
sql(q{
CREATE FUNCTION setval_race(cs text, n int, OUT first bigint, OUT target bigint, OUT stale bigint)
LANGUAGE plpgsql AS $$
DECLARE ids bigint[];
BEGIN
    first := obs.info('race t0');
    target := first + n;
    PERFORM * FROM dblink(cs, format('SELECT setval(%L, %s)', 'obs.logs_log_id_seq', target)) AS x(v bigint);
    SELECT array_agg(obs.info('race fill') ORDER BY g) INTO ids FROM generate_series(1, n + 3500) g;
    stale := (SELECT count(*) FROM unnest(ids) i WHERE i <= target);
END $$;
});
ok(pool_ready(), 'the pool serves before the setval() race');
my $cs = 'host=' . $node->host . ' port=' . $node->port . ' dbname=postgres';
my ($first, $target, $stale) = split /\|/, sql(qq{SELECT * FROM setval_race('$cs', 30000)});
ok($stale <= 1000, "after a setval() to $target, the running transaction took $stale ids at or below it");
sql(q{SELECT count(obs.info('race later')) FROM generate_series(1, 40000)});
sql(q{SELECT obs.flush()});
is(sql(q{SELECT count(*) FROM (SELECT log_id FROM obs.logs GROUP BY log_id HAVING count(*) > 1) d}),
   '0', 'no log id is stored twice after the setval() race');

# an unlogged sequence gets no blocks (its page LSN does not show a
# setval()): writers use nextval(), and a setval() forward is honoured
sql(q{ALTER SEQUENCE obs.logs_log_id_seq SET UNLOGGED});
sql(q{SELECT obs.info('unlogged 1')});
sql(q{SELECT pg_sleep(0.5)});
my $u = sql(q{SELECT obs.info('unlogged 2')});
sql(qq{INSERT INTO obs.logs (log_id, ts, level, logger, message, backend_pid)
       SELECT g, now(), 'INFO', 'import', 'unlogged import ' || g, 0 FROM generate_series($u + 10, $u + 20) g;
       SELECT setval('obs.logs_log_id_seq', 9000000)});
my $u2 = sql(q{SELECT min(obs.info('unlogged 3')) FROM generate_series(1, 30)});
ok($u2 > 9000000, "with an unlogged sequence, ids after a setval() forward start past it ($u2)");
sql(q{ALTER SEQUENCE obs.logs_log_id_seq SET LOGGED});
sql(q{SELECT obs.flush()});
is(sql(q{SELECT count(*) FROM (SELECT log_id FROM obs.logs GROUP BY log_id HAVING count(*) > 1) d}),
   '0', 'no log id is stored twice with an unlogged sequence');

# a restart (and a crash) never hands out an id twice: the reserved block
# is durable before any of its ids is used
my $max_before = sql(q{SELECT max(obs.info('before stop')) FROM generate_series(1, 100)});
sql(q{SELECT obs.flush()});
$node->stop('immediate');
$node->start;
my $first_after = sql(q{SELECT obs.info('after crash')});
ok($first_after > $max_before, "after an immediate stop the next id ($first_after) is above every id handed out ($max_before)");
ok(pool_ready(), 'after the restart the flusher reserves again');
my $pooled = sql(q{SELECT min(obs.info('after crash, pool')) FROM generate_series(1, 10)});
ok($pooled > $max_before, "and its block starts above them too ($pooled)");
sql(q{SELECT obs.flush()});
is(sql(q{SELECT count(*) FROM (SELECT log_id FROM obs.logs GROUP BY log_id HAVING count(*) > 1) d}),
   '0', 'no log id is stored twice');

# with synchronous_commit = off for everyone, a block is still flushed to
# the WAL before its ids are handed out (an OS crash could lose it otherwise)
$node->append_conf('postgresql.conf', qq{
synchronous_commit = off
wal_writer_delay = '10s'
});
$node->restart;
sql('CREATE EXTENSION IF NOT EXISTS pageinspect');
sql(q{SELECT obs.info('async')});
ok(pool_ready(), 'with synchronous_commit = off the pool serves');
is(sql(q{SELECT lsn <= pg_current_wal_flush_lsn() FROM page_header(get_raw_page('obs.logs_log_id_seq', 0))}),
   't', 'the reserved block is flushed to the WAL before its ids are handed out');

$node->stop('fast');
done_testing();
