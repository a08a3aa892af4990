#!/usr/bin/env bash
# test/suites/layers.sh: the include rule of src/ (see src/README.md).  A
# file may include a header of its own folder, or the face header of a
# LOWER layer; anything else (a higher or same-rank layer, or another
# folder's private header) fails.  One test per source file.
set -uo pipefail
cd "$(dirname "$0")/../.."
awk '
BEGIN {
	split("core:0:core.h trace:1:trace.h store:2:store.h ingest:3:ingest.h " \
	      "api:4:- instrument:4:instrument.h parquet:4:pq_export.h ship:4:ship.h .:5:-", L, " ")
	for (i in L) { split(L[i], p, ":"); rank[p[1]] = p[2]; face[p[1]] = p[3] }
}
FNR == 1 { if (NR > 1) { if (bad) failed++; else passed++ } bad = 0
	dir = FILENAME; sub(/^src\//, "", dir); dir = (dir ~ /\//) ? dir : "./x"; sub(/\/.*/, "", dir)
	if (!(dir in rank)) { print "unknown layer of " FILENAME; bad = 1 } }
/^[ \t]*#[ \t]*include[ \t]*"/ {
	h = $0; sub(/^[^"]*"/, "", h); sub(/".*/, "", h)
	if (h !~ /\//) next                        # same folder
	d = h; sub(/\/.*/, "", d); f = h; sub(/^[^\/]*\//, "", f)
	if (!(d in rank) || d == dir) next         # PostgreSQL header, or own folder
	if (rank[d] >= rank[dir] || f != face[d]) {
		printf "%s:%d: %s (layer %d) includes %s (layer %d%s)\n", FILENAME, FNR, dir, rank[dir], h,
			rank[d], f != face[d] ? ", not the face " d "/" face[d] : ""
		bad = 1
	}
}
END { if (bad) failed++; else passed++; printf "%d passed, %d failed\n", passed, failed; exit failed > 0 }
' $(find src -name '*.c' -o -name '*.h' | sort)
