#!/usr/bin/env bash
# bench/python_client.sh: bench/python_client.py on a throwaway cluster
# (fsync on, as in production; BENCH_FSYNC=off to compare).  Prints calls/s
# of obs_client's batching writer against one round trip per call, and the
# ratios (the sides measured in turns, BENCH_ROUNDS times).  Asserts nothing.
#   BENCH_CALLS=20000 BENCH_BASELINE_CALLS=1000 BENCH_ROUNDS=5 bash bench/python_client.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
obs_install_deps
obs_take_install_lock
obs_build_install
trap obs_cluster_stop EXIT
obs_cluster_start "fsync = ${BENCH_FSYNC:-on}"
exec 9>&-    # the cluster is up: let others install again
/usr/bin/python3 bench/python_client.py
