"""Follow-up queries: what an orders page leaves out.

Page queries keep nested sizes small, because they multiply the cost of every
order. Whatever overflows is fetched here: line items past the first page
(``node`` + ``after``), refunds and fulfillments past their small ``first``,
and the line items of refunds that took lines back (batched through
``nodes``; only an order with a line whose ``currentQuantity`` is below its
``quantity`` can have those, so only those cost a request).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from makersync.plugins import CursorPaginator

from . import queries

if TYPE_CHECKING:
    from .channel import ShopifyChannel


def complete_orders(channel: ShopifyChannel, nodes: list[dict[str, Any]], *, paged: bool = True) -> None:
    """Fetch what the page query left out: overflowing line items, refunds
    and fulfillments, and the line items of refunds that took lines back.
    Only an order with a line whose ``currentQuantity`` is below its
    ``quantity`` can have such refunds, so only those cost a request."""
    wanted: list[dict[str, Any]] = []
    for node in nodes:
        if not isinstance(node, dict) or "id" not in node:
            continue
        if paged:
            complete_lines(channel, node)
            for field, size in (("refunds", queries.REFUNDS_PER_ORDER),
                                ("fulfillments", queries.FULFILLMENTS_PER_ORDER)):
                if isinstance(node.get(field), list) and len(node[field]) >= size:
                    node[field] = order_list(channel, node["id"], field)
        refunds = [r for r in node.get("refunds") or () if isinstance(r, dict) and r.get("id")]
        if any(_removed(li) for li in _line_nodes(node)):
            wanted.extend(r for r in refunds if "refundLineItems" not in r)
        else:
            for refund in refunds:
                refund.setdefault("refundLineItems", {"edges": [], "pageInfo": {"hasNextPage": False}})
    fill_refund_lines(channel, wanted)


def complete_lines(channel: ShopifyChannel, node: dict[str, Any]) -> None:
    """Page the rest of an order's line items into its connection."""
    conn = node.get("lineItems")
    if not isinstance(conn, dict) or not (conn.get("pageInfo") or {}).get("hasNextPage"):
        return
    pager = CursorPaginator(conn["pageInfo"].get("endCursor"), what="shopify lineItems")
    while pager.token:
        data = channel.gql(queries.order_lines_query(queries.OVERFLOW_PAGE),
                           {"id": node["id"], "after": pager.token}, "graphql_order_lines")
        more = (data.get("node") or {}).get("lineItems") or {"edges": [], "pageInfo": {}}
        conn["edges"].extend(more["edges"])
        pager.advance_page_info(more["pageInfo"])
    conn["pageInfo"] = {"hasNextPage": False, "endCursor": None}


def order_list(channel: ShopifyChannel, order_gid: str, field: str) -> list[dict[str, Any]]:
    """Refetch one overflowing list of an order in full."""
    data = channel.gql(queries.order_list_query(field, queries.OVERFLOW_PAGE), {"id": order_gid},
                       f"graphql_order_{field}")
    return list((data.get("node") or {}).get(field) or [])


def fill_refund_lines(channel: ShopifyChannel, refunds: list[dict[str, Any]]) -> None:
    """Attach ``refundLineItems`` to each refund: batches through ``nodes``,
    then the pages of any refund with more line items."""
    if not refunds:
        return
    query = queries.refund_lines_query(queries.REFUND_LINES_PER_REFUND)
    per_refund = queries.requested_cost(query, {"ids": ["one"]})
    per_request = max(1, int(channel.budget() // max(per_refund, 1)))
    by_id = {r["id"]: r for r in refunds}
    ids = list(by_id)
    for start in range(0, len(ids), per_request):
        batch = ids[start:start + per_request]
        data = channel.gql(query, {"ids": batch}, "graphql_refund_lines")
        for found in data.get("nodes") or ():
            if isinstance(found, dict) and found.get("id") in by_id:
                by_id[found["id"]]["refundLineItems"] = found["refundLineItems"]
    for refund in refunds:
        conn = refund.setdefault("refundLineItems", {"edges": [], "pageInfo": {"hasNextPage": False}})
        pager = CursorPaginator(None, what="shopify refundLineItems")
        if (conn.get("pageInfo") or {}).get("hasNextPage"):
            pager.advance_page_info(conn["pageInfo"])
        while pager.token:
            data = channel.gql(queries.refund_lines_page_query(queries.OVERFLOW_PAGE),
                               {"id": refund["id"], "after": pager.token}, "graphql_refund_lines")
            more = (data.get("node") or {}).get("refundLineItems") or {"edges": [], "pageInfo": {}}
            conn["edges"].extend(more["edges"])
            pager.advance_page_info(more["pageInfo"])


def _line_nodes(node: Mapping[str, Any]) -> list[Any]:
    conn = node.get("lineItems")
    edges = conn.get("edges") if isinstance(conn, dict) else None
    return [e.get("node") for e in edges or () if isinstance(e, dict)]


def _removed(line: Any) -> bool:
    """Whether a refund (or an edit) took units of this line back."""
    if not isinstance(line, dict):
        return False
    current, ordered = line.get("currentQuantity"), line.get("quantity")
    return isinstance(current, int) and isinstance(ordered, int) and current < ordered
