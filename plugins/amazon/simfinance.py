"""listTransactions (Finances v2024-06-19) of the Amazon simulator: the
2-minute and 180-day rules, late-visible transactions, keyset page tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from . import simdata as sd
from .simroutes import Invalid, check_before, query_hash, time_param

if TYPE_CHECKING:
    from .simulator import AmazonSimulator

FINANCE_PAGE = 100
MAX_FINANCE_SPAN = timedelta(days=180)


def render_txn(sim: AmazonSimulator, t: sd.SimTxn) -> dict[str, Any]:
    cur = sim.shop.currency

    def node(name: str, amount: Any, children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"breakdownType": name, "breakdownAmount": sd.finance_json(amount, cur),
                "breakdowns": children or []}

    tree = []
    if t.sales:
        tree.append(node("Sales", sum(a for _, a in t.sales), [node(n, a) for n, a in t.sales]))
    if t.fees:
        grouped = [node(n, a) for g, n, a, _ in t.fees if g == "AmazonFees"]
        direct = [node(n, a) for g, n, a, _ in t.fees if g != "AmazonFees"]
        if grouped:
            total = sum(a for g, _, a, _ in t.fees if g == "AmazonFees")
            direct.insert(0, node("AmazonFees", total, grouped))
        tree.append(node("Expenses", sum(f[2] for f in t.fees), direct))
    body: dict[str, Any] = {
        "sellingPartnerMetadata": {"sellingPartnerId": sim.seller_id, "accountType": "Standard Orders",
                                   "marketplaceId": sd.MARKETPLACE},
        "relatedIdentifiers": [], "transactionType": t.kind, "transactionId": t.txn_id,
        "transactionStatus": "RELEASED", "description": t.description, "postedDate": sd.zms(t.posted),
        "totalAmount": sd.finance_json(t.total, cur),
        "marketplaceDetails": {"marketplaceId": sd.MARKETPLACE, "marketplaceName": "Amazon.com"},
        "items": [{"description": title, "contexts": [{"contextType": "ProductContext", "asin": a, "sku": s,
                                                        "quantityShipped": q, "fulfillmentNetwork":
                                                        "MFN" if t.order and sd.is_mfn(t.order) else "AFN"}]}
                  for a, s, q, title in t.products],
        "breakdowns": tree,
    }
    if t.order is not None:
        body["relatedIdentifiers"].append({"relatedIdentifierName": "ORDER_ID",
                                           "relatedIdentifierValue": sd.amazon_order_id(t.order.order_id)})
    if sim.is_malformed(f"txn:{t.txn_id}"):
        if len(t.txn_id) % 2:
            del body["postedDate"]
        else:
            body["totalAmount"]["currencyAmount"] = str(body["totalAmount"]["currencyAmount"])
    return body


def list_transactions(sim: AmazonSimulator, request: httpx.Request) -> tuple[int, Any]:
    p = request.url.params
    now = sim.clock.now()
    rel_name, rel_value = p.get("relatedIdentifierName"), p.get("relatedIdentifierValue")
    after, before = time_param(p, "postedAfter"), time_param(p, "postedBefore")
    if rel_name and rel_name not in ("ORDER_ID", "FINANCIAL_EVENT_GROUP_ID"):
        raise Invalid(f"Invalid relatedIdentifierName: {rel_name}")
    if rel_name and not rel_value:
        raise Invalid("relatedIdentifierValue is required with relatedIdentifierName.")
    if after is None and not rel_name:
        raise Invalid("Start date cannot be null")
    if after is not None and after > now - timedelta(minutes=2):
        raise Invalid("postedAfter must be more than two minutes before the time of the request.")
    before = check_before(sim, "postedBefore", before)
    if after is not None and before <= after:
        raise Invalid("postedBefore must be later than postedAfter.")
    query = {k: v for k, v in p.multi_items() if k != "nextToken"}
    qh = query_hash(query)
    last = None
    if p.get("nextToken"):
        data = sim.read_token(p["nextToken"], qh, None)
        if isinstance(data, str):
            raise Invalid(f"Invalid nextToken: {data}")
        last = data["k"]
    if after is not None and before - after > MAX_FINANCE_SPAN:
        return 200, {"payload": {"transactions": []}}  # Amazon answers nothing, silently
    rows = []
    for t in sim.transactions():
        if t.visible_at > now or t.posted >= before or (after is not None and t.posted < after):
            continue
        if rel_name == "ORDER_ID" and (t.order is None or sd.amazon_order_id(t.order.order_id) != rel_value):
            continue
        if rel_name == "FINANCIAL_EVENT_GROUP_ID":
            continue
        if last is None or [sd.zms(t.posted), t.txn_id] > last:
            rows.append(t)
    page = rows[:FINANCE_PAGE]
    payload: dict[str, Any] = {"transactions": [render_txn(sim, t) for t in page]}
    if len(rows) > len(page):
        payload["nextToken"] = sim.make_token({"k": [sd.zms(page[-1].posted), page[-1].txn_id], "q": qh})
    return 200, {"payload": payload}

# -- inventory, sellers, listings ----------------------------------------------------------

