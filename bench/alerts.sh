#!/usr/bin/env bash
# bench/alerts.sh: alert evaluation over many breaching samples, with and
# without fresh statistics (issue 7 item 17).
#
# For each case a fresh database gets BENCH_SAMPLES (default 20000) samples
# that all breach one rule, then runs obs.evaluate_alert_rules() twice at
# the same as_of; the "after ANALYZE" case analyzes between the two runs.
# Autovacuum is off, so "no ANALYZE" keeps the statistics of an empty table.
# Printed, in ms: the baseline (a plain SELECT count(*) of the same breaching
# samples, same run), the first evaluation (stores every alert), the second
# (stores none), the ratio second / baseline, and a second ad-hoc
# obs.check_alert_conditions() over the same window, which re-probes every
# sample through the alerts key (ON CONFLICT), as rules do for samples their
# previous evaluation could not see.  Not a test: it asserts nothing but the
# alert counts.
#   BENCH_SAMPLES=20000 bash bench/alerts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
N=${BENCH_SAMPLES:-20000}

obs_install_deps
obs_take_install_lock
obs_build_install
trap obs_cluster_stop EXIT
obs_cluster_start "autovacuum = off
synchronous_commit = off"
exec 9>&-    # the cluster is up: let others install again

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)

# one case: $1 = 0 (no ANALYZE) or 1 (ANALYZE after the first evaluation);
# prints "baseline first second adhoc_first adhoc_second" in ms
run_case() {
    local db="obs_bench_alerts_$1"
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    "${PSQL[@]}" -d "$db" -v n="$N" -v analyze="$1" <<'SQL'
CREATE EXTENSION obs;
SET obs.write_path = 'transactional';
SET client_min_messages = error;
SELECT count(obs.record_metric('bench_latency_ms', 600 + i % 400,
                               jsonb_build_object('endpoint', '/e' || i % 4),
                               ts => '2024-01-01 12:00:00+00'::timestamptz + i * interval '100 ms'))
  FROM generate_series(1, :n) i \g /dev/null
SELECT obs.add_alert_rule('bench', 'bench_latency_ms', 500, '>', '1 hour') \g /dev/null
\set as_of '''2024-01-01 13:00:00+00'''
-- baseline: the same breaching samples, counted
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS breaching FROM obs.metrics
 WHERE name = 'bench_latency_ms' AND ts > :as_of::timestamptz - interval '1 hour'
   AND ts <= :as_of::timestamptz AND value > 500 \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1) AS baseline \gset
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS first_new FROM obs.evaluate_alert_rules(:as_of) \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1) AS first \gset
SELECT :analyze = 1 AS do_analyze \gset
\if :do_analyze
ANALYZE;
\endif
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS second_new FROM obs.evaluate_alert_rules(:as_of) \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1) AS second \gset
SELECT count(*) AS adhoc_first_new FROM obs.check_alert_conditions('bench_latency_ms', 500, '>', '1 hour', NULL, :as_of) WHERE is_new \gset
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS adhoc_second_new FROM obs.check_alert_conditions('bench_latency_ms', 500, '>', '1 hour', NULL, :as_of) WHERE is_new \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 1) AS adhoc \gset
SELECT format('%s %s %s %s %s', :'baseline', :'first', :'second', :'adhoc',
              CASE WHEN :first_new = :breaching AND :second_new = 0
                        AND :adhoc_first_new = :breaching AND :adhoc_second_new = 0
                   THEN 'ok'
                   ELSE format('unexpected_alert_counts:%s_breaching,_first_%s,_second_%s,_ad_hoc_%s_then_%s',
                               :breaching, :first_new, :second_new, :adhoc_first_new, :adhoc_second_new)
              END);
SQL
    "${PSQL[@]}" -d postgres -c "DROP DATABASE $db"
}

read -r b0 f0 s0 a0 c0 <<<"$(run_case 0)"
read -r b1 f1 s1 a1 c1 <<<"$(run_case 1)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }

echo "$N samples breaching one rule; times in ms"
printf '%-58s %12s %14s\n' "" "no ANALYZE" "after ANALYZE"
printf '%-58s %12s %14s\n' "baseline: SELECT count(*) of the breaching samples" "$b0" "$b1"
printf '%-58s %12s %14s\n' "first evaluate_alert_rules() (stores every alert)" "$f0" "$f1"
printf '%-58s %12s %14s\n' "second evaluate_alert_rules() (stores none)" "$s0" "$s1"
printf '%-58s %12s %14s\n' "ratio second evaluation / baseline" "$(ratio "$s0" "$b0")" "$(ratio "$s1" "$b1")"
printf '%-58s %12s %14s\n' "second check_alert_conditions() (ON CONFLICT re-probe)" "$a0" "$a1"
printf '%-58s %12s %14s\n' "ratio second ad-hoc check / baseline" "$(ratio "$a0" "$b0")" "$(ratio "$a1" "$b1")"
[ "$c0" = ok ] || echo "no ANALYZE: $c0"
[ "$c1" = ok ] || echo "after ANALYZE: $c1"
