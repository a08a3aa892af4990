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
	      "api:4:- instrument:4:instrument.h parquet:4:pq_export.h ship:4:ship.h archive:5:archive.h .:5:-", L, " ")
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
' $(find src -name '*.c' -o -name '*.h' | sort) > /tmp/obs-layers.$$
inc_rc=$?
sed '$s/^/# include rule: /' /tmp/obs-layers.$$   # one tally line for the suite: the last

# The same rule at link time: a symbol an object uses from another folder
# must be defined in a lower layer (an extern declared by hand, or a
# variable defined in a higher layer, would escape the include check).
# Needs the objects of a build (test/run.sh builds first).
objs=$(find src -name '*.o' | sort)
if [ -z "$objs" ]; then
	echo "no objects under src/: build first (make)"
	sym_rc=1
else
	for o in $objs; do nm -g "$o" | sed "s|^|$o |"; done | awk '
	BEGIN {
		split("core:0 trace:1 store:2 ingest:3 api:4 instrument:4 parquet:4 ship:4 archive:5 .:5", L, " ")
		for (i in L) { split(L[i], p, ":"); rank[p[1]] = p[2] }
	}
	function folder(f,  d) { d = f; sub(/^src\//, "", d); if (d !~ /\//) return "."; sub(/\/.*/, "", d); return d }
	NF == 4 && $3 ~ /^[TDBRC]$/ { def[$4] = $1; next }
	NF == 3 && $2 == "U" { use[++n] = $1 " " $3 }
	END {
		for (i = 1; i <= n; i++) {
			split(use[i], u, " ")
			if (!(u[2] in def)) continue       # PostgreSQL or a library
			a = folder(u[1]); b = folder(def[u[2]])
			if (a == b) continue
			if (rank[b] >= rank[a]) {
				printf "%s uses %s of %s: %s (layer %d) reaches %s (layer %d)\n", u[1], u[2], def[u[2]], a, rank[a], b, rank[b]
				bad++
			}
		}
		printf "link-time layers: %d violations\n", bad
		exit bad > 0
	}'
	sym_rc=$?
fi
passed=$(tail -n 1 /tmp/obs-layers.$$ | awk '{print $1}')
failed=$(tail -n 1 /tmp/obs-layers.$$ | awk '{print $3}')
rm -f /tmp/obs-layers.$$
if [ "$sym_rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "$passed passed, $failed failed"
[ "$inc_rc" -eq 0 ] && [ "$sym_rc" -eq 0 ]
