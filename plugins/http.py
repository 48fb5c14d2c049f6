"""The paced HTTP client every channel uses.

One client per store, built from the channel's :class:`~.pacing.Pacer` and
:class:`TokenAuth`. It waits for the allowance before each request, honours
``Retry-After``, backs off with jitter on 429, 5xx, resets, timeouts and
truncated bodies, refreshes tokens once on a 401, and counts every request for
the pull's figures. A channel never sleeps or retries by itself.

Status codes map to the SDK's errors in one place, :func:`raise_for_status`.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from .clock import SYSTEM_CLOCK, Clock
from .errors import (
    AuthError,
    PermanentChannelError,
    RateLimited,
    TransientChannelError,
)
from .pacing import LimiterRegistry, Pacer

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0
MAX_RETRIES = 8
MAX_THROTTLE_RETRIES = 60
THROTTLE_ESCALATE_AFTER = 3
"""Consecutive throttles of one request after which the client backs off
harder than the channel asks: a storm of forced 429s (QUALITY R1) is waited
out in a few growing waits instead of a request every ``Retry-After``, and the
throttle budget (``MAX_THROTTLE_RETRIES``) then spans tens of minutes, not
one minute, so a 60-second storm never fails a pull."""
BASE_BACKOFF_S = 0.5
MAX_BACKOFF_S = 60.0
USER_AGENT = "makersync/0.1 (Language=Python; Platform=Linux)"
REDACTED_HEADERS = frozenset({"authorization", "x-api-key", "x-shopify-access-token", "x-amz-access-token"})


@dataclass
class RequestStats:
    """Counts for the pull's figures; shared by every client of one pull."""

    requests: int = 0
    throttled: int = 0
    retries: int = 0
    waited_s: float = 0.0
    by_operation: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, operation: str) -> None:
        with self._lock:
            self.requests += 1
            self.by_operation[operation] = self.by_operation.get(operation, 0) + 1


REDACTED = "[redacted]"
MIN_SECRET_CHARS = 6
"""Credential values shorter than this (a region such as ``na``) are not
masked in error messages: they would mask ordinary words."""


def raise_for_status(response: httpx.Response, operation: str, secrets: Iterable[str] = ()) -> None:
    """Map a final, non-retried response to the SDK's errors.

    ``secrets`` (the credentials of the request) are masked in the message:
    some channels echo the token they refuse in their error body, and the
    message travels to the pull's stored error, the logs and gRPC replies."""
    code = response.status_code
    if code < 400:
        return
    detail = _error_detail(response, secrets)
    message = f"{operation}: HTTP {code}{': ' + detail if detail else ''}"
    if code in (401, 403):
        raise AuthError(message)
    if code == 429:
        raise RateLimited(message)
    if code >= 500:
        raise TransientChannelError(message)
    raise PermanentChannelError(message, status_code=code)


def without_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret in it (and its URL-encoded form) masked."""
    for secret in sorted({s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_CHARS},
                         key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
        quoted = quote(secret, safe="")
        if quoted != secret and quoted in text:
            text = text.replace(quoted, REDACTED)
    return text


def _error_detail(response: httpx.Response, secrets: Iterable[str] = ()) -> str:
    """What the channel said about an error, secrets masked before it is cut
    short (a token cut in half could not be found any more)."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return without_secrets(response.text[:2000], secrets)[:200]
    if isinstance(body, dict):
        for key in ("error_description", "error", "errors", "message"):
            if key in body:
                text = body[key] if isinstance(body[key], str) else json.dumps(body[key])
                return without_secrets(text[:4000], secrets)[:300]
    return ""


NUL_REPLACEMENT = "\ufffd"


def without_nul(value: Any) -> Any:
    """``value`` (parsed JSON) with every NUL character in its strings, keys
    included, replaced by U+FFFD. A channel that sends ``\\u0000`` in a title or
    an id would otherwise fail every write of that page on PostgreSQL, whose
    text cannot hold NUL, and the pull would fail at the same page forever
    (QUALITY B2); nothing else in the value changes."""
    if isinstance(value, str):
        return value.replace("\x00", NUL_REPLACEMENT) if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


