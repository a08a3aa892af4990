#!/usr/bin/env bash
# test/suites/upgrade.sh: ALTER EXTENSION obs UPDATE from every released
# version gives exactly a fresh install of the current one, data intact.
#
# Runs against the throwaway cluster test/run.sh started.  For each older
# version V: a database gets obs V and data in every table, is upgraded, and
# then (1) its rows are what they were, (2) the extension's objects dump
# (pg_dump --schema-only) exactly as a fresh install's do, and (3) the
# pg_dump configuration (extconfig/extcondition) is the same.
#
# pg_dump prints only "CREATE EXTENSION" for an extension's members, so the
# comparison is made on throwaway copies whose member objects have been
# released from the extension (their pg_depend 'e' rows deleted): pg_dump then
# prints every table, index, function, view, type, grant and comment.
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" obs.control)
work=$(mktemp -d /tmp/obs-upgrade.XXXXXX)
trap 'rm -rf "$work"' EXIT

# what a database holds, per table, over the columns every version has
checksums() {
    "${PSQL[@]}" -d "$1" <<'SQL'
SELECT 'logs', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s|%s|%s', log_id, ts, level, logger, message, context), ',' ORDER BY log_id), '')) FROM obs.logs;
SELECT 'spans', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s|%s', trace_id, span_id, operation, status, tags), ',' ORDER BY span_seq), '')) FROM obs.spans;
SELECT 'metric_series', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s', series_id, name, kind, tags), ',' ORDER BY series_id), '')) FROM obs.metric_series;
SELECT 'metric_points', count(*), md5(coalesce(string_agg(format('%s|%s|%s', series_id, ts, value), ',' ORDER BY series_id, ts, value), '')) FROM obs.metric_points;
SELECT 'alert_rules', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s|%s', rule_name, metric_name, threshold, comparison, lookback), ',' ORDER BY rule_name), '')) FROM obs.alert_rules;
SELECT 'alerts', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s|%s', alert_id, metric_name, value, threshold, severity), ',' ORDER BY alert_id), '')) FROM obs.alerts;
SELECT 'flow_runs', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s', flow_run_id, flow_name, status, start_time), ',' ORDER BY flow_run_id), '')) FROM obs.flow_runs;
SELECT 'task_runs', count(*), md5(coalesce(string_agg(format('%s|%s|%s|%s', task_run_id, task_name, status, flow_run_id), ',' ORDER BY task_run_id), '')) FROM obs.task_runs;
SELECT 'dead_letters', count(*) FROM obs.dead_letters;
SQL
}

# the extension's objects as pg_dump prints them, and its dump configuration
schema_of() {
    local db=$1 copy="${1}_released"
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $copy" -c "CREATE DATABASE $copy TEMPLATE $db" || return 1
    "${PSQL[@]}" -d "$copy" >"$work/$db.config" <<'SQL' || return 1
SELECT extversion FROM pg_extension WHERE extname = 'obs';
SELECT c.oid::regclass, coalesce(e.extcondition[i], '')
  FROM pg_extension e, generate_subscripts(e.extconfig, 1) i
  JOIN pg_class c ON true
 WHERE e.extname = 'obs' AND c.oid = e.extconfig[i] ORDER BY c.oid::regclass::text;
SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'obs') ORDER BY 1;
DELETE FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'obs');
SQL
    pg_dump --schema-only -d "$copy" | grep -vE '^(-- Dumped (from|by)|\\(un)?restrict )' >"$work/$db.dump" || return 1
    "${PSQL[@]}" -d postgres -c "DROP DATABASE $copy"
}

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS obs_fresh" -c "CREATE DATABASE obs_fresh"
"${PSQL[@]}" -d obs_fresh -c "CREATE EXTENSION obs"
schema_of obs_fresh || not_ok "dump of a fresh $current install"

