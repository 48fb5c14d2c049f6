"""Logging: structlog to stdout, readable on a terminal, JSON lines otherwise.

Every line carries the ids bound with :func:`bind` (``request_id``,
``account_id``, ``store_id``, ``pull_id``...) through structlog's
contextvars, so one grep follows a request or a pull. Secrets never reach a
line: :func:`redact` masks the values of known secret keys at any depth, and
any string registered with :func:`register_secret` (the daemon registers
every decrypted credential) wherever it appears, even inside a message or a
traceback.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

REDACTED = "[redacted]"
SECRET_KEYS = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "secret",
        "password",
        "key",
        "authorization",
        "credentials",
        "client_secret",
    }
)
_SECRET_SUFFIXES = ("_token", "_secret", "_password", "_key")
MIN_SECRET_LEN = 4  # shorter strings would mask ordinary words

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_re: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears in a log line from now on.

    Strings shorter than :data:`MIN_SECRET_LEN` are ignored."""
    global _secret_re
    if not value or len(value) < MIN_SECRET_LEN:
        return
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Longest first so a secret containing another is masked whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_re = re.compile("|".join(re.escape(s) for s in ordered))


def is_secret_key(name: object) -> bool:
    """True for a field name whose value is a secret (``access_token``, ``api_key``...)."""
    return isinstance(name, str) and _is_secret_name(name)


@functools.lru_cache(maxsize=4096)  # field names repeat: every line asks about the same few
def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_KEYS or lowered.endswith(_SECRET_SUFFIXES)


def scrub(value: Any) -> Any:
    """``value`` with secret keys masked at any depth and registered secrets
    replaced inside strings. Containers are copied, never changed in place."""
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, str):
        pattern = _secret_re
        return pattern.sub(REDACTED, value) if pattern is not None else value
    if isinstance(value, Mapping):
        return {k: REDACTED if is_secret_key(k) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v) for v in value]
    if isinstance(value, BaseException):
        return scrub(str(value))
    return value


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets in every field of the event."""
    for name in list(event_dict):
        if is_secret_key(name):
            event_dict[name] = REDACTED
        else:
            event_dict[name] = scrub(event_dict[name])
    return event_dict


class _SafeStream:
    """Where lines go: ``stream``, or whatever ``sys.stdout`` is at write time.

    A log line that cannot be written (stdout closed, a broken pipe) is
    dropped: logging never fails a call or a pull."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream

    @property
    def target(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def write(self, text: str) -> int:
        try:
            return self.target.write(text)
        except (OSError, ValueError):
            return 0

    def flush(self) -> None:
        try:
            self.target.flush()
        except (OSError, ValueError):
            pass

    def isatty(self) -> bool:
        try:
            return bool(self.target.isatty())
        except (OSError, ValueError, AttributeError):
            return False


def _renderer(fmt: str, stream: Any) -> Any:
    if fmt == "auto":
        fmt = "console" if getattr(stream, "isatty", lambda: False)() else "json"
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=stream.isatty())
    return structlog.processors.JSONRenderer()


def configure_logging(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Set up structlog (and the stdlib loggers of grpc and friends) to write
    to ``stream`` (default: stdout, looked up at each write): ``fmt`` is 'auto'
    (console on a TTY, else JSON), 'json' or 'console'; ``level`` a level
    name such as 'info'. Calling it again replaces the previous setup."""
    out = _SafeStream(stream)
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    tail: list[Any] = [
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,  # before redact: tracebacks are scrubbed too
        redact,
    ]
    renderer = _renderer(fmt, out)
    structlog.configure(
        processors=[*shared, *tail, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)  # type: ignore[arg-type]
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *tail,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)


def get_logger(name: str = "makersync") -> Any:
    """A structlog logger; every line it writes carries the bound context."""
    return structlog.get_logger(name)


def bind(**ids: Any) -> None:
    """Bind ids (``request_id``, ``pull_id``...) to every line of this thread/context."""
    structlog.contextvars.bind_contextvars(**ids)


@contextmanager
def bound(**ids: Any) -> Iterator[None]:
    """Bind ids for the duration of a ``with`` block, restoring the previous ones after."""
    tokens = structlog.contextvars.bind_contextvars(**ids)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
