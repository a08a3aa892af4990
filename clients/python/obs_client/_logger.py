"""StructuredLogger (the seed's) and ObsHandler (a logging.Handler), both
writing to obs.logs through the background writer with the client's own
timestamp and the current span of the thread or task."""

import logging
import time
import traceback

from ._client import get_client
from ._tracer import _current, current_context, error_parts

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _snapshot(d):
    """context / tags as queued: a shallow copy of a dict (the caller may
    change its dict after the call; the writer encodes it later), None for
    an empty one."""
    if not d:
        return None
    return dict(d) if type(d) is dict else d


def _log_params(level, message, context, tags, logger, error, ts, etype=None, emsg=None,
                etb=None, sqlstate=None):
    """A log record as queued: no encoding here (the writer thread does
    it), ts a datetime or epoch seconds."""
    if error is not None:
        etype, emsg, etb, sqlstate = error_parts(error)
    if sqlstate is not None and not (isinstance(sqlstate, str) and len(sqlstate) == 5
                                     and sqlstate.isalnum() and sqlstate == sqlstate.upper()):
        sqlstate = None
    ctx = current_context()
    if type(message) is not str:
        message = str(message)
    if ctx is None:
        return (level, message, _snapshot(context), _snapshot(tags), logger,
                sqlstate, emsg, etb, ts, None, None, etype)
    return (level, message, _snapshot(context), _snapshot(tags), logger,
            sqlstate, emsg, etb, ts, ctx.trace_id, ctx.span_id, etype)


class StructuredLogger:
    """The seed's StructuredLogger: debug/info/warning/error/critical(msg,
    context=, tags=, error=) write to obs.logs.  error is an exception (its
    type, message and traceback are stored) or a message.  A record logged
    inside a span carries the span's trace and span id.  The call only
    queues the record (see ObsClient)."""

    def __init__(self, name, output_format="json", *, connection=None, pool=None, client=None):
        self.name = name
        self.output_format = output_format  # accepted for the seed's signature
        self.client = get_client(connection=connection, pool=pool, client=client)

    def log(self, level, message, context=None, tags=None, error=None, timestamp=None):
        if level not in LEVELS:
            level = str(level).upper()
            if level not in LEVELS:
                raise ValueError("invalid log level %r; valid: %s" % (level, ", ".join(LEVELS)))
        return self._record(level, message, context, tags, error, timestamp)

    def _record(self, level, message, context, tags, error, timestamp=None):
        # the client's clock as epoch seconds: cheaper than a datetime, and
        # obs stores it to the microsecond (to_timestamp)
        ts = time.time() if timestamp is None else timestamp
        if error is not None or type(message) is not str:
            return self.client.submit("log", _log_params(level, message, context, tags,
                                                         self.name, error, ts))
        # the common record, built inline: this runs in the caller's thread
        if context:
            context = dict(context) if type(context) is dict else context
        else:
            context = None
        if tags:
            tags = dict(tags) if type(tags) is dict else tags
        else:
            tags = None
        cur = _current.get()  # the current Span or SpanContext: both carry the ids
        if cur is None:
            return self.client.submit("log", (level, message, context, tags, self.name,
                                              None, None, None, ts, None, None, None))
        return self.client.submit("log", (level, message, context, tags, self.name,
                                          None, None, None, ts, cur.trace_id, cur.span_id, None))

    def debug(self, message, context=None, tags=None, error=None):
        return self._record("DEBUG", message, context, tags, error)

    def info(self, message, context=None, tags=None, error=None):
        return self._record("INFO", message, context, tags, error)

    def warning(self, message, context=None, tags=None, error=None):
        return self._record("WARNING", message, context, tags, error)

    def error(self, message, context=None, tags=None, error=None):
        return self._record("ERROR", message, context, tags, error)

    def critical(self, message, context=None, tags=None, error=None):
        return self._record("CRITICAL", message, context, tags, error)

    def exception(self, message, context=None, tags=None):
        """error() with the exception being handled."""
        import sys
        return self.log("ERROR", message, context, tags, sys.exc_info()[1])

    def flush(self, timeout=None):
        return self.client.flush(timeout)


# attributes every LogRecord has; the others came from extra=
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _obs_level(levelno):
    if levelno >= logging.CRITICAL:
        return "CRITICAL"
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARNING"
    if levelno >= logging.INFO:
        return "INFO"
    return "DEBUG"


class ObsHandler(logging.Handler):
    """A logging.Handler that writes records to obs.logs.

    logger = record.name; level mapped to obs's five; ts = record.created;
    extra={'context': {...}, 'tags': {...}} become context and tags, any
    other extra= keys go into context.  With exc_info (logger.exception()),
    the error field holds the exception's type, message and traceback.  The
    current span of the thread or task gives trace_id and span_id.  Records
    of the "obs_client" logger (the client's own warnings) are not sent.
    """

    def __init__(self, level=logging.NOTSET, *, connection=None, pool=None, client=None):
        super().__init__(level)
        self.client = get_client(connection=connection, pool=pool, client=client)

    def emit(self, record):
        if record.name == "obs_client" or record.name.startswith("obs_client."):
            return
        try:
            extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
            context = extras.pop("context", None)
            tags = extras.pop("tags", None)
            if not isinstance(context, dict):
                context = {"context": context} if context is not None else {}
            else:
                context = dict(context)
            context.update(extras)
            etype = emsg = etb = None
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                etype = type(exc).__qualname__
                emsg = str(exc)
                etb = "".join(traceback.format_exception(*record.exc_info))
            elif record.exc_text:
                etb = record.exc_text
            sqlstate = None
            if record.exc_info and record.exc_info[1] is not None:
                sqlstate = getattr(record.exc_info[1], "sqlstate", None)
            self.client.submit("log", _log_params(
                _obs_level(record.levelno), record.getMessage(), context or None,
                tags if isinstance(tags, dict) else None, record.name, None, float(record.created),
                etype, emsg, etb, sqlstate))
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)

    def flush(self):
        self.client.flush(self.client.exit_timeout)
