"""The Shopify simulator speaks the real Admin API: auth, GraphQL validation,
calculated cost and THROTTLED answers, search filters, cursors, scopes, the
token endpoint, REST access scopes, bulk operations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from makersync.plugins import FakeClock
from makersync.plugins.shopify import ShopifySimulator, queries

GQL = "/admin/api/2026-07/graphql.json"
BASE = "https://maker-sim.myshopify.com"


def client(sim: ShopifySimulator) -> httpx.Client:
    return httpx.Client(base_url=BASE, transport=sim.transport())


def gql(sim: ShopifySimulator, query: str, variables: dict[str, Any] | None = None,
        token: str | None = None) -> httpx.Response:
    with client(sim) as http:
        return http.post(GQL, json={"query": query, "variables": variables or {}},
                         headers={"X-Shopify-Access-Token": token or sim.access_token})


@pytest.fixture
def sim() -> ShopifySimulator:
    clock = FakeClock(datetime(2026, 6, 1, 12, tzinfo=UTC))
    made = ShopifySimulator.create(clock=clock, seed=3, orders=60, days=90)
    clock.advance(60)
    return made


def test_bad_token_refused_with_shopify_401_body(sim: ShopifySimulator) -> None:
    answer = gql(sim, "{ shop { id } }", token="shpat_wrong")
    assert answer.status_code == 401
    assert answer.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def test_unknown_field_fails_validation_as_on_shopify(sim: ShopifySimulator) -> None:
    body = gql(sim, "{ orders(first: 1) { edges { node { id totalPriceV3 } } } }").json()
    assert "data" not in body and "totalPriceV3" in body["errors"][0]["message"]


def test_connection_without_first_is_refused(sim: ShopifySimulator) -> None:
    body = gql(sim, "{ orders { edges { node { id } } } }").json()
    assert "first or last" in body["errors"][0]["message"]


def test_cost_extension_reports_requested_actual_and_throttle_status(sim: ShopifySimulator) -> None:
    body = gql(sim, "{ orders(first: 5) { edges { node { id name } } pageInfo { hasNextPage } } }").json()
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 5 * 1 and cost["actualQueryCost"] == 7
    assert cost["throttleStatus"] == {"maximumAvailable": 2000.0, "currentlyAvailable": 1993.0,
                                      "restoreRate": 100.0}
    assert body["data"]["orders"]["edges"][0]["node"]["id"].startswith("gid://shopify/Order/")


def test_query_over_single_query_cap_refused_with_max_cost_exceeded(sim: ShopifySimulator) -> None:
    body = gql(sim, queries.orders_query(100), {"query": "", "sortKey": "ID"}).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_empty_bucket_answers_throttled_in_a_200_then_restores(sim: ShopifySimulator) -> None:
    query = queries.orders_query(queries.fit_first(queries.orders_query, 1000))
    variables = {"query": "", "sortKey": "ID"}
    for _ in range(2):
        assert "errors" not in gql(sim, query, variables).json()
    sim.bucket.tokens = 10
    answer = gql(sim, query, variables)
    body = answer.json()
    assert answer.status_code == 200 and body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None and sim.throttled == 1
    sim.clock.advance(10)  # type: ignore[attr-defined]
    assert "errors" not in gql(sim, query, variables).json()


def test_search_filters_and_sort_by_updated_at(sim: ShopifySimulator) -> None:
    since = sim.clock.now() - timedelta(days=20)
    query = """query($q: String!) { orders(first: 250, query: $q, sortKey: UPDATED_AT) {
        edges { node { id updatedAt createdAt } } } }"""
    nodes = [e["node"] for e in gql(sim, query, {"q": f"updated_at:>='{since.isoformat()}'"}).json()
             ["data"]["orders"]["edges"]]
    want = [o for o in sim.shop.orders if o.modified_at >= since]
    assert len(nodes) == len(want) > 0
    stamps = [datetime.fromisoformat(n["updatedAt"]) for n in nodes]
    assert stamps == sorted(stamps) and min(stamps) >= since


def test_cursor_pages_cover_every_order_once(sim: ShopifySimulator) -> None:
    query = """query($after: String) { orders(first: 7, after: $after, sortKey: CREATED_AT) {
        edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        conn = gql(sim, query, {"after": after}).json()["data"]["orders"]
        seen += [e["node"]["id"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == len(sim.shop.orders)


def test_times_carry_the_shops_offset_across_dst() -> None:
    """America/New_York: -05:00 before 2026-03-08, -04:00 after, in the same answer."""
    clock = FakeClock(datetime(2026, 3, 20, 12, tzinfo=UTC))
    sim = ShopifySimulator.create(clock=clock, seed=4, orders=80, days=30)
    body = gql(sim, "{ orders(first: 100, sortKey: CREATED_AT) { edges { node { createdAt } } } }").json()
    offsets = {e["node"]["createdAt"][-6:] for e in body["data"]["orders"]["edges"]}
    assert offsets == {"-05:00", "-04:00"}


def test_withheld_read_all_orders_hides_orders_older_than_60_days_r2() -> None:
    clock = FakeClock(datetime(2026, 6, 1, 12, tzinfo=UTC))
    sim = ShopifySimulator.create(clock=clock, seed=3, orders=60, days=120, grant_all_orders=False)
    body = gql(sim, "{ currentAppInstallation { accessScopes { handle } } "
                    "orders(first: 100) { edges { node { createdAt } } } }").json()["data"]
    assert "read_all_orders" not in {s["handle"] for s in body["currentAppInstallation"]["accessScopes"]}
    oldest = min(datetime.fromisoformat(e["node"]["createdAt"]) for e in body["orders"]["edges"])
    assert oldest >= clock.now() - timedelta(days=60)
    assert len(body["orders"]["edges"]) < len(sim.shop.orders)
    assert all(o.placed_at >= clock.now() - timedelta(days=60) for o in sim.truth()[0])


def test_access_scopes_rest_shape_and_429_with_retry_after(sim: ShopifySimulator) -> None:
    with client(sim) as http:
        headers = {"X-Shopify-Access-Token": sim.access_token}
        first = http.get("/admin/oauth/access_scopes.json", headers=headers)
        assert first.json()["access_scopes"][0] == {"handle": "read_orders"}
        assert first.headers["x-shopify-shop-api-call-limit"] == "1/40"
        answers = [http.get("/admin/oauth/access_scopes.json", headers=headers) for _ in range(45)]
    throttled = [a for a in answers if a.status_code == 429]
    assert throttled and throttled[0].headers["retry-after"] == "2.0"
    assert "Exceeded 2 calls per second" in throttled[0].json()["errors"]


def test_refresh_endpoint_rotates_refresh_token(sim: ShopifySimulator) -> None:
    old_access, old_refresh = sim.access_token, sim.refresh_token
    body = {"client_id": sim.client_id, "client_secret": sim.client_secret,
            "grant_type": "refresh_token", "refresh_token": old_refresh}
    with client(sim) as http:
        fresh = http.post("/admin/oauth/access_token", json=body).json()
        assert fresh["access_token"] != old_access and fresh["refresh_token"] != old_refresh
        assert {"expires_in", "refresh_token_expires_in"} <= set(fresh)
        assert http.post("/admin/oauth/access_token", json=body).status_code == 400, "old refresh token reused"
    assert gql(sim, "{ shop { id } }", token=old_access).status_code == 401
    assert gql(sim, "{ shop { id } }", token=fresh["access_token"]).status_code == 200


def test_access_token_expires_after_ttl(sim: ShopifySimulator) -> None:
    sim.faults.access_token_ttl_s = 900
    assert gql(sim, "{ shop { id } }").status_code == 200
    sim.clock.advance(901)  # type: ignore[attr-defined]
    assert gql(sim, "{ shop { id } }").status_code == 401


def test_bulk_operation_runs_and_serves_jsonl(sim: ShopifySimulator) -> None:
    inner = queries.bulk_orders_query("created_at:>='2020-01-01T00:00:00Z'")
    run = gql(sim, queries.BULK_RUN, {"query": inner}).json()["data"]["bulkOperationRunQuery"]
    assert run["userErrors"] == [] and run["bulkOperation"]["status"] == "CREATED"
    op = run["bulkOperation"]["id"]
    again = gql(sim, queries.BULK_RUN, {"query": inner}).json()["data"]["bulkOperationRunQuery"]
    assert "already in progress" in again["userErrors"][0]["message"]
    sim.clock.advance(5)  # type: ignore[attr-defined]
    status = gql(sim, queries.BULK_STATUS, {"id": op}).json()["data"]["node"]
    assert status["status"] == "COMPLETED" and status["url"].endswith(".jsonl")
    with client(sim) as http:
        lines = [json.loads(x) for x in http.get(status["url"]).text.splitlines()]
    assert len(lines) == int(status["objectCount"])
    roots = [x for x in lines if "__parentId" not in x]
    assert len(roots) == int(status["rootObjectCount"]) == len(sim.shop.orders)
    children = [x for x in lines if "__parentId" in x]
    assert children and all(c["id"].startswith("gid://shopify/LineItem/") for c in children)
    assert all("lineItems" not in r for r in roots), "nested connections come out as their own lines"


def test_bulk_query_with_connection_inside_list_refused(sim: ShopifySimulator) -> None:
    inner = """{ orders { edges { node { id refunds { id refundLineItems { edges { node { quantity } } } } } } } }"""
    run = gql(sim, queries.BULK_RUN, {"query": inner}).json()["data"]["bulkOperationRunQuery"]
    assert run["bulkOperation"] is None
    assert "connection field within a list field" in run["userErrors"][0]["message"]


def test_changes_bump_updated_at(sim: ShopifySimulator) -> None:
    """Refunds and fulfilments move updatedAt on Shopify (R5: the updated_at filter sees them)."""
    order = next(o for o in sim.shop.orders if not o.refunds and not o.cancelled_at)
    sim.clock.advance(3600)  # type: ignore[attr-defined]
    sim.apply_change({"action": "refund", "order": str(order.order_id), "amount": "1.00"})
    node = gql(sim, "query($id: ID!) { node(id: $id) { ... on Order { updatedAt } } }",
               {"id": f"gid://shopify/Order/{order.order_id}"}).json()["data"]["node"]
    assert datetime.fromisoformat(node["updatedAt"]) == sim.clock.now().replace(microsecond=0)
