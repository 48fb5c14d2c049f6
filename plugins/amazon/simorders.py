"""searchOrders and getOrder (Orders API v2026-01-01) of the Amazon simulator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import httpx

from . import simdata as sd
from .simroutes import (
    INCLUDED,
    ORDER_PATH,
    Invalid,
    check_before,
    list_param,
    query_hash,
    time_param,
)

if TYPE_CHECKING:
    from makersync.plugins.simshop import SimOrder

    from .simulator import AmazonSimulator


def render_order(sim: AmazonSimulator, o: SimOrder, included: set[str]) -> dict[str, Any]:
    cur, status = o.currency, sd.channel_status(o)
    priced = status != "PENDING"
    shipped = o.shipped_at is not None and status == "SHIPPED"
    items = []
    for ln, (asin, sku, qty, title) in zip(o.lines, sd._products(sim.shop, o), strict=True):
        product: dict[str, Any] = {"asin": asin, "title": title, "sellerSku": sku,
                                   "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"}}
        item: dict[str, Any] = {"orderItemId": f"{ln.line_id:014d}", "quantityOrdered": qty, "product": product}
        if priced:
            product["price"] = {"unitPrice": sd.money_json(ln.unit_price, cur)}
            if "PROCEEDS" in included:
                line_total = ln.unit_price * qty
                item["proceeds"] = {"proceedsTotal": sd.money_json(line_total, cur), "breakdowns": [
                    {"type": "ITEM", "subtotal": sd.money_json(line_total, cur)}]}
        if "FULFILLMENT" in included:
            item["fulfillment"] = {"quantityFulfilled": qty if shipped else 0,
                                   "quantityUnfulfilled": 0 if shipped else qty}
        items.append(item)
    aid = sd.amazon_order_id(o.order_id)
    body: dict[str, Any] = {
        "orderId": aid, "orderAliases": [{"aliasId": o.number, "aliasType": "SELLER_ORDER_ID"}],
        "createdTime": sd.z(o.placed_at), "lastUpdatedTime": sd.z(sd.api_modified(o)), "programs": [],
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": sd.MARKETPLACE,
                         "marketplaceName": "Amazon.com"},
        "orderItems": items,
    }
    if priced and "PROCEEDS" in included:
        parts = [("ITEM", o.subtotal), ("SHIPPING", o.shipping), ("TAX", o.tax), ("DISCOUNT", -o.discount)]
        body["proceeds"] = {"grandTotal": sd.money_json(o.total, cur), "breakdowns": [
            {"type": kind, "subtotal": sd.money_json(value, cur)} for kind, value in parts
            if kind == "ITEM" or value]}
    if "FULFILLMENT" in included:
        body["fulfillment"] = {"fulfillmentStatus": status,
                               "fulfilledBy": "MERCHANT" if sd.is_mfn(o) else "AMAZON",
                               "fulfillmentServiceLevel": "STANDARD"}
    if "PACKAGES" in included and sd.is_mfn(o) and shipped and o.shipped_at is not None:
        body["packages"] = [{
            "packageReferenceId": f"PKG-{o.order_id}", "createdTime": sd.z(o.shipped_at),
            "packageStatus": {"status": "SHIPPED"}, "carrier": "USPS", "shipTime": sd.z(o.shipped_at),
            "trackingNumber": f"9400{o.order_id:018d}",
            "packageItems": [{"orderItemId": i["orderItemId"], "quantity": i["quantityOrdered"]} for i in items]}]
    if sim.is_malformed(f"order:{aid}"):
        if o.order_id % 2:
            del body["createdTime"]
        else:
            items[0]["quantityOrdered"] = str(items[0]["quantityOrdered"])
    return body


def search_orders(sim: AmazonSimulator, request: httpx.Request) -> tuple[int, Any]:
    p = request.url.params
    created_after, updated_after = time_param(p, "createdAfter"), time_param(p, "lastUpdatedAfter")
    created_before, updated_before = time_param(p, "createdBefore"), time_param(p, "lastUpdatedBefore")
    if (created_after is None) == (updated_after is None):
        raise Invalid("Exactly one of createdAfter and lastUpdatedAfter must be provided.")
    if created_after is not None and (updated_before is not None):
        raise Invalid("lastUpdatedBefore cannot be combined with createdAfter.")
    if updated_after is not None and created_before is not None:
        raise Invalid("createdBefore cannot be combined with lastUpdatedAfter.")
    by_created = created_after is not None
    after = created_after if by_created else updated_after
    before_name = "createdBefore" if by_created else "lastUpdatedBefore"
    before = check_before(sim, before_name, created_before if by_created else updated_before)
    assert after is not None
    if before < after:
        raise Invalid(f"{before_name} must be equal to or after the start of the range.")
    size = p.get("maxResultsPerPage", "100")
    if not size.isdigit() or not 1 <= int(size) <= 100:
        raise Invalid("maxResultsPerPage must be between 1 and 100.")
    included = set(list_param(p, "includedData"))
    if included - INCLUDED:
        raise Invalid(f"Invalid includedData: {sorted(included - INCLUDED)}")
    markets = list_param(p, "marketplaceIds")
    if markets and sd.MARKETPLACE not in markets:
        return 200, {"orders": [], before_name: sd.z(before)}
    statuses, fulfilled_by = set(list_param(p, "fulfillmentStatuses")), set(list_param(p, "fulfilledBy"))
    query = {k: v for k, v in p.multi_items() if k not in ("maxResultsPerPage", "includedData", "paginationToken")}
    qh = query_hash(query)
    last: list[str] | None = None
    if p.get("paginationToken"):
        data = sim.read_token(p["paginationToken"], qh, sim.orders_token_ttl_s)
        if isinstance(data, str):
            raise Invalid(f"Invalid paginationToken: {data}")
        last = data["k"]

    def key(o: SimOrder) -> tuple[str, str]:
        return sd.z(o.placed_at if by_created else sd.api_modified(o)), sd.amazon_order_id(o.order_id)

    rows = []
    for o in sim.shop.orders:
        when = sd.sec(o.placed_at if by_created else sd.api_modified(o))
        if not after <= when <= before:
            continue
        if statuses and sd.channel_status(o) not in statuses:
            continue
        if fulfilled_by and ("MERCHANT" if sd.is_mfn(o) else "AMAZON") not in fulfilled_by:
            continue
        if last is None or list(key(o)) > last:
            rows.append(o)
    rows.sort(key=key)
    page = rows[: int(size)]
    body: dict[str, Any] = {"orders": [render_order(sim, o, included) for o in page], before_name: sd.z(before)}
    if len(rows) > len(page):
        body["pagination"] = {"nextToken": sim.make_token({"k": list(key(page[-1])), "q": qh})}
    return 200, body


def get_order(sim: AmazonSimulator, request: httpx.Request) -> tuple[int, Any]:
    match = ORDER_PATH.match(request.url.path)
    assert match
    wanted = unquote(match.group(1))
    included = set(list_param(request.url.params, "includedData"))
    for o in sim.shop.orders:
        if sd.amazon_order_id(o.order_id) == wanted:
            return 200, {"order": render_order(sim, o, included)}
    return 404, f"Order {wanted} not found."

# -- finances -------------------------------------------------------------------------

