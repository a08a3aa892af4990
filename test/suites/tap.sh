#!/usr/bin/env bash
# test/suites/tap.sh: the TAP tests (test/t/*.pl) against the installed obs.
# They start their own clusters with obs in shared_preload_libraries.
# initdb refuses to run as root, so prove runs as the postgres user on a
# copy of the tree it can write to.  Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

W=$(mktemp -d /tmp/obs-tap.XXXXXX)
trap 'rm -rf "$W"' EXIT
cp -r Makefile sql src test expected "$W"/
[ -e obs.control ] && cp obs.control "$W"/
chown -R postgres: "$W"

out="$W/prove.out"
runuser -u postgres -- make -C "$W" -s installcheck REGRESS= PROVE_FLAGS=--verbose ${PROVE_TESTS:+PROVE_TESTS="$PROVE_TESTS"} >"$out" 2>&1
rc=$?
grep -vE '^\s*(ok|not ok) [0-9]' "$out" | grep -E '^(t/|test/|Files=|Result:|All tests|Failed|  )' || true
grep -E '^\s*not ok [0-9]' "$out" || true
p=$(grep -cE '^\s*ok [0-9]' "$out" || true)
f=$(grep -cE '^\s*not ok [0-9]' "$out" || true)
if [ "$rc" -ne 0 ]; then
    echo "--- prove output (tail)"
    tail -n 40 "$out"
    rm -rf /tmp/obs-tap-failed && cp -r "$W"/tmp_check/log /tmp/obs-tap-failed 2>/dev/null
    echo "--- logs kept in /tmp/obs-tap-failed"
    [ "$f" -eq 0 ] && f=1
fi
echo "$p passed, $f failed"
[ "$rc" -eq 0 ] && [ "$f" -eq 0 ]
