"""The trace context lives in the client: threads, asyncio tasks and pooled
connections each keep their own parent chain; traceparent in and out."""
import asyncio
import threading
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor

import pytest

import obs_client
from obs_client import (DistributedTracer, ObsClient, PerformanceMonitor, ServiceType,
                        StructuredLogger, SpanContext, trace_execution)
from conftest import rows


def spans_by_op(pg):
    return {r["operation"]: r for r in rows(
        pg, "SELECT operation, trace_id::text, span_id::text, parent_span_id::text FROM obs.spans")}


def test_nested_spans_and_logs_carry_the_current_span(pg):
    tracer = DistributedTracer(service_name="ctx")
    log = StructuredLogger("ctx")
    with tracer.start_span("outer", ServiceType.PIPELINE) as outer:
        log.info("in outer")
        with tracer.start_span("inner") as inner:
            log.info("in inner")
        log.info("outer again")
    log.info("outside")
    assert obs_client.flush(30)
    s = spans_by_op(pg)
    assert s["inner"]["parent_span_id"] == outer.span_id
    assert s["inner"]["trace_id"] == s["outer"]["trace_id"] == outer.trace_id
    assert s["outer"]["parent_span_id"] is None
    got = {r["message"]: (r["span_id"], r["trace_id"]) for r in rows(
        pg, "SELECT message, span_id::text, trace_id::text FROM obs.logs")}
    assert got["in outer"] == (outer.span_id, outer.trace_id)
    assert got["in inner"] == (inner.span_id, inner.trace_id)
    assert got["outer again"] == (outer.span_id, outer.trace_id)
    assert got["outside"] == (None, None)


