#!/usr/bin/env bash
# test/suites/parquet_read.sh: COPY ... FROM ... (FORMAT parquet) on files
# DuckDB writes for the same schemas, and on mutated files (fuzz).
#
# Runs against the throwaway cluster test/run.sh started (PGHOST, PGPORT and
# PGUSER exported), in its own database.  Uses the readers of
# test/parquet/package-lock.json (installed by test/suites/parquet.sh, or
# here when missing); test/parquet/read_back.mjs does the work.  Prints
# "ok"/"not ok" lines and, last, "N passed, N failed".
#
# Knobs (environment): OBS_PQ_SEED, OBS_PQ_FUZZ_CASES.
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

if [ ! -d test/parquet/node_modules ]; then
    log=$(mktemp)
    if (cd test/parquet && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
        ok "npm ci in test/parquet installs the readers"
    else
        cat "$log"
        not_ok "npm ci in test/parquet installs the readers"
        rm -f "$log"
        finish
    fi
    rm -f "$log"
fi

db=obs_parquet_read
dir=$(mktemp -d /tmp/obs-parquet-read.XXXXXX)
chmod 777 "$dir"
trap 'rm -rf "$dir"; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT

# obs loaded in every session, so that the COPY hook is there
export PGOPTIONS="${PGOPTIONS:-} -c session_preload_libraries=obs"
if psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null &&
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION obs' >/dev/null; then
    ok "a database with obs for the read-back checks"
else
    not_ok "a database with obs for the read-back checks"
    finish
fi

out=$(PGDATABASE=$db OBS_PQ_DIR="$dir" timeout "${OBS_PQ_TIMEOUT_S:-600}" node test/parquet/read_back.mjs 2>&1)
rc=$?
echo "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
if [ -n "$line" ]; then
    passed=$((passed + $(echo "$line" | awk '{print $1}')))
    failed=$((failed + $(echo "$line" | awk '{print $3}')))
fi
if [ -z "$line" ] || { [ "$rc" -ne 0 ] && [ "$(echo "$line" | awk '{print $3}')" = 0 ]; }; then
    not_ok "test/parquet/read_back.mjs ran to completion (exit $rc)"
fi
finish
