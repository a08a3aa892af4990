#!/usr/bin/env bash
# test/suites/dump.sh: a logical backup (pg_dump -Fc, pg_restore into a new
# database) keeps every row of every obs table and the position of every obs
# sequence, so that writing after the restore collides with nothing.
#
# Runs against the throwaway cluster test/run.sh started.  The source
# database gets logs, spans, metrics, flow and task runs, alert rules,
# alerts (one acknowledged) and a dead letter, plus a GRANT and a user index
# on obs.logs' default partition (README, Backups: an index on the
# partitioned obs.logs itself would stop pg_restore); obs.run_maintenance() makes time partitions (not members of
# the extension: dumped as tables) and moves the rows into them, and one
# row per signal is left in each default partition (a member, whose rows
# are dumped as configuration), and a retention setting in
# obs.partition_config, an archive in obs.archive_config and a file of it in
# obs.archived_partitions.  After the round trip each table must have the same rows
# (count and an md5 over every column of every row) and each sequence the
# same position; then every kind of row is written once more.  The README
# (Operations, Backups) says what pg_dump keeps of changes made to obs's
# tables; the last checks hold it to that.
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)
work=$(mktemp -d /tmp/obs-dump.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
src=obs_dump_src
dst=obs_dump_dst

# every row of every obs table (all columns, in a fixed order) and every
# obs sequence's position.  The rollups of spans and logs are derived and
# not dumped: a tick first (the restored database's first builds them
# from the rows), and their state (a snapshot of this cluster) is left out.
contents() {
    "${PSQL[@]}" -d "$1" <<'SQL'
SELECT count(*) FROM obs.refresh_rollups() \g /dev/null
CREATE FUNCTION pg_temp.rows_of(r regclass, OUT n bigint, OUT h text) LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT count(*), md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), '''')) FROM %s t', r)
       INTO n, h;
END $$;
SELECT c.relname, x.n, x.h
  FROM pg_class c, pg_temp.rows_of(c.oid) x
 WHERE c.relnamespace = 'obs'::regnamespace AND c.relkind = 'r' AND c.relname <> 'rollup_state'
 ORDER BY c.relname;
SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'obs' ORDER BY 1;
SQL
}

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $src" -c "DROP DATABASE IF EXISTS $dst" \
    -c "DROP ROLE IF EXISTS regress_obs_dump_reader" -c "CREATE ROLE regress_obs_dump_reader" \
    -c "CREATE DATABASE $src"
if "${PSQL[@]}" -d "$src" -c "CREATE EXTENSION obs" \
    -c "SET obs.write_path = 'transactional'" -f test/upgrade_data.sql \
    -c "SELECT obs.acknowledge_alert(min(alert_id)) FROM obs.alerts" \
    -c "SELECT obs.enable_rollups()" \
    -c "SELECT obs.grant_reader('regress_obs_dump_reader')" \
    -c "SELECT obs.setup_logging_to_elk('127.0.0.1', 9200, max_retries => 3)" \
    -c "INSERT INTO obs.ship_dead_letters (sink, signal, status, response, row_ids) VALUES ('dump', 'logs', 400, 'refused', '{1,2}')" \
    -c "CREATE INDEX regress_user_logs_logger_idx ON obs.logs_default (logger)" \
    -c "SELECT obs.set_retention('metrics', '400 days')" \
    -c "SELECT count(*) FROM obs.run_maintenance('2026-11-30 12:00+00')" \
    -c "SELECT obs.info('stray', ts => '1999-01-01 00:00+00'), obs.record_span(obs.new_trace_id(), obs.new_span_id(), NULL, 'stray', 'CUSTOM', '1999-01-01', '1999-01-01')" \
    -c "SELECT obs.record_metric('stray', 1, ts => '1999-01-01 00:00+00')" \
    -c "INSERT INTO obs.alerts (metric_name, series_id, tags, observed_at, value, threshold, comparison, severity) SELECT 'stray', series_id, '{}', '1999-01-01', 1, 0, 'greater', 'warning' FROM obs.metric_series WHERE name = 'stray'" \
    -c "SELECT obs.set_archive('spans', 's3://dump-lake/obs', '400 days', endpoint => 'http://127.0.0.1:9')" \
    -c "INSERT INTO obs.archived_partitions (location, path, signal, lower_bound, upper_bound, row_count, bytes, sha256, archived_at, dropped_at) VALUES ('s3://dump-lake/obs', 'signal=spans/date=2026-10-01/part-0.parquet', 'spans', '2026-10-01', '2026-10-02', 10, 1000, repeat('ab', 32), '2026-10-03', '2026-10-04')" \
    >"$work/load.out" 2>&1; then
    ok "a database with rows in every obs table"
else
    cat "$work/load.out"; not_ok "a database with rows in every obs table"
fi
contents "$src" >"$work/before"
if grep -E '^[a-z_]+\|0\|' "$work/before"; then
    not_ok "the source database has rows in every obs table"
else
    ok "the source database has rows in every obs table ($(grep -c '|' "$work/before") tables and sequences)"
fi

if pg_dump -Fc -d "$src" -f "$work/obs.dump" 2>"$work/dump.err" &&
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $dst" &&
    pg_restore --exit-on-error -d "$dst" "$work/obs.dump" 2>"$work/restore.err"; then
    ok "pg_dump -Fc and pg_restore into a new database"
else
    cat "$work/dump.err" "$work/restore.err"; not_ok "pg_dump -Fc and pg_restore into a new database"
fi
# the restored database has no rollup state (a snapshot of the source
# cluster would hide its own new rows): its figures read the tables until
# its first tick, which contents() runs; the rollups then equal the source's
if [ "$("${PSQL[@]}" -d "$dst" -c "SELECT count(*) FROM obs.rollup_state")" = 0 ]; then
    ok "rollups of spans and logs: no state restored; the first tick rebuilds them"
else
    not_ok "rollups of spans and logs: no state restored; the first tick rebuilds them"
fi
contents "$dst" >"$work/after"
while IFS='|' read -r rel n h; do
    [ -z "$h" ] && continue   # sequences, compared below
    line=$(grep -E "^$rel\|" "$work/after")
    if [ "$line" = "$rel|$n|$h" ]; then
        ok "obs.$rel restored: $n rows, same content"
    else
        not_ok "obs.$rel restored: $n rows expected, got ${line:-nothing}"
    fi
done <"$work/before"
if diff <(grep -E '_seq\|' "$work/before") <(grep -E '_seq\|' "$work/after"); then
    ok "every obs sequence restored at its position ($(grep -cE '_seq\|' "$work/before") sequences)"
else
    not_ok "every obs sequence restored at its position"
fi

# writing after the restore: every table with a generated key takes a new row
if "${PSQL[@]}" -d "$dst" >"$work/write.out" 2>&1 <<'SQL'
SET obs.write_path = 'transactional';
SELECT obs.info('after restore', logger => 'restore');
SELECT obs.finish_span(obs.start_span('after restore'));
SELECT obs.record_metric('restore.new_series', 1000, ts => '2026-11-30 12:00:30+00');
SELECT obs.add_alert_rule('restore_rule', 'restore.new_series', 10, 'greater', '10 years');
SELECT count(*) FROM obs.evaluate_alert_rules('2026-11-30 12:05:00+00');
INSERT INTO obs.dead_letters (signal, record, reason) VALUES ('log', '{"y": 2}', 'after restore');
SQL
then
    ok "after the restore, a log, a span, a new series, an alert rule, an alert and a dead letter are written"
else
    cat "$work/write.out"; not_ok "after the restore, new rows are written without a duplicate key"
fi
new_ids=$("${PSQL[@]}" -d "$dst" -c "
    SELECT (SELECT count(*) FROM obs.logs WHERE logger = 'restore')
         + (SELECT count(*) FROM obs.spans WHERE operation = 'after restore')
         + (SELECT count(*) FROM obs.metric_series WHERE name = 'restore.new_series')
         + (SELECT count(*) FROM obs.alerts WHERE rule_name = 'restore_rule')
         + (SELECT count(*) FROM obs.dead_letters WHERE reason = 'after restore')")
[ "$new_ids" = 5 ] && ok "the five new rows are there" || not_ok "the five new rows are there (got $new_ids)"

# what pg_dump keeps of a DBA's changes to obs's tables (README, Operations)
kept=$("${PSQL[@]}" -d "$dst" -c "
    SELECT has_table_privilege('regress_obs_dump_reader', 'obs.logs', 'SELECT'),
           has_function_privilege('regress_obs_dump_reader', 'obs.ingest_stats()', 'EXECUTE'),
           to_regclass('obs.regress_user_logs_logger_idx') IS NULL")
if [ "$kept" = "t|t|t" ]; then
    ok "as documented: grants on obs's objects are restored, an index added to obs.logs_default is not"
else
    not_ok "as documented: grants on obs's objects are restored, an index added to obs.logs_default is not (got $kept)"
fi

# the archive belongs to the source database: the restored copy of
# obs.archive_config archives nothing (it would write the source's files)
# until obs.set_archive() runs in the copy; the sink's max_retries came along
arch_src=$("${PSQL[@]}" -d "$src" -c "SELECT count(*) FROM obs.run_maintenance('2026-11-30 12:00+00') WHERE action LIKE 'archive%'" 2>"$work/arch.err")
arch_dst=$("${PSQL[@]}" -d "$dst" -c "SELECT string_agg(signal || ' ' || action, ',') FROM obs.run_maintenance('2026-11-30 12:00+00') WHERE action LIKE 'archive%'" 2>"$work/arch.err")
retries=$("${PSQL[@]}" -d "$dst" -c "SELECT string_agg(max_retries::text, ',') FROM obs.sinks")
if [ "$arch_src" = 0 ] && [ "$arch_dst" = "spans archive_failed" ] && [ "$retries" = 3 ]; then
    ok "the restored archive setting does not archive in the copy; a sink's max_retries is restored"
else
    not_ok "the restored archive setting does not archive in the copy (source: $arch_src, copy: $arch_dst, max_retries: $retries)"
fi

"${PSQL[@]}" -d postgres -c "DROP DATABASE $src" -c "DROP DATABASE $dst" -c "DROP ROLE regress_obs_dump_reader"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