def test_threads_keep_their_own_parent_chain(pg):
    tracer = DistributedTracer(service_name="threads")
    n = 8
    barrier = threading.Barrier(n)
    roots = {}

    def work(i):
        with tracer.start_span("root-%d" % i) as root:
            roots[i] = root
            barrier.wait()  # every thread has its root open at once
            with tracer.start_span("child-%d" % i):
                barrier.wait()
                StructuredLogger("threads").info("log-%d" % i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert obs_client.flush(30)
    s = spans_by_op(pg)
    logs = {r["message"]: r for r in rows(pg, "SELECT message, span_id::text FROM obs.logs")}
    for i in range(n):
        assert s["child-%d" % i]["parent_span_id"] == roots[i].span_id
        assert s["root-%d" % i]["parent_span_id"] is None
        assert logs["log-%d" % i]["span_id"] == s["child-%d" % i]["span_id"]
    assert len({s["root-%d" % i]["trace_id"] for i in range(n)}) == n


def test_asyncio_tasks_keep_their_own_parent_chain(pg):
    tracer = DistributedTracer(service_name="asyncio")

    @trace_execution(tracer, service=ServiceType.DATA_FETCH)
    async def fetch(i):
        await asyncio.sleep(0.01 * (5 - i))  # interleave
        StructuredLogger("asyncio").info("fetched %d" % i)
        with tracer.start_span("parse-%d" % i):
            await asyncio.sleep(0.005)
        return i

    async def main():
        with tracer.start_span("gather") as root:
            got = await asyncio.gather(*(fetch(i) for i in range(5)))
        await obs_client.get_client().aflush(30)
        return root, got

    root, got = asyncio.run(main())
    assert got == [0, 1, 2, 3, 4]
    spans = rows(pg, "SELECT operation, span_id::text, parent_span_id::text FROM obs.spans")
    fetches = [r for r in spans if r["operation"].endswith("fetch")]
    assert len(fetches) == 5
    # every fetch is a child of the gather span, none of a sibling
    assert {r["parent_span_id"] for r in fetches} == {root.span_id}
    fetch_ids = {r["span_id"] for r in fetches}
    parses = [r for r in spans if r["operation"].startswith("parse-")]
    assert len(parses) == 5 and all(r["parent_span_id"] in fetch_ids for r in parses)
    logs = rows(pg, "SELECT message, span_id::text FROM obs.logs")
    assert len(logs) == 5 and all(r["span_id"] in fetch_ids for r in logs)
    # each log belongs to its own task's fetch span: parse-i and "fetched i" share a parent
    parent_of_parse = {r["operation"][len("parse-"):]: r["parent_span_id"] for r in parses}
    for r in logs:
        assert r["span_id"] == parent_of_parse[r["message"].split()[-1]]


def test_connection_pool(pg):
    psycopg_pool = pytest.importorskip("psycopg_pool")
    with psycopg_pool.ConnectionPool("", min_size=2, max_size=4, open=True) as pool:
        tracer = DistributedTracer(service_name="pooled", pool=pool)
        log = StructuredLogger("pooled", pool=pool)
        client = tracer.client
        assert log.client is client  # one client per pool
        assert client is not obs_client.get_client()

        def work(i):
            with tracer.start_span("job-%d" % i) as job:
                log.info("job %d" % i)
                with tracer.start_span("step-%d" % i):
                    pass
            return job.span_id

        with ThreadPoolExecutor(4) as ex:
            ids = list(ex.map(work, range(12)))
        # reads take a pool connection too
        from obs_client import PrefectDashboardMetrics
        m = PrefectDashboardMetrics(pool=pool)
        m.record_flow_execution("pooled_flow", "p-1", datetime(2026, 1, 1, tzinfo=timezone.utc))
        assert m.get_flow_health("pooled_flow")["total_runs"] == 1
        assert client.flush(30)
        assert client.stats()["written"] == 12 * 3 + 1
    s = spans_by_op(pg)
    for i, sid in enumerate(ids):
        assert s["job-%d" % i]["span_id"] == sid
        assert s["step-%d" % i]["parent_span_id"] == sid
        assert s["job-%d" % i]["parent_span_id"] is None
    logs = {r["message"]: r["span_id"] for r in rows(pg, "SELECT message, span_id::text FROM obs.logs")}
    assert all(logs["job %d" % i] == ids[i] for i in range(12))


def test_traceparent_out_and_in(pg):
    tracer = DistributedTracer(service_name="http")
    assert tracer.current_traceparent() is None
    with tracer.start_span("client_call") as call:
        header = tracer.current_traceparent()
        assert header == "00-%s-%s-01" % (call.trace_id, call.span_id)
        assert tracer.inject({}) == {"traceparent": header}
    assert tracer.current_traceparent() is None
    # the server side, in another thread: continue the incoming trace
    result = {}

    def server(h):
        with tracer.continue_trace(h):
            assert tracer.current_traceparent() == h
            with tracer.start_span("handle_request", ServiceType.API) as s:
                StructuredLogger("server").info("handling")
                result["span"] = s
        assert tracer.current_traceparent() is None

    t = threading.Thread(target=server, args=(header,))
    t.start()
    t.join(30)
    # or in one call
    with tracer.start_span("other_handler", traceparent=header.upper()) as other:
        pass
    assert obs_client.flush(30)
    s = spans_by_op(pg)
    assert s["handle_request"]["trace_id"] == call.trace_id
    assert s["handle_request"]["parent_span_id"] == call.span_id
    assert s["other_handler"]["parent_span_id"] == call.span_id
    assert other.trace_id == call.trace_id
    [log] = rows(pg, "SELECT span_id::text FROM obs.logs")
    assert log["span_id"] == result["span"].span_id


@pytest.mark.parametrize("bad", [
    "garbage", "00-%s-%s-01" % ("0" * 32, "1" * 16), "00-%s-%s-01" % ("1" * 32, "0" * 16),
    "ff-%s-%s-01" % ("1" * 32, "1" * 16), "00-%s-%s-01-extra" % ("1" * 32, "1" * 16), 42])
def test_invalid_traceparent(pg, bad):
    tracer = DistributedTracer()
    with pytest.raises(ValueError, match="invalid traceparent"):
        tracer.start_span("x", traceparent=bad)
    with pytest.raises(ValueError, match="invalid traceparent"):
        tracer.continue_trace(bad)
    assert tracer.current_traceparent() is None


def test_span_argument_errors(pg):
    tracer = DistributedTracer()
    with pytest.raises(ValueError, match="invalid service type"):
        tracer.start_span("x", service="NOPE")
    with pytest.raises(ValueError, match="operation must not be empty"):
        tracer.start_span("")
    span = tracer.start_span("x")
    with pytest.raises(ValueError, match="invalid span status"):
        tracer.finish_span(span, status="done")
    tracer.finish_span(span, status="error", error=RuntimeError("broke"))
    with pytest.raises(ValueError, match="already finished"):
        tracer.finish_span(span)
    assert obs_client.flush(30)
    [r] = rows(pg, "SELECT status::text, error FROM obs.spans")
    assert r == {"status": "error", "error": "RuntimeError: broke"}
    assert tracer.spans == [span]
    tracer.spans = []  # the seed's way to free them
    assert tracer.spans == []


def test_span_context_manager_records_an_exception(pg):
    tracer = DistributedTracer()
    with pytest.raises(KeyError):
        with tracer.start_span("failing", ServiceType.VALIDATION):
            raise KeyError("ticker")
    assert obs_client.flush(30)
    [r] = rows(pg, "SELECT operation, status::text, error, service_type::text FROM obs.spans")
    assert r == {"operation": "failing", "status": "error", "error": "KeyError: 'ticker'",
                 "service_type": "VALIDATION"}
