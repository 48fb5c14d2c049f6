"""Server interceptors: request logging, error mapping, auth and deadlines.

Each interceptor wraps the method's behaviour (not just the handler lookup),
so its code runs in the worker thread that serves the call, around the whole
call, streams included. The server installs them outermost first::

    LoggingInterceptor  request id bound into every log line; one summary line per call
    ErrorInterceptor    exceptions -> status codes (api/errors.py), INTERNAL for bugs
    AuthInterceptor     ``authorization: Bearer <key>``; the caller's scope in a contextvar
    DeadlineInterceptor a call whose deadline has passed does no work
    RequestLimitsInterceptor  ids and page tokens of an impossible length are refused
"""

from __future__ import annotations

import hmac
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import grpc
import structlog

from makersync.daemon.api.errors import INTERNAL_MESSAGE, DeadlineExceeded, message_for, status_for
from makersync.daemon.config_sections import ApiKey, hash_key
from makersync.daemon.domain.errors import InvalidArgument, Unauthenticated
from makersync.daemon.logging import get_logger

log = get_logger("makersync.api")

OPEN_METHOD_PREFIXES = ("/grpc.health.v1.Health/",)
"""Methods served without a key: liveness probes must work without secrets."""
QUIET_METHOD_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
"""Methods logged at debug level (probes would drown the log)."""


@dataclass(frozen=True)
class Scope:
    """Who the caller may act for: ``account_id`` None means every account."""

    account_id: str | None = None
    key_id: str = ""  # first 8 hex digits of the key's hash, for logs


OPEN_SCOPE = Scope()
_scope: ContextVar[Scope] = ContextVar("makersync_caller_scope", default=OPEN_SCOPE)


def current_scope() -> Scope:
    """The scope of the caller of the RPC this thread serves."""
    return _scope.get()


