"""Distributed tracing with the trace context in the client.

The current span lives in a contextvars.ContextVar: each thread starts with
no span, each asyncio task gets a copy of its creator's context, so threads,
tasks and pooled connections never mix up parents.  Spans are timed here and
stored with obs.record_span() through the background writer.
"""

import contextvars
import enum
import functools
import inspect
import json
import os
import re
import time
import traceback
from datetime import timedelta

from ._client import aware, get_client, utcnow, _json


class ServiceType(str, enum.Enum):
    """The seed's service types; the labels of obs.service_type."""
    DATA_FETCH = "data_fetch"
    PIPELINE = "pipeline"
    ANALYTICS = "analytics"
    TRANSFORM = "transform"
    VALIDATION = "validation"
    STORAGE = "storage"
    DATABASE = "database"
    CACHE = "cache"
    API = "api"
    MESSAGING = "messaging"
    SCHEDULER = "scheduler"
    NOTIFICATION = "notification"
    ML = "ml"
    CUSTOM = "custom"

    def __str__(self):
        return self.value


_SERVICES = {s.name for s in ServiceType}
_STATUSES = {"success": "ok", "ok": "ok", "error": "error", "unset": "unset"}
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")


class SpanContext:
    """A trace id, a span id and the trace flags: a parent for new spans."""
    __slots__ = ("trace_id", "span_id", "flags")

    def __init__(self, trace_id, span_id, flags=1):
        self.trace_id = trace_id
        self.span_id = span_id
        self.flags = flags

    @property
    def traceparent(self):
        return "00-%s-%s-%02x" % (self.trace_id, self.span_id, self.flags)

    @classmethod
    def from_traceparent(cls, header):
        """Parse a W3C traceparent header; ValueError when it is not one."""
        m = _TRACEPARENT.match(header.strip().lower()) if isinstance(header, str) else None
        if m is None:
            raise ValueError("invalid traceparent %r: expected 00-<32 hex>-<16 hex>-<2 hex>" % (header,))
        version, trace_id, span_id, flags, rest = m.groups()
        if version == "ff" or (version == "00" and rest):
            raise ValueError("invalid traceparent %r: version %s" % (header, version))
        if trace_id == "0" * 32 or span_id == "0" * 16:
            raise ValueError("invalid traceparent %r: all-zero trace or span id" % (header,))
        return cls(trace_id, span_id, int(flags, 16))


# the innermost open span (a Span) or continued remote parent (a SpanContext)
_current = contextvars.ContextVar("obs_client_current_span", default=None)


def _new_id(nbytes):
    while True:
        b = os.urandom(nbytes)
        if any(b):
            return b.hex()


def current_span():
    """The innermost open span of this context (thread / task), or None."""
    cur = _current.get()
    return cur if isinstance(cur, Span) else None


def current_context():
    """The SpanContext new spans and logs of this context belong to, or None."""
    cur = _current.get()
    if cur is None:
        return None
    return cur.context if isinstance(cur, Span) else cur


def _service_label(service):
    if isinstance(service, ServiceType):
        return service.name
    label = str(service).upper()
    if label not in _SERVICES:
        raise ValueError("invalid service type %r; valid: %s" % (service, ", ".join(sorted(_SERVICES))))
    return label


def error_parts(error):
    """(type, message, traceback text, sqlstate) of an exception or a string."""
    if error is None:
        return None, None, None, None
    if isinstance(error, BaseException):
        tb = None
        if error.__traceback__ is not None:
            tb = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        return (type(error).__qualname__, str(error), tb,
                getattr(error, "sqlstate", None) or None)
    return None, str(error), None, None


class Span:
    """One operation: started by start_span(), stored by finish_span().

    A span is a context manager: `with tracer.start_span('op') as span:`
    finishes it with status success, or error (and the exception) when the
    block raises.
    """

    def __init__(self, tracer, operation, service, tags, parent):
        self.tracer = tracer
        self.operation = operation
        self.service = service
        self.service_type = _service_label(service)
        self.tags = dict(tags) if tags else {}
        self.parent = parent
        self.trace_id = parent.trace_id if parent is not None else _new_id(16)
        self.span_id = _new_id(8)
        self.parent_span_id = parent.span_id if parent is not None else None
        self.flags = parent.flags if parent is not None else 1
        self.start_time = utcnow()
        self._t0 = time.perf_counter()
        self.end_time = None
        self.duration_ms = None
        self.status = None
        self.error = None
        self._token = None

    @property
    def context(self):
        return SpanContext(self.trace_id, self.span_id, self.flags)

    @property
    def traceparent(self):
        return self.context.traceparent

    @property
    def finished(self):
        return self.end_time is not None

    def set_tag(self, key, value):
        self.tags[key] = value

    def to_dict(self):
        return dict(trace_id=self.trace_id, span_id=self.span_id,
                    parent_span_id=self.parent_span_id, operation=self.operation,
                    service=self.service_type, service_name=self.tracer.service_name,
                    start_time=self.start_time.isoformat(),
                    end_time=self.end_time.isoformat() if self.end_time else None,
                    duration_ms=self.duration_ms, status=self.status, error=self.error,
                    tags=self.tags)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.finished:
            if exc is None:
                self.tracer.finish_span(self, status="success")
            else:
                self.tracer.finish_span(self, status="error", error=exc)
        return False

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return self.__exit__(exc_type, exc, tb)

    def __repr__(self):
        return "<Span %s %s/%s %s>" % (self.operation, self.trace_id, self.span_id,
                                       self.status or "open")


