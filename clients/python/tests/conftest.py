"""Fixtures of the obs_client tests.

They run against a real PostgreSQL with obs (test/suites/python.sh makes a
database for them and exports PGHOST, PGPORT, PGUSER, PGDATABASE).  Each
test starts with obs's tables empty and the process's default client
flushed.
"""
import datetime
import glob
import json
import os
import subprocess
import sys

import psycopg
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..")))
sys.path.insert(0, HERE)

import obs_client  # noqa: E402

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
TABLES = ("logs", "spans", "metric_points", "metric_series", "alerts", "flow_runs", "task_runs",
          "dead_letters")


_conn = None


def _assertion_connection():
    """The tests' own connection, made again after a test restarted the server."""
    global _conn
    if _conn is not None:
        try:
            _conn.execute("SELECT 1")
        except psycopg.OperationalError:
            _conn = None
    if _conn is None or _conn.closed or _conn.broken:
        _conn = psycopg.connect(autocommit=True)
        _conn.execute("CREATE EXTENSION IF NOT EXISTS obs")
    return _conn


@pytest.fixture
def pg_session():
    return _assertion_connection()


@pytest.fixture(autouse=True)
def pg():
    """A connection of the test's own for assertions; obs's tables empty."""
    obs_client.flush(30)
    conn = _assertion_connection()
    conn.execute("TRUNCATE " + ", ".join("obs." + t for t in TABLES))
    return conn


def rows(conn, query, params=()):
    cur = conn.execute(query, params)
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def duckdb_read(path):
    """What DuckDB reads from a Parquet file: {names, types, rows}, with
    timestamps as microseconds since 1970 and 64-bit integers as ints."""
    out = subprocess.run(["node", os.path.join(ROOT, "test", "parquet", "duckdb_json.mjs"), path],
                         check=True, capture_output=True, text=True, timeout=120)
    doc = json.loads(out.stdout)

    def plain(v):
        if isinstance(v, dict) and set(v) == {"int"}:
            return int(v["int"])
        if isinstance(v, dict) and set(v) == {"tsUs"}:
            return ("ts", plain(v["tsUs"]))
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v
    doc["rows"] = [[plain(v) for v in r] for r in doc["rows"]]
    return doc


def pg_canonical(conn, query):
    """Rows of query in the shape duckdb_read() gives: timestamps as
    ("ts", microseconds since 1970), jsonb as its JSON text parsed later."""
    cur = conn.execute(query)
    names = [d.name for d in cur.description]
    out = []
    for r in cur.fetchall():
        row = []
        for v in r:
            if hasattr(v, "timestamp") and hasattr(v, "tzinfo"):
                delta = v - EPOCH
                row.append(("ts", (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds))
            else:
                row.append(v)
        out.append(row)
    return names, out


def equal_to_duckdb(conn, query, path):
    """Assert that the Parquet file at path holds exactly query's rows."""
    names, expect = pg_canonical(conn, query)
    got = duckdb_read(path)
    assert got["names"] == names
    assert len(got["rows"]) == len(expect)
    for g, e in zip(got["rows"], expect):
        for name, typ, gv, ev in zip(names, got["types"], g, e):
            if typ == "JSON" and gv is not None:
                gv = json.loads(gv)
            if typ == "BIGINT" and isinstance(ev, str):
                # xid8 (the txid column): psycopg has no loader for it and
                # gives its text; the Parquet file holds it as INT64
                ev = int(ev)
            assert gv == ev, "column %s (%s): DuckDB read %r, PostgreSQL has %r" % (name, typ, gv, ev)
    return got


def parquet_files(pattern):
    return sorted(glob.glob(pattern))
