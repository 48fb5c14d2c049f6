"""The Example Market simulator speaks its documented API, and the channel
reads it with the fewest requests (P4). Through ``sim.transport()``, on a
fake clock."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from makersync.plugins import AuthError, ChannelContext, FakeClock, Window
from makersync.plugins.example import ExampleChannel, ExampleSimulator
from makersync.plugins.manager import ChannelRegistry
from makersync.plugins.simulate import Faults

BASE = "http://example.sim"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> ExampleSimulator:
    return ExampleSimulator.create(seed=5, orders=260, days=30, clock=clock)


@pytest.fixture
def http(sim: ExampleSimulator) -> Iterator[httpx.Client]:
    token = sim.credentials()["access_token"]
    with httpx.Client(transport=sim.transport(), base_url=BASE,
                      headers={"authorization": f"Bearer {token}"}) as client:
        yield client


def walk(http: httpx.Client, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    rows, pages = [], 0
    query: dict[str, Any] = {**params, "limit": 100}
    while True:
        body = http.get(path, params=query).json()
        rows += body["data"]
        pages += 1
        if not body["next_page_token"]:
            return rows, pages
        query = {"limit": 100, "page_token": body["next_page_token"]}


def test_example_loads_from_its_module_not_an_entry_point() -> None:
    registry = ChannelRegistry().load(entry_points=False, modules=["makersync.plugins.example"])
    assert registry.get("example") is ExampleChannel
    assert ExampleChannel.simulator_class is ExampleSimulator
    assert "example" not in ChannelRegistry().load(blocked=["etsy", "shopify", "amazon"]).channels


@pytest.mark.parametrize("header, reason", [(None, "missing"), ("Bearer at_nope", "unknown"),
                                            ("Basic abc", "missing")])
def test_api_refuses_missing_or_unknown_token(sim: ExampleSimulator, header: str | None, reason: str) -> None:
    with httpx.Client(transport=sim.transport(), base_url=BASE) as client:
        response = client.get("/api/orders", headers={"authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert reason in response.json()["error_description"]


def test_access_token_expires_after_its_lifetime(sim: ExampleSimulator, http: httpx.Client,
                                                 clock: FakeClock) -> None:
    assert http.get("/api/shop").status_code == 200
    clock.advance(3600)
    assert http.get("/api/shop").json()["error_description"] == "access token expired"


def test_token_endpoint_rotates_refresh_token(sim: ExampleSimulator) -> None:
    creds = sim.credentials()
    form = {"grant_type": "refresh_token", "refresh_token": creds["refresh_token"],
            "client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    with httpx.Client(transport=sim.transport(), base_url=BASE) as client:
        first = client.post("/oauth/token", data=form)
        again = client.post("/oauth/token", data=form)
        wrong_client = client.post("/oauth/token", data=form | {"client_secret": "nope"})
    assert first.status_code == 200
    assert first.json()["refresh_token"] != creds["refresh_token"]
    assert first.json()["expires_in"] == 3600
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert wrong_client.status_code == 401


def test_orders_paged_by_token_in_created_order(sim: ExampleSimulator, http: httpx.Client) -> None:
    rows, pages = walk(http, "/api/orders")
    assert pages == math.ceil(260 / 100)
    assert len({r["id"] for r in rows}) == 260
    assert [r["created_at"] for r in rows] == sorted(r["created_at"] for r in rows)


def test_orders_filtered_by_created_bounds_half_open(sim: ExampleSimulator, http: httpx.Client) -> None:
    orders = sorted(sim.truth()[0], key=lambda o: o.placed_at)
    lo, hi = orders[10].placed_at, orders[50].placed_at
    iso = lambda t: t.isoformat().replace("+00:00", "Z")  # noqa: E731
    rows, _ = walk(http, "/api/orders", created_from=iso(lo), created_to=iso(hi))
    assert [str(r["id"]) for r in rows] == [o.external_id for o in orders[10:50]]


def test_refund_moves_updated_at_and_shows_in_updated_since(sim: ExampleSimulator, http: httpx.Client,
                                                            clock: FakeClock) -> None:
    since = clock.now()
    clock.advance(60)
    order = next(o for o in sim.truth()[0] if not o.refunds and not o.cancelled_at)
    changed = sim.apply_change({"action": "refund", "order": order.external_id, "amount": "2.00"})
    rows, _ = walk(http, "/api/orders", updated_since=since.isoformat())
    assert [str(r["id"]) for r in rows] == [order.external_id]
    assert rows[0]["refunds"][-1]["amount"] == "2.00" == changed["refunds"][-1]["amount"]


@pytest.mark.parametrize("path, params, message", [
    ("/api/orders", {"limit": "101"}, "limit"),
    ("/api/orders", {"created_from": "yesterday"}, "created_from"),
    ("/api/fees", {"from": "2026-01-01T00:00:00Z"}, "required"),
    ("/api/listings", {"page_token": "garbage!"}, "page_token"),
])
def test_bad_requests_answer_400_with_a_reason(http: httpx.Client, path: str, params: dict[str, str],
                                               message: str) -> None:
    response = http.get(path, params=params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert message in response.json()["error_description"]


def test_page_token_of_another_list_refused(http: httpx.Client) -> None:
    token = http.get("/api/orders", params={"limit": 1}).json()["next_page_token"]
    assert http.get("/api/listings", params={"page_token": token}).status_code == 400


def test_rate_limit_headers_then_429_with_fractional_retry_after(sim: ExampleSimulator, http: httpx.Client,
                                                                 clock: FakeClock) -> None:
    remaining = [http.get("/api/shop").headers["x-ratelimit-remaining"] for _ in range(20)]
    assert remaining == [str(n) for n in range(19, -1, -1)]
    refused = http.get("/api/shop")
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert float(refused.headers["retry-after"]) == pytest.approx(0.2)
    assert refused.headers["x-ratelimit-limit"] == "20"
    assert sim.throttled == 1
    clock.advance(0.2)
    assert http.get("/api/shop").status_code == 200


def test_limit_scale_knob_shrinks_the_allowance(sim: ExampleSimulator, http: httpx.Client) -> None:
    sim.faults.update({"limit_scale": 0.5})
    statuses = [http.get("/api/shop").status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]


def channel_for(sim: ExampleSimulator, clock: FakeClock, saved: list[dict[str, str]] | None = None,
                **creds: str) -> ExampleChannel:
    ctx = ChannelContext(credentials={**sim.credentials(), **creds}, settings=sim.config_section(BASE),
                         clock=clock, transport=sim.transport(),
                         save_credentials=(saved.append if saved is not None else lambda c: None))
    return ExampleChannel(ctx)


def test_full_pull_costs_the_minimum_requests(sim: ExampleSimulator, clock: FakeClock) -> None:
    """P4: pages = ceil(records / 100) per stream, no detail calls."""
    channel = channel_for(sim, clock)
    window = Window(clock.now() - timedelta(days=400), clock.now())
    orders = [r for p in channel.iter_orders(window) for r in p.records]
    listings = [r for p in channel.iter_listings() for r in p.records]
    fees = [r for p in channel.iter_fees(window) for r in p.records]
    truth_orders, truth_listings, truth_fees = sim.truth()
    assert len(orders) == len(truth_orders) and len(fees) == len(truth_fees)
    assert len(listings) == len(truth_listings)
    listing_objects = len(sim.shop.listings)
    minimum = sum(math.ceil(n / 100) for n in (len(truth_orders), listing_objects, len(truth_fees)))
    assert channel.ctx.stats.requests == minimum
    assert sim.throttled == 0


def test_connect_names_the_shop_and_refreshes_an_expired_token(sim: ExampleSimulator,
                                                               clock: FakeClock) -> None:
    saved: list[dict[str, str]] = []
    channel = channel_for(sim, clock, saved)
    clock.advance(4000)
    info = channel.connect()
    assert (info.external_shop_id, info.currency) == ("shop-5", "USD")
    assert channel.auth.refreshes == 1
    assert saved[-1]["refresh_token"] == channel.credentials["refresh_token"] != sim.credentials()["refresh_token"]


def test_refused_refresh_token_is_an_auth_error(sim: ExampleSimulator, clock: FakeClock) -> None:
    """The maker must reconnect: the channel says so with AuthError."""
    channel = channel_for(sim, clock, access_token="", refresh_token="rt_revoked")
    with pytest.raises(AuthError, match="refused the refresh token"):
        channel.connect()


def test_malformed_records_set_aside_with_reason(clock: FakeClock) -> None:
    """R15: bad records are set aside with their id and reason; the rest arrive."""
    sim = ExampleSimulator.create(seed=5, orders=200, clock=clock, faults=Faults(malformed_rate=0.1))
    channel = channel_for(sim, clock)
    pages = list(channel.iter_orders(Window(clock.now() - timedelta(days=400), clock.now())))
    aside = [s for p in pages for s in p.set_aside]
    got = [r for p in pages for r in p.records]
    assert aside and all(s.kind == "order" and s.external_id and s.reason for s in aside)
    assert len(got) + len(aside) == 200
