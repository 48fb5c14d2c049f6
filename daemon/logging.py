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
import sys
import threading
from collections import OrderedDict
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

MAX_SECRETS = 50_000
"""Secrets remembered for masking, the most recently registered kept. The
engine registers every credential of a store before each of its pulls, so a
live store's secrets are always recent; tokens retired long ago age out."""
_KEY_CHARS = MIN_SECRET_LEN


class _SecretRegistry:
    """The strings to mask, indexed by their last characters.

    This replaced one regular expression of every secret, compiled again on
    each registration: with the thousands of tokens a daemon refreshes, each
    new one took seconds to register (the suite's runs slowed from seconds to
    minutes) and the set never shrank. Registering is now O(1); masking a text
    looks up each position's last :data:`_KEY_CHARS` characters (tokens end
    randomly, so a lookup finds one candidate or none) and replaces the union
    of the matches, so a secret containing another is masked whole. At most
    :data:`MAX_SECRETS` are kept, the least recently registered dropped."""

    def __init__(self, max_secrets: int = MAX_SECRETS) -> None:
        self.max_secrets = max_secrets
        self._lock = threading.Lock()
        # Least recent first. An OrderedDict, not a dict: taking a plain dict's
        # first key after many deletions at its front scans the holes they left,
        # which made registering past the cap quadratic.
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._by_end: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._recent)

    def __contains__(self, value: object) -> bool:
        return value in self._recent

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._recent))

    def add(self, value: str) -> None:
        with self._lock:
            if value in self._recent:
                self._recent.move_to_end(value)  # the most recent now
                return
            self._recent[value] = None
            key = value[-_KEY_CHARS:]
            self._by_end[key] = (*self._by_end.get(key, ()), value)
            while len(self._recent) > self.max_secrets:
                self._drop(self._recent.popitem(last=False)[0])

    def _drop(self, value: str) -> None:
        key = value[-_KEY_CHARS:]
        left = tuple(v for v in self._by_end.get(key, ()) if v != value)
        if left:
            self._by_end[key] = left
        else:
            self._by_end.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._recent, self._by_end = OrderedDict(), {}

    def mask(self, text: str) -> str:
        by_end = self._by_end  # values are tuples, replaced whole: safe to read unlocked
        if not by_end or len(text) < _KEY_CHARS:
            return text
        spans: list[tuple[int, int]] = []
        get = by_end.get
        for end in range(_KEY_CHARS, len(text) + 1):
            found = get(text[end - _KEY_CHARS:end])
            if found:
                spans.extend((end - len(v), end) for v in found
                             if len(v) <= end and text.startswith(v, end - len(v)))
        if not spans:
            return text
        spans.sort()
        out, at = [], 0
        start, stop = spans[0]
        for s0, e0 in spans[1:]:
            if s0 <= stop:
                stop = max(stop, e0)
                continue
            out.append(text[at:start] + REDACTED)
            at, (start, stop) = stop, (s0, e0)
        out.append(text[at:start] + REDACTED)
        out.append(text[stop:])
        return "".join(out)


_secrets = _SecretRegistry()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears in a log line from now on.

    Strings shorter than :data:`MIN_SECRET_LEN` are ignored."""
    if not value or len(value) < MIN_SECRET_LEN:
        return
    _secrets.add(value)


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
        return _secrets.mask(value)
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

    Each line arrives in one ``write`` (structlog's and the stdlib handler's
    alike) and is written under one lock, so lines from threads logging at
    once never run into each other (two loggers with a lock each, and
    ``print`` writing the newline apart, used to join lines). A log line that
    cannot be written (stdout closed, a broken pipe) is dropped: logging never
    fails a call or a pull."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    @property
    def target(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def write(self, text: str) -> int:
        try:
            with self._lock:
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
        logger_factory=structlog.WriteLoggerFactory(file=out),  # type: ignore[arg-type]  # one write a line
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
