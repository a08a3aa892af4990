#!/usr/bin/env bash
# obs demo: on a fresh Debian 12 machine, as root.  Installs the packages,
# builds and installs obs, starts a throwaway cluster as postgres, runs the
# seed guide's example in SQL (demo/seed_example.sql) and prints the flow
# health, task summary, alerts, JSON log lines, span tree and the Parquet
# files it saved; then stops and removes the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh

echo "== obs demo: installing packages (if missing)"
obs_install_deps
echo "== building and installing obs"
obs_take_install_lock
obs_build_install
echo "== starting a throwaway PostgreSQL 15 cluster"
trap obs_cluster_stop EXIT
obs_cluster_start
echo "== running demo/seed_example.sql"
echo
outdir="$OBS_CLUSTER_DIR/db"       # the seed's db/ directory, written by the server
psql -X -q -v ON_ERROR_STOP=1 -v outdir="$outdir" -f demo/seed_example.sql
echo
echo "== demo finished; the throwaway cluster is being stopped and removed"
