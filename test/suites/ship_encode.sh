#!/usr/bin/env bash
# test/suites/ship_encode.sh: the shipping encoders checked by the
# ecosystem's reference code.
#
# Runs against the throwaway cluster test/run.sh started (PGHOST, PGPORT and
# PGUSER exported).  Installs the packages of test/ship/package-lock.json
# (@opentelemetry/otlp-transformer's generated OTLP protobuf definitions,
# @smithy/signature-v4, @aws-crypto/sha256-js and @elastic/elasticsearch)
# when they are missing; then test/ship/verify.mjs decodes obs.otlp_payload() output in
# JSON and protobuf and compares it with the stored rows, checks
# obs.cloudwatch_payloads() against the PutLogEvents limits, and checks
# test/ship/cloudwatch-receiver.mjs with requests signed by curl
# --aws-sigv4; test/ship/es-client-check.mjs runs the official
# Elasticsearch client (@elastic/elasticsearch: bulk() and helpers.bulk())
# against the Elasticsearch test receiver.  Prints "ok"/"not ok" lines and, last, "N passed, N failed";
# exits non-zero when anything failed.
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

if [ ! -d test/ship/node_modules/@elastic/elasticsearch ] || [ ! -d test/ship/node_modules/@opentelemetry/otlp-transformer ]; then
    log=$(mktemp)
    if (cd test/ship && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
        ok "npm ci in test/ship installs the reference decoders, the SigV4 signer and the Elasticsearch client"
    else
        cat "$log"
        not_ok "npm ci in test/ship installs the reference decoders, the SigV4 signer and the Elasticsearch client"
        rm -f "$log"
        finish
    fi
    rm -f "$log"
fi

run_script() {   # a node script that ends with "N passed, N failed"
    local out rc line
    out=$(timeout "${OBS_SHIP_TIMEOUT_S:-600}" node "$1" 2>&1)
    rc=$?
    echo "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
    line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -n "$line" ]; then
        passed=$((passed + $(echo "$line" | awk '{print $1}')))
        failed=$((failed + $(echo "$line" | awk '{print $3}')))
    fi
    if [ -z "$line" ] || { [ "$rc" -ne 0 ] && [ "$(echo "$line" | awk '{print $3}')" = 0 ]; }; then
        not_ok "$1 ran to completion (exit $rc)"
    fi
}
run_script test/ship/verify.mjs
run_script test/ship/es-client-check.mjs
finish
