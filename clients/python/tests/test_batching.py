"""The background writer: batches, flush(), the bounded queue, records the
server refuses, a process fork and a database restart mid-run."""
import contextlib
import os
import subprocess
import sys
import textwrap
import time

import psycopg
import pytest

import obs_client
from obs_client import ObsClient, PerformanceMonitor, PrefectDashboardMetrics, StructuredLogger
from conftest import HERE, rows


def test_batches_are_few_round_trips(pg):
    client = ObsClient(batch_size=500, flush_interval=0.2)
    log = StructuredLogger("batch", client=client)
    for i in range(2000):
        log.info("m%d" % i, context={"i": i})
    assert client.flush(60)
    st = client.stats()
    assert st["written"] == 2000 and st["queued"] == 0
    assert st["batches"] <= 2000 // 500 + 4
    client.close()
    got = rows(pg, "SELECT count(*) AS n, count(DISTINCT message) AS d,"
                   " bool_and(ts IS NOT NULL) AS ts FROM obs.logs")
    assert got == [{"n": 2000, "d": 2000, "ts": True}]
    # the client's timestamps, in call order
    order = [r["i"] for r in rows(pg, "SELECT (context->>'i')::int AS i FROM obs.logs ORDER BY ts, log_id")]
    assert order == list(range(2000))


def test_overflow_drops_and_counts_and_never_blocks(pg):
    # a server that is not there: nothing can be written, the queue fills
    client = ObsClient("host=/nonexistent port=1 connect_timeout=1", queue_size=50, batch_size=10,
                       reconnect_delay=0.05, max_reconnect_delay=0.1)
    log = StructuredLogger("overflow", client=client)
    t0 = time.perf_counter()
    accepted = [log.info("m%d" % i) for i in range(1000)]
    elapsed = time.perf_counter() - t0
    assert elapsed < 2.0, "1000 calls took %.2fs: the caller waited" % elapsed
    deadline = time.monotonic() + 10
    while client.stats()["reconnects"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    st = client.stats()
    # at most the queue and one batch in the writer's hands were taken
    assert sum(accepted) <= 50 + 10
    assert st["dropped_overflow"] == 1000 - sum(accepted)
    assert st["reconnects"] >= 1 and "OperationalError" in client.last_error
    assert client.flush(0.2) is False
    client.close(timeout=0.3)
    st = client.stats()
    assert st["written"] == 0
    assert st["lost"] + st["dropped_overflow"] == 1000
    assert log.info("after close") is False


def test_refused_records_are_counted_and_the_rest_written(pg):
    client = ObsClient(batch_size=100, flush_interval=0.5)
    runs = PrefectDashboardMetrics(client=client)
    from datetime import datetime, timezone
    t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    runs.record_flow_execution("flow_a", "shared-id", t, t)
    # the same run id for another flow: obs refuses it (22023)
    runs.record_flow_execution("flow_b", "shared-id", t, t)
    runs.record_flow_execution("flow_c", "other-id", t, t)
    assert client.flush(30)
    st = client.stats()
    assert (st["written"], st["rejected"]) == (2, 1)
    assert "already recorded for another flow" in client.last_error
    assert sorted(r["flow_name"] for r in rows(pg, "SELECT flow_name FROM obs.flow_runs")) == ["flow_a", "flow_c"]
    client.close()


def test_errors_the_client_finds_itself_raise_at_the_call(pg):
    m = PerformanceMonitor()
    with pytest.raises(ValueError, match="finite"):
        m.record_metric("x", float("nan"))
    with pytest.raises(ValueError, match="negative"):
        m.record_metric("x", -1, kind="counter")
    with pytest.raises(ValueError, match="invalid run status"):
        PrefectDashboardMetrics().record_flow_execution("f", "r", __import__("datetime").datetime.now(),
                                                        status="Done")
    with pytest.raises(ValueError, match="invalid log level"):
        StructuredLogger("x").log("TRACE", "m")
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        m.check_alert_conditions("x", 1, comparison="about")


def test_one_connection_per_process_shared_by_all_objects(pg):
    a, b = StructuredLogger("a"), PerformanceMonitor()
    assert a.client is b.client is obs_client.get_client()
    a.info("from a")
    b.record_metric("from_b", 1)
    assert obs_client.flush(30)
    pids = rows(pg, "SELECT DISTINCT backend_pid FROM obs.logs")
    assert len(pids) == 1


FORK_SCRIPT = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, sys.argv[1])
    import obs_client
    from obs_client import StructuredLogger
    log = StructuredLogger("fork")
    log.info("parent before fork")
    assert obs_client.flush(30)
    parent_pid = obs_client.get_client()._own.info.backend_pid
    for i in range(50):
        log.info("parent queued %d" % i)   # maybe not written yet at fork time
    pid = os.fork()
    if pid == 0:
        log.info("child")
        assert obs_client.flush(30)
        child_pid = obs_client.get_client()._own.info.backend_pid
        print("child backend", child_pid, "parent backend", parent_pid, flush=True)
        sys.exit(0 if child_pid != parent_pid else 3)   # a normal exit: atexit, finalizers
    _, status = os.waitpid(pid, 0)
    log.info("parent after child exit")
    assert obs_client.flush(30), obs_client.stats()
    assert obs_client.get_client()._own.info.backend_pid == parent_pid   # the same session
    print("child status", status, "stats", obs_client.stats(), flush=True)
    sys.exit(0 if status == 0 else 4)
