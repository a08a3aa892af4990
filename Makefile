# obs: PGXS build. Tests: test/sql/*.sql with outputs in expected/.
EXTENSION = obs
EXTVERSION = 0.2.0
MODULE_big = obs
# The install script of the current version is built from the section files
# (sql/sections/*.sql, concatenated in name order); released scripts and the
# upgrade scripts between versions are kept as they are.
SQL_SECTIONS = $(sort $(wildcard $(srcdir)/sql/sections/*.sql))
DATA_built = sql/obs--$(EXTVERSION).sql
DATA = sql/obs--0.1.0.sql $(wildcard $(srcdir)/sql/obs--*--*.sql)

OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/*/*.c)))
PG_CPPFLAGS = -I$(srcdir)/src -DOBS_VERSION=\"$(EXTVERSION)\"
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-cast-function-type
SHLIB_LINK = -lzstd -lsnappy -lz -lcurl -lcjson

REGRESS = $(sort $(notdir $(basename $(wildcard test/sql/*.sql))))
REGRESS_OPTS = --inputdir=test
# TAP tests (test/t/*.pl) need a server with obs preloaded; they start their
# own clusters, and test/suites/tap.sh runs them as an unprivileged user
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/obs--$(EXTVERSION).sql: $(SQL_SECTIONS)
	cat $^ > $@

# PGXS tracks no header dependencies (unless PostgreSQL was configured with
# --enable-depend): rebuild every object when any of obs's headers changes,
# so that an object never keeps an old struct layout or an inline function
# that is gone.
$(OBJS): $(wildcard $(srcdir)/src/*.h $(srcdir)/src/*/*.h)
