"""The connection and the background writer that every obs_client object shares.

One ObsClient per process (get_client()) owns one connection, or uses the
connection or pool it was given.  Records (logs, spans, metric samples, runs)
are put on a bounded in-memory queue and written in batches by one background
thread; the caller never waits on the network.  Reads (health figures, alert
checks, Parquet exports) first flush the queue, so they see what was recorded.
"""

import atexit
import contextlib
import json
import logging
import os
import sys
import threading
import time
import weakref
from datetime import datetime, timezone

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

# the client's own diagnostics; ObsHandler never sends these to obs
_log = logging.getLogger("obs_client")

RUN_STATES = ("Scheduled", "Pending", "Running", "Paused", "Cancelling",
              "Completed", "Failed", "Crashed", "Cancelled")


# one encoder (C-accelerated): values JSON cannot carry are stored as their str()
_encode_json = json.JSONEncoder(default=str, ensure_ascii=False).encode


def _json(obj):
    """A jsonb parameter."""
    if obj is None:
        return None
    return Jsonb(obj, dumps=_encode_json)


def aware(ts):
    """A timezone-aware datetime: naive ones (datetime.now()) are local time."""
    if ts is None:
        return None
    if isinstance(ts, (int, float)):
        return datetime.fromtimestamp(ts, timezone.utc)
    if ts.tzinfo is None:
        return ts.astimezone()
    return ts


def utcnow():
    return datetime.now(timezone.utc)


# statements by record kind; {s} is obs's schema
_STATEMENTS = {
    "log": "SELECT {s}.log(%s, %s, %s, %s, %s, %s, %s, NULL, NULL, %s, %s,"
           " %s::{s}.trace_id, %s::{s}.span_id, %s)",
    "span": "SELECT {s}.record_span(%s::{s}.trace_id, %s::{s}.span_id, %s::{s}.span_id,"
            " %s, %s, %s, %s, %s, %s, %s, %s)",
    "metric": "SELECT {s}.record_metric(%s, %s, %s, %s, %s)",
    "flow": "SELECT {s}.record_flow_execution(%s, %s, %s, %s, %s, %s, %s, %s)",
    "task": "SELECT {s}.record_task_execution(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
}

# the batch path: per kind, the columns of a temporary staging table (in
# the order of the record's parameters) and the call that stores each row.
# A log's ts is the client's clock as epoch seconds (a float, the cheap
# default) or a datetime: it fills ts_epoch or ts.
_STAGING = {
    "log": (("level text, message text, context jsonb, tags jsonb, logger text, sqlstate text,"
             " error_message text, error_context text, ts timestamptz, ts_epoch float8,"
             " trace_id text, span_id text, error_type text"),
            "{s}.log(level, message, context, tags, logger, sqlstate, error_message, NULL, NULL,"
            " error_context, COALESCE(ts, pg_catalog.to_timestamp(ts_epoch)),"
            " trace_id::{s}.trace_id, span_id::{s}.span_id, error_type)"),
    "span": (("trace_id text, span_id text, parent_span_id text, operation text, service text,"
              " start_time timestamptz, end_time timestamptz, status text, error text, tags jsonb,"
              " service_name text"),
             "{s}.record_span(trace_id::{s}.trace_id, span_id::{s}.span_id,"
             " parent_span_id::{s}.span_id, operation, service, start_time, end_time, status,"
             " error, tags, service_name)"),
    "metric": ("name text, value float8, tags jsonb, kind text, ts timestamptz",
               "{s}.record_metric(name, value, tags, kind, ts)"),
    "flow": (("flow_name text, flow_run_id text, start_time timestamptz, end_time timestamptz,"
              " status text, num_tasks integer, error text, tags jsonb"),
             "{s}.record_flow_execution(flow_name, flow_run_id, start_time, end_time, status,"
             " num_tasks, error, tags)"),
    "task": (("task_name text, flow_run_id text, start_time timestamptz, end_time timestamptz,"
              " status text, inputs_processed bigint, outputs_produced bigint, error text,"
              " task_run_id text, tags jsonb"),
             "{s}.record_task_execution(task_name, flow_run_id, start_time, end_time, status,"
             " inputs_processed, outputs_produced, error, task_run_id, tags)"),
}

