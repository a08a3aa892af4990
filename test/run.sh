#!/usr/bin/env bash
# The whole obs test suite: installs what it needs, builds, starts a
# throwaway cluster, runs every suite, stops the cluster.  Exits non-zero
# when anything fails and ends with a "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh

obs_install_deps
obs_take_install_lock
obs_build_install
trap obs_cluster_stop EXIT
obs_cluster_start

passed=0
failed=0

# 1. pg_regress: test/sql/*.sql against expected/*.out
rm -f regression.diffs regression.out
set +e
# TAP_TESTS= : the TAP tests need another user and run in test/suites/tap.sh
make -s installcheck TAP_TESTS= >/tmp/obs-regress.$$ 2>&1
rc=$?
set -e
cat /tmp/obs-regress.$$
p=$(grep -cE '\.\.\. ok|^ok ' /tmp/obs-regress.$$ || true)
f=$(grep -cE '\.\.\. FAILED|^not ok ' /tmp/obs-regress.$$ || true)
rm -f /tmp/obs-regress.$$
if [ "$rc" -ne 0 ]; then
    [ -f regression.diffs ] && cat regression.diffs
    [ "$f" -eq 0 ] && f=1
fi
passed=$((passed + p)); failed=$((failed + f))

# 2. further suites: each test/suites/*.sh prints "N passed, N failed" last
for s in test/suites/*.sh; do
    [ -e "$s" ] || continue
    echo "== $s"
    set +e
    out=$(bash "$s" 2>&1)
    rc=$?
    set -e
    echo "$out"
    line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -n "$line" ]; then
        passed=$((passed + $(echo "$line" | awk '{print $1}')))
        failed=$((failed + $(echo "$line" | awk '{print $3}')))
    fi
    [ "$rc" -ne 0 ] && [ -z "$line" ] && failed=$((failed + 1))
    [ "$rc" -ne 0 ] && [ -n "$line" ] && [ "$(echo "$line" | awk '{print $3}')" = 0 ] && failed=$((failed + 1))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
