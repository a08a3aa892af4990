# obs.ingest_stats(): a reader sees the buffered path of its own database
# only; members of pg_monitor (and superusers) see every database's rings,
# with their counters and flusher pids.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ingest_stats');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.flush_interval = '100ms'
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE other');
for my $db ('postgres', 'other')
{
	$node->safe_psql($db, q{
		CREATE EXTENSION obs;
		SELECT obs.info('buffered');
		SELECT obs.flush();
	});
}
$node->safe_psql('postgres', q{
	CREATE ROLE regress_reader LOGIN;
	CREATE ROLE regress_monitor LOGIN IN ROLE pg_monitor;
	SELECT obs.grant_reader('regress_reader');
	SELECT obs.grant_reader('regress_monitor');
});

my $q = q{SELECT string_agg(DISTINCT database, ',' ORDER BY database) FROM obs.ingest_stats};
is($node->safe_psql('postgres', $q), 'other,postgres', 'a superuser sees every database');
is($node->safe_psql('postgres', "SET ROLE regress_monitor; $q"), 'other,postgres',
	'a member of pg_monitor sees every database');
is($node->safe_psql('postgres', "SET ROLE regress_reader; $q"), 'postgres',
	'a reader sees its own database only');
is($node->safe_psql('postgres', q{SET ROLE regress_reader;
	SELECT stored FROM obs.ingest_stats() WHERE signal = 'log'}), '1',
	'with its counters');

$node->stop;
done_testing();