class DistributedTracer:
    """The seed's DistributedTracer: spans timed by the client, stored in
    obs.spans with obs.record_span().

    service_name: the spans' service name (obs.spans.service_name).  The
    tracer keeps the spans it finished in .spans (at most max_spans, the
    oldest dropped first) for export_jaeger(); `tracer.spans = []` frees them.
    """

    def __init__(self, service_name=None, *, connection=None, pool=None, client=None,
                 max_spans=10000):
        self.service_name = service_name or os.environ.get("OTEL_SERVICE_NAME") or "obs_client"
        self.client = get_client(connection=connection, pool=pool, client=client)
        self.max_spans = max_spans
        self.spans = []

    def start_span(self, operation, service=ServiceType.CUSTOM, tags=None, *,
                   traceparent=None, parent=None):
        """Open a span, a child of the current span of this thread or task
        (or of parent, a Span or SpanContext, or of the W3C traceparent
        header), and make it the current one."""
        if not operation:
            raise ValueError("operation must not be empty")
        if traceparent is not None:
            parent = SpanContext.from_traceparent(traceparent)
        elif parent is None:
            parent = current_context()
        elif isinstance(parent, Span):
            parent = parent.context
        span = Span(self, operation, service, tags, parent)
        span._token = _current.set(span)
        return span

    def finish_span(self, span, status="success", error=None):
        """Close span and queue it for obs.spans; returns its duration in ms.
        status: success (stored as ok), ok, error or unset; error: an
        exception or a message (an error without a status means error)."""
        if span.finished:
            raise ValueError("span %s (%s) is already finished" % (span.span_id, span.operation))
        if status is None:
            status = "error" if error is not None else "success"
        if status not in _STATUSES:
            raise ValueError("invalid span status %r; valid: success, ok, error, unset" % (status,))
        elapsed = time.perf_counter() - span._t0
        span.end_time = span.start_time + timedelta(seconds=elapsed)
        span.duration_ms = elapsed * 1000.0
        span.status = status
        etype, emsg, etb, _ = error_parts(error)
        if etype is not None:
            span.error = "%s: %s" % (etype, emsg)
        else:
            span.error = emsg
        # the parent becomes current again, where this span was current
        if _current.get() is span:
            try:
                _current.reset(span._token)
            except ValueError:  # finished in another context than it started in
                _current.set(span.parent)
        self.client.submit("span", (
            span.trace_id, span.span_id, span.parent_span_id, span.operation,
            span.service_type, span.start_time, span.end_time, _STATUSES[status],
            span.error, _json(span.tags or None), self.service_name))
        self.spans.append(span)
        if len(self.spans) > self.max_spans:
            del self.spans[:len(self.spans) - self.max_spans]
        return span.duration_ms

    def span(self, operation, service=ServiceType.CUSTOM, tags=None, **kw):
        """start_span() as a context manager (the same object)."""
        return self.start_span(operation, service, tags, **kw)

    def current_span(self):
        return current_span()

    def current_traceparent(self):
        """The W3C traceparent header for an outgoing call: the current span
        of this thread or task, else the continued remote parent, else None."""
        ctx = current_context()
        return ctx.traceparent if ctx is not None else None

    def inject(self, headers):
        """Set headers['traceparent'] (when there is a current span); returns headers."""
        tp = self.current_traceparent()
        if tp is not None:
            headers["traceparent"] = tp
        return headers

    def continue_trace(self, traceparent):
        """Continue an incoming trace: new root spans of this context become
        children of the traceparent header.  Use as a context manager, or
        call once (e.g. at the start of a request's task).  A missing header
        (None) leaves the context as it is."""
        return _Continuation(SpanContext.from_traceparent(traceparent)
                             if traceparent is not None else None)

    def export_jaeger(self, output_dir, trace_ids=None):
        """Write the traces of the spans this tracer finished (or trace_ids)
        as a Jaeger UI JSON file (obs.jaeger_json()) in output_dir; returns
        its path."""
        os.makedirs(output_dir, exist_ok=True)
        ids = sorted({s.trace_id for s in self.spans}) if trace_ids is None else list(trace_ids)
        _, rows = self.client.query("SELECT {s}.jaeger_json(%s::text[]::{s}.trace_id[])", (ids,))
        doc = rows[0][0]
        path = os.path.join(output_dir, "traces_%s.json" % utcnow().strftime("%Y%m%dT%H%M%S.%fZ"))
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, path)
        return path


class _Continuation:
    def __init__(self, ctx):
        self.ctx = ctx
        self._token = _current.set(ctx) if ctx is not None else None

    def __enter__(self):
        return self.ctx

    def __exit__(self, *exc):
        if self._token is not None:
            try:
                _current.reset(self._token)
            except ValueError:
                _current.set(None)
        return False


_default_tracer = None


def _tracer():
    global _default_tracer
    if _default_tracer is None:
        _default_tracer = DistributedTracer()
    return _default_tracer


def trace_execution(tracer=None, service=ServiceType.CUSTOM, operation=None, tags=None):
    """Decorator: each call of the function (sync or async) is a span named
    after it (or operation), status success, or error with the exception,
    which is re-raised.  @trace_execution(tracer, service=...) as in the
    seed, or @trace_execution(service=...) with a default tracer."""
    if callable(tracer) and not isinstance(tracer, DistributedTracer):
        # bare @trace_execution
        return trace_execution()(tracer)

    def decorate(func):
        name = operation or func.__qualname__

        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args, **kwargs):
                t = tracer or _tracer()
                span = t.start_span(name, service, tags)
                try:
                    result = await func(*args, **kwargs)
                except BaseException as e:
                    t.finish_span(span, status="error", error=e)
                    raise
                t.finish_span(span, status="success")
                return result
            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            t = tracer or _tracer()
            span = t.start_span(name, service, tags)
            try:
                result = func(*args, **kwargs)
            except BaseException as e:
                t.finish_span(span, status="error", error=e)
                raise
            t.finish_span(span, status="success")
            return result
        return wrapper
    return decorate
