"""The SDK's exceptions, raised by channels and the paced HTTP client.

::

    ChannelError
    ├── AuthError              credentials refused; the maker must reconnect
    ├── RateLimited            the channel said "slow down" (handled by the client)
    ├── TransientChannelError  network faults and 5xx after every retry
    ├── PermanentChannelError  a request the channel will never answer (4xx)
    │   └── CursorExpired      a page token died; restart the stream from its checkpoint
    └── BadRecord              one record cannot be read (set aside, R15)
"""

from __future__ import annotations


class ChannelError(Exception):
    """Base of every error a channel or the paced client raises."""


class AuthError(ChannelError):
    """The channel refused the credentials and refreshing did not help."""


class RateLimited(ChannelError):
    """The channel throttled a request; ``retry_after_s`` says how long to wait."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TransientChannelError(ChannelError):
    """A fault worth retrying later: timeouts, resets, 5xx, truncated bodies."""


class PermanentChannelError(ChannelError):
    """The channel answered with a client error that retrying will not fix."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class CursorExpired(PermanentChannelError):
    """A page token expired; the stream restarts from its last safe cursor."""


class BadRecord(ChannelError):
    """One record of a page is malformed; the mapper raises it, the channel sets it aside."""
