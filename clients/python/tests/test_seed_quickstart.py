"""The seed's Quick Start, verbatim apart from the import lines (and the
user's own functions the snippets call, defined here), then what it stored."""
import pytest

import obs_client
from conftest import rows


def fetch_data():
    raise ConnectionError("api.example.com refused the connection")


def fetch_sec_filings(ticker):
    return [{"ticker": ticker, "form": "10-K"}]


response_time = 650.0


def test_basic_structured_logging(pg):
    from obs_client import StructuredLogger, ServiceType

    logger = StructuredLogger('my_application')

    # Simple log
    logger.info('Data fetch started')

    # Log with context
    logger.info(
        'User data loaded',
        context={'user_id': 123, 'records': 1000},
        tags={'environment': 'production'}
    )

    # Log errors with stack trace
    try:
        result = fetch_data()
    except Exception as e:
        logger.error(
            'Data fetch failed',
            error=e,
            context={'url': 'https://api.example.com/data'}
        )

    assert obs_client.flush(30)
    got = rows(pg, "SELECT level::text, logger, message, context, tags, error FROM obs.logs ORDER BY ts")
    assert [(r["level"], r["logger"], r["message"]) for r in got] == [
        ("INFO", "my_application", "Data fetch started"),
        ("INFO", "my_application", "User data loaded"),
        ("ERROR", "my_application", "Data fetch failed"),
    ]
    assert got[1]["context"] == {"user_id": 123, "records": 1000}
    assert got[1]["tags"] == {"environment": "production"}
    err = got[2]["error"]
    assert err["type"] == "ConnectionError"
    assert err["message"] == "api.example.com refused the connection"
    assert err["context"].startswith("Traceback (most recent call last):")
    assert "in fetch_data" in err["context"]
    assert got[2]["context"] == {"url": "https://api.example.com/data"}


