"""The SP-API operations of the Amazon simulator, each as Amazon validates,
filters, pages and shapes it (see :mod:`.simulator` for auth and limits)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import httpx

from . import simdata as sd

if TYPE_CHECKING:
    from .simulator import AmazonSimulator

ORDER_PATH = re.compile(r"^/orders/2026-01-01/orders/([^/]+)$")
LISTING_PATH = re.compile(r"^/listings/2021-08-01/items/([^/]+)/([^/]+)$")
INCLUDED = {"BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT", "PACKAGES",
            "TAX", "PAYMENT", "FULFILLMENT_ORDERS"}


def query_hash(params: Mapping[str, Any]) -> str:
    """What a page token is bound to: the request's filters."""
    return hashlib.sha1(json.dumps(sorted(params.items()), default=str).encode()).hexdigest()[:16]


class Invalid(Exception):
    """A 400 InvalidInput with this message."""


def list_param(params: httpx.QueryParams, name: str) -> list[str]:
    return [part for value in params.get_list(name) for part in value.split(",") if part]


def time_param(params: httpx.QueryParams, name: str) -> datetime | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid(f"{name} is not a valid ISO 8601 date-time: {value}") from exc
    if when.tzinfo is None:
        raise Invalid(f"{name} must carry a time zone")
    return when


def operation(request: httpx.Request) -> str | None:
    path, method = request.url.path, request.method
    if method != "GET":
        return None
    if path == "/orders/2026-01-01/orders":
        return "searchOrders"
    if ORDER_PATH.match(path):
        return "getOrder"
    if path == "/finances/2024-06-19/transactions":
        return "listTransactions"
    if path == "/fba/inventory/v1/summaries":
        return "getInventorySummaries"
    if path == "/sellers/v1/marketplaceParticipations":
        return "getMarketplaceParticipations"
    if LISTING_PATH.match(path):
        return "getListingsItem"
    return None


def check_before(sim: AmazonSimulator, name: str, when: datetime | None) -> datetime:
    limit = sim.clock.now() - timedelta(minutes=2)
    if when is None:
        return limit
    if when > limit:
        raise Invalid(f"{name} must be at least two minutes before the time of the request.")
    return when


def summaries(sim: AmazonSimulator, details: bool) -> list[dict[str, Any]]:
    out = []
    for listing in sim.shop.listings:
        for var in listing.variations:
            q = sd.quantity(listing, var)
            sku = sd.seller_sku(var.sku, var.variation_id)
            row: dict[str, Any] = {
                "asin": sd.asin(var.variation_id), "fnSku": sd.fnsku(var.variation_id), "sellerSku": sku,
                "condition": "NewItem", "lastUpdatedTime": sd.z(listing.modified_at),
                "productName": "" if sku in sim.missing_titles else sd.product_name(listing, var),
                "totalQuantity": q, "stores": []}
            if details:
                row["inventoryDetails"] = {
                    "fulfillableQuantity": q, "inboundWorkingQuantity": 0, "inboundShippedQuantity": 0,
                    "inboundReceivingQuantity": 0,
                    "reservedQuantity": {"totalReservedQuantity": 0, "pendingCustomerOrderQuantity": 0,
                                         "pendingTransshipmentQuantity": 0, "fcProcessingQuantity": 0},
                    "researchingQuantity": {"totalResearchingQuantity": 0, "researchingQuantityBreakdown": []},
                    "unfulfillableQuantity": {"totalUnfulfillableQuantity": 0}}
            if sim.is_malformed(f"inv:{sku}"):
                del row["asin"]
            out.append(row)
    return sorted(out, key=lambda r: r["sellerSku"])


def inventory(sim: AmazonSimulator, request: httpx.Request) -> tuple[int, Any]:
    p = request.url.params
    if p.get("granularityType") != "Marketplace":
        raise Invalid("granularityType must be Marketplace.")
    markets = list_param(p, "marketplaceIds")
    if len(markets) != 1 or p.get("granularityId") != markets[0]:
        raise Invalid("marketplaceIds must name one marketplace, equal to granularityId.")
    if markets[0] != sd.MARKETPLACE:
        raise Invalid(f"The seller does not sell in marketplace {markets[0]}.")
    qh = query_hash({k: v for k, v in p.multi_items() if k != "nextToken"})
    offset = 0
    if p.get("nextToken"):
        data = sim.read_token(p["nextToken"], qh, sim.faults.page_token_ttl_s or sim.inventory_token_ttl_s)
        if isinstance(data, str):
            raise Invalid(f"Invalid nextToken: {data}")
        offset = int(data["o"])
    rows = summaries(sim, p.get("details", "false").lower() == "true")
    body: dict[str, Any] = {"payload": {"granularity": {"granularityType": "Marketplace",
                                                        "granularityId": markets[0]},
                                        "inventorySummaries": rows[offset: offset + sim.inventory_page]}}
    if offset + sim.inventory_page < len(rows):
        body["pagination"] = {"nextToken": sim.make_token({"o": offset + sim.inventory_page, "q": qh})}
    return 200, body


def participations(sim: AmazonSimulator, request: httpx.Request) -> tuple[int, Any]:
    return 200, {"payload": [{
        "marketplace": {"id": sd.MARKETPLACE, "countryCode": "US", "name": "Amazon.com",
                        "defaultCurrencyCode": "USD", "defaultLanguageCode": "en_US",
                        "domainName": "www.amazon.com"},
        "storeName": sim.store_name,
        "participation": {"isParticipating": True, "hasSuspendedListings": False}}]}


def listings_item(sim: AmazonSimulator, request: httpx.Request) -> tuple[int, Any]:
    match = LISTING_PATH.match(request.url.path)
    assert match
    seller, sku = unquote(match.group(1)), unquote(match.group(2))
    if seller != sim.seller_id:
        return 403, "The seller id does not belong to these credentials."
    for listing in sim.shop.listings:
        for var in listing.variations:
            if sd.seller_sku(var.sku, var.variation_id) == sku:
                return 200, {"sku": sku, "summaries": [{
                    "marketplaceId": sd.MARKETPLACE, "asin": sd.asin(var.variation_id),
                    "productType": "HOME", "conditionType": "new_new", "status": ["BUYABLE"],
                    "fnSku": sd.fnsku(var.variation_id), "itemName": sd.product_name(listing, var),
                    "createdDate": sd.z(listing.created_at), "lastUpdatedDate": sd.z(listing.modified_at)}]}
    return 404, f"SKU {sku} not found."
