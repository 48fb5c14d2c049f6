"""The Etsy simulator speaks the API as Etsy serves it (CHANNELS.md §1, §4)."""

from datetime import UTC, datetime

import httpx
import pytest

from makersync.plugins import FakeClock
from makersync.plugins.etsy import EtsySimulator

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
API = "/v3/application"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sim(clock) -> EtsySimulator:
    return EtsySimulator.create(seed=5, orders=150, days=60, clock=clock)


def client(sim: EtsySimulator, token: str | None = None, key: str | None = None) -> httpx.Client:
    creds = sim.credentials()
    headers = {"x-api-key": key if key is not None else f"{creds['keystring']}:{creds['shared_secret']}"}
    headers["authorization"] = f"Bearer {token or creds['access_token']}"
    return httpx.Client(transport=sim.transport(), base_url="http://sim", headers=headers)


def get(sim: EtsySimulator, path: str, clock: FakeClock | None = None, **params) -> httpx.Response:
    if clock is not None:
        clock.advance(1)  # stay under 10 requests a second
    with client(sim) as c:
        return c.get(f"{API}/shops/{sim.shop_id}{path}", params=params)


def test_keystring_without_secret_refused_with_etsy_message(sim):
    """Etsy enforces keystring:shared_secret since 2026-02-09 (403)."""
    with client(sim, key=sim.keystring) as c:
        response = c.get(f"{API}/openapi-ping")
    assert response.status_code == 403
    assert response.json() == {"error": "Invalid API key: should be in the format 'keystring:shared_secret'."}
    with client(sim, key=f"{sim.keystring}:wrong") as c:
        assert c.get(f"{API}/openapi-ping").status_code == 403


def test_ping_needs_only_the_api_key(sim):
    with client(sim, token="nope") as c:
        response = c.get(f"{API}/openapi-ping")
    assert response.status_code == 200 and "application_id" in response.json()


def test_bearer_token_expires_after_an_hour(sim, clock):
    assert get(sim, "/receipts").status_code == 200
    clock.advance(3601)
    response = get(sim, "/receipts")
    assert response.status_code == 401 and "error" in response.json()
    with client(sim, token="not-a-user-token") as c:
        assert c.get(f"{API}/users/me").status_code == 401


def test_token_endpoint_rotates_refresh_tokens(sim, clock):
    """The old refresh token stops working once a new one is issued."""
    old = sim.credentials()["refresh_token"]
    form = {"grant_type": "refresh_token", "client_id": sim.keystring, "refresh_token": old}
    with httpx.Client(transport=sim.transport(), base_url="http://sim") as c:
        first = c.post("/v3/public/oauth/token", data=form)
        again = c.post("/v3/public/oauth/token", data=form)
    body = first.json()
    assert first.status_code == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["refresh_token"] != old and body["access_token"].startswith(f"{sim.user_id}.")
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    clock.advance(1)
    with client(sim, token=body["access_token"]) as c:
        assert c.get(f"{API}/users/me").json() == {"user_id": sim.user_id, "shop_id": sim.shop_id}


def test_receipts_page_with_count_limit_and_offset(sim, clock):
    first = get(sim, "/receipts", clock, limit=100, offset=0).json()
    second = get(sim, "/receipts", clock, limit=100, offset=100).json()
    assert first["count"] == second["count"] == 150
    assert len(first["results"]) == 100 and len(second["results"]) == 50
    ids = [r["receipt_id"] for r in first["results"] + second["results"]]
    assert len(set(ids)) == 150
    assert get(sim, "/receipts", clock).json()["results"].__len__() == 25  # default limit
    for bad in ({"limit": 101}, {"limit": 0}, {"offset": -1}, {"sort_on": "price"}):
        response = get(sim, "/receipts", clock, **bad)
        assert response.status_code == 400 and "error" in response.json()


def test_receipts_filter_on_epoch_seconds_and_sort_updated_ascending(sim, clock):
    low = int(START.timestamp()) - 10 * 86400
    body = get(sim, "/receipts", clock, min_last_modified=low, sort_on="updated", sort_order="asc",
               limit=100).json()
    stamps = [r["updated_timestamp"] for r in body["results"]]
    assert stamps and stamps == sorted(stamps) and min(stamps) >= low
    created = get(sim, "/receipts", clock, min_created=low, max_created=low + 86400, limit=100).json()
    assert all(low <= r["created_timestamp"] <= low + 86400 for r in created["results"])
    receipt = body["results"][0]
    assert {"transactions", "refunds", "shipments"} <= set(receipt)
    assert receipt["grandtotal"]["divisor"] == 100 and isinstance(receipt["grandtotal"]["amount"], int)


