"""Logging: JSON lines off a terminal, bound ids on every line, secrets masked."""

from __future__ import annotations

import io
import json
import logging
import threading
import time

import pytest

from makersync.daemon.logging import bound, configure_logging, get_logger, register_secret, scrub


@pytest.fixture
def lines():
    out = io.StringIO()
    configure_logging("auto", "info", stream=out)  # StringIO is not a TTY: JSON
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    configure_logging()


def test_off_a_terminal_lines_are_json_with_bound_ids(lines):
    with bound(request_id="r1", pull_id="7"):
        get_logger().info("page_saved", records=100)
    get_logger().info("after")
    first, second = lines()
    assert (first["event"], first["request_id"], first["pull_id"], first["records"]) == ("page_saved", "r1", "7", 100)
    assert "request_id" not in second and first["level"] == "info" and "timestamp" in first


@pytest.mark.parametrize("name", ["token", "access_token", "refresh_token", "client_secret", "password",
                                  "Authorization", "credentials", "key", "api_key", "secret"])
def test_secret_keys_are_masked_at_any_depth(lines, name):
    get_logger().info("connect", **{name: "abc-value"}, nested={"deeper": [{name: "abc-value"}]})
    (line,) = lines()
    assert "abc-value" not in json.dumps(line)
    assert line[name] == "[redacted]"


def test_registered_secret_values_are_masked_anywhere(lines):
    register_secret("canary-token-8d1f")
    get_logger().info("refresh failed for canary-token-8d1f", detail="got canary-token-8d1f back")
    try:
        raise RuntimeError("boom canary-token-8d1f")
    except RuntimeError:
        get_logger().exception("pull_failed")
    assert "canary-token-8d1f" not in json.dumps(lines())


def test_stdlib_loggers_go_through_the_same_masking(lines):
    register_secret("canary-std-5521")
    logging.getLogger("grpc").warning("saw canary-std-5521")
    (line,) = lines()
    assert "canary-std-5521" not in line["event"]


def test_short_strings_are_not_registered():
    register_secret("ab")
    assert scrub("ab cd") == "ab cd"


def test_console_format_is_readable_text():
    out = io.StringIO()
    configure_logging("console", "info", stream=out)
    get_logger().info("hello", store_id="3")
    assert "hello" in out.getvalue() and "store_id" in out.getvalue()
    assert not out.getvalue().lstrip().startswith("{")
    configure_logging()


def test_a_closed_stream_never_breaks_the_caller():
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    out.close()
    get_logger().info("still fine")  # dropped, not raised
    configure_logging()


class _SlowStream(io.StringIO):
    """A stream that gives other threads the floor on every write, as a pipe
    to a busy reader does."""

    def write(self, text: str) -> int:
        time.sleep(0)
        return super().write(text)


def test_lines_from_threads_logging_at_once_stay_whole():
    """Structlog lines and stdlib lines (httpx, grpc) written by many threads at
    once come out one JSON object a line: a reader (an operator's log shipper,
    the e2e tests) never sees two lines joined or one cut."""
    stream = _SlowStream()
    configure_logging("json", "info", stream=stream)
    ours, theirs = get_logger("makersync.test"), logging.getLogger("httpx")

    def chatter(worker: int) -> None:
        for i in range(200):
            if i % 2:
                ours.info("pull succeeded", worker=worker, i=i)
            else:
                theirs.info("HTTP Request: GET %s", f"/orders?worker={worker}&i={i}")

    threads = [threading.Thread(target=chatter, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    configure_logging()
    written = stream.getvalue().splitlines()
    assert len(written) == 8 * 200
    assert all(json.loads(line)["event"] for line in written)