class _WrappingInterceptor(grpc.ServerInterceptor):
    """Base: runs ``self.around(method, context)`` around each call's behaviour."""

    def around(self, method: str, context: grpc.ServicerContext) -> AbstractContextManager[None]:
        raise NotImplementedError

    def intercept_service(self, continuation: Any, details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        method = details.method
        for attr, streaming in (
            ("unary_unary", False), ("stream_unary", False),
            ("unary_stream", True), ("stream_stream", True),
        ):
            behavior = getattr(handler, attr)
            if behavior is not None:
                wrap = self._wrap_stream if streaming else self._wrap_unary
                return handler._replace(**{attr: wrap(behavior, method)})
        return handler

    def _wrap_unary(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        def call(request: Any, context: grpc.ServicerContext) -> Any:
            with self.around(method, context):
                return behavior(request, context)

        return call

    def _wrap_stream(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            with self.around(method, context):
                yield from behavior(request, context)

        return call


def _metadata(context: grpc.ServicerContext) -> dict[str, str]:
    return {k.lower(): v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}


class LoggingInterceptor(_WrappingInterceptor):
    """Binds a request id (the caller's ``x-request-id`` or a new one) and the
    method into every log line of the call, returns it as ``x-request-id``
    trailing metadata (errors included), and writes one summary line with
    code and duration."""

    @contextmanager
    def around(self, method: str, context: grpc.ServicerContext) -> Iterator[None]:
        request_id = _metadata(context).get("x-request-id", "")[:64] or uuid.uuid4().hex[:16]
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id, rpc=method)
        started = time.monotonic()
        code = grpc.StatusCode.OK
        try:
            context.set_trailing_metadata((("x-request-id", request_id),))
            yield
            code = _code_of(context) or grpc.StatusCode.OK
        except GeneratorExit:
            code = grpc.StatusCode.CANCELLED
            raise
        except BaseException:
            code = _code_of(context) or grpc.StatusCode.UNKNOWN
            raise
        finally:
            level = "debug" if method.startswith(QUIET_METHOD_PREFIXES) else "info"
            getattr(log, level)(
                "rpc", code=code.name, duration_ms=round((time.monotonic() - started) * 1000, 2)
            )
            structlog.contextvars.reset_contextvars(**tokens)


def _code_of(context: grpc.ServicerContext) -> grpc.StatusCode | None:
    code_fn = getattr(context, "code", None)
    code = code_fn() if callable(code_fn) else None
    return code if isinstance(code, grpc.StatusCode) else None


class ErrorInterceptor(_WrappingInterceptor):
    """Maps exceptions to status codes through the one table (api/errors.py).
    Unmapped exceptions are bugs: logged with their traceback, INTERNAL with a
    generic message for the caller."""

    @contextmanager
    def around(self, method: str, context: grpc.ServicerContext) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            if _code_of(context) not in (None, grpc.StatusCode.OK):
                raise  # already aborted by grpc itself (e.g. reflection, health)
            code = status_for(exc)
            if code is None:
                if not context.is_active():
                    raise  # the caller cancelled (a stream it closed): nobody to answer, not a bug
                log.exception("rpc_failed", error_type=type(exc).__name__)
                request_id = structlog.contextvars.get_contextvars().get("request_id", "")
                context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE.format(request_id=request_id))
            else:
                context.abort(code, message_for(exc))


class AuthInterceptor(_WrappingInterceptor):
    """Checks ``authorization: Bearer <key>`` against the configured keys.

    Keys are kept as SHA-256 digests and compared with ``hmac.compare_digest``.
    With no keys configured every caller is let in (the server refuses to
    listen beyond loopback without keys). The caller's :class:`Scope` is set
    for the servicers; :meth:`update_keys` swaps the keys on a config reload."""

    def __init__(self, keys: Sequence[ApiKey] = ()) -> None:
        self._keys: tuple[ApiKey, ...] = tuple(keys)
        self._lock = threading.Lock()

    def update_keys(self, keys: Sequence[ApiKey]) -> None:
        """Use ``keys`` from the next call on."""
        with self._lock:
            self._keys = tuple(keys)

    def authenticate(self, metadata: dict[str, str]) -> Scope:
        """The scope of the key in ``metadata``; raises Unauthenticated."""
        keys = self._keys
        if not keys:
            return OPEN_SCOPE
        scheme, _, token = metadata.get("authorization", "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated(
                "authorization", "a key is required: send 'authorization: Bearer <key>' metadata"
            )
        digest = hash_key(token)
        found: ApiKey | None = None
        for key in keys:  # compare with every key: time does not tell which one is close
            if hmac.compare_digest(key.sha256, digest):
                found = key
        if found is None:
            raise Unauthenticated("authorization", "unknown key")
        return Scope(found.account_id, found.sha256[:8])

    @contextmanager
    def around(self, method: str, context: grpc.ServicerContext) -> Iterator[None]:
        if method.startswith(OPEN_METHOD_PREFIXES):
            yield
            return
        scope = self.authenticate(_metadata(context))
        token = _scope.set(scope)
        bound = structlog.contextvars.bind_contextvars(key_id=scope.key_id) if scope.key_id else {}
        try:
            yield
        finally:
            _scope.reset(token)
            if bound:
                structlog.contextvars.reset_contextvars(**bound)


MAX_ID_CHARS = 64
MAX_PAGE_TOKEN_CHARS = 4096


class RequestLimitsInterceptor(grpc.ServerInterceptor):
    """Refuses, naming the field, what no method can mean: an id
    (``*_id``) longer than :data:`MAX_ID_CHARS` or a ``page_token`` longer than
    :data:`MAX_PAGE_TOKEN_CHARS`. Ids are numbers of at most 19 digits; a
    3-million-digit one made the id parser raise (Python's limit on the digits
    of an int) and the caller got INTERNAL. One place, so every method, today's
    and tomorrow's, has the limit."""

    def intercept_service(self, continuation: Any, details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        for attr in ("unary_unary", "unary_stream"):
            behavior = getattr(handler, attr)
            if behavior is not None:
                return handler._replace(**{attr: self._wrap(behavior)})
        return handler

    @staticmethod
    def _wrap(behavior: Callable[..., Any]) -> Callable[..., Any]:
        def call(request: Any, context: grpc.ServicerContext) -> Any:
            check_request_limits(request)
            return behavior(request, context)

        return call


def check_request_limits(request: Any) -> None:
    """Raise InvalidArgument for an over-long id or page token in ``request``."""
    fields = getattr(request, "ListFields", None)
    if fields is None:
        return
    for field, value in fields():
        if not isinstance(value, str):
            continue
        if field.name.endswith("_id") and len(value) > MAX_ID_CHARS:
            raise InvalidArgument(field.name, f"is not an id: ids are at most {MAX_ID_CHARS} characters, "
                                              f"got {len(value)}")
        if field.name == "page_token" and len(value) > MAX_PAGE_TOKEN_CHARS:
            raise InvalidArgument("page_token", f"is not a token this method returned (at most "
                                                f"{MAX_PAGE_TOKEN_CHARS} characters, got {len(value)})")


class DeadlineInterceptor(_WrappingInterceptor):
    """Refuses to start work whose deadline has already passed."""

    @contextmanager
    def around(self, method: str, context: grpc.ServicerContext) -> Iterator[None]:
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded("the deadline passed before the call started")
        yield
