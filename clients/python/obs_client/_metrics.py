"""PerformanceMonitor, @monitor_performance and PrefectDashboardMetrics."""

import functools
import inspect
import math
import os
import time

from ._client import RUN_STATES, aware, get_client, utcnow, _json

def _stamp():
    return utcnow().strftime("%Y%m%dT%H%M%S.%fZ")


def _rows(cols, rows):
    return [dict(zip(cols, r)) for r in rows]


class PerformanceMonitor:
    """The seed's PerformanceMonitor: metric samples in obs.metrics, alerts
    from obs.check_alert_conditions(), Parquet files written on the client."""

    def __init__(self, *, connection=None, pool=None, client=None):
        self.client = get_client(connection=connection, pool=pool, client=client)

    def record_metric(self, name, value, tags=None, kind="gauge", timestamp=None):
        """Queue one sample (the client's time unless timestamp is given).
        kind: gauge or counter (an increment)."""
        if not name:
            raise ValueError("metric name must not be empty")
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            raise ValueError("metric value must be a finite number, got %r" % value)
        if kind not in ("gauge", "counter"):
            raise ValueError("invalid metric kind %r; valid: gauge, counter" % (kind,))
        if kind == "counter" and value < 0:
            raise ValueError("counter increment must not be negative")
        ts = utcnow() if timestamp is None else aware(timestamp)
        return self.client.submit("metric", (name, value, _json(tags or {}), kind, ts))

    def check_alert_conditions(self, metric_name, threshold, comparison="greater",
                               lookback=None, tags=None):
        """Samples of metric_name in the last lookback (default 5 minutes)
        that breach threshold, as alert dicts (stored in obs.alerts too):
        alert_id, metric_name, tags, value, threshold, comparison, severity
        (warning within 10% of the threshold, else high), observed_at, is_new.
        comparison: greater, less, greater_or_equal, less_or_equal (or >, <,
        >=, <=); obs checks it (psycopg.errors.InvalidParameterValue)."""
        args = ["%s", "%s", "%s"]
        params = [metric_name, float(threshold), comparison]
        if lookback is not None:
            args.append("lookback => %s")
            params.append(lookback)
        if tags is not None:
            args.append("tags => %s")
            params.append(_json(tags))
        cols, rows = self.client.query(
            "SELECT * FROM {s}.check_alert_conditions(" + ", ".join(args) + ")", params)
        return _rows(cols, rows)

    def save_metrics_to_parquet(self, output_dir):
        """metrics_<UTC time>.parquet (obs.metrics) and alerts_<UTC
        time>.parquet (obs.alerts) in output_dir, written by this process
        from COPY ... TO STDOUT (FORMAT parquet); returns the paths."""
        os.makedirs(output_dir, exist_ok=True)
        stamp = _stamp()
        return [
            self.client.copy_to_file("SELECT * FROM {s}.metrics ORDER BY ts, name",
                                     os.path.join(output_dir, "metrics_%s.parquet" % stamp)),
            self.client.copy_to_file("SELECT * FROM {s}.alerts ORDER BY alert_id",
                                     os.path.join(output_dir, "alerts_%s.parquet" % stamp)),
        ]

    def flush(self, timeout=None):
        return self.client.flush(timeout)


_default_monitor = None


def monitor_performance(monitor=None, metric_prefix=None, metric_name=None, tags=None):
    """Decorator: each call's duration in milliseconds becomes a sample of
    metric_name (default "<metric_prefix>.<function name>", or
    "<function name>.duration_ms"), tagged status=success or status=error;
    an exception is re-raised.  Sync and async functions.
    @monitor_performance(monitor, metric_prefix='portfolio') as in the seed,
    or @monitor_performance('metric_name')."""
    if isinstance(monitor, str):
        metric_name, monitor = monitor, None
    elif callable(monitor) and not isinstance(monitor, PerformanceMonitor):
        return monitor_performance()(monitor)

    def decorate(func):
        if metric_name:
            name = metric_name
        elif metric_prefix:
            name = "%s.%s" % (metric_prefix, func.__name__)
        else:
            name = "%s.duration_ms" % func.__name__

        def record(t0, status):
            global _default_monitor
            m = monitor
            if m is None:
                if _default_monitor is None:
                    _default_monitor = PerformanceMonitor()
                m = _default_monitor
            m.record_metric(name, (time.perf_counter() - t0) * 1000.0,
                            dict(tags or {}, status=status))

        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args, **kwargs):
                t0 = time.perf_counter()
                try:
                    result = await func(*args, **kwargs)
                except BaseException:
                    record(t0, "error")
                    raise
                record(t0, "success")
                return result
            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                result = func(*args, **kwargs)
            except BaseException:
                record(t0, "error")
                raise
            record(t0, "success")
            return result
        return wrapper
    return decorate


