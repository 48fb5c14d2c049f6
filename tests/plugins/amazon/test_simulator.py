"""The Amazon simulator speaks SP-API as Amazon serves it: LWA, x-amz-access-token,
rate-limit headers and 429 bodies, the 2-minute and 180-day rules, expiring page
tokens, late-visible Finances transactions (R5, R11, R15)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from makersync.plugins import FakeClock
from makersync.plugins.amazon import AmazonSimulator
from makersync.plugins.amazon.simdata import amazon_order_id
from makersync.plugins.simulate import Faults

BASE = "https://sellingpartnerapi-na.amazon.com"
QUOTA = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                     "details": ""}]}


def iso(when) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def sim(clock: FakeClock) -> AmazonSimulator:
    s = AmazonSimulator.create(clock=clock, seed=5, orders=250, days=60)
    clock.advance(600)
    return s


def client(sim: AmazonSimulator, token: str | None = None) -> httpx.Client:
    headers = {"x-amz-access-token": token} if token else {}
    return httpx.Client(transport=sim.transport(), base_url=BASE, headers=headers)


def lwa(sim: AmazonSimulator, **changes: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": sim.refresh_token, "client_id": sim.client_id,
            "client_secret": sim.client_secret, **changes}
    return httpx.Client(transport=sim.transport()).post("https://api.amazon.com/auth/o2/token", data=form)


def token(sim: AmazonSimulator) -> str:
    return lwa(sim).json()["access_token"]


def search(c: httpx.Client, **params) -> httpx.Response:
    base = {"marketplaceIds": "ATVPDKIKX0DER", "includedData": "PROCEEDS,FULFILLMENT,PACKAGES"}
    return c.get("/orders/2026-01-01/orders", params={**base, **params})


def test_lwa_token_endpoint_answers_like_amazon(sim: AmazonSimulator) -> None:
    body = lwa(sim).json()
    assert body["access_token"].startswith("Atza|") and body["token_type"] == "bearer"
    assert body["expires_in"] == 3600 and body["refresh_token"] == sim.refresh_token


def test_lwa_refuses_a_bad_refresh_token_and_a_bad_client(sim: AmazonSimulator) -> None:
    bad_grant = lwa(sim, refresh_token="Atzr|nope")
    assert bad_grant.status_code == 400 and bad_grant.json()["error"] == "invalid_grant"
    assert lwa(sim, client_secret="wrong").status_code == 401


def test_missing_token_is_refused_with_403_and_no_rate_header(sim: AmazonSimulator) -> None:
    """Amazon's Unauthorized body; x-amzn-RequestId always, x-amzn-RateLimit-Limit never on 403."""
    r = client(sim).get("/sellers/v1/marketplaceParticipations")
    assert r.status_code == 403
    assert r.json()["errors"][0]["code"] == "Unauthorized"
    assert r.json()["errors"][0]["details"] == "Access token is missing in the request header."
    assert r.headers["x-amzn-RequestId"] and "x-amzn-RateLimit-Limit" not in r.headers


def test_expired_token_is_refused_with_the_expired_details(clock: FakeClock) -> None:
    sim = AmazonSimulator.create(clock=clock, orders=10, faults=Faults(access_token_ttl_s=60))
    c = client(sim, token(sim))
    assert c.get("/sellers/v1/marketplaceParticipations").status_code == 200
    clock.advance(61)
    r = c.get("/sellers/v1/marketplaceParticipations")
    assert r.status_code == 403
    assert r.json() == {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                                    "details": "The access token you provided has expired."}]}


def test_burst_then_429_quota_exceeded_without_rate_header(sim: AmazonSimulator, clock: FakeClock) -> None:
    """searchOrders: burst 20, then 0.0056/s; a 429 carries the QuotaExceeded body and no rate header."""
    c = client(sim, token(sim))
    after = iso(clock.now() - timedelta(days=1))
    for _ in range(20):
        r = search(c, createdAfter=after)
        assert r.status_code == 200 and r.headers["x-amzn-RateLimit-Limit"] == "0.0056"
    r = search(c, createdAfter=after)
    assert r.status_code == 429 and r.json() == QUOTA
    assert "x-amzn-RateLimit-Limit" not in r.headers and r.headers["x-amzn-RequestId"]
    assert sim.throttled == 1
    clock.advance(1 / 0.0056)
    assert search(c, createdAfter=after).status_code == 200


