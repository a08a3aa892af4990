"""@trace_execution and @monitor_performance on sync and async functions:
status success or error, the exception re-raised."""
import asyncio

import pytest

import obs_client
from obs_client import (DistributedTracer, PerformanceMonitor, ServiceType, monitor_performance,
                        trace_execution)
from conftest import rows


def test_sync_success_and_error(pg):
    tracer = DistributedTracer(service_name="deco")

    @trace_execution(tracer, service=ServiceType.TRANSFORM)
    @monitor_performance("transform_ms")
    def transform(x):
        if x < 0:
            raise ValueError("negative input %d" % x)
        return x * 2

    assert transform(21) == 42
    with pytest.raises(ValueError, match="negative input -1"):
        transform(-1)
    assert transform.__name__ == "transform"
    assert obs_client.flush(30)
    spans = rows(pg, "SELECT status::text, error, service_type::text FROM obs.spans ORDER BY start_time")
    assert spans == [{"status": "ok", "error": None, "service_type": "TRANSFORM"},
                     {"status": "error", "error": "ValueError: negative input -1", "service_type": "TRANSFORM"}]
    metrics = rows(pg, "SELECT name, tags FROM obs.metrics ORDER BY ts")
    assert metrics == [{"name": "transform_ms", "tags": {"status": "success"}},
                       {"name": "transform_ms", "tags": {"status": "error"}}]


def test_async_success_and_error(pg):
    monitor = PerformanceMonitor()

    @trace_execution(service=ServiceType.API)  # the default tracer
    @monitor_performance(monitor, metric_prefix="api")
    async def call(ok):
        await asyncio.sleep(0.02)
        if not ok:
            raise TimeoutError("upstream timed out")
        return "done"

    async def main():
        assert await call(True) == "done"
        with pytest.raises(TimeoutError):
            await call(False)

    asyncio.run(main())
    assert asyncio.iscoroutinefunction(call)
    assert obs_client.flush(30)
    spans = rows(pg, "SELECT operation, status::text, error, duration_us FROM obs.spans ORDER BY start_time")
    assert [s["status"] for s in spans] == ["ok", "error"]
    assert spans[1]["error"] == "TimeoutError: upstream timed out"
    assert all(s["operation"].endswith("call") and s["duration_us"] >= 20000 for s in spans)
    metrics = rows(pg, "SELECT name, tags, value FROM obs.metrics ORDER BY ts")
    assert [(m["name"], m["tags"]["status"]) for m in metrics] == [("api.call", "success"), ("api.call", "error")]
    assert all(m["value"] >= 20.0 for m in metrics)


def test_bare_decorators_and_defaults(pg):
    @trace_execution
    @monitor_performance
    def plain():
        return 1

    assert plain() == 1
    assert obs_client.flush(30)
    assert [r["service_type"] for r in rows(pg, "SELECT service_type::text FROM obs.spans")] == ["CUSTOM"]
    assert [r["name"] for r in rows(pg, "SELECT name FROM obs.metrics")] == ["plain.duration_ms"]