""")


def test_fork_gives_the_child_its_own_connection(pg):
    out = subprocess.run([sys.executable, "-c", FORK_SCRIPT, os.path.join(HERE, "..")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    got = rows(pg, "SELECT message, backend_pid FROM obs.logs ORDER BY log_id")
    by_msg = {r["message"]: r["backend_pid"] for r in got}
    # every record once: the parent's queue is not written again by the child
    assert len(got) == 1 + 50 + 1 + 1
    assert by_msg["child"] != by_msg["parent before fork"]
    assert by_msg["parent after child exit"] == by_msg["parent before fork"]
    assert {by_msg["parent queued %d" % i] for i in range(50)} == {by_msg["parent before fork"]}


def _restart_cluster():
    pgdata = os.environ["PGDATA"]
    pg_ctl = os.path.join(os.environ.get("OBS_PG_BIN", "/usr/lib/postgresql/15/bin"), "pg_ctl")
    logfile = os.path.join(os.path.dirname(pgdata), "server.log")
    subprocess.run(["runuser", "-u", "postgres", "--", pg_ctl, "-D", pgdata, "-l", logfile,
                    "-m", "fast", "-w", "restart"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)


@pytest.mark.skipif(not os.environ.get("PGDATA"), reason="needs the test cluster's PGDATA")
def test_database_restart_mid_run(pg_session):
    client = ObsClient(batch_size=50, flush_interval=0.01, reconnect_delay=0.05)
    log = StructuredLogger("restart", client=client)
    for i in range(200):
        log.info("before %d" % i)
    assert client.flush(30)
    before_pid = client._own.info.backend_pid
    for i in range(300):  # queued while the server goes down and up
        log.info("during %d" % i)
        if i == 100:
            _restart_cluster()
    for i in range(100):
        log.info("after %d" % i)
    assert client.flush(60), client.stats()
    st = client.stats()
    client.close()
    assert st["reconnects"] >= 1 and st["retries"] >= 1
    assert st["dropped_overflow"] == 0 and st["rejected"] == 0 and st["lost"] == 0
    with psycopg.connect(autocommit=True) as conn:
        got = conn.execute("SELECT count(*), count(DISTINCT message), count(DISTINCT backend_pid)"
                           " FROM obs.logs WHERE logger = 'restart'").fetchone()
        conn.execute("DELETE FROM obs.logs WHERE logger = 'restart'")
    # every record kept: written once after the reconnect (none half-written:
    # a batch is one transaction)
    assert got[0] == got[1] == 600, got
    assert got[2] >= 2 and st["written"] == 600
    assert client._own is None or client._own.closed or client._own.info.backend_pid != before_pid


def test_restart_of_the_default_client_while_idle(pg_session):
    if not os.environ.get("PGDATA"):
        pytest.skip("needs the test cluster's PGDATA")
    log = StructuredLogger("idle_restart")
    log.info("one")
    assert obs_client.flush(30)
    _restart_cluster()
    log.info("two")
    assert obs_client.flush(60)
    with psycopg.connect(autocommit=True) as conn:
        n = conn.execute("SELECT count(*) FROM obs.logs WHERE logger = 'idle_restart'").fetchone()[0]
    assert n == 2


def test_awkward_text_survives_the_batch_path(pg):
    # the batch path stages records with COPY: its escapes must not show
    odd = ["tab\there", "new\nline", "back\\slash", "\\N", "cr\rlf", "ünïcødé ✓", "'quote\"", "end\\"]
    client = ObsClient(batch_size=100, flush_interval=0.5)
    log = StructuredLogger("awkward\tlogger", client=client)
    for m in odd:
        log.info(m, context={"m": m, "nested": {"list": [m, None, 1.5]}}, tags={m: m})
    log.info("none", context=None, tags=None)
    assert client.flush(30)
    assert client.stats()["batches"] == 1
    client.close()
    got = rows(pg, "SELECT message, context, tags, logger FROM obs.logs ORDER BY log_id")
    assert [r["message"] for r in got] == odd + ["none"]
    for r, m in zip(got, odd):
        assert r["context"] == {"m": m, "nested": {"list": [m, None, 1.5]}}
        assert r["tags"] == {m: m}
        assert r["logger"] == "awkward\tlogger"
    assert got[-1]["context"] is None and got[-1]["tags"] is None


class _LosesTheCommitAnswer(psycopg.Connection):
    """A connection whose first batch commits on the server, but the
    client never hears it: the connection breaks right after the COMMIT
    (a server restart or a network cut at that moment does this)."""
    armed = True

    @contextlib.contextmanager
    def transaction(self, *args, **kwargs):
        with super().transaction(*args, **kwargs) as tx:
            yield tx
        if type(self).armed:
            type(self).armed = False
            self.close()
            raise psycopg.OperationalError("server closed the connection unexpectedly"
                                           " (the test lost the COMMIT's answer)")


def test_a_batch_whose_commit_answer_is_lost_is_stored_once(pg):
    client = ObsClient(batch_size=100, flush_interval=0.5, reconnect_delay=0.05)
    _LosesTheCommitAnswer.armed = True
    client._connect = lambda: _LosesTheCommitAnswer.connect(client.conninfo, autocommit=True)
    log = StructuredLogger("lost_answer", client=client)
    for i in range(50):
        log.info("m%d" % i)
    assert client.flush(30), client.stats()
    st = client.stats()
    client.close()
    assert not _LosesTheCommitAnswer.armed, "the test's connection never lost an answer"
    assert st["reconnects"] == 1 and st["retries"] == 1, st
    assert st["written"] == 50 and st["lost"] == 0 and st["rejected"] == 0, st
    # the batch had committed: asked with its transaction id, not written again
    got = rows(pg, "SELECT count(*) AS n, count(DISTINCT message) AS d FROM obs.logs"
                   " WHERE logger = 'lost_answer'")
    assert got == [{"n": 50, "d": 50}]


def test_the_record_is_what_the_call_saw(pg):
    # the writer encodes later: a dict the caller changes after the call
    # must not change the record
    client = ObsClient(batch_size=100, flush_interval=0.5)
    log = StructuredLogger("snapshot", client=client)
    ctx, tags = {"i": 0}, {"t": "a"}
    for i in range(3):
        ctx["i"] = i
        tags["t"] = "abc"[i]
        log.info("m%d" % i, context=ctx, tags=tags)
    ctx.clear()
    tags["t"] = "changed"
    assert client.flush(30)
    client.close()
    got = rows(pg, "SELECT context, tags FROM obs.logs ORDER BY log_id")
    assert got == [{"context": {"i": i}, "tags": {"t": "abc"[i]}} for i in range(3)]


def test_one_batch_of_mixed_records(pg):
    # the batch path encodes column by column: columns mixing None and
    # values, the client's clock and given timestamps, a value the server
    # refuses (a NUL) and escapes side by side
    from datetime import datetime, timezone
    client = ObsClient(batch_size=100, flush_interval=0.5)
    log = StructuredLogger("mixed", client=client)
    tracer = obs_client.DistributedTracer("mixed", client=client)
    given = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    t0 = time.time()
    log.info("plain")
    with tracer.start_span("op") as span:
        log.log("WARNING", "in span\\", context={"q": 'x"y'}, timestamp=given)
    log.error("error", error=ValueError("bad\tvalue"), tags={"k": "v"})
    log.info("last", context={"n": None})
    assert client.flush(30)
    st = client.stats()
    assert (st["written"], st["rejected"], st["batches"]) == (5, 0, 1), st  # 4 logs and a span
    # a NUL (the server refuses it) in a batch: that record alone is refused
    log.info("nul\0inside", context={"a": 1})
    log.info("after nul")
    assert client.flush(30)
    st = client.stats()
    client.close()
    assert (st["written"], st["rejected"]) == (6, 1), st
    got = rows(pg, "SELECT message, level::text AS level, context, tags, ts, trace_id::text AS t,"
                   " span_id::text AS s, error->>'type' AS et, error->>'message' AS em"
                   " FROM obs.logs WHERE logger = 'mixed' ORDER BY log_id")
    assert [r["message"] for r in got] == ["plain", "in span\\", "error", "last", "after nul"]
    got.pop()
    assert [r["level"] for r in got] == ["INFO", "WARNING", "ERROR", "INFO"]
    assert [r["context"] for r in got] == [None, {"q": 'x"y'}, None, {"n": None}]
    assert [r["tags"] for r in got] == [None, None, {"k": "v"}, None]
    assert got[1]["ts"] == given
    for r in (got[0], got[2], got[3]):
        assert abs(r["ts"].timestamp() - t0) < 60
    assert (got[1]["t"], got[1]["s"]) == (span.trace_id, span.span_id)
    assert [r["t"] for r in (got[0], got[2], got[3])] == [None, None, None]
    assert (got[2]["et"], got[2]["em"]) == ("ValueError", "bad\tvalue")


def test_batches_survive_discard_all_on_a_given_connection(pg):
    # a pool's reset (or the application) runs DISCARD ALL: the staging
    # tables are gone; the next batches make them again instead of falling
    # back to one transaction per record for good
    conn = psycopg.connect(autocommit=True)
    client = ObsClient(connection=conn, batch_size=100, flush_interval=0.05)
    log = StructuredLogger("discard", client=client)
    log.info("before")
    assert client.flush(30)
    assert client.stats()["batches"] == 1
    conn.execute("DISCARD ALL")
    for n in range(3):
        for i in range(5):
            log.info("after %d.%d" % (n, i))
        assert client.flush(30)
    st = client.stats()
    client.close()
    conn.close()
    assert st["written"] == 16 and st["rejected"] == 0 and st["lost"] == 0, st
    assert st["batches"] == 4, st
    got = rows(pg, "SELECT count(*) AS n FROM obs.logs WHERE logger = 'discard'")
    assert got == [{"n": 16}]