def test_refund_and_ship_date_change_leave_update_timestamp_alone(sim, clock):
    """R5: Etsy does not move update_timestamp on refunds or ship-date changes; a first shipment does."""
    order = next(o for o in sim.shop.orders if o.shipped_at and not o.refunds and not o.cancelled_at)
    before = get(sim, f"/receipts/{order.order_id}", clock).json()
    clock.advance(1800)
    sim.apply_change({"action": "refund", "order": order.order_id, "amount": "5.00"})
    sim.apply_change({"action": "ship", "order": order.order_id})
    after = get(sim, f"/receipts/{order.order_id}", clock).json()
    assert after["updated_timestamp"] == before["updated_timestamp"]
    assert after["status"] == "partially refunded" and after["refunds"][0]["amount"]["amount"] == 500
    assert after["transactions"][0]["shipped_timestamp"] > before["transactions"][0]["shipped_timestamp"]
    unshipped = next(o for o in sim.shop.orders if not o.shipped_at and not o.cancelled_at)
    sim.apply_change({"action": "ship", "order": unshipped.order_id})
    shipped = get(sim, f"/receipts/{unshipped.order_id}", clock).json()
    assert shipped["updated_timestamp"] == int(clock.now().timestamp()) - 1
    now = int(clock.now().timestamp())
    ledger = get(sim, "/payment-account/ledger-entries", clock, min_created=now - 7200, max_created=now).json()
    assert any(e["ledger_type"] == "REFUND_GROSS" and e["reference_id"] == str(order.order_id)
               for e in ledger["results"])


def test_ledger_needs_both_bounds_and_at_most_31_days(sim, clock):
    now = int(START.timestamp())
    for params in ({"min_created": now - 86400}, {"max_created": now}, {}):
        response = get(sim, "/payment-account/ledger-entries", clock, **params)
        assert response.status_code == 400 and "error" in response.json()
    too_long = get(sim, "/payment-account/ledger-entries", clock, min_created=now - 32 * 86400, max_created=now)
    assert too_long.status_code == 400 and "31 days" in too_long.json()["error"]
    ok = get(sim, "/payment-account/ledger-entries", clock, min_created=now - 31 * 86400, max_created=now)
    entry = ok.json()["results"][0]
    assert isinstance(entry["amount"], int) and entry["currency"] == "USD"


def test_listings_default_to_active_and_embed_inventory_only_when_asked(sim, clock):
    active = get(sim, "/listings", clock, limit=100).json()
    assert active["results"] and all(li["state"] == "active" for li in active["results"])
    assert "inventory" not in active["results"][0]
    with_inventory = get(sim, "/listings", clock, limit=100, includes="Inventory").json()
    products = with_inventory["results"][0]["inventory"]["products"]
    assert products and {"product_id", "sku", "offerings", "property_values"} <= set(products[0])
    others = sum(get(sim, "/listings", clock, state=s).json()["count"]
                 for s in ("inactive", "sold_out", "draft", "expired"))
    assert active["count"] + others == len(sim.shop.listings)
    assert get(sim, "/listings", clock, state="gone").status_code == 400


def test_rate_headers_on_success_and_429_past_the_per_second_allowance(sim):
    responses = [get(sim, "/receipts", limit=1) for _ in range(11)]
    ok = responses[0]
    assert ok.headers["x-limit-per-second"] == "10" and ok.headers["x-limit-per-day"] == "10000"
    assert ok.headers["x-remaining-this-second"] == "9" and ok.headers["x-remaining-today"] == "9999"
    assert [r.status_code for r in responses].count(429) == 1
    throttled = responses[-1]
    assert throttled.headers["retry-after"] == "1" and "error" in throttled.json()
    assert sim.throttled == 1


def test_429_with_long_retry_after_when_the_daily_allowance_is_spent(sim, clock):
    sim.qpd = 3
    codes = [get(sim, "/receipts", clock, limit=1).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = get(sim, "/receipts", clock, limit=1)
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 3600


def test_truth_times_are_whole_seconds_and_money_exact(sim):
    orders, listings, fees = sim.truth()
    assert all(o.placed_at.microsecond == 0 for o in orders)
    assert all(o.subtotal - o.discount + o.shipping + o.tax == o.total for o in orders)
    assert {f.kind.value for f in fees} >= {"listing", "transaction", "processing"}
    assert any(li.variation_external_id == "" for li in listings)
    assert any(li.variation_external_id != "" for li in listings)


def test_payments_by_receipt_show_processing_fees_adjusted_after_refunds(sim, clock):
    """Payment.amount_fees is the processing fee; adjusted_fees shrinks with a refund."""
    order = next(o for o in sim.shop.orders if o.paid and not o.refunds and not o.cancelled_at)
    before = get(sim, f"/receipts/{order.order_id}/payments", clock).json()["results"][0]
    sim.apply_change({"action": "refund", "order": order.order_id})
    after = get(sim, f"/receipts/{order.order_id}/payments", clock).json()["results"][0]
    fee = next(f for f in sim.shop.fees if f.order_id == order.order_id and f.kind == "processing")
    assert before["amount_fees"] == {"amount": int(fee.amount * 100), "divisor": 100, "currency_code": "USD"}
    assert before["adjusted_fees"] == before["amount_fees"]
    assert after["adjusted_fees"]["amount"] == 0 and after["adjusted_gross"]["amount"] == 0
    assert get(sim, "/receipts/1/payments", clock).status_code == 404
