#!/usr/bin/env python3
"""test/grafana/run.py: run every query of dashboards/grafana/obs.json as Grafana would.

  run.py DASHBOARD.json DATABASE ROLE FROM TO

Grafana is not installed here, so this does what its PostgreSQL data source
does before it sends a query: it interpolates the template variables
($service, ${flow}, [[flow]]; a multi-value or "All" selection becomes a
comma-separated list of quoted literals, quotes doubled) and expands the
macros as Grafana documents them:

  $__timeFilter(col)          col BETWEEN 'FROM' AND 'TO'
  $__timeFrom(), $__timeTo()  'FROM', 'TO'  (RFC 3339, UTC)
  $__timeGroup(col, '1m')     floor(extract(epoch from col)/60)*60
  $__timeGroupAlias(col, 1m)  the same AS "time"
  $__interval, $__interval_ms '1m' (the bucket Grafana would pick), 60000

Each variable query runs first and gives the variable's values.  Then each
panel query runs as ROLE (a role given obs.grant_reader()) once per
selection: one value (a name with a quote in it), two values, and All.  It
must succeed and return rows; for a time-series target the first column
must be "time" and hold times.  Every statement it runs, nested ones
included, is planned with auto_explain (EXPLAIN (FORMAT JSON) output): no
big table may be read by a Seq Scan, and each query must read a big table
through an index, except the two queries listed in NO_BIG_TABLE.

Prints "ok - ..." / "not ok - ..." lines; exits 1 when any check failed.
"""
import datetime
import json
import re
import subprocess
import sys

BIG = ("logs", "spans", "metric_points", "flow_runs", "task_runs", "alerts", "dead_letters")
ROOTS = {}  # partition name -> its partitioned table's name (filled in main)
# queries that read no big table, by panel title and refId
NO_BIG_TABLE = {
    ("Ingest health", "A"): "shared-memory counters of obs.ingest_stats()",
    ("Error-rate trend", "C"): "the enabled alert rules on error_rate (obs.alert_rules, a handful of rows)",
}
INTERVAL = ("1m", 60)

failed = 0
passed = 0


def report(ok, what):
    global failed, passed
    print(("ok - " if ok else "not ok - ") + what)
    if ok:
        passed += 1
    else:
        failed += 1


def quote(v):
    return "'" + v.replace("'", "''") + "'"


def macro_args(s, start):
    """the arguments of the macro call whose "(" is at start, and the index after ")" """
    depth, args, cur, i = 0, [], "", start
    while i < len(s):
        c = s[i]
        if c == "(":
            depth += 1
            if depth > 1:
                cur += c
        elif c == ")":
            depth -= 1
            if depth == 0:
                if cur.strip() or args:
                    args.append(cur.strip())
                return args, i + 1
            cur += c
        elif c == "," and depth == 1:
            args.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    raise ValueError("unbalanced macro call")


def seconds(interval):
    m = re.fullmatch(r"'?(\d+)(ms|s|m|h|d|w)'?", interval.strip())
    if not m:
        raise ValueError("interval " + interval)
    n, unit = int(m.group(1)), m.group(2)
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]


def expand(sql, t_from, t_to, values):
    """sql with variables and macros replaced the way Grafana's PostgreSQL data source does"""
    for name, vals in values.items():
        text = ",".join(quote(v) for v in vals)
        sql = re.sub(r"\$\{%s(:[a-z]+)?\}|\[\[%s\]\]|\$%s\b" % (name, name, name), lambda m: text, sql)
    sql = sql.replace("$__interval_ms", str(INTERVAL[1] * 1000)).replace("$__interval", INTERVAL[0])
    out, i = "", 0
    for m in re.finditer(r"\$__(timeFilter|timeFrom|timeTo|timeGroupAlias|timeGroup)\(", sql):
        if m.start() < i:
            continue
        args, end = macro_args(sql, m.end() - 1)
        name = m.group(1)
        if name == "timeFilter":
            rep = "%s BETWEEN '%s' AND '%s'" % (args[0], t_from, t_to)
        elif name == "timeFrom":
            rep = "'%s'" % t_from
        elif name == "timeTo":
            rep = "'%s'" % t_to
        else:
            secs = seconds(args[1])
            rep = "floor(extract(epoch from %s)/%g)*%g" % (args[0], secs, secs)
            if name == "timeGroupAlias":
                rep += ' AS "time"'
        out += sql[i:m.start()] + rep
        i = end
    out += sql[i:]
    if "$" in re.sub(r"\$\d+|\$\$|'[^']*'", "", out):
        raise ValueError("unexpanded: " + out)
    return out


def epoch(rfc3339):
    return datetime.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def psql(db, role, sql, explain=False):
    """(ok, rows as lists of strings incl. the header, plans, error text)"""
    pre = ""
    if explain:
        pre = ("LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; "
               "SET auto_explain.log_nested_statements = on; SET auto_explain.log_format = json; "
               "SET auto_explain.log_level = notice; SET client_min_messages = notice; ")
    pre += "SET ROLE %s; SET timezone = 'UTC'; SET max_parallel_workers_per_gather = 0;" % role
    p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--csv", "-d", db, "-c", pre, "-c", sql],
                       capture_output=True, text=True, timeout=300)
    rows = [r for r in __import__("csv").reader(p.stdout.splitlines())]
    plans = []
    dec = json.JSONDecoder()
    for m in re.finditer(r"plan:\s*\n", p.stderr):
        brace = p.stderr.find("{", m.end())
        if brace >= 0:
            try:
                plans.append(dec.raw_decode(p.stderr[brace:])[0])
            except ValueError:
                pass
    return p.returncode == 0, rows, plans, p.stderr


