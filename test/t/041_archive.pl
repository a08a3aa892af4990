# The Parquet lake (obs.set_archive, obs.run_maintenance): partitions of
# logs, spans and metric points archived to a server directory are read
# back by DuckDB with hive_partitioning and restored into PostgreSQL with
# equal content; archives to an S3-compatible server (s3rver behind
# test/archive/s3-proxy.mjs, which verifies every SigV4 signature, payload
# SHA-256 and Content-MD5) in one PUT and as a multipart upload; a
# refused signature, a failed upload and kill -9 during an upload (single
# and multipart) keep the partition and leave no object visible, and the
# next run aborts the multipart upload the crash left unfinished; kill -9
# while a partition is written to the server directory leaves no file
# under its final name, no record, the partition with its rows, and the
# next run archives it and removes the temporary file; a second database
# is refused a signal's location (directory and S3) that the first one
# owns, at set_archive and at archive time; the secret never reaches the
# server log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;
use Digest::SHA;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Time::HiRes qw(usleep);

# psql may find the server gone while it restarts after kill -9
$SIG{PIPE} = 'IGNORE';

my $archdir = abs_path(dirname(__FILE__) . '/../archive');
my $pqdir = abs_path(dirname(__FILE__) . '/../parquet');
ok(-d "$archdir/node_modules/s3rver", 's3rver and the SigV4 signer are installed (npm ci in test/archive)')
  or BAIL_OUT('npm ci in test/archive first (test/suites/archive.sh does)');
ok(-d "$pqdir/node_modules/\@duckdb/node-api", 'DuckDB is installed (npm ci in test/parquet)')
  or BAIL_OUT('npm ci in test/parquet first (test/suites/parquet.sh does)');

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $lake = "$tmp/lake";
my $secret = 'SECRET-S3-7hQ2xZ9pLmK4';
my $wrong = 'WRONG-S3-secret-5tR8';

my $node = PostgreSQL::Test::Cluster->new('archive');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'obs'
obs.write_path = 'transactional'
obs.aws_access_key_id = 'S3RVER'
obs.aws_secret_access_key = '$secret'
max_worker_processes = 16
timezone = 'UTC'
});
$node->start;
sub sql { return $node->safe_psql('postgres', $_[0]); }
sql('CREATE EXTENSION obs');

# ------------------------------------------------------------ the S3 server
my $s3 = IPC::Run::start(['node', "$archdir/s3-proxy.mjs"],
	'>', "$tmp/s3.out", '2>', "$tmp/s3.err",
	init => sub { $ENV{S3_SECRET} = $secret; $ENV{S3_DIR} = "$tmp/s3"; });
