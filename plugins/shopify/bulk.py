"""Large backfills through a bulk operation.

``bulkOperationRunQuery`` runs the orders query on Shopify's side and leaves
a JSONL file at the operation's ``url``: one line per order, and one line per
line item with ``__parentId`` naming its order (nested connections come out
flat; lists such as ``refunds`` stay inline). Connections inside lists are
not allowed in a bulk query, so refunds' line items are fetched afterwards in
batches, exactly as the paged path does.

The operation id goes into the cursor at once (an empty page), so a pull
killed while Shopify works picks the same operation up instead of starting
another. Waiting for the operation sleeps on the injected clock: that is
Shopify's job running, not a retry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from makersync.plugins import (
    AuthError,
    OrderRecord,
    Page,
    PermanentChannelError,
    TransientChannelError,
    Window,
)

from . import followups, queries
from .mapping import gid_type

if TYPE_CHECKING:
    from .channel import ShopifyChannel

PAGE_ORDERS = 250
MAX_POLL_S = 30.0
MAX_OPERATIONS = 3
CHILD_CONNECTIONS = {"LineItem": "lineItems"}


def iter_bulk_orders(channel: ShopifyChannel, window: Window, cur: dict[str, Any]) -> Iterator[Page[OrderRecord]]:
    """Pages of the orders of ``window`` from a bulk operation, resuming at ``cur``."""
    query = queries.bulk_orders_query(channel.orders_search(window))
    op, done = cur.get("op"), int(cur.get("done", 0))
    nodes: list[dict[str, Any]] | None = None
    for _ in range(MAX_OPERATIONS):
        if not op:
            op, done = start_operation(channel, query), 0
            yield Page((), {"phase": "bulk", "op": op, "done": 0})
        status = wait_for(channel, op)
        if status.get("status") == "COMPLETED":
            try:
                nodes = download(channel, status)
                break
            except (AuthError, PermanentChannelError):
                pass  # the result URL expired: run the operation again
        op = None
    if nodes is None:
        raise TransientChannelError(f"bulk operation did not complete after {MAX_OPERATIONS} tries")
    if done >= len(nodes):
        yield Page((), {"phase": "done"})
        return
    for start in range(done, len(nodes), PAGE_ORDERS):
        chunk = nodes[start:start + PAGE_ORDERS]
        followups.complete_orders(channel, chunk, paged=False)
        records, aside = channel.map_orders(chunk, window)
        end = start + len(chunk)
        cursor = {"phase": "bulk", "op": op, "done": end} if end < len(nodes) else {"phase": "done"}
        yield Page(tuple(records), cursor, tuple(aside), estimated_total=len(nodes))


def start_operation(channel: ShopifyChannel, query: str) -> str:
    """Run the bulk query; adopt a running operation of the same query."""
    data = channel.gql(queries.BULK_RUN, {"query": query}, "graphql_bulk_run")
    payload = data.get("bulkOperationRunQuery") or {}
    errors = payload.get("userErrors") or []
    if not errors and payload.get("bulkOperation"):
        return str(payload["bulkOperation"]["id"])
    message = "; ".join(str(e.get("message")) for e in errors) or "no operation returned"
    if "in progress" in message.lower():
        current = channel.gql(queries.BULK_CURRENT, operation="graphql_bulk_status").get("currentBulkOperation")
        if current and current.get("query") == query and current.get("status") in ("CREATED", "RUNNING"):
            return str(current["id"])
        raise TransientChannelError(f"bulk operation: another operation is running: {message}")
    raise PermanentChannelError(f"bulk operation refused: {message}")


def wait_for(channel: ShopifyChannel, op: str) -> dict[str, Any]:
    """Poll the operation until it stops running; its final state."""
    delay = channel.bulk_poll_s
    while True:
        node = channel.gql(queries.BULK_STATUS, {"id": op}, "graphql_bulk_status").get("node")
        if not isinstance(node, dict):
            return {"status": "MISSING"}
        if node.get("status") not in ("CREATED", "RUNNING"):
            return node
        channel.clock.sleep(delay)
        delay = min(delay * 2, MAX_POLL_S)


def download(channel: ShopifyChannel, status: dict[str, Any]) -> list[dict[str, Any]]:
    """Read the JSONL result (a signed storage URL: sent without the token)."""
    if not status.get("url"):
        return []
    response = channel.http.request("GET", str(status["url"]), operation="bulk_download",
                                    authenticated=False, paced=False)
    lines = [line for line in response.text.splitlines() if line.strip()]
    expected = int(status.get("objectCount") or len(lines))
    if len(lines) != expected:
        raise TransientChannelError(f"bulk result: {len(lines)} lines of {expected} (truncated download)")
    try:
        objects = [json.loads(line) for line in lines]
    except ValueError as exc:
        raise TransientChannelError("bulk result: unreadable JSONL line (truncated download)") from exc
    return assemble(objects)


def assemble(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSONL objects -> order nodes shaped as the paged query returns them."""
    orders: dict[str, dict[str, Any]] = {}
    children = []
    for obj in objects:
        if "__parentId" in obj:
            children.append(obj)
            continue
        for field in CHILD_CONNECTIONS.values():
            obj.setdefault(field, {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}})
        orders[str(obj.get("id"))] = obj
    for child in children:
        parent = orders.get(str(child.pop("__parentId")))
        connection = CHILD_CONNECTIONS.get(gid_type(str(child.get("id", ""))))
        if parent is not None and connection:
            parent[connection]["edges"].append({"node": child})
    return list(orders.values())
