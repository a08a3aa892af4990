#!/usr/bin/env bash
# test/suites/parquet.sh: the Parquet writer checked by independent readers.
#
# Runs against the throwaway cluster test/run.sh started (PGHOST, PGPORT and
# PGUSER exported).  Installs the readers of test/parquet/package-lock.json
# (DuckDB, parquet-wasm = arrow-rs, hyparquet) when node_modules is missing,
# then test/parquet/verify.mjs exports fixtures and random tables with
# COPY ... (FORMAT parquet) and compares what each reader reads with
# PostgreSQL's own values.  Prints "ok"/"not ok" lines and, last,
# "N passed, N failed"; exits non-zero when anything failed.
#
# Knobs (environment): OBS_PQ_SEED, OBS_PQ_FUZZ (tables), OBS_PQ_ONLY
# (regex over check groups), OBS_PQ_BUDGET_S; OBS_PQ_WRITER=duckdb runs the
# harness against files DuckDB writes (a self-test of the comparisons).
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

PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d postgres)

# 1. readers from npm, pinned by the committed lock file
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

# 2. a directory the server (user postgres) can write, read back as root
dir=$(mktemp -d /tmp/obs-parquet.XXXXXX)
chmod 777 "$dir"
trap 'rm -rf "$dir"' EXIT

# 3. obs loaded in every session the harness opens
if [ "${OBS_PQ_WRITER:-obs}" = obs ]; then
    if ! "${PSQL[@]}" -c 'CREATE EXTENSION IF NOT EXISTS obs' >/dev/null 2>&1; then
        echo "# CREATE EXTENSION obs failed; falling back to LOAD 'obs' in every session"
        export PGOPTIONS="${PGOPTIONS:-} -c session_preload_libraries=obs"
    fi
    probe="$dir/probe.parquet"
    if ! "${PSQL[@]}" -c "COPY (SELECT 1 AS x) TO '$probe' WITH (FORMAT parquet)" >/dev/null 2>&1; then
        echo "# COPY ... (FORMAT parquet) is not available in a new session; preloading obs per session"
        export PGOPTIONS="${PGOPTIONS:-} -c session_preload_libraries=obs"
    fi
    if "${PSQL[@]}" -c "COPY (SELECT 1 AS x) TO '$probe' WITH (FORMAT parquet)" >/dev/null 2>&1 &&
        [ "$(head -c 4 "$probe")" = PAR1 ]; then
        ok "COPY (SELECT 1) TO '.../probe.parquet' WITH (FORMAT parquet) writes a file starting with PAR1"
    else
        "${PSQL[@]}" -c "COPY (SELECT 1 AS x) TO '$probe' WITH (FORMAT parquet)" 2>&1 | sed 's/^/# /'
        not_ok "COPY (SELECT 1) TO '.../probe.parquet' WITH (FORMAT parquet) writes a file starting with PAR1"
        finish
    fi
fi

# 4. the readers' verdicts
out=$(OBS_PQ_DIR="$dir" timeout "${OBS_PQ_TIMEOUT_S:-600}" node test/parquet/verify.mjs 2>&1)
rc=$?
echo "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
if [ -n "$line" ]; then
    passed=$((passed + $(echo "$line" | awk '{print $1}')))
    failed=$((failed + $(echo "$line" | awk '{print $3}')))
fi
if [ -z "$line" ] || { [ "$rc" -ne 0 ] && [ "$(echo "$line" | awk '{print $3}')" = 0 ]; }; then
    not_ok "test/parquet/verify.mjs ran to completion (exit $rc)"
fi
finish