def explain(db, role, sql):
    ok, rows, _, err = psql(db, role, "EXPLAIN (FORMAT JSON) " + sql)
    return json.loads(rows[1][0])[0] if ok and len(rows) > 1 else None


def nodes(plan):
    if isinstance(plan, dict):
        if "Node Type" in plan:
            yield plan
        for v in plan.values():
            yield from nodes(v)
    elif isinstance(plan, list):
        for v in plan:
            yield from nodes(v)


def index_tables(db):
    # an index of a partition counts as one of its partitioned table
    ok, rows, _, _ = psql(db, "NONE",
                          "SELECT c.relname, r.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                          "JOIN pg_class t ON t.oid = i.indrelid "
                          "JOIN pg_class r ON r.oid = coalesce(pg_partition_root(t.oid), t.oid) "
                          "WHERE t.relnamespace = 'obs'::regnamespace")
    return {r[0]: r[1] for r in rows[1:]}


def partition_roots(db):
    # a partition of obs's tables (obs.logs_default, ...) by its partitioned table
    ok, rows, _, _ = psql(db, "NONE",
                          "SELECT t.relname, r.relname FROM pg_class t "
                          "JOIN pg_class r ON r.oid = pg_partition_root(t.oid) "
                          "WHERE t.relnamespace = 'obs'::regnamespace AND t.relispartition")
    return {r[0]: r[1] for r in rows[1:]}


def check_plans(plans, idx_table, what, exempt):
    scans = []
    for plan in plans:
        for n in nodes(plan):
            rel = n.get("Relation Name") or idx_table.get(n.get("Index Name", ""), "")
            rel = ROOTS.get(rel, rel)
            if rel in BIG:
                scans.append((n["Node Type"], rel))
    seq = sorted({r for t, r in scans if t == "Seq Scan"})
    report(not seq, "%s: no Seq Scan on a big table %s" % (what, seq or ""))
    idx = sorted({r for t, r in scans if t in ("Index Scan", "Index Only Scan", "Bitmap Index Scan", "Bitmap Heap Scan")})
    if exempt:
        report(not scans, "%s: reads no big table (%s)" % (what, exempt))
    else:
        report(bool(idx), "%s: reads %s through an index (%d plans)" % (what, ", ".join(idx) or "no big table", len(plans)))


def main():
    dash_path, db, role, t_from, t_to = sys.argv[1:6]
    dash = json.load(open(dash_path))
    idx_table = index_tables(db)
    ROOTS.update(partition_roots(db))

    # template variables: their queries give their values
    values_all = {}
    for v in dash["templating"]["list"]:
        if v.get("type") != "query":
            continue
        q = v["query"]["rawSql"] if isinstance(v["query"], dict) else v["query"]
        sql = expand(q, t_from, t_to, {})
        what = "variable $%s" % v["name"]
        ok, rows, plans, err = psql(db, role, sql, explain=True)
        report(ok and len(rows) > 2, "%s: its query returns values (%s)" % (what, ", ".join(r[0] for r in rows[1:]) if ok else err.strip()[-300:]))
        if not ok:
            continue
        values_all[v["name"]] = [r[0] for r in rows[1:]]
        report(v.get("multi") and v.get("includeAll"), "%s: multi-value with All" % what)
        check_plans(plans + [explain(db, role, sql)], idx_table, what, None)

    # one value (one with a quote when there is one), two values, all values
    selections = {
        "one value": {k: [next((x for x in v if "'" in x), v[0])] for k, v in values_all.items()},
        "two values": {k: v[:2] for k, v in values_all.items()},
        "All": values_all,
    }

    def panels(ps):
        for p in ps:
            if p.get("type") == "row":
                yield from panels(p.get("panels", []))
            else:
                yield p

    count = 0
    for p in panels(dash["panels"]):
        for t in p.get("targets", []):
            count += 1
            key = (p["title"], t["refId"])
            series = t.get("format") == "time_series"
            for sel_name, sel in selections.items():
                what = "%s [%s] (%s)" % (p["title"], t["refId"], sel_name)
                uses_vars = any(re.search(r"\$\{?%s\b|\[\[%s\]\]" % (k, k), t["rawSql"]) for k in sel)
                if not uses_vars and sel_name != "one value":
                    continue
                try:
                    sql = expand(t["rawSql"], t_from, t_to, sel)
                except ValueError as e:
                    report(False, "%s: expands (%s)" % (what, e))
                    continue
                ok, rows, plans, err = psql(db, role, sql, explain=True)
                if not ok:
                    report(False, "%s: runs (%s)" % (what, err[err.find("ERROR:"):].strip()[:400]))
                    continue
                report(len(rows) > 1, "%s: runs and returns %d rows" % (what, len(rows) - 1))
                if series and len(rows) > 1:
                    first = rows[0][0]
                    timeish = all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00|\d+(\.\d+)?", r[0])
                                  for r in rows[1:])
                    in_range = timeish and all(
                        r[0][:10] == t_from[:10] if "-" in r[0] else abs(float(r[0]) - epoch(t_from)) < 86400
                        for r in rows[1:])
                    report(first == "time" and timeish and in_range,
                           "%s: time series, first column \"time\" (%s) holds times in the range" % (what, first))
                check_plans(plans + [explain(db, role, sql)], idx_table, what, NO_BIG_TABLE.get(key))
    report(count >= 12, "the dashboard has %d panel queries" % count)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