# per kind, the positions of the record's jsonb parameters (a dict, a list,
# a Jsonb or None) and of its timestamp that may be epoch seconds
_JSONB_AT = {"log": (2, 3), "span": (9,), "metric": (2,), "flow": (7,), "task": (9,)}
_EPOCH_AT = {"log": 8}

# COPY text format: backslash, tab, newline and carriage return escaped
_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

# the writer's JSON encoder: json's C encoder called directly (what
# _encode_json does, without building an encoder per value).  No circular
# check: a circular value raises RecursionError and the record is refused.
try:
    _c_encoder = json.encoder.c_make_encoder(
        None, str, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)
except (AttributeError, TypeError):  # no C accelerator
    _c_encoder = None


def _json_text(v):
    """The JSON text of a jsonb parameter (not None)."""
    if type(v) is Jsonb:
        v = v.obj
    if _c_encoder is not None:
        return _c_encoder(v, 0)[0]
    return _encode_json(v)


def _copy_field(v):
    if v is None:
        return "\\N"
    t = type(v)
    if t is str:
        return v.translate(_COPY_ESCAPE)
    if t is Jsonb:
        return _encode_json(v.obj).translate(_COPY_ESCAPE)
    if t is datetime or isinstance(v, datetime):
        return v.isoformat()
    if t is float:
        return repr(v)
    return str(v).translate(_COPY_ESCAPE)


def _text_column(col):
    """COPY fields of one column of a batch.  The common column (all str,
    nothing to escape) costs a join, three scans and a split, in C: no
    Python work per value."""
    n = len(col)
    try:
        s = "\0".join(col)
    except TypeError:  # None or another type among the values
        if col.count(None) == n:
            return ("\\N",) * n
        return [_copy_field(v) for v in col]
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s:
        s = s.translate(_COPY_ESCAPE)
    out = s.split("\0")
    if len(out) != n:
        # a NUL inside a value (the server refuses it): field by field
        return [_copy_field(v) for v in col]
    return out


def _json_column(col):
    """COPY fields of a jsonb column: each value encoded by the C encoder;
    JSON text has no raw tab, newline or carriage return, only backslashes
    to double, done once for the column."""
    n = len(col)
    if col.count(None) == n:
        return ("\\N",) * n
    enc = _json_text
    texts = ["" if v is None else enc(v) for v in col]   # "" is never JSON text
    s = "\0".join(texts)
    if "\\" in s:
        s = s.replace("\\", "\\\\")
        texts = s.split("\0")
        if len(texts) != n:  # a NUL in a str() of a value: field by field
            return [_copy_field(None if v is None else Jsonb(v) if type(v) is not Jsonb else v)
                    for v in col]
    if "" in texts:
        return ["\\N" if t == "" else t for t in texts]
    return texts


def _epoch_columns(col):
    """A timestamp column of epoch floats (the client's clock) and
    datetimes (given by the caller): the ts and ts_epoch COPY fields."""
    n = len(col)
    if all(type(v) is float for v in col):
        return ("\\N",) * n, list(map(float.__repr__, col))
    ts = [_copy_field(v) if type(v) is not float else "\\N" for v in col]
    ep = [repr(v) if type(v) is float else "\\N" for v in col]
    return ts, ep