def test_speed_scales_the_buckets_and_the_header(clock: FakeClock) -> None:
    sim = AmazonSimulator.create(clock=clock, orders=10, speed=100)
    r = client(sim, token(sim)).get("/finances/2024-06-19/transactions",
                                    params={"postedAfter": iso(clock.now() - timedelta(days=3)),
                                            "postedBefore": iso(clock.now() - timedelta(minutes=3))})
    assert r.headers["x-amzn-RateLimit-Limit"] == "50"


def test_before_closer_than_two_minutes_is_invalid_input(sim: AmazonSimulator, clock: FakeClock) -> None:
    """Every ...Before at least 2 minutes in the past, else 400 InvalidInput with a rate header."""
    c = client(sim, token(sim))
    r = search(c, createdAfter=iso(clock.now() - timedelta(days=1)), createdBefore=iso(clock.now() - timedelta(seconds=60)))
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "InvalidInput"
    assert r.headers["x-amzn-RateLimit-Limit"] == "0.0056"
    r = c.get("/finances/2024-06-19/transactions", params={"postedAfter": iso(clock.now() - timedelta(days=1)),
                                                            "postedBefore": iso(clock.now() - timedelta(seconds=90))})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "InvalidInput"


def test_created_and_updated_filters_do_not_mix(sim: AmazonSimulator, clock: FakeClock) -> None:
    c = client(sim, token(sim))
    day = iso(clock.now() - timedelta(days=1))
    assert search(c, createdAfter=day, lastUpdatedAfter=day).status_code == 400
    assert search(c).status_code == 400


def test_finance_window_wider_than_180_days_is_silently_empty(sim: AmazonSimulator, clock: FakeClock) -> None:
    c = client(sim, token(sim))
    end = clock.now() - timedelta(minutes=3)
    wide = c.get("/finances/2024-06-19/transactions",
                 params={"postedAfter": iso(end - timedelta(days=181)), "postedBefore": iso(end)})
    assert wide.status_code == 200 and wide.json() == {"payload": {"transactions": []}}
    ok = c.get("/finances/2024-06-19/transactions",
               params={"postedAfter": iso(end - timedelta(days=180)), "postedBefore": iso(end)})
    assert ok.json()["payload"]["transactions"]


def test_search_orders_pages_by_100_with_echoed_before(sim: AmazonSimulator, clock: FakeClock) -> None:
    """Bare v2026 body: orders, pagination.nextToken, createdBefore echoed; ids in the 3-7-7 format."""
    c = client(sim, token(sim))
    seen, token_, pages = [], None, 0
    while True:
        params = {"createdAfter": iso(clock.now() - timedelta(days=61))}
        if token_:
            params["paginationToken"] = token_
        body = search(c, **params).json()
        pages += 1
        assert "payload" not in body and body["createdBefore"] == iso(clock.now() - timedelta(minutes=2))
        seen += [o["orderId"] for o in body["orders"]]
        token_ = (body.get("pagination") or {}).get("nextToken")
        if not token_:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 250
    assert all(re.fullmatch(r"\d{3}-\d{7}-\d{7}", o) for o in seen)


def test_order_page_token_expires_after_24_hours(sim: AmazonSimulator, clock: FakeClock) -> None:
    c = client(sim, token(sim))
    params = {"createdAfter": iso(clock.now() - timedelta(days=61)), "createdBefore": iso(clock.now() - timedelta(hours=1))}
    nxt = search(c, **params).json()["pagination"]["nextToken"]
    clock.advance(24 * 3600 + 1)
    c = client(sim, token(sim))
    r = search(c, **params, paginationToken=nxt)
    assert r.status_code == 400 and "expired" in r.json()["errors"][0]["details"]