def test_distributed_tracing(pg, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from obs_client import DistributedTracer, ServiceType

    tracer = DistributedTracer(service_name='data-pipeline')

    # Start trace span
    span = tracer.start_span(
        operation='fetch_company_data',
        service=ServiceType.DATA_FETCH,
        tags={'ticker': 'AAPL', 'source': 'SEC'}
    )

    try:
        # Do work
        data = fetch_sec_filings('AAPL')
        tracer.finish_span(span, status='success')
    except Exception as e:
        tracer.finish_span(span, status='error', error=str(e))
        raise

    # Export traces
    tracer.export_jaeger('db/tracing')

    got = rows(pg, "SELECT trace_id::text, span_id::text, parent_span_id, operation, service_type::text,"
                   " service_name, status::text, tags, duration_us FROM obs.spans")
    assert len(got) == 1
    s = got[0]
    assert (s["trace_id"], s["span_id"]) == (span.trace_id, span.span_id)
    assert s["parent_span_id"] is None
    assert (s["operation"], s["service_type"], s["service_name"], s["status"]) == (
        "fetch_company_data", "DATA_FETCH", "data-pipeline", "ok")
    assert s["tags"] == {"ticker": "AAPL", "source": "SEC"}
    assert abs(s["duration_us"] - span.duration_ms * 1000) <= 1
    import glob
    import json
    files = glob.glob(str(tmp_path / "db" / "tracing" / "traces_*.json"))
    assert len(files) == 1
    doc = json.load(open(files[0]))
    assert [t["traceID"] for t in doc["data"]] == [span.trace_id]
    assert [sp["operationName"] for sp in doc["data"][0]["spans"]] == ["fetch_company_data"]


def test_performance_monitoring(pg, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    from obs_client import PerformanceMonitor

    monitor = PerformanceMonitor()

    # Record metrics
    monitor.record_metric(
        'api_latency_ms',
        response_time,
        tags={'endpoint': '/data', 'method': 'GET'}
    )

    # Check alerts
    alerts = monitor.check_alert_conditions(
        'api_latency_ms',
        threshold=500.0,  # ms
        comparison='greater'
    )

    if alerts:
        print(f"⚠️  {len(alerts)} latency alerts triggered!")

    # Save metrics
    monitor.save_metrics_to_parquet('db/observability')

    assert "1 latency alerts triggered!" in capsys.readouterr().out
    assert alerts[0]["value"] == 650.0 and alerts[0]["severity"] == "high"
    got = rows(pg, "SELECT name, value, tags FROM obs.metrics")
    assert got == [{"name": "api_latency_ms", "value": 650.0,
                    "tags": {"endpoint": "/data", "method": "GET"}}]
    from conftest import equal_to_duckdb, parquet_files
    [mfile] = parquet_files(str(tmp_path / "db" / "observability" / "metrics_*.parquet"))
    [afile] = parquet_files(str(tmp_path / "db" / "observability" / "alerts_*.parquet"))
    equal_to_duckdb(pg, "SELECT * FROM obs.metrics ORDER BY ts, name", mfile)
    equal_to_duckdb(pg, "SELECT * FROM obs.alerts ORDER BY alert_id", afile)


def test_prefect_flow_monitoring(pg, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    from obs_client import PrefectDashboardMetrics
    from seed_shims import datetime, timedelta  # the flow between two now() takes 10 s

    metrics = PrefectDashboardMetrics()

    # Record flow execution
    start = datetime.now()
    # ... run flow ...
    end = datetime.now()

    metrics.record_flow_execution(
        flow_name='scrape_sec_filings',
        flow_run_id='run-123abc',
        start_time=start,
        end_time=end,
        status='Completed',
        num_tasks=5
    )

    # Record task execution
    metrics.record_task_execution(
        task_name='fetch_company_data',
        flow_run_id='run-123abc',
        start_time=start + timedelta(seconds=1),
        end_time=end - timedelta(seconds=2),
        status='Completed',
        inputs_processed=1000,
        outputs_produced=950
    )

    # Analyze
    health = metrics.get_flow_health()
    print(f"Flow success rate: {health['success_rate']:.1%}")

    performance = metrics.get_task_performance()
    print(f"Avg task duration: {performance['avg_duration_seconds']:.2f}s")

    # Save to Parquet
    metrics.save_to_parquet('db/prefect_dashboards')

    out = capsys.readouterr().out
    assert "Flow success rate: 100.0%" in out
    assert "Avg task duration: 7.00s" in out
    flow = rows(pg, "SELECT flow_name, status::text, num_tasks, duration_seconds FROM obs.flow_runs")
    assert flow == [{"flow_name": "scrape_sec_filings", "status": "Completed", "num_tasks": 5,
                     "duration_seconds": 10.0}]
    task = rows(pg, "SELECT task_name, flow_run_id, inputs_processed, outputs_produced, duration_seconds,"
                    " start_time FROM obs.task_runs")
    assert len(task) == 1 and task[0]["duration_seconds"] == 7.0
    assert (task[0]["inputs_processed"], task[0]["outputs_produced"]) == (1000, 950)
    # naive datetime.now() is the client's local time, stored as that instant
    assert task[0]["start_time"] == (start + timedelta(seconds=1)).astimezone()
    from conftest import equal_to_duckdb, parquet_files
    [ffile] = parquet_files(str(tmp_path / "db" / "prefect_dashboards" / "flow_executions_*.parquet"))
    [tfile] = parquet_files(str(tmp_path / "db" / "prefect_dashboards" / "task_executions_*.parquet"))
    equal_to_duckdb(pg, "SELECT * FROM obs.flow_runs ORDER BY start_time, flow_run_id", ffile)
    equal_to_duckdb(pg, "SELECT * FROM obs.task_runs ORDER BY start_time, task_run_id", tfile)


def test_prefect_snippet_without_time_passing_is_refused_at_the_call(pg):
    # with no time between the snippet's two now() calls its task ends 1 s
    # before it starts; obs refuses such a run (22023), so the client says
    # so at once instead of losing the record in the background
    from obs_client import PrefectDashboardMetrics
    from datetime import datetime, timedelta
    metrics = PrefectDashboardMetrics()
    start = end = datetime.now()
    with pytest.raises(ValueError, match="end_time must not be earlier than start_time"):
        metrics.record_task_execution(task_name='t', flow_run_id='r', start_time=start + timedelta(seconds=1),
                                      end_time=end - timedelta(seconds=2), status='Completed')
