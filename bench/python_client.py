#!/usr/bin/env python3
"""bench/python_client.py: obs_client's batching background writer against
one round trip per call, measured in the same run on the same server.

Connects like libpq (PG* variables, or OBS_DSN) to a database with obs.
Each side writes the same log record (message, context, tags, the client's
timestamp, a trace and span id) through obs.info():
  batched      StructuredLogger.info() x N, then flush(): calls/s end to end
               (and what the caller alone spent per call)
  per call     one SELECT obs.info(...) per call, autocommit (a commit each)
  per call/tx  one SELECT obs.info(...) per call inside one transaction
               (the bare round trip, no commit cost)
Prints calls/s of each and the ratios.  Not a test: it asserts nothing.
  BENCH_CALLS=20000 BENCH_BASELINE_CALLS=2000 python3 bench/python_client.py
"""
import os
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))

import psycopg  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

import obs_client  # noqa: E402
from obs_client import DistributedTracer, ObsClient, StructuredLogger  # noqa: E402

N = int(os.environ.get("BENCH_CALLS", "20000"))
NB = int(os.environ.get("BENCH_BASELINE_CALLS", "2000"))
CONTEXT = {"user_id": 123, "records": 1000}
TAGS = {"environment": "bench"}

dsn = os.environ.get("OBS_DSN", "")
with psycopg.connect(dsn, autocommit=True) as c:
    c.execute("CREATE EXTENSION IF NOT EXISTS obs")
    c.execute("SELECT obs.current_span_id()")  # loads obs: its settings show
    settings = {k: c.execute("SELECT current_setting(%s, true)", (k,)).fetchone()[0]
                for k in ("fsync", "synchronous_commit", "obs.write_path")}
print("server: %s" % ", ".join("%s = %s" % kv for kv in settings.items()))

# batched: the client
client = ObsClient(dsn, queue_size=max(N, 1) + 10)
tracer = DistributedTracer("bench", client=client)
log = StructuredLogger("bench_batched", client=client)
log.info("warm up")
client.flush()
with tracer.start_span("bench"):
    t0 = time.perf_counter()
    for i in range(N):
        log.info("record", context=CONTEXT, tags=TAGS)
    t_call = time.perf_counter() - t0
    assert client.flush(600), client.stats()
    t_batched = time.perf_counter() - t0
st = client.stats()
client.close()
assert st["dropped_overflow"] == 0 and st["rejected"] == 0, st

# one round trip per call
q = ("SELECT obs.info(%s, %s, %s, 'bench_per_call', ts => %s,"
     " trace_id => %s::obs.trace_id, span_id => %s::obs.span_id)")
args = lambda: ("record", Jsonb(CONTEXT), Jsonb(TAGS), datetime.now(timezone.utc),  # noqa: E731
                "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
with psycopg.connect(dsn, autocommit=True) as c:
    c.execute(q, args())
    t0 = time.perf_counter()
    for i in range(NB):
        c.execute(q, args())
    t_single = time.perf_counter() - t0
    t0 = time.perf_counter()
    with c.transaction():
        for i in range(NB):
            c.execute(q, args())
    t_single_tx = time.perf_counter() - t0
    stored = c.execute("SELECT count(*) FROM obs.logs WHERE logger = 'bench_batched' AND message = 'record'").fetchone()[0]
    c.execute("DELETE FROM obs.logs WHERE logger IN ('bench_batched', 'bench_per_call')")

batched = N / t_batched
single = NB / t_single
single_tx = NB / t_single_tx
print("batched:     %8d calls in %6.2f s = %9.0f calls/s end to end (the caller: %.1f us/call; %d batches; %d rows stored)"
      % (N, t_batched, batched, t_call / N * 1e6, st["batches"], stored))
print("per call:    %8d calls in %6.2f s = %9.0f calls/s (autocommit)" % (NB, t_single, single))
print("per call/tx: %8d calls in %6.2f s = %9.0f calls/s (one transaction)" % (NB, t_single_tx, single_tx))
print("ratio batched / per call:    %.1fx" % (batched / single))
print("ratio batched / per call/tx: %.1fx" % (batched / single_tx))
