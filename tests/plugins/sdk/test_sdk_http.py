"""The paced client's retries, Retry-After, backoff and token refresh (F5, F6)."""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from sdk_fakes import BearerAuth, RecordingClock, TokenApi

from makersync.plugins import (
    AuthError,
    BucketSpec,
    LimiterRegistry,
    PacedClient,
    Pacer,
    PermanentChannelError,
    RateLimited,
    TransientChannelError,
    parse_retry_after,
)
from makersync.plugins.pacing import MAX_SINGLE_WAIT_S


def scripted(*steps: Callable[[httpx.Request], httpx.Response] | httpx.Response | type[Exception]
             ) -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    """A transport handler answering with ``steps`` in turn (an exception class is raised)."""
    seen: list[httpx.Request] = []
    queue: Iterator = iter(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = next(queue)
        if isinstance(step, type) and issubclass(step, Exception):
            raise step("simulated", request=request)  # type: ignore[call-arg]
        return step(request) if callable(step) else step

    return handler, seen


def ok() -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def client_with(handler: Callable[[httpx.Request], httpx.Response], clock: RecordingClock,
                **kw: object) -> PacedClient:
    return PacedClient(base_url="https://channel.test", transport=httpx.MockTransport(handler),
                       clock=clock, **kw)  # type: ignore[arg-type]


# -- Retry-After ------------------------------------------------------------------------

@pytest.mark.parametrize("header, expected_s", [("1.5", 1.5), ("0.25", 0.25), ("2", 2.0), ("0", 0.0)])
def test_retry_after_seconds_honoured_including_fractions(header: str, expected_s: float) -> None:
    clock = RecordingClock()
    handler, seen = scripted(httpx.Response(429, headers={"Retry-After": header}), ok())
    body = client_with(handler, clock).get_json("/x")
    assert body == {"ok": True}
    assert clock.sleeps == [expected_s]
    assert len(seen) == 2


def test_retry_after_http_date_honoured() -> None:
    clock = RecordingClock()
    when = email.utils.format_datetime(clock.now() + timedelta(seconds=30), usegmt=True)
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": when}), ok())
    client_with(handler, clock).get_json("/x")
    assert clock.sleeps == [pytest.approx(30.0)]


def test_retry_after_date_in_the_past_means_now() -> None:
    clock = RecordingClock()
    response = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert parse_retry_after(response, clock) == 0.0


@pytest.mark.parametrize("header", ["soon", "inf", "nan", ""])
def test_retry_after_unreadable_falls_back_to_backoff(header: str) -> None:
    clock = RecordingClock()
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": header}), ok())
    client = client_with(handler, clock, rng=random.Random(4))
    client.get_json("/x")
    assert clock.sleeps == [pytest.approx(PacedClient(rng=random.Random(4)).backoff_s(1))]


def test_retry_after_is_capped() -> None:
    response = httpx.Response(429, headers={"Retry-After": "99999999"})
    assert parse_retry_after(response, RecordingClock()) == MAX_SINGLE_WAIT_S


class OneBucketPacer(Pacer):
    spec = BucketSpec(("channel", "app"), rate=100.0, capacity=100.0)

    def buckets(self, operation: str) -> tuple[BucketSpec, ...]:
        return (self.spec,)


def test_retry_after_blocks_the_shared_bucket_for_other_clients() -> None:
    """A 429 tells every client of the same allowance to wait, not only the one hit."""
    clock = RecordingClock()
    registry = LimiterRegistry(clock)
    hit = httpx.Response(429, headers={"Retry-After": "3"})
    assert OneBucketPacer(registry).throttle_wait("orders", hit) == 3.0
    handler, _ = scripted(ok())
    start = clock.monotonic()
    client_with(handler, clock, pacer=OneBucketPacer(registry)).get_json("/x")
    assert clock.monotonic() - start == pytest.approx(3.0)


def test_throttle_storm_raises_rate_limited() -> None:
    clock = RecordingClock()
    client = client_with(lambda r: httpx.Response(429, headers={"Retry-After": "1"}), clock)
    with pytest.raises(RateLimited):
        client.get_json("/x")
    assert client.stats.throttled > 10
    assert client.stats.waited_s == pytest.approx(clock.slept)


# -- backoff on faults ---------------------------------------------------------------------

def test_backoff_jittered_on_5xx_reset_and_timeout() -> None:
    """F5: a 503, a reset and a timeout are each retried after a jittered,
    growing wait; the jitter comes from the client's ``rng``."""
    clock = RecordingClock()
    handler, seen = scripted(httpx.Response(503), httpx.ConnectError, httpx.ReadTimeout, ok())
    client = client_with(handler, clock, rng=random.Random(42))
    assert client.get_json("/x") == {"ok": True}
    twin = PacedClient(rng=random.Random(42))
    assert clock.sleeps == [pytest.approx(twin.backoff_s(n)) for n in (1, 2, 3)]
    assert len(seen) == 4
    assert client.stats.retries == 3
    assert client.stats.requests == 4


def test_backoff_bounds_grow_then_cap() -> None:
    client = PacedClient(rng=random.Random(1))
    for attempt, (low, high) in {1: (0.5, 1.0), 2: (1.0, 2.0), 3: (2.0, 4.0), 12: (30.0, 60.0)}.items():
        assert low <= client.backoff_s(attempt) <= high


def test_faults_past_max_retries_raise_transient() -> None:
    clock = RecordingClock()
    handler, seen = scripted(*[httpx.Response(500, json={"error": "boom"})] * 4)
    client = client_with(handler, clock, max_retries=3, rng=random.Random(0))
    with pytest.raises(TransientChannelError, match="HTTP 500: boom"):
        client.get_json("/x")
    assert len(seen) == 4


def test_resets_past_max_retries_raise_transient() -> None:
    handler, seen = scripted(*[httpx.ConnectError] * 3)
    client = client_with(handler, RecordingClock(), max_retries=2, rng=random.Random(0))
    with pytest.raises(TransientChannelError, match="ConnectError"):
        client.get_json("/x")
    assert len(seen) == 3


def test_truncated_json_body_is_fetched_again() -> None:
    clock = RecordingClock()
    handler, seen = scripted(httpx.Response(200, content=b'{"ok": tr'), ok())
    assert client_with(handler, clock, rng=random.Random(0)).get_json("/x") == {"ok": True}
    assert len(seen) == 2


def test_client_error_is_permanent_and_not_retried() -> None:
    handler, seen = scripted(httpx.Response(404, json={"error": "no such shop"}))
    with pytest.raises(PermanentChannelError) as info:
        client_with(handler, RecordingClock()).get_json("/x")
    assert info.value.status_code == 404
    assert "no such shop" in str(info.value)
    assert len(seen) == 1


# -- token refresh ----------------------------------------------------------------------------

def auth_client(api: TokenApi, clock: RecordingClock, credentials: dict[str, str],
                saved: list[dict[str, str]] | None = None) -> tuple[PacedClient, BearerAuth]:
    def save(creds: dict[str, str]) -> None:
        api.events.append(("saved", creds["access_token"], creds["refresh_token"]))
        if saved is not None:
            saved.append(creds)

    auth = BearerAuth(credentials, save, clock)
    return client_with(api, clock, auth=auth), auth


def test_401_refreshes_once_and_saves_rotated_token_before_use() -> None:
    """F6: on a 401 the client refreshes exactly once, and the rotated refresh
    token is saved before the new access token is sent anywhere."""
    clock = RecordingClock()
    api = TokenApi()
    saved: list[dict[str, str]] = []
    client, auth = auth_client(api, clock, {"access_token": "at-expired", "refresh_token": "rt-1"}, saved)
    assert client.get_json("/orders")["token"] == "at-2"
    assert api.events == [
        ("api call", "at-expired"),
        ("token endpoint", "rt-1"),
        ("saved", "at-2", "rt-2"),
        ("api call", "at-2"),
    ]
    assert auth.refreshes == 1
    assert saved[-1]["refresh_token"] == "rt-2" == auth.credentials["refresh_token"]


def test_401_after_refresh_is_an_auth_error_not_a_loop() -> None:
    clock = RecordingClock()
    api = TokenApi(accept_any=False)
    client, auth = auth_client(api, clock, {"access_token": "at-1", "refresh_token": "rt-1"})
    with pytest.raises(AuthError):
        client.get_json("/orders")
    assert [e[0] for e in api.events] == ["api call", "token endpoint", "saved", "api call"]
    assert auth.refreshes == 1


def test_refused_refresh_token_raises_and_saves_nothing() -> None:
    clock = RecordingClock()
    api = TokenApi(valid_refresh=set())
    client, auth = auth_client(api, clock, {"access_token": "at-1", "refresh_token": "rt-revoked"})
    with pytest.raises(PermanentChannelError):
        client.get_json("/orders")
    assert not [e for e in api.events if e[0] == "saved"]
    assert auth.credentials["refresh_token"] == "rt-revoked"


def test_token_near_expiry_refreshed_before_the_request() -> None:
    clock = RecordingClock()
    api = TokenApi()
    expires = (clock.now() + timedelta(seconds=30)).isoformat()
    client, auth = auth_client(api, clock, {"access_token": "at-1", "refresh_token": "rt-1",
                                            BearerAuth.EXPIRES_AT_KEY: expires})
    client.get_json("/orders")
    assert api.events == [("token endpoint", "rt-1"), ("saved", "at-2", "rt-2"), ("api call", "at-2")]


def test_naive_expiry_read_as_utc() -> None:
    clock = RecordingClock()
    auth = BearerAuth({"access_token": "a", "refresh_token": "r",
                       BearerAuth.EXPIRES_AT_KEY: "2026-06-01T12:01:00"}, None, clock)
    assert auth.needs_refresh()


def test_two_threads_hitting_401_together_refresh_once() -> None:
    """F6: two requests fail with the same stale token at the same moment; one
    refresh serves both."""
    clock = RecordingClock()
    both_sent = threading.Barrier(2, timeout=5)

    def hold_stale(token: str) -> None:
        if token == "at-stale":
            both_sent.wait()

    api = TokenApi(on_api_call=hold_stale)
    client, auth = auth_client(api, clock, {"access_token": "at-stale", "refresh_token": "rt-1"})
    results: list[str] = []
    errors: list[BaseException] = []

    def pull() -> None:
        try:
            results.append(client.get_json("/orders")["token"])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=pull) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    assert results == ["at-2", "at-2"]
    assert [e for e in api.events if e[0] == "token endpoint"] == [("token endpoint", "rt-1")]
    assert auth.refreshes == 1


def test_two_threads_finding_token_expired_refresh_once() -> None:
    clock = RecordingClock()
    api = TokenApi(on_token_call=lambda: time.sleep(0.05))  # widen the race window
    expired = (clock.now() - timedelta(seconds=1)).isoformat()
    client, auth = auth_client(api, clock, {"access_token": "at-1", "refresh_token": "rt-1",
                                            BearerAuth.EXPIRES_AT_KEY: expired})
    start = threading.Barrier(2, timeout=5)

    def pull() -> None:
        start.wait()
        client.get_json("/orders")

    threads = [threading.Thread(target=pull) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert auth.refreshes == 1
    assert [e[0] for e in api.events].count("token endpoint") == 1
    assert [e for e in api.events if e[0] == "api call"] == [("api call", "at-2")] * 2
