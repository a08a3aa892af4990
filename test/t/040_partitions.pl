# Time partitions on the buffered path: the flusher's batches route each
# row to its partition (many partitions in one batch), rows outside every
# partition land in the default partition, and run_maintenance() with the
# flusher writing concurrently loses nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('partitions');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.flush_interval = '100ms'
max_worker_processes = 16
timezone = 'UTC'
});
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sql('CREATE EXTENSION obs');
is(sql('SHOW obs.write_path'), 'buffered', 'buffered is the default when preloaded');

# 40 days of partitions: more leaves in one batch than the batch keeps open
sql(q{SELECT obs.set_partitioning(s, '1 day', 40) FROM unnest(ARRAY['logs', 'spans', 'metrics']) s});
is(sql(q{SELECT count(*) FROM obs.run_maintenance('2026-11-01 12:00+00') WHERE action = 'created' AND signal <> 'alerts'}),
	'123', 'maintenance made 41 daily partitions for each of logs, spans and metrics');

# one batch: a log, a metric and a span per 8 hours over 45 days (the last
# 4 days and a 1999 row outside every partition)
sql(q{
SELECT obs.info('b ' || h, ts => '2026-11-01 00:30+00'::timestamptz + h * interval '8 hours')
  FROM generate_series(0, 134) h;
SELECT obs.record_metric('b.m', h, ts => '2026-11-01 00:30+00'::timestamptz + h * interval '8 hours')
  FROM generate_series(0, 134) h;
SELECT obs.record_metric('b.m', -1, ts => '1999-01-01 00:00+00');
SELECT obs.finish_span(obs.start_span('b span'));
});
ok(sql('SELECT obs.flush()') eq 't', 'the flusher stored the batch');

is(sql(q{SELECT count(*) FROM obs.logs WHERE message LIKE 'b %'}), '135', 'every buffered log is stored');
is(sql(q{SELECT count(*) FROM obs.metrics WHERE name = 'b.m'}), '136', 'every buffered metric is stored');
# each row is in the partition whose bounds hold its time, or in the default partition
my $misplaced = q{
SELECT count(*) FROM %s t
  JOIN obs.partitions() p ON p.partition_name = t.tableoid::regclass
 WHERE NOT (p.is_default AND NOT EXISTS (SELECT 1 FROM obs.partitions() q
                                         WHERE q.signal = p.signal AND NOT q.is_default
                                           AND t.%s >= q.lower_bound AND t.%s < q.upper_bound))
   AND NOT (NOT p.is_default AND t.%s >= p.lower_bound AND t.%s < p.upper_bound)};
is(sql(sprintf($misplaced, 'obs.logs', ('ts') x 4)), '0', 'every buffered log is in its partition');
is(sql(sprintf($misplaced, 'obs.metric_points', ('ts') x 4)), '0', 'every buffered metric is in its partition');
is(sql(sprintf($misplaced, 'obs.spans', ('start_time') x 4)), '0', 'the buffered span is in its partition');
is(sql(q{SELECT count(DISTINCT tableoid) FROM obs.logs WHERE message LIKE 'b %'}), '42',
	'the logs are spread over 41 partitions and the default partition');
is(sql(q{SELECT default_rows FROM obs.partition_stats WHERE signal = 'metrics'}), '13',
	'the rows past the partitions made and the 1999 row are counted in the default partition');

# maintenance while the flusher writes: no row lost, none left behind
sql(q{SELECT obs.set_partitioning(s, '1 day', 3) FROM unnest(ARRAY['logs', 'spans', 'metrics']) s});
sql(q{SELECT obs.info('c ' || i, ts => '2026-12-10 00:00+00'::timestamptz + i * interval '1 minute') FROM generate_series(1, 3000) i});
my $first = sql(q{SELECT coalesce(string_agg(DISTINCT action, ','), '') FROM obs.run_maintenance('2026-12-10 12:00+00') WHERE signal = 'logs'});
like($first, qr/^(created|skipped)$/, "maintenance made the logs partitions, or skipped them for a lock, while the flusher wrote ($first)");
ok(sql('SELECT obs.flush()') eq 't', 'the flusher stored the rows');
my $second = sql(q{SELECT coalesce(string_agg(DISTINCT action, ','), '') FROM obs.run_maintenance('2026-12-10 12:00+00') WHERE signal = 'logs'});
is($second, $first eq 'created' ? '' : 'created', 'the next run makes what a skipped run did not');
is(sql(q{SELECT count(*) FROM obs.logs WHERE message LIKE 'c %'}), '3000', 'every log written around maintenance is stored');
is(sql(sprintf($misplaced, 'obs.logs', ('ts') x 4)), '0', 'and each is in its partition');
is(sql(q{SELECT count(*) FROM obs.run_maintenance('2026-12-10 12:00+00') WHERE signal = 'logs'}), '0',
	'maintenance is idempotent');
is(sql(q{SELECT sum(pending) FROM obs.ingest_stats}), '0', 'nothing is pending');
is(sql(q{SELECT coalesce(sum(dead_lettered + dropped_other), 0) FROM obs.ingest_stats}), '0', 'nothing was dead-lettered or dropped');

$node->stop;
done_testing();
