#!/usr/bin/env bash
# test/suites/grafana.sh: every query of dashboards/grafana/obs.json runs.
#
# Runs against the throwaway cluster test/run.sh started (PGHOST etc.
# exported).  Grafana is not installed: test/grafana/run.py expands the
# dashboard's variables and macros as Grafana's PostgreSQL data source
# does, runs each query as a role given obs.grant_reader() against 120k
# rows per big table (test/grafana/seed.sql), and checks that it returns
# rows (times first for time series) and reads the big tables through an
# index (auto_explain, EXPLAIN (FORMAT JSON) of every statement).
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
db=obs_grafana
role=obs_grafana_reader
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" -c "CREATE ROLE $role" >/dev/null
if ! psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION obs" -f test/grafana/seed.sql \
        -c "SELECT obs.grant_reader('$role')" >/tmp/obs-grafana-seed.$$ 2>&1; then
    cat /tmp/obs-grafana-seed.$$
    rm -f /tmp/obs-grafana-seed.$$
    echo "not ok - 120k rows per big table are seeded"
    echo "0 passed, 1 failed"
    exit 1
fi
rm -f /tmp/obs-grafana-seed.$$
echo "ok - 120k rows per big table are seeded"

# an hour of the seeded day, as Grafana's time picker sends it
python3 test/grafana/run.py dashboards/grafana/obs.json "$db" "$role" 2024-01-01T10:00:00Z 2024-01-01T11:00:00Z \
    | sed -e "s/^\([0-9]*\) passed, \([0-9]*\) failed$/# run.py: \1 passed, \2 failed/" >/tmp/obs-grafana.$$
rc=${PIPESTATUS[0]}
cat /tmp/obs-grafana.$$
passed=$(($(grep -c '^ok - ' /tmp/obs-grafana.$$)))
failed=$(($(grep -c '^not ok - ' /tmp/obs-grafana.$$)))
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
rm -f /tmp/obs-grafana.$$
passed=$((passed + 1))

psql -X -q -d postgres -c "DROP DATABASE $db" -c "DROP OWNED BY $role" -c "DROP ROLE $role" >/dev/null 2>&1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