def _copy_rows(kind, rows, first=0):
    """The COPY text of a batch of records of one kind (their parameters),
    a sequence number (from first on) first: built column by column."""
    n = len(rows)
    jsonb_at = _JSONB_AT[kind]
    epoch_at = _EPOCH_AT.get(kind)
    fields = [list(map(str, range(first, first + n)))]
    for i, col in enumerate(zip(*rows)):
        if i in jsonb_at:
            fields.append(_json_column(col))
        elif i == epoch_at:
            fields.extend(_epoch_columns(col))
        else:
            fields.append(_text_column(col))
    return "\n".join(map("\t".join, zip(*fields))) + "\n"


def _call_params(kind, params):
    """A record's parameters for one call of its _STATEMENTS statement."""
    p = list(params)
    for i in _JSONB_AT[kind]:
        if p[i] is not None and type(p[i]) is not Jsonb:
            p[i] = _json(p[i])
    i = _EPOCH_AT.get(kind)
    if i is not None and type(p[i]) is float:
        p[i] = datetime.fromtimestamp(p[i], timezone.utc)
    return p


_clients = weakref.WeakSet()
# a forked child re-initialises every client at once (os.register_at_fork),
# so that submit() need not compare process ids (a system call) per record
_AT_FORK = hasattr(os, "register_at_fork")
# per connection, the staging tables made in its session
_staged = weakref.WeakKeyDictionary()


