#!/usr/bin/env bash
# bench/rollup_writes.sh: what keeping the run rollups costs a write
# (issue 10, item 5).  pgbench calls obs.record_task_execution() with the
# rollup triggers on obs.task_runs disabled (the write as it was before the
# rollups) and enabled, in turn (off on off on ...), so that load from other
# jobs hits both sides: a finished run recorded once, and a run recorded
# Running then Completed (an insert and an update), over 32 task names or
# one (every writer then updates the same rollup rows), at 1 and 2 clients,
# synchronous_commit = off.  Prints calls/s and the ratio on / off.  Not a
# test: it asserts nothing.
#   BENCH_SECONDS=10 bash bench/rollup_writes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
SECONDS_PER_RUN=${BENCH_SECONDS:-10}

obs_install_deps
obs_take_install_lock
obs_build_install
trap obs_cluster_stop EXIT
obs_cluster_start "synchronous_commit = off
shared_buffers = '512MB'
max_wal_size = '4GB'"
exec 9>&-    # the cluster is up: let others install again

W=$(mktemp -d /tmp/obs-bench.XXXXXX)
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE EXTENSION obs" -c "SELECT obs.enable_rollups()"
for names in 32 1; do
    cat >"$W/once_$names.sql" <<SQL
\set id random(1, 2000000000)
\set t 1 + :id % $names
SELECT obs.record_task_execution('task_' || :t, 'fr-' || :id, now(), now() + interval '1.5 seconds',
                                 'Completed', 10, 9, task_run_id => 'a$names-' || :id);
SQL
    cat >"$W/twice_$names.sql" <<SQL
\set id random(1, 2000000000)
\set t 1 + :id % $names
SELECT obs.record_task_execution('task_' || :t, 'fr-' || :id, '2026-01-01'::timestamptz + :id * interval '1 ms',
                                 NULL, 'Running', task_run_id => 'b$names-' || :id);
SELECT obs.record_task_execution('task_' || :t, 'fr-' || :id, '2026-01-01'::timestamptz + :id * interval '1 ms',
                                 '2026-01-01'::timestamptz + :id * interval '1 ms' + interval '2 seconds',
                                 'Completed', 10, 9, task_run_id => 'b$names-' || :id);
SQL
done

# calls/s of one script at $2 clients ($3 calls per transaction)
# (a client that fails ends pgbench early: its error is printed, and the
# rate is that of the transactions done)
rate() {
    { pgbench -n -c "$2" -j "$2" -T "$SECONDS_PER_RUN" -f "$W/$1.sql" postgres 2>"$W/pgbench.err" || true; } |
        awk -v k="$3" '/^tps/ {print int($3 * k)} END {if (!NR) print 0}'
    grep -i 'error' "$W/pgbench.err" | sort | uniq -c | head -3 >&2 || true
}
triggers() {
    psql -X -q -d postgres -c "ALTER TABLE obs.task_runs $1 TRIGGER task_runs_rollup_insert" \
        -c "ALTER TABLE obs.task_runs $1 TRIGGER task_runs_rollup_update"
}

echo "load average $(cut -d' ' -f1-3 /proc/loadavg), $SECONDS_PER_RUN s per point"
printf '%-44s %8s %12s %12s %7s\n' "writes" clients "rollups/s" "without/s" ratio
for c in 1 2; do
    for script in once_32 twice_32 once_1 twice_1; do
        case $script in
            once_*) k=1; what="finished run recorded once";;
            twice_*) k=2; what="Running, then Completed";;
        esac
        what="$what, ${script#*_} name(s)"
        psql -X -q -d postgres -c "CHECKPOINT" >/dev/null
        triggers DISABLE; off1=$(rate "$script" "$c" "$k")
        triggers ENABLE; on1=$(rate "$script" "$c" "$k")
        triggers DISABLE; off2=$(rate "$script" "$c" "$k")
        triggers ENABLE; on2=$(rate "$script" "$c" "$k")
        on=$(((on1 + on2) / 2)); off=$(((off1 + off2) / 2))
        printf '%-44s %8s %12s %12s %7s\n' "$what" "$c" "$on" "$off" "$(awk -v o="$on" -v b="$off" 'BEGIN {printf "%.2fx", o / b}')"
    done
done
# the rollups are whole again after the runs written without them
psql -X -q -d postgres -c "SELECT obs.rebuild_rollups()" >/dev/null
rm -rf "$W"