for script in sql/obs--*--"$current".sql; do
    from=$(basename "$script" .sql | sed 's/^obs--\(.*\)--.*$/\1/')
    db="obs_from_${from//./_}"
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    if "${PSQL[@]}" -d "$db" -c "CREATE EXTENSION obs VERSION '$from'" \
        -c "SET obs.write_path = 'transactional'" -f test/upgrade_data.sql >"$work/load.out" 2>&1; then
        ok "obs $from installs and takes data in every table"
    else
        cat "$work/load.out"; not_ok "obs $from installs and takes data in every table"; continue
    fi
    checksums "$db" >"$work/before"
    if "${PSQL[@]}" -d "$db" -c "ALTER EXTENSION obs UPDATE" >"$work/update.out" 2>&1 &&
        [ "$("${PSQL[@]}" -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'obs'")" = "$current" ]; then
        ok "ALTER EXTENSION obs UPDATE takes $from to $current"
    else
        cat "$work/update.out"; not_ok "ALTER EXTENSION obs UPDATE takes $from to $current"; continue
    fi
    checksums "$db" >"$work/after"
    if diff "$work/before" "$work/after" && ! grep -q '|0|' <(grep -v dead_letters "$work/before"); then
        ok "every row stored under $from is intact after the upgrade ($(tr '\n' ' ' <"$work/after" | cut -c1-60)...)"
    else
        not_ok "every row stored under $from is intact after the upgrade"
    fi
    if schema_of "$db" && diff -u "$work/obs_fresh.config" "$work/$db.config"; then
        ok "$from upgraded: the same members and dump configuration as a fresh $current install"
    else
        not_ok "$from upgraded: the same members and dump configuration as a fresh $current install"
    fi
    if diff -u "$work/obs_fresh.dump" "$work/$db.dump"; then
        ok "$from upgraded: pg_dump --schema-only of its objects equals a fresh $current install's ($(wc -l <"$work/$db.dump") lines)"
    else
        not_ok "$from upgraded: pg_dump --schema-only of its objects equals a fresh $current install's"
    fi
    # the rollups are off after the update, as in a fresh install, and
    # obs.enable_rollups() builds them from the runs stored before (every
    # hour of every name and status counts its runs; all_time counts them
    # all); then off again
    if "${PSQL[@]}" -d "$db" -c "SELECT 1/((SELECT count(*) FROM obs.task_run_rollup) = 0
                                         AND NOT EXISTS (SELECT FROM obs.health_rollups))::int" \
        -c "SELECT 1/obs.enable_rollups()::int" -c "
        SELECT 1/(count(*) > 0 AND bool_and(r.runs = (SELECT count(*) FROM obs.task_runs t
                                                       WHERE t.task_name = r.task_name AND t.status = r.status
                                                         AND (r.all_time OR t.start_time >= r.bucket
                                                              AND t.start_time < r.bucket + interval '1 hour')))
                  AND sum(r.runs) FILTER (WHERE r.all_time) = (SELECT count(*) FROM obs.task_runs))::int
          FROM obs.task_run_rollup r" \
        -c "SELECT 1/((SELECT sum(runs) FROM obs.flow_run_rollup WHERE all_time) = (SELECT count(*) FROM obs.flow_runs))::int" \
        -c "SELECT 1/obs.disable_rollups()::int" \
        -c "SELECT 1/((SELECT count(*) FROM obs.task_run_rollup) = 0)::int" \
        >/dev/null 2>&1; then
        ok "$from upgraded: rollups off; obs.enable_rollups() puts the runs stored before in them"
    else
        not_ok "$from upgraded: rollups off; obs.enable_rollups() puts the runs stored before in them"
    fi
    # the upgraded database keeps working
    if "${PSQL[@]}" -d "$db" -c "SET obs.write_path = 'transactional'" \
        -c "SELECT obs.info('after upgrade', logger => 'upgrade')" \
        -c "SELECT 1/(count(*) = 1)::int FROM obs.logs WHERE logger = 'upgrade'" >/dev/null 2>&1; then
        ok "$from upgraded: obs.info() writes a log"
    else
        not_ok "$from upgraded: obs.info() writes a log"
    fi
    "${PSQL[@]}" -d postgres -c "DROP DATABASE $db"

    # grants survive the functions the update drops and creates again
    # (obs.log .. obs.critical): a grant_writer() role keeps EXECUTE, and
    # gets obs.record_span() as it had obs.finish_span(); PUBLIC gets nothing
    gdb="obs_grants_${from//./_}"
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $gdb" -c "CREATE DATABASE $gdb" \
        -c "DROP ROLE IF EXISTS obs_upgrade_writer" -c "CREATE ROLE obs_upgrade_writer" \
        -c "DROP ROLE IF EXISTS obs_upgrade_nobody" -c "CREATE ROLE obs_upgrade_nobody"
    got=$("${PSQL[@]}" -d "$gdb" -c "CREATE EXTENSION obs VERSION '$from'" \
        -c "SELECT obs.grant_writer('obs_upgrade_writer')" -c "ALTER EXTENSION obs UPDATE" -c "
        SELECT r, string_agg(p.proname || '=' || has_function_privilege(r, p.oid, 'EXECUTE'), ',' ORDER BY p.proname)
          FROM unnest(ARRAY['obs_upgrade_writer', 'obs_upgrade_nobody']) r,
               pg_proc p
         WHERE p.pronamespace = 'obs'::regnamespace
           AND p.proname IN ('log', 'debug', 'info', 'warning', 'error', 'critical', 'record_span')
         GROUP BY r ORDER BY r" 2>&1 | grep '^obs_upgrade')
    want="obs_upgrade_nobody|critical=false,debug=false,error=false,info=false,log=false,record_span=false,warning=false
obs_upgrade_writer|critical=true,debug=true,error=true,info=true,log=true,record_span=true,warning=true"
    if [ "$got" = "$want" ]; then
        ok "$from upgraded: grant_writer()'s EXECUTE on obs.log .. obs.critical is kept, and extends to obs.record_span"
    else
        echo "$got"; not_ok "$from upgraded: grant_writer()'s EXECUTE on obs.log .. obs.critical is kept, and extends to obs.record_span"
    fi
    "${PSQL[@]}" -d postgres -c "DROP DATABASE $gdb" -c "DROP ROLE obs_upgrade_writer" -c "DROP ROLE obs_upgrade_nobody"
done
"${PSQL[@]}" -d postgres -c "DROP DATABASE obs_fresh"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
