#!/usr/bin/env bash
# test/suites/python.sh: the Python client (clients/python, package
# obs_client) against the throwaway cluster test/run.sh started (PGHOST,
# PGPORT, PGUSER and PGDATA exported).
#
# Makes database obs_python with obs, installs the Node Parquet readers the
# tests compare files with (as parquet.sh does) when missing, and runs the
# pytest suite clients/python/tests with Debian's python3 (python3-psycopg,
# python3-psycopg-pool, python3-pandas, python3-pytest).  One test restarts
# the cluster (pg_ctl restart as user postgres).  Prints pytest's summary,
# then "N passed, N failed" derived from it; pytest finding no tests (exit
# 5) or ending without a summary is a failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib.sh
export OBS_PG_BIN
PY=/usr/bin/python3

finish() {
    echo "$1 passed, $2 failed"
    [ "$2" -eq 0 ]
    exit
}

if ! "$PY" -c 'import psycopg, pytest, pandas' 2>/dev/null; then
    echo "# Debian's python3-psycopg, python3-pytest and python3-pandas are needed (test/lib.sh obs_install_deps)"
    finish 0 1
fi

if [ ! -d test/parquet/node_modules ]; then
    if ! (cd test/parquet && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >/dev/null 2>&1; then
        echo "# npm ci in test/parquet failed: the Parquet readers are missing"
        finish 0 1
    fi
fi

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
psql -X -q -v ON_ERROR_STOP=1 -d postgres \
    -c "DROP DATABASE IF EXISTS obs_python" -c "CREATE DATABASE obs_python" >/dev/null || finish 0 1
psql -X -q -v ON_ERROR_STOP=1 -d obs_python -c "CREATE EXTENSION obs" >/dev/null || finish 0 1
export PGDATABASE=obs_python
unset OBS_DSN

out=$(mktemp)

timeout "${OBS_PY_TIMEOUT_S:-900}" "$PY" -m pytest -p no:cacheprovider -q -rfE \
    clients/python/tests >"$out" 2>&1
rc=$?

cat "$out"
summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$out" | tail -n 1)
rm -f "$out"
passed=$(echo "$summary" | grep -oE '[0-9]+ passed' | awk '{print $1}')
failed=$(echo "$summary" | grep -oE '[0-9]+ failed' | awk '{print $1}')
errors=$(echo "$summary" | grep -oE '[0-9]+ errors?' | awk '{print $1}')
passed=${passed:-0}
failed=$(( ${failed:-0} + ${errors:-0} ))
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS obs_python" >/dev/null 2>&1
if [ "$rc" -eq 5 ]; then
    echo "# pytest collected no tests"
    finish "$passed" $((failed + 1))
fi
if [ -z "$summary" ] || { [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
    echo "# pytest ended without a usable summary (exit $rc)"
    finish "$passed" $((failed + 1))
fi
finish "$passed" "$failed"
