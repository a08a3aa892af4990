#!/usr/bin/env python3
"""bench/python_client.py: obs_client's batching background writer against
one round trip per call, measured in the same run on the same server.

Connects like libpq (PG* variables, or OBS_DSN) to a database with obs.
Each side writes the same log record (message, context, tags, the client's
timestamp, a trace and span id) through obs.info():
  batched      StructuredLogger.info() x N, then flush(): calls/s end to end
               (and what the caller alone spent per call)
  per call     one SELECT obs.info(...) per call, autocommit (a commit each):
               what a synchronous logger does
  per call/tx  one SELECT obs.info(...) per call inside one transaction
               (the bare round trip, no commit cost)
The three run in turns, BENCH_ROUNDS times (so that a busy machine or disk
weighs on all of them alike); each figure is the total calls over the total
time of its rounds.  Prints calls/s of each, the ratios, and the ratio of
each round.  Not a test: it asserts nothing.
  BENCH_CALLS=20000 BENCH_BASELINE_CALLS=1000 BENCH_ROUNDS=5 python3 bench/python_client.py
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
NB = int(os.environ.get("BENCH_BASELINE_CALLS", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CONTEXT = {"user_id": 123, "records": 1000}
TAGS = {"environment": "bench"}

dsn = os.environ.get("OBS_DSN", "")
with psycopg.connect(dsn, autocommit=True) as c:
    c.execute("CREATE EXTENSION IF NOT EXISTS obs")
    c.execute("SELECT obs.current_span_id()")  # loads obs: its settings show
    settings = {k: c.execute("SELECT current_setting(%s, true)", (k,)).fetchone()[0]
                for k in ("fsync", "synchronous_commit", "obs.write_path")}
print("server: %s" % ", ".join("%s = %s" % kv for kv in settings.items()))
print("rounds: %d x (batched %d calls, per call %d, per call/tx %d)" % (ROUNDS, N, NB, NB))

with psycopg.connect(dsn, autocommit=True) as c:
    c.execute("DELETE FROM obs.logs WHERE logger IN ('bench_batched', 'bench_per_call')")

client = ObsClient(dsn, queue_size=max(N, 1) + 10)
tracer = DistributedTracer("bench", client=client)
log = StructuredLogger("bench_batched", client=client)
log.info("warm up")
client.flush()


def batched_round():
    with tracer.start_span("bench"):
        t0 = time.perf_counter()
        for i in range(N):
            log.info("record", context=CONTEXT, tags=TAGS)
        t_call = time.perf_counter() - t0
        assert client.flush(600), client.stats()
        return time.perf_counter() - t0, t_call


q = ("SELECT obs.info(%s, %s, %s, 'bench_per_call', ts => %s,"
     " trace_id => %s::obs.trace_id, span_id => %s::obs.span_id)")
args = lambda: ("record", Jsonb(CONTEXT), Jsonb(TAGS), datetime.now(timezone.utc),  # noqa: E731
                "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")


def per_call_round(c):
    t0 = time.perf_counter()
    for i in range(NB):
        c.execute(q, args())
    return time.perf_counter() - t0


def per_call_tx_round(c):
    t0 = time.perf_counter()
    with c.transaction():
        for i in range(NB):
            c.execute(q, args())
    return time.perf_counter() - t0


t_batched = t_call = t_single = t_single_tx = 0.0
per_round = []
with psycopg.connect(dsn, autocommit=True) as c:
    c.execute(q, args())
    for r in range(ROUNDS):
        tb, tc = batched_round()
        ts = per_call_round(c)
        ttx = per_call_tx_round(c)
        t_batched += tb
        t_call += tc
        t_single += ts
        t_single_tx += ttx
        per_round.append((N / tb) / (NB / ts))
    st = client.stats()
    client.close()
    assert st["dropped_overflow"] == 0 and st["rejected"] == 0, st
    stored = c.execute("SELECT count(*) FROM obs.logs WHERE logger = 'bench_batched' AND message = 'record'").fetchone()[0]
    c.execute("DELETE FROM obs.logs WHERE logger IN ('bench_batched', 'bench_per_call')")

batched = N * ROUNDS / t_batched
single = NB * ROUNDS / t_single
single_tx = NB * ROUNDS / t_single_tx
print("batched:     %8d calls in %6.2f s = %9.0f calls/s end to end (the caller: %.1f us/call; %d batches; %d rows stored)"
      % (N * ROUNDS, t_batched, batched, t_call / (N * ROUNDS) * 1e6, st["batches"], stored))
print("per call:    %8d calls in %6.2f s = %9.0f calls/s (autocommit)" % (NB * ROUNDS, t_single, single))
print("per call/tx: %8d calls in %6.2f s = %9.0f calls/s (one transaction)" % (NB * ROUNDS, t_single_tx, single_tx))
print("ratio batched / per call:    %.1fx (rounds: %s)" % (batched / single, ", ".join("%.1fx" % x for x in per_round)))
print("ratio batched / per call/tx: %.1fx" % (batched / single_tx))
