# obs recognises its own objects by extension membership, never by name.
# In a database without the extension, a non-superuser who owns it
# creates a schema obs with lookalike types and tables; with
# instrumentation on, nothing may be traced or written there (this used to
# crash the flusher with signal 11 and restart every backend).  Also: a
# column added to and dropped from obs.logs does not stop the flusher's
# batch insert.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('lookalike');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.flush_interval = '100ms'
obs.instrument_functions = 'traced_fn'
max_worker_processes = 16
restart_after_crash = on
});
$node->start;

sub sql { return $node->safe_psql($_[1] // 'postgres', $_[0]); }

# ------------------------------------------- the lookalike, as its owner
sql(q{CREATE ROLE mallory LOGIN; CREATE DATABASE lookalike OWNER mallory;});
$node->safe_psql('lookalike', q{
SET ROLE mallory;
CREATE SCHEMA obs;
CREATE DOMAIN obs.trace_id AS text;
CREATE DOMAIN obs.span_id AS text;
CREATE TYPE obs.service_type AS ENUM ('DATA_FETCH', 'PIPELINE', 'ANALYTICS', 'TRANSFORM',
  'VALIDATION', 'STORAGE', 'DATABASE', 'CACHE', 'API', 'MESSAGING', 'SCHEDULER',
  'NOTIFICATION', 'ML', 'CUSTOM');
CREATE TYPE obs.span_status AS ENUM ('unset', 'ok', 'error');
CREATE TYPE obs.metric_kind AS ENUM ('gauge', 'counter');
CREATE TABLE obs.spans (trace_id obs.trace_id, span_id obs.span_id, parent_span_id obs.span_id,
  operation text, service_type obs.service_type, service_name text, start_time timestamptz,
  end_time timestamptz, duration_us bigint, status obs.span_status, error text, tags jsonb,
  span_seq bigint GENERATED ALWAYS AS IDENTITY);
CREATE TABLE obs.metric_series (series_id serial PRIMARY KEY, name text, kind obs.metric_kind,
  tags jsonb, UNIQUE (name, tags));
CREATE TABLE obs.metric_points (series_id int, ts timestamptz, value float8);
CREATE TABLE obs.dead_letters (dead_letter_id bigint GENERATED ALWAYS AS IDENTITY,
  failed_at timestamptz, signal text, record jsonb, reason text, sqlstate text);
CREATE FUNCTION public.traced_fn(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN x; END $$;
});

is($node->safe_psql('lookalike', q{SET ROLE mallory; SELECT sum(traced_fn(g)) FROM generate_series(1, 50) g}),
	'1275', 'the named function runs in the database with the lookalike schema');
# a flusher, if one were started for the database, would have stored by now
usleep(3_000_000);
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no process crashed');
is(sql(q{SELECT 1}), '1', 'the server is up');
is( $node->safe_psql('lookalike', q{SELECT (SELECT count(*) FROM obs.spans)
	  + (SELECT count(*) FROM obs.metric_points) + (SELECT count(*) FROM obs.metric_series)
	  + (SELECT count(*) FROM obs.dead_letters)}),
	'0', 'nothing is written into the lookalike tables');
is( sql(q{SELECT count(*) FROM pg_stat_activity
	WHERE datname = 'lookalike' AND backend_type = 'obs flusher'}),
	'0', 'no flusher runs for the database without the extension');

# ------------------------------------- the extension's database still works
sql(q{CREATE EXTENSION obs;
CREATE FUNCTION public.traced_fn(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN x; END $$;});
is(sql(q{SELECT sum(traced_fn(g)) FROM generate_series(1, 3) g}), '6', 'a traced call returns');
is( sql(q{SELECT obs.flush(); SELECT count(*) FROM obs.spans WHERE operation = 'traced_fn'}),
	"t\n3", 'in the database with the extension each traced call leaves a span');
sql(q{SELECT obs.info('plain log')});
is(sql(q{SELECT obs.flush(); SELECT count(*) FROM obs.logs WHERE message = 'plain log'}),
	"t\n1", 'and obs.info() is stored');

# --------------------------------- dropped columns on the flusher's path
sql(q{ALTER TABLE obs.logs ADD COLUMN x int; ALTER TABLE obs.logs DROP COLUMN x;
ALTER TABLE obs.spans ADD COLUMN x int; ALTER TABLE obs.spans DROP COLUMN x;});
sql(q{SELECT obs.info('after drop ' || g, '{"k": 1}') FROM generate_series(1, 20) g;
SELECT traced_fn(1);});
is( sql(q{SELECT obs.flush();
	SELECT count(*) FILTER (WHERE context = '{"k": 1}' AND level = 'INFO') FROM obs.logs
	 WHERE message LIKE 'after drop %'}),
	"t\n20", 'after ADD and DROP COLUMN the flusher stores every buffered log');
is(sql(q{SELECT count(*) FROM obs.spans WHERE operation = 'traced_fn'}), '4',
	'and the traced call\'s span');
is(sql(q{SELECT count(*) FROM obs.dead_letters}), '0', 'with no dead letter');

$node->stop;
done_testing();
