"""ObsHandler: the standard logging module writing to obs.logs."""
import logging
from datetime import datetime, timezone

import pytest

import obs_client
from obs_client import DistributedTracer, ObsHandler
from conftest import rows


@pytest.fixture
def logger():
    handler = ObsHandler()
    log = logging.getLogger("etl.handler_test")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    log.addHandler(handler)
    yield log
    log.removeHandler(handler)


def test_levels_message_and_time(pg, logger):
    before = datetime.now(timezone.utc)
    logger.info("loaded %d rows from %s", 1000, "sec")
    logger.warning("slow")
    logger.log(logging.ERROR + 5, "between error and critical")
    logger.critical("down")
    assert obs_client.flush(30)
    got = rows(pg, "SELECT level::text, logger, message, ts, error FROM obs.logs ORDER BY log_id")
    assert [(r["level"], r["message"]) for r in got] == [
        ("INFO", "loaded 1000 rows from sec"), ("WARNING", "slow"),
        ("ERROR", "between error and critical"), ("CRITICAL", "down")]
    assert all(r["logger"] == "etl.handler_test" and r["error"] is None for r in got)
    assert before <= got[0]["ts"] <= datetime.now(timezone.utc)


def test_extra_context_and_tags(pg, logger):
    logger.info("with extras", extra={"context": {"user_id": 123}, "tags": {"env": "prod"}, "batch": 7})
    assert obs_client.flush(30)
    [r] = rows(pg, "SELECT context, tags FROM obs.logs")
    assert r == {"context": {"user_id": 123, "batch": 7}, "tags": {"env": "prod"}}


def test_exception_type_message_and_traceback(pg, logger):
    def parse(v):
        return int(v)
    try:
        parse("abc")
    except ValueError:
        logger.exception("parse failed")
    assert obs_client.flush(30)
    [r] = rows(pg, "SELECT level::text, message, error FROM obs.logs")
    assert r["level"] == "ERROR" and r["message"] == "parse failed"
    assert r["error"]["type"] == "ValueError"
    assert r["error"]["message"] == "invalid literal for int() with base 10: 'abc'"
    tb = r["error"]["context"]
    assert tb.startswith("Traceback (most recent call last):") and "in parse" in tb
    assert tb.rstrip().endswith("ValueError: invalid literal for int() with base 10: 'abc'")


def test_psycopg_error_keeps_its_sqlstate(pg, logger):
    import psycopg
    try:
        pg.execute("SELECT 1/0")
    except psycopg.Error:
        logger.exception("query failed")
    assert obs_client.flush(30)
    [r] = rows(pg, "SELECT error FROM obs.logs")
    assert r["error"]["sqlstate"] == "22012" and r["error"]["type"] == "DivisionByZero"


def test_records_inside_a_span_carry_it(pg, logger):
    tracer = DistributedTracer()
    with tracer.start_span("job") as span:
        logger.info("inside")
    logger.info("outside")
    assert obs_client.flush(30)
    got = {r["message"]: r["span_id"] for r in rows(pg, "SELECT message, span_id::text FROM obs.logs")}
    assert got == {"inside": span.span_id, "outside": None}


def test_the_clients_own_warnings_are_not_sent(pg):
    handler = ObsHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logging.getLogger("obs_client").warning("about the client itself")
        logging.getLogger("app").warning("about the app")
    finally:
        root.removeHandler(handler)
    assert obs_client.flush(30)
    assert [r["message"] for r in rows(pg, "SELECT message FROM obs.logs")] == ["about the app"]
