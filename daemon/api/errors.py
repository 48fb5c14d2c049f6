"""The one table from exceptions to gRPC status codes.

Domain errors (:mod:`makersync.daemon.domain.errors`) carry their own message
("<field>: <rule> (Rn)") and go to the caller as is. Channel errors that
reach an RPC (Connect checks credentials with the channel) map to
INVALID_ARGUMENT (credentials refused) or UNAVAILABLE (channel unreachable);
a stream the daemon ends because it is stopping is UNAVAILABLE too.
Anything else is a bug: INTERNAL with a generic message, logged with its
traceback, never shown to the caller. Every message sent is scrubbed of
registered secrets.
"""

from __future__ import annotations

import grpc

from makersync.daemon.domain import errors as domain
from makersync.daemon.logging import scrub
from makersync.plugins import errors as channel


class DeadlineExceeded(Exception):
    """The caller's deadline passed before the work started."""


class ChannelUnavailable(Exception):
    """The channel could not be reached (e.g. to check credentials on Connect); retry later."""


class ShuttingDown(Exception):
    """The daemon is stopping: a long-lived stream (WatchPull, health Watch)
    ends with this rather than hold the shutdown; the caller retries once it
    is back (or on another daemon)."""

    def __init__(self) -> None:
        super().__init__(SHUTTING_DOWN_MESSAGE)


SHUTTING_DOWN_MESSAGE = "the daemon is shutting down; call again once it is back"


STATUS_TABLE: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (domain.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (domain.NotFound, grpc.StatusCode.NOT_FOUND),
    (domain.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (domain.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (domain.QuotaExceeded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (domain.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (domain.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
    (ChannelUnavailable, grpc.StatusCode.UNAVAILABLE),
    (ShuttingDown, grpc.StatusCode.UNAVAILABLE),
    (channel.AuthError, grpc.StatusCode.INVALID_ARGUMENT),
    (channel.PermanentChannelError, grpc.StatusCode.INVALID_ARGUMENT),
    (channel.TransientChannelError, grpc.StatusCode.UNAVAILABLE),
    (channel.RateLimited, grpc.StatusCode.UNAVAILABLE),
)
"""First match wins; order subclasses before their bases."""

INTERNAL_MESSAGE = "internal error; the daemon's log has the details (request id {request_id})"
MAX_MESSAGE_CHARS = 1000
"""A refusal may quote what the caller sent; a quote of a 3 MB value would not
fit gRPC's 8 KB of trailing metadata, and the caller would get a transport
error instead of the refusal."""


def status_for(exc: BaseException) -> grpc.StatusCode | None:
    """The status code for ``exc``, or None when it is not in the table (a bug)."""
    for kind, code in STATUS_TABLE:
        if isinstance(exc, kind):
            return code
    return None


def message_for(exc: BaseException) -> str:
    """The message the caller sees for a mapped exception, secrets scrubbed."""
    if isinstance(exc, domain.DomainError):
        text = exc.message
    elif isinstance(exc, channel.AuthError):
        text = f"credentials: the channel refused them: {exc}"
    elif isinstance(exc, channel.PermanentChannelError):
        text = f"credentials: the channel refused the request: {exc}"
    elif isinstance(exc, ChannelUnavailable):
        text = f"{exc}; retry later"
    elif isinstance(exc, channel.TransientChannelError | channel.RateLimited):
        text = f"the channel could not be reached; retry later: {exc}"
    else:
        text = str(exc) or type(exc).__name__
    text = str(scrub(text))
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"
