"""LWA tokens and SP-API pacing for the Amazon channel.

Amazon counts requests in a token bucket per application, selling partner and
operation; the published rate and burst of each operation are the defaults,
and ``x-amzn-RateLimit-Limit`` (on 2xx/400/404 only, never on a 429) adjusts
the rate. A 429 carries no retry header, so the pacer empties the bucket and
lets its known rate decide the wait.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import TYPE_CHECKING

import httpx

from makersync.plugins import (
    AuthError,
    BucketSpec,
    Clock,
    LimiterRegistry,
    Pacer,
    PermanentChannelError,
    TokenAuth,
)

if TYPE_CHECKING:
    from makersync.plugins import PacedClient

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
REGION_URLS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}

# Published usage plans: operation -> (rate per second, burst).
RATES: dict[str, tuple[float, float]] = {
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "listTransactions": (0.5, 10),
    "getInventorySummaries": (2.0, 2),
    "getMarketplaceParticipations": (0.016, 15),
    "getListingsItem": (5.0, 10),
}
LWA_OPERATION = "lwaToken"
RATE_HEADER = "x-amzn-ratelimit-limit"


class AmazonPacer(Pacer):
    """Buckets keyed ``("amazon", selling_partner_id, operation)``."""

    def __init__(self, registry: LimiterRegistry, seller_id: str) -> None:
        super().__init__(registry)
        self.seller_id = seller_id or "unknown-seller"

    def buckets(self, operation: str) -> Sequence[BucketSpec]:
        if operation not in RATES:
            return ()
        rate, burst = RATES[operation]
        return (BucketSpec(("amazon", self.seller_id, operation), rate, burst),)

    def observe(self, operation: str, response: httpx.Response) -> None:
        code = response.status_code
        if not (200 <= code < 300 or code in (400, 404)):
            return
        value = response.headers.get(RATE_HEADER)
        if not value:
            return
        try:
            rate = float(value)
        except ValueError:
            return
        for spec in self.buckets(operation):
            self.registry.bucket(spec).sync(rate=rate)

    def throttle_wait(self, operation: str, response: httpx.Response) -> float | None:
        """No retry header on Amazon's 429: empty the bucket, so the next
        acquire waits one token at the bucket's known rate."""
        specs = self.buckets(operation)
        if not specs:
            return None
        for spec in specs:
            self.registry.bucket(spec).sync(available=0.0)
        return 0.0


class AmazonAuth(TokenAuth):
    """Login with Amazon: a refresh token traded for one-hour access tokens,
    sent as ``x-amz-access-token``."""

    def is_expired(self, response: httpx.Response) -> bool:
        """Amazon answers an expired access token with 403 ``Unauthorized``,
        not 401 (CHANNELS.md 3.9); a 403 for a missing role stays an AuthError."""
        if response.status_code == 401:
            return True
        return response.status_code == 403 and "expired" in response.text.lower()

    def __init__(self, credentials: MutableMapping[str, str], save, clock: Clock, token_url: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(credentials, save, clock)
        self.token_url = token_url

    def headers(self) -> dict[str, str]:
        token = self.credentials.get("access_token")
        return {"x-amz-access-token": token} if token else {}

    def can_refresh(self) -> bool:
        c = self.credentials
        return bool(c.get("refresh_token") and c.get("client_id") and c.get("client_secret"))

    def fetch_tokens(self, client: PacedClient) -> dict[str, str]:
        if not self.can_refresh():
            raise AuthError("amazon: refresh_token, client_id and client_secret are needed")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.credentials["refresh_token"],
            "client_id": self.credentials["client_id"],
            "client_secret": self.credentials["client_secret"],
        }
        try:
            body = client.request_json("POST", self.token_url, data=form, operation=LWA_OPERATION,
                                       authenticated=False, paced=False)
        except PermanentChannelError as exc:  # 400 invalid_grant / 401 invalid_client
            raise AuthError(f"Login with Amazon refused the refresh token: {exc}") from exc
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise AuthError("Login with Amazon answered without an access_token")
        new = {"access_token": str(token), self.EXPIRES_AT_KEY: self.expiry_from(body.get("expires_in"))}
        if body.get("refresh_token") and body["refresh_token"] != self.credentials.get("refresh_token"):
            new["refresh_token"] = str(body["refresh_token"])
        return new