def test_fba_inventory_token_dies_after_30_seconds(clock: FakeClock) -> None:
    sim = AmazonSimulator.create(clock=clock, orders=10)
    sim.inventory_page = 5
    c = client(sim, token(sim))
    params = {"granularityType": "Marketplace", "granularityId": "ATVPDKIKX0DER", "marketplaceIds": "ATVPDKIKX0DER",
              "details": "true"}
    first = c.get("/fba/inventory/v1/summaries", params=params).json()
    assert set(first["payload"]["inventorySummaries"][0]) >= {"asin", "fnSku", "sellerSku", "productName"}
    nxt = first["pagination"]["nextToken"]
    assert c.get("/fba/inventory/v1/summaries", params={**params, "nextToken": nxt}).status_code == 200
    clock.advance(31)
    assert c.get("/fba/inventory/v1/summaries", params={**params, "nextToken": nxt}).status_code == 400


def test_pending_orders_carry_no_prices(sim: AmazonSimulator, clock: FakeClock) -> None:
    c = client(sim, token(sim))
    order = sim.shop.orders[-1]
    order.paid = False
    body = c.get(f"/orders/2026-01-01/orders/{amazon_order_id(order.order_id)}",
                 params={"includedData": "PROCEEDS,FULFILLMENT"}).json()["order"]
    assert body["fulfillment"]["fulfillmentStatus"] == "PENDING"
    assert "proceeds" not in body and "price" not in body["orderItems"][0]["product"]


def test_refund_does_not_move_last_updated_and_shows_late(sim: AmazonSimulator, clock: FakeClock) -> None:
    """Amazon keeps refunds in Finances: lastUpdatedTime stays; the Refund transaction is visible
    within 48 h of its postedDate, and the truth follows what is visible (R5)."""
    c = client(sim, token(sim))
    order = next(o for o in reversed(sim.shop.orders) if o.shipped_at and not o.refunds and not o.cancelled_at)
    aid = amazon_order_id(order.order_id)
    before = c.get(f"/orders/2026-01-01/orders/{aid}").json()["order"]["lastUpdatedTime"]
    sim.apply_change({"action": "refund", "order": aid, "amount": "5.00"})
    assert c.get(f"/orders/2026-01-01/orders/{aid}").json()["order"]["lastUpdatedTime"] == before
    txn = next(t for t in sim.transactions() if t.kind == "Refund" and t.order is order)
    assert timedelta(minutes=5) <= txn.visible_at - txn.posted < timedelta(hours=48)

    def refunds_listed() -> list[dict]:
        r = c.get("/finances/2024-06-19/transactions",
                  params={"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": aid})
        return [t for t in r.json()["payload"]["transactions"] if t["transactionType"] == "Refund"]

    truth = {o.external_id: o for o in sim.truth()[0]}
    assert not refunds_listed() and not truth[aid].refunds
    clock.advance(48 * 3600)
    c = client(sim, token(sim))
    (refund,) = refunds_listed()
    assert refund["totalAmount"]["currencyAmount"] < 0 and isinstance(refund["totalAmount"]["currencyAmount"], float)
    assert {o.external_id: o for o in sim.truth()[0]}[aid].refunded == sum(
        (r.amount for r in order.refunds), start=type(order.total)("0"))


def test_every_response_has_a_request_id(sim: AmazonSimulator) -> None:
    c = client(sim, token(sim))
    for path in ("/sellers/v1/marketplaceParticipations", "/nowhere", "/orders/2026-01-01/orders/111-0000000-0000000"):
        assert c.get(path).headers.get("x-amzn-RequestId")
    assert c.get("/orders/2026-01-01/orders/111-0000000-0000000").json()["errors"][0]["code"] == "NotFound"


def test_changes_name_orders_and_listings_by_their_amazon_ids(sim: AmazonSimulator, clock: FakeClock) -> None:
    """/_sim/change speaks Amazon ids: 3-7-7 order ids, ASINs; a new order's truth is returned at once."""
    new = sim.apply_change({"action": "new_order"})
    assert re.fullmatch(r"\d{3}-\d{7}-\d{7}", new["external_id"])
    shipped = sim.apply_change({"action": "ship", "order": new["external_id"]})
    assert shipped["status"] == "shipped"
    listing = sim.truth()[1][0]
    edited = sim.apply_change({"action": "edit_listing", "listing": listing.external_id, "title": "Renamed Mug"})
    assert edited["title"].startswith("Renamed Mug") and edited["external_id"] == listing.external_id
