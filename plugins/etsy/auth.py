"""Etsy's request signing, token refresh and pacing.

Every request carries ``x-api-key: <keystring>:<shared_secret>`` and, with a
token, ``Authorization: Bearer <user_id>.<token>`` (the string as Etsy returns
it). Refresh goes through ``POST /v3/public/oauth/token`` (form-encoded); the
rotated refresh token is saved before the new access token is used (the base
class does that, F6).

Etsy's allowance is per app: QPS and a rolling QPD shared by every shop the
app key serves, so the buckets are keyed by the keystring alone and learn
from the ``x-limit-*``/``x-remaining-*`` headers.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, Sequence
from datetime import UTC, datetime

import httpx

from makersync.plugins import (
    AuthError,
    BucketSpec,
    Clock,
    LimiterRegistry,
    PacedClient,
    Pacer,
    PermanentChannelError,
    TokenAuth,
)

DEFAULT_QPS = 10.0
DEFAULT_QPD = 10_000.0
SECONDS_PER_DAY = 86_400.0


class EtsyAuth(TokenAuth):
    """``x-api-key`` plus a refreshable bearer token."""

    def __init__(self, credentials: MutableMapping[str, str], save: Callable[[dict[str, str]], None],
                 clock: Clock, token_url: str) -> None:
        super().__init__(credentials, save, clock)
        self.token_url = token_url

    def headers(self) -> dict[str, str]:
        creds = self.credentials
        out = {"x-api-key": f"{creds.get('keystring', '')}:{creds.get('shared_secret', '')}"}
        if creds.get("access_token"):
            out["authorization"] = f"Bearer {creds['access_token']}"
        return out

    def can_refresh(self) -> bool:
        return bool(self.credentials.get("refresh_token") and self.credentials.get("keystring"))

    def expires_at(self) -> datetime | None:
        """ISO 8601, or epoch seconds as a maker may paste them."""
        value = self.credentials.get(self.EXPIRES_AT_KEY)
        if not value:
            return None
        if str(value).isdigit():
            return datetime.fromtimestamp(int(value), UTC)
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return when if when.tzinfo else when.replace(tzinfo=UTC)

    def fetch_tokens(self, client: PacedClient) -> dict[str, str]:
        form = {
            "grant_type": "refresh_token",
            "client_id": self.credentials.get("keystring", ""),
            "refresh_token": self.credentials.get("refresh_token", ""),
        }
        try:
            # the token endpoint is not an app call: it draws on neither QPS nor QPD, and a
            # refresh after a long wait for the daily allowance must not wait again
            body = client.request_json("POST", self.token_url, operation="token", data=form,
                                       authenticated=False, paced=False)
        except PermanentChannelError as exc:  # 400 invalid_grant: the refresh token is gone
            raise AuthError(f"Etsy refused the refresh token: {exc}") from exc
        if not isinstance(body, dict) or not body.get("access_token"):
            raise AuthError("Etsy's token endpoint answered without an access_token")
        new = {
            "access_token": str(body["access_token"]),
            self.EXPIRES_AT_KEY: self.expiry_from(body.get("expires_in")),
        }
        if body.get("refresh_token"):
            new["refresh_token"] = str(body["refresh_token"])
        return new


def _header_int(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class EtsyPacer(Pacer):
    """Two app-wide buckets, per second and per day, synced from Etsy's headers."""

    def __init__(self, registry: LimiterRegistry, keystring: str,
                 after_wait: Callable[[], None] | None = None) -> None:
        super().__init__(registry)
        self.second = BucketSpec(("etsy", keystring, "second"), DEFAULT_QPS, DEFAULT_QPS)
        self.day = BucketSpec(("etsy", keystring, "day"), DEFAULT_QPD / SECONDS_PER_DAY, DEFAULT_QPD)
        self.after_wait = after_wait

    def buckets(self, operation: str) -> Sequence[BucketSpec]:
        return (self.second, self.day)

    def acquire(self, operation: str, cost: float = 1.0) -> float:
        """Wait for the allowance; after a long wait (the day's quota) give
        ``after_wait`` the chance to refresh a token that expired meanwhile, so
        the call is not spent on a 401."""
        waited = super().acquire(operation, cost)
        if waited > 1.0 and self.after_wait is not None:
            self.after_wait()
        return waited

    def observe(self, operation: str, response: httpx.Response) -> None:
        per_second = _header_int(response, "x-limit-per-second")
        left_second = _header_int(response, "x-remaining-this-second")
        per_day = _header_int(response, "x-limit-per-day")
        left_day = _header_int(response, "x-remaining-today")
        if per_second is not None or left_second is not None:
            self.registry.bucket(self.second).sync(
                available=left_second, capacity=per_second, rate=per_second)
        if per_day is not None or left_day is not None:
            self.registry.bucket(self.day).sync(
                available=left_day, capacity=per_day, rate=per_day / SECONDS_PER_DAY if per_day else None)