class ObsClient:
    """A connection (own, given, or a pool) and the writer thread behind it.

    conninfo: a libpq connection string; default OBS_DSN, else libpq's
    defaults (the PG* environment variables).  connection: a psycopg
    Connection to use instead (shared with the writer thread under a lock;
    not closed by the client).  pool: a psycopg_pool.ConnectionPool; each
    batch and each read takes a connection from it.

    queue_size bounds the records waiting in memory: past it a record is
    dropped and counted (stats()["dropped_overflow"]), the caller never
    blocks.  batch_size is the most records one round trip writes;
    flush_interval how long the writer waits to fill a batch.  exit_timeout:
    how long the atexit flush may take.
    """

    def __init__(self, conninfo=None, *, connection=None, pool=None,
                 queue_size=100000, batch_size=2000, flush_interval=0.05,
                 exit_timeout=10.0, reconnect_delay=0.1, max_reconnect_delay=2.0):
        if connection is not None and pool is not None:
            raise ValueError("pass a connection or a pool, not both")
        if queue_size < 1 or batch_size < 1:
            raise ValueError("queue_size and batch_size must be positive")
        self.conninfo = conninfo if conninfo is not None else os.environ.get("OBS_DSN", "")
        self._given = connection
        self._pool = pool
        self._own = None
        self._conn_lock = threading.RLock()
        self._schema = None
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.exit_timeout = exit_timeout
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self._pid = os.getpid()
        self._init_writer_state()
        self._closed = False
        _clients.add(self)

    # ---- connections -------------------------------------------------

    def _connect(self):
        kw = {}
        if "connect_timeout" not in self.conninfo and not os.environ.get("PGCONNECT_TIMEOUT"):
            kw["connect_timeout"] = 10  # a server that does not answer must not hold the writer forever
        return psycopg.connect(self.conninfo, autocommit=True, **kw)

    @contextlib.contextmanager
    def connection(self):
        """A connection to obs's database, for one batch or one read."""
        self._check_fork()
        if self._pool is not None:
            with self._pool.connection() as conn:
                yield conn
            return
        with self._conn_lock:
            if self._given is not None:
                yield self._given
                return
            if self._own is None or self._own.closed or self._own.broken:
                self._drop_own()
                self._own = self._connect()
            try:
                yield self._own
            except psycopg.OperationalError:
                # the server went away: the next use reconnects
                self._drop_own()
                raise

    def _drop_own(self):
        if self._own is not None:
            with contextlib.suppress(Exception):
                self._own.close()
            self._own = None

    def schema(self, conn):
        """obs's schema, found by extension membership (not by name)."""
        if self._schema is None:
            row = conn.execute(
                "SELECT n.nspname FROM pg_catalog.pg_extension e"
                " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
                " WHERE e.extname = 'obs'").fetchone()
            if row is None:
                raise RuntimeError("extension obs is not installed in this database"
                                   " (CREATE EXTENSION obs)")
            self._schema = row[0]
        return self._schema

    def statement(self, conn, template):
        """template with {s} replaced by obs's quoted schema."""
        return sql.SQL(template).format(s=sql.Identifier(self.schema(conn)))

    def query(self, template, params=(), *, flush=True):
        """Run a read after flushing what was recorded; returns (columns, rows)."""
        if flush:
            self.flush()
        with self.connection() as conn:
            if flush:
                # the buffered path (obs preloaded): wait for obs's own flusher
                conn.execute(self.statement(conn, "SELECT {s}.flush()"))
            cur = conn.execute(self.statement(conn, template), params)
            cols = [d.name for d in cur.description] if cur.description else []
            rows = cur.fetchall() if cur.description else []
            if not conn.autocommit:
                conn.commit()
            return cols, rows

    def copy_to_file(self, template, path, params=()):
        """COPY (query) TO STDOUT (FORMAT parquet) into a client file, atomically."""
        self.flush()
        tmp = "%s.tmp.%d" % (path, os.getpid())
        with self.connection() as conn:
            s = self.schema(conn)
            conn.execute(self.statement(conn, "SELECT {s}.flush()"))
            # COPY ... (FORMAT parquet) is obs's: make sure the library is loaded
            conn.execute(self.statement(conn, "SELECT {s}.current_span_id()"))
            q = sql.SQL("COPY ({}) TO STDOUT (FORMAT parquet)").format(
                sql.SQL(template).format(s=sql.Identifier(s)))
            try:
                with open(tmp, "wb") as f, conn.cursor() as cur:
                    with cur.copy(q, params or None) as copy:
                        for chunk in copy:
                            f.write(chunk)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            if not conn.autocommit:
                conn.commit()
        return path

    # ---- the writer --------------------------------------------------

    def _init_writer_state(self):
        self._lock = threading.Lock()
        self._cv = threading.Condition(self._lock)
        self._queue = []
        self._enqueued = 0
        self._done = 0
        self._flush_wanted = False
        self._stop = False
        self._thread = None      # the writer: takes batches off the queue, encodes them
        self._sender = None      # the sender: writes encoded batches to the server
        self._job = None         # (batch, encoded): handed from the writer to the sender
        self._waiting = 0        # records encoded by the writer, not yet handed over
        self._writer_exited = False
        self._inflight = 0       # records taken off the queue, not yet written
        self._abandoned = False
        self._stats = dict(written=0, dropped_overflow=0, rejected=0, lost=0,
                           batches=0, reconnects=0, retries=0)
        self.last_error = None

    def submit(self, kind, params):
        """Queue one record; False when the queue is full (it is counted).
        This runs in the caller's thread for every record: kept short."""
        if not _AT_FORK and self._pid != os.getpid():
            self._after_fork()
        with self._lock:  # the Condition's lock, taken without its Python wrapper
            if len(self._queue) + self._waiting >= self.queue_size or self._closed:
                self._stats["dropped_overflow" if not self._closed else "lost"] += 1
                return False
            self._queue.append((kind, params))
            self._enqueued += 1
            if len(self._queue) >= self.batch_size:
                self._cv.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="obs_client-writer",
                                                daemon=True)
                self._thread.start()
        return True

    def flush(self, timeout=None):
        """Wait until every record queued before this call is written (or
        rejected).  Returns False on timeout.  Safe from any thread."""
        self._check_fork()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            target = self._enqueued
            if self._done >= target:
                return True
            self._flush_wanted = True
            self._cv.notify_all()
            while self._done < target:
                if self._thread is None or not (self._thread.is_alive() or (
                        self._sender is not None and self._sender.is_alive())):
                    return False
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cv.wait(left if left is not None else 1.0)
            return True

    async def aflush(self, timeout=None):
        """flush() for asyncio code: waits in a thread, not in the event loop."""
        import asyncio
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.flush, timeout)

    def stats(self):
        """Counters: queued (waiting now), written, dropped_overflow (queue
        full), rejected (refused by the server), lost (not written at exit),
        batches, reconnects, retries (batches written again after a
        connection failure)."""
        with self._cv:
            d = dict(self._stats)
            d["queued"] = len(self._queue)
            return d

    def _run(self):
        """The writer thread: takes a batch off the queue and encodes it
        while the sender thread writes the previous one, so that the
        client's Python work and the server's work overlap."""
        try:
            while True:
                with self._cv:
                    while not self._queue and not self._stop:
                        self._cv.wait()
                    if not self._queue and self._stop:
                        return
                    if (len(self._queue) < self.batch_size and not self._flush_wanted
                            and not self._stop):
                        # let a batch fill up for a moment
                        self._cv.wait(self.flush_interval)
                    batch = self._queue[:self.batch_size]
                    del self._queue[:len(batch)]
                    self._inflight += len(batch)
                    self._waiting = len(batch)
                    if not self._queue:
                        self._flush_wanted = False
                if not batch:
                    continue
                encoded = _encode_batch(batch)
                with self._cv:
                    while self._job is not None and not self._abandoned:
                        self._cv.wait()
                    if self._abandoned:  # close() gave up on the batches and counted them
                        return
                    self._job = (batch, encoded)
                    self._waiting = 0
                    if self._sender is None:
                        self._sender = threading.Thread(target=self._send_loop,
                                                        name="obs_client-sender", daemon=True)
                        self._sender.start()
                    self._cv.notify_all()
        finally:
            with self._cv:
                self._writer_exited = True
                self._cv.notify_all()

    def _send_loop(self):
        """The sender thread: writes the batches the writer encoded, in order."""
        while True:
            with self._cv:
                while self._job is None:
                    if self._writer_exited or self._abandoned:
                        return
                    self._cv.wait()
                batch, encoded = self._job
            self._write_with_retry(batch, encoded)
            with self._cv:
                if self._abandoned:  # close() gave up on this batch and counted it
                    return
                self._job = None
                self._inflight -= len(batch)
                self._done += len(batch)
                self._cv.notify_all()

    def _write_with_retry(self, batch, encoded):
        delay = self.reconnect_delay
        failed_before = False
        # the transaction id of a batch whose COMMIT got no answer (the
        # connection broke): it may have committed; asked before writing again
        state = {"xid": None}
        staging_retried = False
        while True:
            try:
                if encoded is None:
                    raise _Unencodable()
                if state["xid"] is not None:
                    status = self._xact_status(state["xid"])
                    if status == "in progress":
                        raise psycopg.OperationalError("the batch's transaction %s is still in progress"
                                                       % state["xid"])
                    state["xid"] = None
                    if status == "committed":
                        self._count_written(batch)
                        with self._cv:
                            self._stats["retries"] += 1
                        return
                self._write(batch, encoded, state)
                if failed_before:
                    with self._cv:
                        self._stats["retries"] += 1
                return
            except psycopg.errors.UndefinedTable as e:
                # a staging table dropped behind the client's back: made
                # again on the second try; a table missing for another
                # reason refuses the batch as any other error does
                if not staging_retried:
                    staging_retried = True
                    continue
                self._write_one_by_one(batch, e)
                return
            except psycopg.OperationalError as e:
                # connection lost (server restart, network): keep the batch,
                # reconnect and write it again
                with self._cv:
                    self._stats["reconnects"] += 1
                    self.last_error = "%s: %s" % (type(e).__name__, e)
                    stopping = self._stop
                failed_before = True
                if stopping and time.monotonic() > self._stop_deadline:
                    with self._cv:
                        if not self._abandoned:
                            self._stats["lost"] += len(batch)
                    return
                if self._given is not None and self._given.closed:
                    with self._cv:
                        self._stats["lost"] += len(batch)
                    _log.warning("obs_client: the connection given to the client is closed;"
                                 " %d records lost", len(batch))
                    return
                time.sleep(delay)
                delay = min(delay * 2, self.max_reconnect_delay)
            except Exception as e:  # noqa: BLE001 - a record the server refuses
                self._write_one_by_one(batch, e)
                return

    def _xact_status(self, xid):
        with self.connection() as conn:
            status = conn.execute("SELECT pg_catalog.pg_xact_status(%s::xid8)", (xid,)).fetchone()[0]
            if not conn.autocommit:
                conn.commit()
        return status

    def _write(self, batch, encoded, state):
        """One transaction: per run of records of one kind, COPY them into
        a temporary staging table (emptied at commit) and call obs's
        function on each row, in order."""
        with self.connection() as conn:
            try:
                self._write_staged(conn, encoded, state)
            except psycopg.Error:
                # the session may have lost its staging tables (DISCARD ALL,
                # DISCARD TEMP, a pool's reset): made again by the next try
                _staged.pop(conn, None)
                raise
            if not conn.autocommit:
                conn.commit()
            state["xid"] = None
        self._count_written(batch)

    def _write_staged(self, conn, encoded, state):
        with conn.transaction():
            with conn.cursor() as cur:
                for kind, first, text in encoded:
                    cols, call = _STAGING[kind]
                    table = "obs_client_" + kind
                    made = _staged.setdefault(conn, set())
                    if kind not in made:
                        cur.execute("CREATE TEMPORARY TABLE IF NOT EXISTS %s (seq integer, %s)"
                                    " ON COMMIT DELETE ROWS" % (table, cols))
                        made.add(kind)
                    with cur.copy("COPY pg_temp.%s FROM STDIN" % table) as copy:
                        copy.write(text)
                    # with the transaction's id: once the last run is
                    # stored, only the COMMIT is left, and if its answer
                    # is lost, this id tells whether the batch is stored
                    state["xid"] = cur.execute(self.statement(
                        conn, "SELECT pg_catalog.count(" + call + "),"
                        " pg_catalog.pg_current_xact_id()::text FROM (SELECT * FROM pg_temp."
                        + table + " WHERE seq >= %d ORDER BY seq) b" % first)).fetchone()[1]

    def _count_written(self, batch):
        with self._cv:
            if not self._abandoned:
                self._stats["written"] += len(batch)
                self._stats["batches"] += 1

    def _write_one_by_one(self, batch, first_error):
        """A batch the server refused: write its records one at a time, so
        that only the bad ones are lost (and counted as rejected)."""
        for kind, params in batch:
            try:
                with self.connection() as conn:
                    with conn.transaction():
                        conn.execute(self.statement(conn, _STATEMENTS[kind]),
                                     _call_params(kind, params))
                    if not conn.autocommit:
                        conn.commit()
                with self._cv:
                    self._stats["written"] += 1
            except psycopg.OperationalError:
                with self._cv:
                    self._stats["lost"] += 1
            except Exception as e:  # noqa: BLE001
                with self._cv:
                    self._stats["rejected"] += 1
                    self.last_error = "%s: %s" % (type(e).__name__, e)
                _log.warning("obs_client: obs refused a %s record: %s", kind, e)

    def close(self, timeout=None):
        """Flush (up to timeout, default exit_timeout) and stop the writer;
        records still queued after that are counted as lost."""
        if self._closed or self._pid != os.getpid():
            return
        timeout = self.exit_timeout if timeout is None else timeout
        self._stop_deadline = time.monotonic() + timeout
        self.flush(timeout)
        with self._cv:
            self._closed = True
            self._stop = True
            self._stats["lost"] += len(self._queue)
            left = len(self._queue)
            self._done += left  # accounted for: lost
            self._queue.clear()
            self._cv.notify_all()
        if self._thread is not None:
            for t in (self._thread, self._sender):
                if t is not None:
                    t.join(max(0.0, self._stop_deadline - time.monotonic())
                           + self.max_reconnect_delay + 0.5)
            with self._cv:
                alive = self._thread.is_alive() or (self._sender is not None
                                                    and self._sender.is_alive())
                if alive and self._inflight:
                    # still trying to write one batch: it is lost to us
                    self._abandoned = True
                    self._cv.notify_all()  # a writer waiting to hand over a batch ends
                    self._stats["lost"] += self._inflight
                    left += self._inflight
                    self._done += self._inflight
                    self._inflight = 0
        if left:
            print("obs_client: %d records not written at exit (stats: %s)" % (left, self.stats()),
                  file=sys.stderr)
        with self._conn_lock:
            self._drop_own()

    # ---- fork ----------------------------------------------------------

    def _check_fork(self):
        if self._pid != os.getpid():
            self._after_fork()

    def _after_fork(self):
        """In a forked child: never touch the parent's socket, start afresh.
        Records the parent had queued stay the parent's to write."""
        self._pid = os.getpid()
        own = self._own
        self._own = None
        if own is not None:
            # point the inherited socket's fd at /dev/null, so that nothing
            # the child does (closing, garbage collection, exit) can talk to
            # the server on the parent's session
            with contextlib.suppress(Exception):
                fd = own.pgconn.socket
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, fd)
                os.close(null)
            _orphans.append(own)
        self._conn_lock = threading.RLock()
        self._init_writer_state()
        self._closed = False


