"""The seed's "Example: Complete Observability Setup", its decorator
sections and its dashboard snippets, verbatim apart from the import lines
(and the user's own functions they call, defined here)."""
import glob
import json

import obs_client
from conftest import rows


def fetch_data():
    return [{"ticker": t, "price": p} for t, p in (("AAPL", 190.0), ("MSFT", 410.0), ("X", None))]


def transform(data):
    return [r for r in data if r["price"] is not None]


def test_complete_observability_setup(pg, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from obs_client import (
        StructuredLogger, DistributedTracer, PerformanceMonitor,
        PrefectDashboardMetrics, trace_execution, monitor_performance,
        ServiceType
    )
    from datetime import datetime, timedelta

    # Initialize observability stack
    logger = StructuredLogger('data_pipeline')
    tracer = DistributedTracer(service_name='finance-pipeline')
    monitor = PerformanceMonitor()
    prefect_metrics = PrefectDashboardMetrics()

    # Instrument pipeline
    @trace_execution(tracer, service=ServiceType.PIPELINE)
    @monitor_performance(monitor, metric_prefix='pipeline')
    def process_data(data):
        logger.info('Starting data processing', context={'records': len(data)})

        try:
            # Process data
            result = transform(data)

            logger.info(
                'Data processing complete',
                context={'input_records': len(data), 'output_records': len(result)}
            )
            return result

        except Exception as e:
            logger.error('Processing failed', error=e)
            raise

    # Log flow execution
    flow_start = datetime.now()
    try:
        data = fetch_data()
        processed = process_data(data)
        flow_end = datetime.now()

        prefect_metrics.record_flow_execution(
            flow_name='data_pipeline',
            flow_run_id='run-001',
            start_time=flow_start,
            end_time=flow_end,
            status='Completed',
            num_tasks=2
        )
    except Exception as e:
        flow_end = datetime.now()
        prefect_metrics.record_flow_execution(
            flow_name='data_pipeline',
            flow_run_id='run-001',
            start_time=flow_start,
            end_time=flow_end,
            status='Failed',
            num_tasks=2,
            error=str(e)
        )

    # Save everything
    tracer.export_jaeger('db/tracing')
    monitor.save_metrics_to_parquet('db/observability')
    prefect_metrics.save_to_parquet('db/prefect_dashboards')

    # what it stored
    assert processed == transform(fetch_data())
    [span] = rows(pg, "SELECT trace_id::text, span_id::text, operation, service_type::text, service_name,"
                      " status::text FROM obs.spans")
    assert span["operation"].endswith("process_data")
    assert (span["service_type"], span["service_name"], span["status"]) == ("PIPELINE", "finance-pipeline", "ok")
    logs = rows(pg, "SELECT message, context, trace_id::text, span_id::text, logger FROM obs.logs ORDER BY ts")
    assert [l["message"] for l in logs] == ["Starting data processing", "Data processing complete"]
    assert logs[1]["context"] == {"input_records": 3, "output_records": 2}
    # the logs inside the traced function carry its span
    assert all((l["trace_id"], l["span_id"]) == (span["trace_id"], span["span_id"]) for l in logs)
    [m] = rows(pg, "SELECT name, tags, value FROM obs.metrics")
    assert m["name"] == "pipeline.process_data" and m["tags"] == {"status": "success"} and m["value"] >= 0
    [flow] = rows(pg, "SELECT flow_run_id, status::text, num_tasks, error FROM obs.flow_runs")
    assert flow == {"flow_run_id": "run-001", "status": "Completed", "num_tasks": 2, "error": None}
    for pattern in ("db/tracing/traces_*.json", "db/observability/metrics_*.parquet",
                    "db/observability/alerts_*.parquet", "db/prefect_dashboards/flow_executions_*.parquet",
                    "db/prefect_dashboards/task_executions_*.parquet"):
        assert len(glob.glob(str(tmp_path / pattern))) == 1, pattern
    doc = json.load(open(glob.glob(str(tmp_path / "db/tracing/traces_*.json"))[0]))
    assert doc["data"][0]["traceID"] == span["trace_id"]


def test_complete_setup_failing_flow(pg):
    # the same pipeline when transform fails: span error, metric status=error,
    # the error log with the exception, the flow Failed
    from obs_client import (StructuredLogger, DistributedTracer, PerformanceMonitor,
                            PrefectDashboardMetrics, trace_execution, monitor_performance, ServiceType)
    from datetime import datetime
    logger = StructuredLogger('data_pipeline')
    tracer = DistributedTracer(service_name='finance-pipeline')
    monitor = PerformanceMonitor()
    prefect_metrics = PrefectDashboardMetrics()

    @trace_execution(tracer, service=ServiceType.PIPELINE)
    @monitor_performance(monitor, metric_prefix='pipeline')
    def process_data(data):
        try:
            return [r["price"] * 2 for r in data]
        except Exception as e:
            logger.error('Processing failed', error=e)
            raise

    flow_start = datetime.now()
    try:
        process_data(fetch_data())
    except Exception as e:
        prefect_metrics.record_flow_execution(flow_name='data_pipeline', flow_run_id='run-002',
                                              start_time=flow_start, end_time=datetime.now(),
                                              status='Failed', num_tasks=2, error=str(e))
    assert obs_client.flush(30)
    [span] = rows(pg, "SELECT status::text, error, span_id::text FROM obs.spans")
    assert span["status"] == "error" and span["error"].startswith("TypeError: ")
    [log] = rows(pg, "SELECT error, span_id::text FROM obs.logs")
    assert log["error"]["type"] == "TypeError" and log["span_id"] == span["span_id"]
    [m] = rows(pg, "SELECT tags FROM obs.metrics")
    assert m["tags"] == {"status": "error"}
    [flow] = rows(pg, "SELECT status::text, error FROM obs.flow_runs")
    assert flow["status"] == "Failed" and "NoneType" in flow["error"]


def test_decorator_sections(pg):
    # "Instrumentation Decorators", as in the seed (portfolio / prices are the user's)
    from obs_client import trace_execution, DistributedTracer, ServiceType
    portfolio = {"AAPL": 10}
    metrics = {"positions": 1}

    tracer = DistributedTracer()

    @trace_execution(tracer, service=ServiceType.ANALYTICS)
    def calculate_portfolio_metrics(holdings):
        # Automatically traced
        return metrics

    result = calculate_portfolio_metrics(portfolio)
    # Span automatically recorded with duration, status, errors

    from obs_client import monitor_performance, PerformanceMonitor
    prices = {"AAPL": 190.0, "MSFT": 410.0}

    monitor = PerformanceMonitor()

    @monitor_performance(monitor, metric_prefix='portfolio')
    def fetch_prices(tickers):
        # Automatically timed
        return prices

    prices = fetch_prices(['AAPL', 'MSFT'])
    # Metric recorded: portfolio.fetch_prices = duration_ms

    assert obs_client.flush(30)
    assert result == {"positions": 1}
    assert rows(pg, "SELECT service_type::text, status::text FROM obs.spans") == [
        {"service_type": "ANALYTICS", "status": "ok"}]
    assert [r["name"] for r in rows(pg, "SELECT name FROM obs.metrics")] == ["portfolio.fetch_prices"]


def test_alert_types(pg):
    # "Alert Configuration: Alert Types", verbatim
    from obs_client import PerformanceMonitor
    monitor = PerformanceMonitor()

    # Latency alerts
    monitor.record_metric('request_latency_ms', 450)
    alerts = monitor.check_alert_conditions(
        'request_latency_ms',
        threshold=500.0,
        comparison='greater'
    )
    assert alerts == []

    # Throughput alerts
    monitor.record_metric('records_per_second', 800)
    alerts = monitor.check_alert_conditions(
        'records_per_second',
        threshold=1000,
        comparison='less'
    )
    assert [(a["value"], a["severity"]) for a in alerts] == [(800.0, "high")]

    # Error rate alerts
    monitor.record_metric('error_rate', 0.05)
    alerts = monitor.check_alert_conditions(
        'error_rate',
        threshold=0.01,
        comparison='greater'
    )
    assert [(a["value"], a["severity"]) for a in alerts] == [(0.05, "high")]


def _seed_runs(metrics):
    from datetime import datetime, timedelta, timezone
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    metrics.record_flow_execution('scrape_sec_filings', 'run-1', t0, t0 + timedelta(minutes=5), 'Completed', 3)
    metrics.record_flow_execution('scrape_sec_filings', 'run-2', t0 + timedelta(hours=1),
                                  t0 + timedelta(hours=1, minutes=2), 'Failed', 3, error='boom')
    metrics.record_flow_execution('scrape_sec_filings', 'run-3', t0 + timedelta(hours=2),
                                  t0 + timedelta(hours=2, minutes=4), 'Completed', 3)
    for run, off in (("run-1", 0), ("run-3", 2)):
        s = t0 + timedelta(hours=off)
        metrics.record_task_execution('fetch_company_data', run, s, s + timedelta(seconds=45), 'Completed', 1000, 990)
        metrics.record_task_execution('parse_filings', run, s + timedelta(seconds=45),
                                      s + timedelta(seconds=50), 'Completed', 990, 980)
        metrics.record_task_execution('store', run, s + timedelta(seconds=50),
                                      s + timedelta(seconds=52), 'Completed', None, None)


def test_flow_health_dashboard(pg, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from obs_client import PrefectDashboardMetrics
    _seed_runs(PrefectDashboardMetrics())
    PrefectDashboardMetrics().save_to_parquet('db/prefect_dashboards')

    metrics = PrefectDashboardMetrics()

    # Load historical data
    from seed_shims import pd  # pandas; read_parquet through DuckDB (no pyarrow on Debian)
    flow_history = pd.read_parquet('db/prefect_dashboards/flow_executions_*.parquet')

    # Calculate health metrics
    health = metrics.get_flow_health()

    # Visualize
    from seed_shims import px  # records the figure instead of plotly drawing it

    fig = px.pie(
        values=[health['success_count'], health['failure_count']],
        names=['Success', 'Failure'],
        title='Flow Success Rate'
    )
    fig.show()

    assert sorted(flow_history["flow_run_id"]) == ["run-1", "run-2", "run-3"]
    assert list(flow_history.sort_values("flow_run_id")["status"]) == ["Completed", "Failed", "Completed"]
    assert fig.kwargs["values"] == [2, 1]
    assert abs(health["success_rate"] - 2 / 3) < 1e-12


def test_task_performance_dashboard(pg):
    from obs_client import PrefectDashboardMetrics
    metrics = PrefectDashboardMetrics()
    _seed_runs(metrics)

    task_summary = metrics.get_task_summary()

    # Slowest tasks
    slowest = task_summary.nlargest(5, 'duration_seconds')[['task_name', 'duration_seconds']]

    # Highest throughput
    fastest = task_summary.nlargest(5, 'throughput')[['task_name', 'throughput']]

    # Bottlenecks
    bottlenecks = task_summary[task_summary['duration_seconds'] > 30]

    import pandas
    assert isinstance(task_summary, pandas.DataFrame)
    assert list(task_summary.columns) == list(obs_client.TASK_SUMMARY_COLUMNS)
    assert list(slowest["task_name"]) == ["fetch_company_data", "parse_filings", "store"]
    assert list(slowest["duration_seconds"]) == [45.0, 5.0, 2.0]
    assert list(fastest["task_name"])[:2] == ["parse_filings", "fetch_company_data"]
    assert abs(fastest["throughput"].iloc[0] - 990 / 5) < 1e-9
    # the frame is obs.get_task_summary()'s rows (None as NaN)
    import math
    want = rows(pg, "SELECT * FROM obs.get_task_summary() ORDER BY task_name")
    got = task_summary.to_dict("records")
    assert len(got) == len(want) == 3
    for g, w in zip(got, want):
        for k, v in w.items():
            assert (v is None and math.isnan(g[k])) or g[k] == v, (k, g[k], v)
    assert list(bottlenecks["task_name"]) == ["fetch_company_data"]


def test_task_summary_empty_still_has_the_columns(pg):
    from obs_client import PrefectDashboardMetrics
    task_summary = PrefectDashboardMetrics().get_task_summary()
    assert list(task_summary.columns) == list(obs_client.TASK_SUMMARY_COLUMNS)
    assert len(task_summary.nlargest(5, 'duration_seconds')) == 0
    assert len(task_summary[task_summary['duration_seconds'] > 30]) == 0