class TokenAuth:
    """Credentials that sign requests and may refresh themselves.

    Subclasses implement :meth:`headers` and, for refreshable tokens,
    :meth:`fetch_tokens`. :meth:`refresh` runs one refresh at a time per
    credential and hands the new values to ``save`` *before* they are used, so
    a rotated refresh token is never lost (F6)."""

    EXPIRES_AT_KEY = "access_token_expires_at"
    REFRESH_MARGIN_S = 120.0

    def __init__(
        self,
        credentials: MutableMapping[str, str],
        save: Callable[[dict[str, str]], None] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.credentials = credentials
        self._save = save or (lambda _c: None)
        self.clock = clock
        # Reentrant: a fetch_tokens that wrongly signs its own request fails
        # loudly (recursion) instead of deadlocking.
        self._lock = threading.RLock()
        self.refreshes = 0

    def headers(self) -> dict[str, str]:
        """The headers that authenticate one request."""
        return {}

    def sign(self) -> tuple[dict[str, str], str | None]:
        """The headers for one request and the access token they carry, read
        together, so a 401 names the token that was really sent."""
        with self._lock:
            return self.headers(), self.credentials.get("access_token")

    def can_refresh(self) -> bool:
        """Whether these credentials can be refreshed at all."""
        return False

    def is_expired(self, response: httpx.Response) -> bool:
        """Whether ``response`` says the access token expired, so one refresh
        and resend may help. A 401 by default; Amazon answers 403."""
        return response.status_code == 401

    def fetch_tokens(self, client: PacedClient) -> dict[str, str]:
        """Ask the channel's token endpoint for new tokens; return the changed
        credential values (``access_token``, maybe ``refresh_token``, and
        ``access_token_expires_at`` as ISO 8601). Raise :class:`AuthError` when
        the channel refuses."""
        raise AuthError("these credentials cannot be refreshed")

    def expires_at(self) -> datetime | None:
        """When the access token expires (naive stored values are read as UTC)."""
        value = self.credentials.get(self.EXPIRES_AT_KEY)
        if not value:
            return None
        when = datetime.fromisoformat(value)
        return when if when.tzinfo is not None else when.replace(tzinfo=UTC)

    def needs_refresh(self) -> bool:
        expires = self.expires_at()
        if not self.can_refresh():
            return False
        if not self.credentials.get("access_token"):
            return True
        return expires is not None and expires - self.clock.now() < timedelta(
            seconds=self.REFRESH_MARGIN_S
        )

    def refresh(self, client: PacedClient, stale_token: str | None = None) -> None:
        """Refresh once; a caller who saw ``stale_token`` fail finds it already
        replaced by another thread's refresh and returns at once."""
        with self._lock:
            if stale_token is not None and self.credentials.get("access_token") != stale_token:
                return
            self._refresh_locked(client)

    def ensure_fresh(self, client: PacedClient) -> None:
        """Refresh ahead of expiry; of several threads that find the token
        about to expire, only the first refreshes."""
        if not self.needs_refresh():
            return
        with self._lock:
            if self.needs_refresh():
                self._refresh_locked(client)

    def _refresh_locked(self, client: PacedClient) -> None:
        new = self.fetch_tokens(client)
        merged = {**self.credentials, **new}
        self._save(dict(merged))  # saved before use: a rotated refresh token is never lost
        self.credentials.update(new)
        self.refreshes += 1

    def expiry_from(self, expires_in: Any) -> str:
        seconds = float(expires_in or 3600)
        return (self.clock.now() + timedelta(seconds=seconds)).isoformat()


class PacedClient:
    """httpx with pacing, retries, token refresh and request counting."""

    def __init__(
        self,
        *,
        base_url: str = "",
        transport: httpx.BaseTransport | None = None,
        clock: Clock = SYSTEM_CLOCK,
        pacer: Pacer | None = None,
        auth: TokenAuth | None = None,
        stats: RequestStats | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_retries: int = MAX_RETRIES,
        headers: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.clock = clock
        self.pacer = pacer or Pacer(LimiterRegistry(clock))
        self.auth = auth
        self.stats = stats or RequestStats()
        self.max_retries = max_retries
        self._rng = rng or random.Random()
        timeout = httpx.Timeout(timeout_s, connect=DEFAULT_CONNECT_TIMEOUT_S)
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={"user-agent": USER_AGENT, **(headers or {})},
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PacedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def backoff_s(self, attempt: int) -> float:
        """Full-jitter exponential backoff; its own method so tests can pin it."""
        ceiling = min(MAX_BACKOFF_S, BASE_BACKOFF_S * (2**attempt))
        return self._rng.uniform(ceiling / 2, ceiling)

    def request(
        self,
        method: str,
        url: str,
        *,
        operation: str = "default",
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        cost: float = 1.0,
        authenticated: bool = True,
        paced: bool = True,
    ) -> httpx.Response:
        """Send one logical request, retrying what is worth retrying.

        Returns the final response with a status below 400. Raises
        :class:`AuthError`, :class:`PermanentChannelError`,
        :class:`TransientChannelError` (after ``max_retries``) or
        :class:`RateLimited` (after an unending throttle storm)."""
        attempts = throttles = 0
        refreshed = False
        auth = self.auth if authenticated else None
        while True:
            if paced:
                self.stats.waited_s += self.pacer.acquire(operation, cost)
            # checked after the wait: a long wait for allowance can outlast the token
            if auth is not None:
                auth.ensure_fresh(self)
            send_headers = dict(headers or {})
            sent_token = None
            if auth is not None:
                auth_headers, sent_token = auth.sign()
                send_headers.update(auth_headers)
            self.stats.count(operation)
            try:
                response = self._http.request(
                    method, url, params=params, headers=send_headers, json=json_body, data=data
                )
                response.read()
            except (httpx.LocalProtocolError, UnicodeEncodeError) as exc:
                # Our own request cannot be sent (a header value that is not printable
                # ASCII, usually a credential): retrying cannot help, and the value is
                # not repeated, it may be a secret.
                raise PermanentChannelError(
                    f"{operation}: the request could not be sent ({type(exc).__name__}); a credential or "
                    "setting holds a character that cannot go into an HTTP request") from None
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                attempts += 1
                if attempts > self.max_retries:
                    raise TransientChannelError(f"{operation}: {type(exc).__name__} after {attempts} tries") from exc
                self._retry_sleep(attempts)
                continue
            self.pacer.observe(operation, response)
            if self.pacer.is_throttled(response):
                throttles += 1
                self.stats.throttled += 1
                if throttles > MAX_THROTTLE_RETRIES:
                    raise RateLimited(f"{operation}: still throttled after {throttles} waits")
                wait = self.pacer.throttle_wait(operation, response)
                if throttles > THROTTLE_ESCALATE_AFTER:
                    # The channel keeps refusing what its own headers allow: its limit
                    # dropped or a storm is on. Back off, whatever Retry-After says.
                    wait = max(wait or 0.0, self.backoff_s(throttles - THROTTLE_ESCALATE_AFTER))
                elif wait is None:
                    wait = self.backoff_s(min(throttles, 6))
                self.stats.waited_s += wait
                self.clock.sleep(wait)
                continue
            if auth is not None and auth.is_expired(response):
                if not refreshed and auth.can_refresh():
                    refreshed = True
                    # The token that failed is the one sent, not whatever another
                    # thread's refresh has put in place since (one refresh, not two).
                    auth.refresh(self, stale_token=sent_token)
                    continue
            if response.status_code >= 500:
                attempts += 1
                if attempts > self.max_retries:
                    raise_for_status(response, operation, self.secret_values())
                self._retry_sleep(attempts)
                continue
            if response.status_code >= 400:
                raise_for_status(response, operation, self.secret_values())
            return response

    def secret_values(self) -> list[str]:
        """The credential values of this client's auth, to keep out of error messages."""
        if self.auth is None:
            return []
        return [v for v in self.auth.credentials.values() if isinstance(v, str)]

    def _retry_sleep(self, attempt: int) -> None:
        self.stats.retries += 1
        wait = self.backoff_s(attempt)
        self.stats.waited_s += wait
        self.clock.sleep(wait)

    def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        """:meth:`request`, then parse the body as JSON. A truncated or
        garbled body is a transient fault: the request is sent again."""
        for attempt in range(1, self.max_retries + 2):
            response = self.request(method, url, **kwargs)
            try:
                body = response.json()
            except (ValueError, UnicodeDecodeError) as exc:
                if attempt > self.max_retries:
                    raise TransientChannelError(
                        f"{kwargs.get('operation', 'request')}: unreadable JSON body"
                    ) from exc
                self._retry_sleep(attempt)
                continue
            # A raw NUL cannot be in JSON text, only the escape: the fast check is exact.
            return without_nul(body) if b"\\u0000" in response.content else body
        raise AssertionError("unreachable")

    def get_json(self, url: str, **kwargs: Any) -> Any:
        return self.request_json("GET", url, **kwargs)