_orphans = []  # the parent's connections, kept alive in a forked child
_default = None
_default_lock = threading.Lock()
_by_source = {}


def get_client(*, connection=None, pool=None, client=None):
    """The client for these arguments: the one given, the one of that
    connection or pool, or the process's default (created on first use)."""
    global _default
    if client is not None:
        return client
    if connection is not None or pool is not None:
        key = id(connection if connection is not None else pool)
        with _default_lock:
            c = _by_source.get(key)
            if c is None or (c._given is not connection and c._pool is not pool):
                c = ObsClient(connection=connection, pool=pool)
                _by_source[key] = c
            return c
    with _default_lock:
        if _default is None:
            _default = ObsClient()
        return _default


def set_default_client(client):
    """Make client the one that objects created without a connection use."""
    global _default
    with _default_lock:
        _default = client


def flush(timeout=None):
    """Flush every client of this process."""
    ok = True
    for c in list(_clients):
        if not c._closed:
            ok = c.flush(timeout) and ok
    return ok


def stats():
    """The default client's counters (see ObsClient.stats())."""
    return get_client().stats()


class _Unencodable(Exception):
    """A batch the writer could not encode: its records go one by one."""


def _encode_batch(batch):
    """[(kind, first sequence number, COPY text), ...] per run of records
    of one kind, or None when a value cannot be encoded (the records are
    then written one by one).  The sequence numbers go on across runs: a
    run only calls obs on its own rows of a staging table that an earlier
    run of the same kind in the transaction filled too."""
    try:
        out = []
        first = 0
        for kind, params in _runs_of_kind(batch):
            out.append((kind, first, _copy_rows(kind, params, first)))
            first += len(params)
        return out
    except Exception:  # noqa: BLE001
        return None


def _runs_of_kind(batch):
    """Consecutive records of one kind, in order: (kind, [params, ...])."""
    out = []
    for kind, params in batch:
        if out and out[-1][0] == kind:
            out[-1][1].append(params)
        else:
            out.append((kind, [params]))
    return out


@atexit.register
def _close_all():
    for c in list(_clients):
        with contextlib.suppress(Exception):
            c.close()


def _child_after_fork():
    for c in list(_clients):
        c._after_fork()


if _AT_FORK:
    os.register_at_fork(after_in_child=_child_after_fork)
