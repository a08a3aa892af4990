# test/lib.sh: shell functions shared by the test suite, the demo and the
# benchmarks.  Source it; it defines functions and sets nothing else.

# OBS_PG_ROOT=/some/dir: build, install and test against a private copy of
# the Debian PostgreSQL 15 installation below that directory (made on first
# use by obs_private_pg), so that several worktrees can install obs at once
# without sharing a lib dir.  Unset: the system installation.
if [ -n "${OBS_PG_ROOT:-}" ]; then
    OBS_PG_BIN=$OBS_PG_ROOT/usr/lib/postgresql/15/bin
    export PG_CONFIG=$OBS_PG_BIN/pg_config
    export PATH=$OBS_PG_BIN:$PATH
else
    OBS_PG_BIN=/usr/lib/postgresql/15/bin
fi
OBS_APT_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-15-cron \
libcjson-dev libcurl4-openssl-dev libzstd-dev libsnappy-dev zlib1g-dev \
libipc-run-perl make gcc util-linux curl \
python3-psycopg python3-psycopg-pool python3-pandas python3-pytest"

# Install the Debian packages obs needs, when any is missing.
obs_install_deps() {
    local missing=""
    for p in $OBS_APT_PACKAGES; do
        dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    # Node.js (for the Parquet readers): the machine's own if it has one,
    # else Debian's; a vendor nodejs package bundles npm and conflicts
    # with Debian's npm package.
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm"
    if [ -n "$missing" ]; then
        echo "obs: installing$missing"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
}

# Make the private copy of PostgreSQL that OBS_PG_ROOT names, if missing.
# PostgreSQL finds its share and lib dirs relative to its bin dir, so a copy
# of /usr/lib/postgresql/15 and /usr/share/postgresql/15 works as is.
obs_private_pg() {
    [ -n "${OBS_PG_ROOT:-}" ] || return 0
    [ -x "$OBS_PG_BIN/postgres" ] && return 0
    mkdir -p "$OBS_PG_ROOT/usr/lib/postgresql" "$OBS_PG_ROOT/usr/share/postgresql" \
        "$OBS_PG_ROOT/usr/include"
    cp -a /usr/lib/postgresql/15 "$OBS_PG_ROOT/usr/lib/postgresql/"
    cp -a /usr/share/postgresql/15 "$OBS_PG_ROOT/usr/share/postgresql/"
    ln -sfn /usr/include/postgresql "$OBS_PG_ROOT/usr/include/postgresql"
    chmod 755 "$OBS_PG_ROOT"
}

# Build and install the extension from the current directory.
# OBS_WERROR=1 turns warnings into errors (CI does this).
obs_build_install() {
    local extra=""
    obs_private_pg
    [ "${OBS_WERROR:-0}" = 1 ] && extra="COPT=-Werror"
    make -s -j"$(nproc)" $extra >/dev/null
    make -s install >/dev/null
}

# Start a throwaway cluster owned by postgres; sets PGDATA, PGHOST, PGPORT,
# PGUSER and OBS_CLUSTER_DIR.  Extra postgresql.conf lines come from $1.
obs_cluster_start() {
    local conf="${1:-}"
    OBS_CLUSTER_DIR=$(mktemp -d /tmp/obs-cluster.XXXXXX)
    chown postgres: "$OBS_CLUSTER_DIR"
    chmod 755 "$OBS_CLUSTER_DIR"
    export PGDATA="$OBS_CLUSTER_DIR/data" PGHOST="$OBS_CLUSTER_DIR" PGPORT=5432 PGUSER=postgres
    runuser -u postgres -- "$OBS_PG_BIN/initdb" -D "$PGDATA" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$OBS_CLUSTER_DIR'
port = 5432
fsync = off
timezone = 'UTC'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.host = '$OBS_CLUSTER_DIR'
$conf
CONF
    # 9>&-: the server must not inherit the install lock (obs_take_install_lock)
    runuser -u postgres -- "$OBS_PG_BIN/pg_ctl" -D "$PGDATA" -l "$OBS_CLUSTER_DIR/server.log" -w start >/dev/null 9>&-
}

obs_cluster_stop() {
    if [ -n "${OBS_CLUSTER_DIR:-}" ] && [ -d "$OBS_CLUSTER_DIR/data" ]; then
        runuser -u postgres -- "$OBS_PG_BIN/pg_ctl" -D "$OBS_CLUSTER_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$OBS_CLUSTER_DIR"
    fi
}

# Serialise installs: developers' worktrees share one PostgreSQL lib dir.
obs_take_install_lock() {
    exec 9>"/tmp/obs-install$(printf %s "${OBS_PG_ROOT:-}" | tr / _).lock"
    flock 9
}
