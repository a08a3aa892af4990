# bench/scale_lib.sh: what bench/health_scale.sh and bench/signal_rollups.sh
# share.  They load a small and a large database (bench_small, bench_large)
# and time the same queries in both, in turn (A B A B ...), so that load
# from other jobs hits both sides; then print the best time of each and the
# ratio large / small.  Sourced from the repository's root, after
# test/lib.sh.

# build, install and start a cluster sized for loads of 10M rows
scale_start() {
    obs_install_deps
    obs_take_install_lock
    obs_build_install
    trap obs_cluster_stop EXIT
    obs_cluster_start "max_wal_size = '8GB'
shared_buffers = '256MB'
work_mem = '64MB'"
    exec 9>&-    # the cluster is up: let others install again
    PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)
}

# scale_create_db DB [SQL ...]: the database with obs, bench_ms(q) (the
# milliseconds a query takes, its rows read to the end) and the SQL given
scale_create_db() {
    local db=$1; shift
    local args=()
    for s in "$@"; do args+=(-c "$s"); done
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db"
    "${PSQL[@]}" -d "$db" -c "CREATE EXTENSION obs" "${args[@]}" -c "
CREATE FUNCTION bench_ms(q text) RETURNS double precision LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE 'SELECT count(*) FROM (' || q || ') q WHERE q::text IS NOT NULL';
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;"
}

# scale_chunks DB ROWS FUNC: FUNC DB FROM TO for rows 1 .. ROWS, in chunks
# of 1M (one INSERT ... SELECT each)
scale_chunks() {
    local from=1 to
    while [ "$from" -le "$2" ]; do
        to=$((from + 999999)); [ "$to" -le "$2" ] || to=$2
        "$3" "$1" "$from" "$to"
        from=$((to + 1))
    done
}

# the query text a database runs for a query of QUERIES: scale_sql DB SQL
# prints it (a script may redefine it to fill in per-database values)
scale_sql() { printf '%s' "$2"; }

declare -A best
# scale_time REPEAT: each "name|sql" of QUERIES, REPEAT times in turn in
# both databases; the best time of each goes to best[name@db]
scale_time() {
    local r q name sql db ms key
    for ((r = 1; r <= $1; r++)); do
        for q in "${QUERIES[@]}"; do
            name=${q%%|*}; sql=${q#*|}
            for db in bench_small bench_large; do
                ms=$("${PSQL[@]}" -d "$db" -c "SELECT bench_ms(\$q\$$(scale_sql "$db" "$sql")\$q\$)")
                key="$name@$db"
                if [ -z "${best[$key]:-}" ] || awk -v a="$ms" -v b="${best[$key]}" 'BEGIN {exit !(a < b)}'; then
                    best[$key]=$ms
                fi
            done
        done
    done
}

# scale_once NAME SQL: one run of SQL in each database, listed after QUERIES
scale_once() {
    local db
    QUERIES+=("$1|")
    for db in bench_small bench_large; do
        best["$1@$db"]=$("${PSQL[@]}" -d "$db" -c "SELECT bench_ms(\$q\$$2\$q\$)")
    done
}

# scale_print SMALL LARGE: the table of best times and ratios
scale_print() {
    local q name s l
    printf '%-48s %12s %12s %8s\n' query "ms ($1)" "ms ($2)" ratio
    for q in "${QUERIES[@]}"; do
        name=${q%%|*}
        s=${best["$name@bench_small"]}; l=${best["$name@bench_large"]}
        printf '%-48s %12.1f %12.1f %7.2fx\n' "$name" "$s" "$l" "$(awk -v s="$s" -v l="$l" 'BEGIN {print l / s}')"
    done
}
