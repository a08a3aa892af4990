"""obs_client: the seed guide's Python observability API on top of obs.

    from obs_client import (StructuredLogger, DistributedTracer, PerformanceMonitor,
                            PrefectDashboardMetrics, trace_execution, monitor_performance,
                            ServiceType, ObsHandler)

Objects created without a connection share one per process (libpq's
defaults: the PG* environment variables, or OBS_DSN).  Records are queued
and written in batches by a background thread; flush() waits for them.
"""

from ._client import ObsClient, flush, get_client, set_default_client, stats
from ._logger import ObsHandler, StructuredLogger
from ._metrics import (PerformanceMonitor, PrefectDashboardMetrics, TASK_SUMMARY_COLUMNS,
                       monitor_performance)
from ._tracer import (DistributedTracer, ServiceType, Span, SpanContext, current_context,
                      current_span, trace_execution)

__all__ = [
    "ObsClient", "flush", "get_client", "set_default_client", "stats",
    "ObsHandler", "StructuredLogger",
    "PerformanceMonitor", "PrefectDashboardMetrics", "TASK_SUMMARY_COLUMNS",
    "monitor_performance",
    "DistributedTracer", "ServiceType", "Span", "SpanContext", "current_context",
    "current_span", "trace_execution",
]
__version__ = "0.2.0"