_STATES = {s.lower(): s for s in RUN_STATES}

TASK_SUMMARY_COLUMNS = ("task_name", "runs", "failures", "success_rate", "duration_seconds",
                        "max_duration_seconds", "throughput", "inputs_processed",
                        "outputs_produced")


def _state(status):
    s = _STATES.get(str(status).lower())
    if s is None:
        raise ValueError("invalid run status %r; valid: %s" % (status, ", ".join(RUN_STATES)))
    return s


def _check_times(start_time, end_time):
    if start_time is None:
        raise ValueError("start_time must not be None")
    start, end = aware(start_time), aware(end_time)
    if end is not None and end < start:
        raise ValueError("end_time must not be earlier than start_time")
    return start, end


def _count(name, v):
    if v is None:
        return None
    v = int(v)
    if v < 0:
        raise ValueError("%s must not be negative" % name)
    return v


class PrefectDashboardMetrics:
    """The seed's PrefectDashboardMetrics: flow and task runs in
    obs.flow_runs / obs.task_runs, health figures from obs's functions."""

    def __init__(self, *, connection=None, pool=None, client=None):
        self.client = get_client(connection=connection, pool=pool, client=client)

    def record_flow_execution(self, flow_name, flow_run_id, start_time, end_time=None,
                              status="Completed", num_tasks=None, error=None, tags=None):
        if not flow_name or not flow_run_id:
            raise ValueError("flow_name and flow_run_id must not be empty")
        start, end = _check_times(start_time, end_time)
        return self.client.submit("flow", (
            flow_name, flow_run_id, start, end, _state(status), _count("num_tasks", num_tasks),
            None if error is None else str(error), _json(tags or None)))

    def record_task_execution(self, task_name, flow_run_id, start_time, end_time=None,
                              status="Completed", inputs_processed=None, outputs_produced=None,
                              error=None, task_run_id=None, tags=None):
        if not task_name or not flow_run_id:
            raise ValueError("task_name and flow_run_id must not be empty")
        start, end = _check_times(start_time, end_time)
        return self.client.submit("task", (
            task_name, flow_run_id, start, end, _state(status),
            _count("inputs_processed", inputs_processed),
            _count("outputs_produced", outputs_produced),
            None if error is None else str(error), task_run_id, _json(tags or None)))

    def get_flow_health(self, flow_name=None, since=None, until=None):
        """One dict: total_runs, success_count, failure_count,
        cancelled_count, running_count, success_rate (None without finished
        runs), avg/p50/p95/max_duration_seconds, last_run_at."""
        cols, rows = self.client.query("SELECT * FROM {s}.get_flow_health(%s, %s, %s)",
                                       (flow_name, aware(since), aware(until)))
        return _rows(cols, rows)[0]

    def get_task_performance(self, task_name=None, since=None, until=None):
        """One dict: total_runs, avg/p50/p95/max_duration_seconds,
        total_inputs, total_outputs, throughput, failure_count."""
        cols, rows = self.client.query("SELECT * FROM {s}.get_task_performance(%s, %s, %s)",
                                       (task_name, aware(since), aware(until)))
        return _rows(cols, rows)[0]

    def get_task_summary(self, since=None, until=None):
        """One row per task: a pandas DataFrame when pandas is installed
        (numeric columns numeric, NaN for none, so nlargest() works even
        on an empty frame), else a list of dicts."""
        cols, rows = self.client.query(
            "SELECT * FROM {s}.get_task_summary(%s, %s) ORDER BY task_name",
            (aware(since), aware(until)))
        try:
            import pandas as pd
        except ImportError:
            return _rows(cols, rows)
        df = pd.DataFrame.from_records(rows, columns=cols)
        for c in cols:
            if c != "task_name":
                col = pd.to_numeric(df[c], errors="coerce")
                df[c] = col.astype("float64") if col.dtype == object or len(df) == 0 else col
        return df

    def save_to_parquet(self, output_dir):
        """flow_executions_<UTC time>.parquet (obs.flow_runs) and
        task_executions_<UTC time>.parquet (obs.task_runs) in output_dir,
        written by this process from COPY ... TO STDOUT (FORMAT parquet);
        returns the paths."""
        os.makedirs(output_dir, exist_ok=True)
        stamp = _stamp()
        return [
            self.client.copy_to_file(
                "SELECT * FROM {s}.flow_runs ORDER BY start_time, flow_run_id",
                os.path.join(output_dir, "flow_executions_%s.parquet" % stamp)),
            self.client.copy_to_file(
                "SELECT * FROM {s}.task_runs ORDER BY start_time, task_run_id",
                os.path.join(output_dir, "task_executions_%s.parquet" % stamp)),
        ]

    def flush(self, timeout=None):
        return self.client.flush(timeout)