END { local $?; $s3->kill_kill if $s3 && $s3->pumpable; }
my $port;
for (1 .. 200)
{
	if (open(my $f, '<', "$tmp/s3.out"))
	{
		my $l = <$f>;
		close $f;
		if (defined $l && $l =~ /^(\d+)\n/) { $port = $1; last; }
	}
	usleep(50_000);
}
die 's3-proxy.mjs did not start: ' . slurp_file("$tmp/s3.err") unless $port;
my $endpoint = "http://127.0.0.1:$port";
sub stats { return decode_json(`curl -s -m 5 $endpoint/_stats`); }
sub control
{
	my ($path, $body) = @_;
	system('curl', '-s', '-m', '5', '-o', '/dev/null', '-XPOST', '-d', $body // '', "$endpoint$path") == 0
	  or die "control $path failed";
}
# the object as s3rver stores it, or undef
sub s3_object
{
	my $f = "$tmp/s3/lake/$_[0]._S3rver_object";
	return -f $f ? $f : undef;
}
sub sha256_file { my $d = Digest::SHA->new(256); $d->addfile($_[0]); return $d->hexdigest; }
# the multipart uploads in progress, as the server lists them: ["key uploadId", ...]
sub uploads { return [ map { "$_->{key} $_->{uploadId}" } @{ decode_json(`curl -s -m 5 $endpoint/_uploads`) } ]; }
# the TAP cluster has restart_after_crash off: after kill -9 of a backend the
# postmaster stops; start it again
sub start_again
{
	my $back = 0;
	for (1 .. 60)
	{
		usleep(500_000);
		$node->{_pid} = undef;
		last if ($back = $node->start(fail_ok => 1));
	}
	return $back;
}

# ------------------------------------------------------------ data
# partitions from 2026-11-01; 500 logs, spans and metric points a day on
# 11-01 and 11-02, kept aside to compare with what comes back
sql(q{SELECT count(*) FROM obs.run_maintenance('2026-11-01 12:00+00')});
sql(q{SELECT obs.set_partitioning(s, '1 day', 10) FROM unnest(ARRAY['logs', 'spans', 'metrics']) s});
sql(q{SELECT count(*) FROM obs.run_maintenance('2026-11-01 12:00+00')});
sql(q{
SELECT count(obs.info('log ' || g || ' ' || md5(g::text), ts => '2026-11-01 00:00+00'::timestamptz + g * interval '3 minutes'))
  FROM generate_series(0, 999) g;
SELECT count(obs.record_metric('arch.m', g, ts => '2026-11-01 00:00+00'::timestamptz + g * interval '3 minutes'))
  FROM generate_series(0, 999) g;
SELECT count(obs.record_span(lpad(to_hex(g + 1), 32, '0')::obs.trace_id, lpad(to_hex(g + 1), 16, '0')::obs.span_id,
                             NULL, 'op ' || g, 'CUSTOM', '2026-11-01 00:00+00'::timestamptz + g * interval '3 minutes',
                             '2026-11-01 00:00:01+00'::timestamptz + g * interval '3 minutes'))
  FROM generate_series(0, 999) g;
CREATE TABLE keep_logs AS SELECT * FROM obs.logs;
CREATE TABLE keep_spans AS SELECT * FROM obs.spans;
CREATE TABLE keep_points AS SELECT * FROM obs.metric_points;
});
is(sql(q{SELECT (SELECT count(*) FROM keep_logs) || ' ' || (SELECT count(*) FROM keep_spans) || ' ' || (SELECT count(*) FROM keep_points)}),
	'1000 1000 1000', 'two days of logs, spans and metric points');

# ------------------------------------------------------------ local lake
sql(qq{SELECT obs.set_archive(s, '$lake', '1 hour'), obs.set_retention(s, '1 day')
         FROM unnest(ARRAY['logs', 'spans', 'metrics']) s});
my $out = sql(q{SELECT signal || ' ' || action || ' ' || partition_name || ' ' || coalesce(row_count::text, '-')
                  FROM obs.run_maintenance('2026-11-03 12:00+00') WHERE action <> 'created'});
my %act;
for my $l (split /\n/, $out) { my @f = split / /, $l; $act{"$f[0] $f[1]"}++; }
is_deeply(\%act, { 'logs archived' => 2, 'spans archived' => 2, 'metrics archived' => 2,
		'logs dropped' => 1, 'spans dropped' => 1, 'metrics dropped' => 1 },
	'maintenance archived two days of each signal, then dropped the older day')
  or diag($out);
is(sql(q{SELECT string_agg(path || ' ' || row_count, ',' ORDER BY path) FROM obs.archived_partitions WHERE signal = 'logs'}),
	'signal=logs/date=2026-11-01/part-0.parquet 480,signal=logs/date=2026-11-02/part-0.parquet 480',
	'the logs files are in the Hive layout, with their rows recorded');
ok(-f "$lake/signal=$_/_manifest.json", "the $_ manifest exists") for qw(logs spans metrics);
my $manifest = decode_json(slurp_file("$lake/signal=logs/_manifest.json"));
is(scalar @{ $manifest->{files} }, 2, 'the logs manifest lists both files');
is($manifest->{files}[0]{sha256}, sha256_file("$lake/signal=logs/date=2026-11-01/part-0.parquet"),
	'the manifest has the file\'s SHA-256');
my @tmpfiles = grep { /\.tmp$/ } map { glob("$lake/signal=$_/*/.*") } qw(logs spans metrics);
is(scalar @tmpfiles, 0, 'no temporary file is left in the lake');

# DuckDB reads the Hive layout; its digest of each signal's keys is PostgreSQL's
my %key = (
	logs => ["log_id::VARCHAR || ':' || message || ':' || epoch_us(ts)::VARCHAR || ':' || level::VARCHAR",
		"log_id::text || ':' || message || ':' || (extract(epoch from ts) * 1000000)::bigint::text || ':' || level::text",
		'keep_logs', 'ts'],
	spans => ["span_seq::VARCHAR || ':' || operation || ':' || epoch_us(start_time)::VARCHAR || ':' || epoch_us(end_time)::VARCHAR",
		"span_seq::text || ':' || operation || ':' || (extract(epoch from start_time) * 1000000)::bigint::text || ':' || (extract(epoch from end_time) * 1000000)::bigint::text",
		'keep_spans', 'start_time'],
	metrics => ["series_id::VARCHAR || ':' || CAST(value AS BIGINT)::VARCHAR || ':' || epoch_us(ts)::VARCHAR",
		"series_id::text || ':' || value::bigint::text || ':' || (extract(epoch from ts) * 1000000)::bigint::text",
		'keep_points', 'ts'],
);
for my $s (qw(logs spans metrics))
{
	my ($duck, $pg, $table, $col) = @{ $key{$s} };
	my $json = `node $archdir/duckdb-hive.mjs '$lake' $s "$duck" 2>&1`;
	my $got = eval { decode_json($json) };
	ok($got, "DuckDB reads the $s archive with hive_partitioning") or diag($json);
	next unless $got;
	my $want = sql(qq{SELECT count(*) || ' ' || md5(coalesce(string_agg(k, '|' ORDER BY k COLLATE "C"), ''))
	                    FROM (SELECT $pg AS k FROM $table WHERE $col < '2026-11-03') x});
	is("$got->{rows} $got->{digest}", $want, "DuckDB's $s rows are the archived rows");
	is(join(',', @{ $got->{dates} }), '2026-11-01,2026-11-02', "DuckDB sees the $s date partitions");
	is(join(',', @{ $got->{signals} }), $s, "DuckDB sees the signal=$s partition");
}

# every file restores into PostgreSQL with every column equal
for my $s (['logs', 'obs.logs', 'keep_logs', 'ts'], ['spans', 'obs.spans', 'keep_spans', 'start_time'],
	['metrics', 'obs.metric_points', 'keep_points', 'ts'])
{
	my ($sig, $parent, $keep, $col) = @$s;
	sql(qq{CREATE TABLE back_$sig (LIKE $parent)});
	is(sql(qq{SELECT sum(obs.restore_archive('$lake/' || path, 'back_$sig')) FROM obs.archived_partitions WHERE signal = '$sig'}),
		'960', "the $sig files restore 960 rows");
	is(sql(qq{SELECT (SELECT count(*) FROM (SELECT * FROM back_$sig EXCEPT ALL SELECT * FROM $keep WHERE $col < '2026-11-03') a)
	             + (SELECT count(*) FROM (SELECT * FROM $keep WHERE $col < '2026-11-03' EXCEPT ALL SELECT * FROM back_$sig) b)}),
		'0', "the restored $sig equal the archived rows, every column");
}

# ------------------------------------------------------------ S3
# metrics: a single PUT; logs: a multipart upload (5 MB parts)
sql(qq{SELECT obs.set_archive('metrics', 's3://lake/obs/v1', '1 hour', endpoint => '$endpoint')});
sql(qq{SELECT obs.set_archive('logs', 's3://lake/obs/v1', '1 hour', endpoint => '$endpoint', part_size_mb => 5)});
sql(q{SELECT count(obs.record_metric('arch.m', g, ts => '2026-11-03 00:00+00'::timestamptz + g * interval '1 minute'))
        FROM generate_series(0, 99) g});
sql(q{SELECT count(obs.info(md5(g::text) || md5(g::text || 'b') || md5((g * 7)::text), ts => '2026-11-03 00:00+00'::timestamptz + g * interval '1 ms'))
        FROM generate_series(1, 150000) g});
control('/_reset');
$out = sql(q{SELECT signal || ' ' || action || ' ' || coalesce(row_count::text, '-')
               FROM obs.run_maintenance('2026-11-04 12:00+00') WHERE action = 'archived' AND signal <> 'spans'
              ORDER BY 1});
is($out, "logs archived 150040\nmetrics archived 140", 'the logs and metrics of 11-03 are archived to S3');
my $st = stats();
is($st->{rejected}, 0, 'the server verified every request\'s SigV4 signature, payload SHA-256 and Content-MD5')
  or diag(explain($st->{errors}));
ok((grep { m{^POST /lake/obs/v1/signal%3Dlogs/date%3D2026-11-03/part-0\.parquet\?uploads=$} } @{ $st->{requests} }),
	'the large file went as a multipart upload');
ok((grep { /partNumber=2&/ } @{ $st->{requests} }), 'in more than one part');
ok((grep { m{^PUT /lake/obs/v1/signal%3Dmetrics/date%3D2026-11-03/part-0\.parquet$} } @{ $st->{requests} }),
	'the small file went in one PUT');
ok((grep { m{^HEAD /lake/obs/v1/signal%3Dlogs/date%3D2026-11-03/part-0\.parquet$} } @{ $st->{requests} }),
	'each upload is confirmed with HEAD');
for my $s (qw(logs metrics))
{
	my $key = "obs/v1/signal=$s/date=2026-11-03/part-0.parquet";
	my $obj = s3_object($key);
	ok($obj, "the $s object is stored");
	is(sql(qq{SELECT sha256 || ' ' || bytes FROM obs.archived_partitions WHERE location = 's3://lake/obs/v1' AND path = 'signal=$s/date=2026-11-03/part-0.parquet'}),
		($obj ? sha256_file($obj) . ' ' . (-s $obj) : ''), "the $s object has the recorded SHA-256 and size");
	my $m = s3_object("obs/v1/signal=$s/_manifest.json");
	ok($m && decode_json(slurp_file($m))->{files}[0]{path} eq "signal=$s/date=2026-11-03/part-0.parquet",
		"the $s manifest on S3 lists the file");
}
# the multipart object restores every row
sql(q{CREATE TABLE back_big (LIKE obs.logs)});
is(sql(q{SELECT obs.restore_archive('} . s3_object('obs/v1/signal=logs/date=2026-11-03/part-0.parquet') . q{', 'back_big')}),
	'150040', 'the multipart object restores its 150040 rows');
is(sql(q{SELECT count(*) FROM (SELECT * FROM back_big EXCEPT ALL SELECT * FROM obs.logs_p20261103) d}), '0',
	'and they equal the partition\'s');

# ------------------------------------------------------------ failures keep the partition
sql(q{SELECT count(obs.record_metric('arch.m', g, ts => '2026-11-04 00:00+00'::timestamptz + g * interval '1 minute'))
        FROM generate_series(0, 99) g});
# a wrong secret: the server refuses the signature
$node->append_conf('postgresql.conf', "obs.aws_secret_access_key = '$wrong'");
$node->reload;
my $offset = -s $node->logfile;
control('/_reset');
$out = sql(q{SELECT action || ' ' || partition_name FROM obs.run_maintenance('2026-11-06 12:00+00')
              WHERE signal = 'metrics' AND action NOT IN ('created')});
is($out, "archive_failed obs.metric_points_p20261104\ndropped obs.metric_points_p20261103\nnot_archived obs.metric_points_p20261104",
	'a refused signature: the archive fails and the partition past retention is kept (the archived one before it is dropped)');
ok(stats()->{rejected} > 0 && (grep { /signature we calculated does not match/ } @{ stats()->{errors} }),
	'the server refused the signature made with the wrong secret');
is(sql(q{SELECT count(*) FROM obs.metric_points_p20261104}), '100', 'the partition keeps its rows');
my $log = slurp_file($node->logfile, $offset);
like($log, qr/could not archive partition obs\.metric_points_p20261104 of signal "metrics": could not upload archive object .* HTTP status 403/,
	'the server log says why');
$node->append_conf('postgresql.conf', "obs.aws_secret_access_key = '$secret'");
$node->reload;

# a failed upload (HTTP 500)
control('/_reset');
control('/_fail', '{"status": 500, "count": 1, "match": "signal%3Dmetrics/date%3D2026-11-04"}');
$out = sql(q{SELECT action || ' ' || partition_name FROM obs.run_maintenance('2026-11-06 12:00+00')
              WHERE signal = 'metrics' AND action NOT IN ('created')});
is($out, "archive_failed obs.metric_points_p20261104\nnot_archived obs.metric_points_p20261104",
	'a failed upload: the archive fails and the partition is kept');
is(sql(q{SELECT count(*) FROM obs.archived_partitions WHERE path LIKE 'signal=metrics/date=2026-11-04/%'}), '0',
	'nothing is recorded for it');
ok(!s3_object('obs/v1/signal=metrics/date=2026-11-04/part-0.parquet'), 'no object is stored for it');
$out = sql(q{SELECT action || ' ' || partition_name FROM obs.run_maintenance('2026-11-06 12:00+00')
              WHERE signal = 'metrics' AND action NOT IN ('created')});
is($out, "archived obs.metric_points_p20261104\narchived obs.metric_points_p20261105\ndropped obs.metric_points_p20261104",
	'the next run archives the partition (and the next one), then drops it');
ok(s3_object('obs/v1/signal=metrics/date=2026-11-04/part-0.parquet'), 'its object is stored');

# ------------------------------------------------------------ kill -9 during an upload
sub kill_during_upload
{
	my ($what, $match, $as_of, $partition, $key, $multipart) = @_;
	control('/_reset');
	control('/_stall', encode_json({ match => $match }));
	my $bg = IPC::Run::start(['psql', '-X', '-d', $node->connstr('postgres'), '-c',
			"SELECT * FROM obs.run_maintenance('$as_of')"], '>', "$tmp/bg.out", '2>', "$tmp/bg.err");
	my $stalled = 0;
	for (1 .. 600) { last if ($stalled = stats()->{stalled}) > 0; usleep(100_000); }
	ok($stalled, "$what: the upload is under way (the server holds it)");
	my $pid = sql(q{SELECT pid FROM pg_stat_activity WHERE query LIKE '%run_maintenance%' AND pid <> pg_backend_pid()});
	ok($pid =~ /^\d+$/, "$what: the archiving backend is found");
	kill 'KILL', $pid;
	$bg->finish;
	ok(start_again(), "$what: the server starts again after kill -9 of the archiving backend");
	ok(!s3_object($key), "$what: no object is visible");
	is(sql(qq{SELECT count(*) > 0 FROM $partition}), 't', "$what: the partition is kept with its rows");
	is(sql(qq{SELECT count(*) FROM obs.archived_partitions WHERE location = 's3://lake/obs/v1' AND path LIKE '%' || split_part('$key', 'v1/', 2)}),
		'0', "$what: nothing is recorded");
	my $pgdata = $node->data_dir;
	my @staged = glob("$pgdata/base/pgsql_tmp/pgsql_tmp_obs_archive_*");
	is(scalar @staged, 0, "$what: the staging file is gone (removed at the restart)");
	control('/_reset');
	my @left = grep { /^\Q$key\E / } @{ uploads() };
	is(scalar @left, $multipart ? 1 : 0,
		$multipart ? "$what: the crash left the upload unfinished (the server lists it)"
		  : "$what: no multipart upload is in progress");
	my $done = sql(qq{SELECT string_agg(action, ',') FROM obs.run_maintenance('$as_of') WHERE partition_name = '$partition'});
	like($done, qr/^archived/, "$what: the next run archives the partition");
	ok(s3_object($key), "$what: then its object is visible");
	is(join(',', grep { m{^obs/v1/signal=} && !m{/notes\.bin } } @{ uploads() }), '',
		"$what: and no upload of obs's is in progress any more (the server lists none)");
	if ($multipart)
	{
		(my $rel = $key) =~ s{^obs/v1/}{};
		like(slurp_file($node->logfile), qr/aborted the unfinished multipart upload of "\Q$rel\E" at "s3:\/\/lake\/obs\/v1", left by a crash/,
			"$what: the server log says which upload was aborted");
		is(scalar(grep { m{^obs/v1/signal=logs/notes\.bin } } @{ uploads() }), 1,
			"$what: an upload under the signal's prefix but not in obs's layout is left alone");
	}
}
sql(q{SELECT count(obs.record_metric('arch.m', g, ts => '2026-11-06 00:00+00'::timestamptz + g * interval '1 minute'))
        FROM generate_series(0, 99) g});
# a cancel stops a transfer in progress: the run ends, the partition stays
control('/_reset');
control('/_stall', '{"match": "signal%3Dmetrics/date%3D2026-11-06/part-0.parquet"}');
my $cbg = IPC::Run::start(['psql', '-X', '-d', $node->connstr('postgres'), '-c',
		"SELECT * FROM obs.run_maintenance('2026-11-07 12:00+00')"], '>', "$tmp/cancel.out", '2>', "$tmp/cancel.err",
	IPC::Run::timeout(120));
my $held = 0;
for (1 .. 600) { last if ($held = stats()->{stalled}) > 0; usleep(100_000); }
ok($held, 'cancel: the upload is under way (the server holds it)');
is(sql(q{SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%run_maintenance%' AND pid <> pg_backend_pid()}),
	'1', 'cancel: the archiving backend is sent a cancel');
# bounded: without the cancel check the transfer would wait for the server
my $ended = eval { $cbg->finish; 1 };
ok($ended, 'cancel: the run ends without waiting for the server');
$cbg->kill_kill unless $ended;
like(slurp_file("$tmp/cancel.err"), qr/canceling statement due to user request/, 'cancel: the run is canceled');
is(sql(q{SELECT count(*) FROM obs.metric_points_p20261106}), '100', 'cancel: the partition is kept');
ok(!s3_object('obs/v1/signal=metrics/date=2026-11-06/part-0.parquet'), 'cancel: no object is visible');

kill_during_upload('single PUT', 'signal%3Dmetrics/date%3D2026-11-06/part-0.parquet', '2026-11-07 12:00+00',
	'obs.metric_points_p20261106', 'obs/v1/signal=metrics/date=2026-11-06/part-0.parquet');
sql(q{SELECT count(obs.info(md5(g::text) || md5(g::text || 'b') || md5((g * 7)::text), ts => '2026-11-07 00:00+00'::timestamptz + g * interval '1 ms'))
        FROM generate_series(1, 150000) g});
# another tool's upload under the signal's prefix, not in obs's layout
my $empty_sha = Digest::SHA::sha256_hex('');
system('curl', '-s', '-m', '10', '-o', '/dev/null', '--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', "S3RVER:$secret",
	'-X', 'POST', '-H', "x-amz-content-sha256: $empty_sha", "$endpoint/lake/obs/v1/signal%3Dlogs/notes.bin?uploads=") == 0
  or die 'could not start the upload of notes.bin';
is(scalar(grep { m{^obs/v1/signal=logs/notes\.bin } } @{ uploads() }), 1, 'another tool\'s upload is in progress under signal=logs/');
kill_during_upload('multipart', 'partNumber=2&', '2026-11-08 12:00+00',
	'obs.logs_p20261107', 'obs/v1/signal=logs/date=2026-11-07/part-0.parquet', 1);

# ------------------------------------------------------------ kill -9 during a local write
# a partition of 1M logs (about 40 MB of Parquet) written to the server
# directory: the backend is killed while its temporary file is there
sql(qq{SELECT obs.set_archive('logs', '$lake', '1 hour')});
sql(q{INSERT INTO obs.logs (ts, level, logger, message, backend_pid)
      SELECT '2026-11-09 00:00+00'::timestamptz + g * interval '80 ms', 'INFO', 'kill9',
             md5(g::text) || md5(g::text || 'b') || md5((g * 7)::text), 1
        FROM generate_series(1, 1000000) g});
# the days before it first, so that the killed run has only 11-09 to write
sql(q{SELECT count(*) FROM obs.run_maintenance('2026-11-09 12:00+00')});
my $day = "$lake/signal=logs/date=2026-11-09";
my $manifest_before = slurp_file("$lake/signal=logs/_manifest.json");
my $lbg = IPC::Run::start(['psql', '-X', '-d', $node->connstr('postgres'), '-c',
		"SELECT * FROM obs.run_maintenance('2026-11-10 12:00+00')"], '>', "$tmp/local.out", '2>', "$tmp/local.err");
my ($tmpname, $lpid);
# bounded: at most 60 s, or until the run ends
for (my $t0 = time; !$tmpname && time - $t0 < 60 && $lbg->pumpable; )
{
	if (opendir(my $dh, $day))
	{
		($tmpname) = grep { /^\.obs-(\d+)-\d+-[0-9a-f]{8}\.tmp$/ } readdir $dh;
		closedir $dh;
	}
	$lpid = $1 if $tmpname && $tmpname =~ /^\.obs-(\d+)-/;
	usleep(2_000) unless $tmpname;
}
ok($tmpname, 'local kill -9: the partition is being written to a temporary file in the lake')
  or diag(slurp_file("$tmp/local.out") . slurp_file("$tmp/local.err"));
ok(!-e "$day/part-0.parquet", 'local kill -9: and not yet under its final name when the backend is killed');
kill 'KILL', $lpid if $lpid;
$lbg->finish;
ok(start_again(), 'local kill -9: the server starts again');
ok($tmpname && -f "$day/$tmpname", 'local kill -9: the crash left the temporary file');
opendir(my $dh9, $day) or die "no $day";
my @visible = grep { !/^\./ } readdir $dh9;
closedir $dh9;
is(join(',', @visible), '', 'local kill -9: no file is visible under a final name (no part-0.parquet, whole or half)');
is(slurp_file("$lake/signal=logs/_manifest.json"), $manifest_before, 'local kill -9: the manifest is unchanged');
unlike($manifest_before, qr/date=2026-11-09/, 'local kill -9: and lists nothing of 11-09');
is(sql(q{SELECT count(*) FROM obs.archived_partitions WHERE signal = 'logs' AND lower_bound = '2026-11-09'}), '0',
	'local kill -9: nothing is recorded in obs.archived_partitions');
is(sql(q{SELECT count(*) FROM obs.logs_p20261109}), '1000000', 'local kill -9: the partition is kept with all its rows');
$out = sql(q{SELECT action || ' ' || partition_name || ' ' || coalesce(row_count::text, '-')
               FROM obs.run_maintenance('2026-11-10 12:00+00') WHERE signal = 'logs' AND action <> 'created'});
like($out, qr/^archived obs\.logs_p20261109 1000000$/m, 'local kill -9: the next run archives the partition');
is(sql(q{SELECT sha256 || ' ' || bytes || ' ' || row_count FROM obs.archived_partitions WHERE signal = 'logs' AND lower_bound = '2026-11-09'}),
	(-f "$day/part-0.parquet" ? sha256_file("$day/part-0.parquet") . ' ' . (-s "$day/part-0.parquet") . ' 1000000' : 'no file'),
	'local kill -9: its file has the recorded SHA-256, size and rows');
like(slurp_file("$lake/signal=logs/_manifest.json"), qr{"path": "signal=logs/date=2026-11-09/part-0\.parquet"},
	'local kill -9: the manifest lists it');
my @tmp_left = grep { /\.tmp$/ } map { glob("$lake/signal=$_/.*"), glob("$lake/signal=$_/*/.*") } qw(logs spans metrics);
is(join(',', @tmp_left), '', 'local kill -9: no temporary file is left in the lake');

# a server that cannot list the uploads in progress (501, as s3rver itself
# answers): the cleanup is only a WARNING, the archive goes on
sql(q{SELECT count(obs.record_metric('arch.m', g, ts => '2026-11-10 00:00+00'::timestamptz + g * interval '1 minute'))
        FROM generate_series(0, 99) g});
control('/_reset');
control('/_fail', '{"status": 501, "count": 1, "match": "uploads="}');
$offset = -s $node->logfile;
is(sql(q{SELECT string_agg(action || ' ' || partition_name, ',') FROM obs.run_maintenance('2026-11-11 12:00+00')
          WHERE signal = 'metrics' AND action = 'archived'}),
	'archived obs.metric_points_p20261110', 'a failed listing of the uploads in progress: the partition is archived all the same');
like(slurp_file($node->logfile, $offset),
	qr/WARNING:  could not remove what a crash left of the archive of signal "metrics": could not list the multipart uploads under archive object "signal=metrics\/" at "s3:\/\/lake\/obs\/v1": HTTP status 501/,
	'a WARNING says the uploads could not be listed');

# ------------------------------------------------------------ a second database
# the signal's files at a location belong to the database that claimed it
# (signal=<s>/_owner.<system identifier>.<oid>.json); another database is
# refused, at set_archive and at archive time, and keeps its partitions
my $here = sql(q{SELECT (pg_control_system()).system_identifier || ':' || oid FROM pg_database WHERE datname = 'postgres'});
ok(-f "$lake/signal=logs/_owner." . ($here =~ s/:/./r) . '.json', 'the lake holds the owner file of this database for logs');
ok(s3_object('obs/v1/signal=metrics/_owner.' . ($here =~ s/:/./r) . '.json'), 'and the bucket its owner file for metrics');
sql('CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION obs');
my $there = $node->safe_psql('other', q{SELECT (pg_control_system()).system_identifier || ':' || oid FROM pg_database WHERE datname = 'other'});
for my $case (['directory', 'logs', "'$lake', '1 hour'"], ['S3', 'metrics', qq{'s3://lake/obs/v1', '1 hour', endpoint => '$endpoint'}])
{
	my ($where, $sig, $args) = @$case;
	my ($rc, $o, $err) = $node->psql('other', "SELECT obs.set_archive('$sig', $args)",
		extra_params => ['-v', 'VERBOSITY=verbose']);
	isnt($rc, 0, "$where: set_archive in another database is refused");
	like($err, qr/ERROR:  55006: archive location "[^"]+" belongs to another database/, "$where: with 55006 and the location");
	like($err, qr/DETAIL:  Its file "signal=$sig\/_owner\.[-0-9.]+\.json" gives the files of signal "$sig" there to database \Q$here\E; this is database \Q$there\E/,
		"$where: naming the database that owns the location");
	is($node->safe_psql('other', 'SELECT count(*) FROM obs.archive_config'), '0', "$where: nothing is stored");
}
ok(!-e "$lake/signal=logs/_owner." . ($there =~ s/:/./r) . '.json', 'directory: the refused database took its owner file back');
ok(!s3_object('obs/v1/signal=metrics/_owner.' . ($there =~ s/:/./r) . '.json'), 'S3: the refused database took its owner file back');
# at archive time: the rows set by hand, as a restore followed by an edit would
$node->safe_psql('other', qq{
SET obs.write_path = 'transactional';
SELECT count(*) FROM obs.run_maintenance('2026-10-01 12:00+00');
SELECT obs.set_partitioning(s, '1 day', 3) FROM unnest(ARRAY['logs', 'metrics']) s;
SELECT count(*) FROM obs.run_maintenance('2026-10-01 12:00+00');
SELECT count(obs.info('other ' || g, ts => '2026-10-01 00:00+00'::timestamptz + g * interval '1 minute')) FROM generate_series(1, 50) g;
SELECT count(obs.record_metric('other.m', g, ts => '2026-10-01 00:00+00'::timestamptz + g * interval '1 minute')) FROM generate_series(1, 50) g;
INSERT INTO obs.archive_config (signal, location, after, endpoint, database_id)
VALUES ('logs', '$lake', '1 hour', NULL, '$there'), ('metrics', 's3://lake/obs/v1', '1 hour', '$endpoint', '$there');
SELECT obs.set_retention(s, '1 hour') FROM unnest(ARRAY['logs', 'metrics']) s;
});
$offset = -s $node->logfile;
$out = $node->safe_psql('other', q{SELECT signal || ' ' || action || ' ' || partition_name FROM obs.run_maintenance('2026-10-02 12:00+00')
                                    WHERE action NOT IN ('created', 'dropped') ORDER BY 1});
is($out, "logs archive_failed obs.logs_p20261001\nlogs not_archived obs.logs_p20261001\n"
	. "metrics archive_failed obs.metric_points_p20261001\nmetrics not_archived obs.metric_points_p20261001",
	'at archive time: the other database archives nothing to either location and keeps the partitions past retention');
$log = slurp_file($node->logfile, $offset);
for my $sig (qw(logs metrics))
{
	like($log, qr/WARNING:  could not archive partition obs\.\w+_p20261001 of signal "$sig": archive location "[^"]+" belongs to another database\n[^\n]*DETAIL:  Its file "signal=$sig\/_owner\.[-0-9.]+\.json" gives the files of signal "$sig" there to database \Q$here\E/,
		"at archive time: the WARNING for $sig names the database that owns the location");
}
is($node->safe_psql('other', q{SELECT (SELECT count(*) FROM obs.logs_p20261001) || ' ' || (SELECT count(*) FROM obs.metric_points_p20261001)}),
	'50 50', 'at archive time: the partitions keep their rows');
ok(!-e "$lake/signal=logs/date=2026-10-01" && !s3_object('obs/v1/signal=metrics/date=2026-10-01/part-0.parquet'),
	'at archive time: no file of the other database is written');
is($node->safe_psql('other', 'SELECT count(*) FROM obs.archived_partitions'), '0', 'at archive time: nothing is recorded');

# ------------------------------------------------------------ credentials
$log = slurp_file($node->logfile);
unlike($log, qr/\Q$secret\E/, 'the secret never reaches the server log');
unlike($log, qr/\Q$wrong\E/, 'nor does the wrong one');
is(sql(qq{SELECT count(*) FROM obs.archive_config c WHERE c::text LIKE '%SECRET%' OR c::text LIKE '%S3RVER%'}), '0',
	'no credential is stored in obs.archive_config');

done_testing();
