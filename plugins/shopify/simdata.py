"""What the simulator's resolvers read: the shop's orders, variants and
nodes as Shopify shows them (60 days only without ``read_all_orders``),
lookups kept in step with the shop, and bulk operations that run on the
simulated clock and leave their JSONL for the simulator to serve."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from graphql import GraphQLError, execute_sync, parse, validate

from makersync.plugins.simshop import SimListing, SimOrder, SimVariation

from . import simcost, simgraph
from .simrender import FEE_TYPES, gid, shop_node

LIMITED_HISTORY = timedelta(days=60)


class ShopData:
    """Mixin of :class:`~.simulator.ShopifySimulator`: the data side."""

    shop: Any
    clock: Any
    scopes: list[str]
    speed: float
    render: Any
    bulk_ops: dict[int, dict[str, Any]]
    bulk_orders_per_s: float
    shop_id: int
    _index_key: tuple[int, ...]
    _rolled: set[int]
    tz: Any
    malformed: Any  # Simulator.malformed: roll the malformed-record fault knob

    def _normalize_times(self) -> None:
        """Shopify times have whole seconds; so do the simulated shop's."""
        def whole(when: datetime | None) -> datetime | None:
            return None if when is None else when.replace(microsecond=0)
        for order in self.shop.orders:
            order.placed_at, order.modified_at = whole(order.placed_at), whole(order.modified_at)
            order.shipped_at, order.cancelled_at = whole(order.shipped_at), whole(order.cancelled_at)
            for refund in order.refunds:
                refund.created_at = whole(refund.created_at)
        for listing in self.shop.listings:
            listing.created_at, listing.modified_at = whole(listing.created_at), whole(listing.modified_at)
        for fee in self.shop.fees:
            fee.occurred_at = whole(fee.occurred_at)  # type: ignore[assignment]

    def _index(self) -> None:
        key = (len(self.shop.orders), len(self.shop.fees))
        if key == self._index_key:
            return  # changes go through apply_change, which resets the key
        self._index_key = key
        self._found: dict[tuple[Any, ...], tuple[list[SimOrder], list[list[int]]]] = {}
        self._orders = {o.order_id: o for o in self.shop.orders}
        self._names = {o.order_id: f"#{1001 + n}" for n, o in enumerate(self.shop.orders)}
        self._refunds = {r.refund_id: o for o in self.shop.orders for r in o.refunds}
        self._variations = {v.variation_id: (li, v) for li in self.shop.listings for v in li.variations}
        self._fees: dict[int, list[Any]] = {}
        for fee in self.shop.fees:
            if fee.order_id is not None and fee.kind in FEE_TYPES:
                self._fees.setdefault(fee.order_id, []).append(fee)

    def order_name(self, order: SimOrder) -> str:
        self._index()
        return self._names[order.order_id]

    def variation(self, variation_id: int) -> tuple[SimListing, SimVariation] | None:
        self._index()
        return self._variations.get(variation_id)

    def order_fees(self, order: SimOrder) -> list[Any]:
        self._index()
        return self._fees.get(order.order_id, [])

    def horizon(self) -> datetime | None:
        """The oldest order the app may see (R2), None with read_all_orders."""
        return None if "read_all_orders" in self.scopes else self.clock.now() - LIMITED_HISTORY

    def visible_orders(self) -> list[SimOrder]:
        horizon = self.horizon()
        return [o for o in self.shop.orders if horizon is None or o.placed_at >= horizon]

    def _render_order(self, order: SimOrder) -> dict[str, Any]:
        if not order.malformed and order.order_id not in self._rolled:
            self._rolled.add(order.order_id)
            order.malformed = self.malformed()
        return self.render.order(order)

    def shop_node(self) -> Mapping[str, Any]:
        return shop_node(self)

    def app_installation(self) -> dict[str, Any]:
        return {"__typename": "AppInstallation", "id": gid("AppInstallation", self.shop_id),
                "accessScopes": [{"handle": s, "description": s.replace("_", " ")} for s in self.scopes]}

    def orders_connection(self, args: dict[str, Any], bulk: bool) -> dict[str, Any]:
        self._index()
        horizon = self.horizon()
        cache_key = (args.get("query"), args.get("sortKey"), bool(args.get("reverse")),
                     horizon.timestamp() // 60 if horizon else None)
        if cache_key not in self._found:  # paging one query walks the same sorted list
            filters = simgraph.parse_search(args.get("query"), self.tz)
            found = [o for o in self.visible_orders() if simgraph.matches(o, filters)]
            field = {"CREATED_AT": "placed_at", "PROCESSED_AT": "placed_at", "UPDATED_AT": "modified_at"}.get(
                args.get("sortKey") or "ID")
            sign = -1 if args.get("reverse") else 1

            def key(o: SimOrder) -> list[int]:
                head = [sign * int(getattr(o, field).timestamp())] if field else []
                return [*head, sign * o.order_id]
            found.sort(key=key)
            self._found = {cache_key: (found, [key(o) for o in found])}
        found, keys = self._found[cache_key]
        return simgraph.connection(found, keys, args, bulk, self._render_order)

    def variants_connection(self, args: dict[str, Any]) -> dict[str, Any]:
        pairs = sorted(((li, v) for li in self.shop.listings for v in li.variations),
                       key=lambda p: p[1].variation_id)
        return simgraph.connection(pairs, [[v.variation_id] for _li, v in pairs], args, False,
                                   lambda p: self.render.variant(*p))

    def node(self, node_id: str) -> dict[str, Any] | None:
        self._index()
        parts = str(node_id).split("/")
        if len(parts) != 5 or not parts[4].isdigit():
            return None
        kind, number = parts[3], int(parts[4])
        horizon = self.horizon()
        if kind == "Order" and number in self._orders:
            order = self._orders[number]
            return None if horizon and order.placed_at < horizon else self._render_order(order)
        if kind == "Refund" and number in self._refunds:
            order = self._refunds[number]
            if horizon and order.placed_at < horizon:
                return None
            return next(r for r in self.render.order(order)["_refunds"] if r["id"] == node_id)
        if kind == "BulkOperation" and number in self.bulk_ops:
            return self._bulk_node(self.bulk_ops[number])
        return None

    # -- bulk operations --

    def run_bulk(self, query: str, context: dict[str, Any]) -> dict[str, Any]:
        running = self.current_bulk()
        if running and running["status"] in ("CREATED", "RUNNING"):
            return {"bulkOperation": None, "userErrors": [{"field": None, "message":
                    f"A bulk query operation for this app and shop is already in progress: {running['id']}."}]}
        try:
            doc = parse(query)
        except GraphQLError as exc:
            return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": f"Invalid bulk query: {exc.message}"}]}
        problems = [e.message for e in validate(simgraph.schema(), doc)] or simcost.bulk_problems(doc)
        if problems:
            return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": m} for m in problems]}
        number = len(self.bulk_ops) + 1
        seconds = 1.0 + len(self.visible_orders()) / (self.bulk_orders_per_s * self.speed)
        self.bulk_ops[number] = {"n": number, "doc": doc, "query": query, "status": "CREATED",
                                 "created": self.clock.now(), "started": self.clock.monotonic(),
                                 "ready_at": self.clock.monotonic() + seconds,
                                 "base_url": context.get("base_url", ""), "result": None, "lines": 0, "roots": 0}
        return {"bulkOperation": self._bulk_node(self.bulk_ops[number]), "userErrors": []}

    def current_bulk(self) -> dict[str, Any] | None:
        return self._bulk_node(self.bulk_ops[max(self.bulk_ops)]) if self.bulk_ops else None

    def _bulk_node(self, op: dict[str, Any]) -> dict[str, Any]:
        if op["status"] in ("CREATED", "RUNNING"):
            if self.clock.monotonic() >= op["ready_at"]:
                result = execute_sync(simgraph.schema(), op["doc"], context_value={"sim": self, "bulk": True})
                lines = simcost.flatten_jsonl(result.data or {})
                op.update(status="COMPLETED", completed=self.clock.now(), lines=len(lines),
                          roots=sum(1 for x in lines if "__parentId" not in x),
                          result="".join(json.dumps(x) + "\n" for x in lines).encode())
            elif self.clock.monotonic() > op["started"]:
                op["status"] = "RUNNING"
        done = op["status"] == "COMPLETED"
        return {"__typename": "BulkOperation", "id": gid("BulkOperation", op["n"]), "status": op["status"],
                "errorCode": None, "type": "QUERY", "query": op["query"], "objectCount": str(op["lines"]),
                "rootObjectCount": str(op["roots"]), "fileSize": str(len(op["result"] or b"")),
                "url": f"{op['base_url']}/bulk-results/{op['n']}.jsonl" if done and op["lines"] else None,
                "partialDataUrl": None, "createdAt": self.render.time(op["created"]),
                "completedAt": self.render.time(op.get("completed"))}
