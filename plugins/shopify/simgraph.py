"""The simulator's GraphQL endpoint: a graphql-core schema built from the
trimmed Admin SDL beside this file (a checked subset of the real 2022-07
schema), resolvers over the simulator, Relay connections with opaque
cursors, and Shopify's search syntax. A query with a field Shopify does not
have fails validation here as it would there. Cost: :mod:`.simcost`.
"""

from __future__ import annotations

import base64
import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, build_schema

SDL_PATH = Path(__file__).with_name("admin_2022_07_subset.graphql")
MAX_PAGE = 250


class QueryRefused(Exception):
    """A query Shopify refuses before running it (``extensions.code``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- schema and resolvers -------------------------------------------------


def _sim(info: Any) -> Any:
    return info.context["sim"]


def _limit(items: list[Any], info: Any, first: int | None = None, **_: Any) -> list[Any]:
    return items if first is None or info.context.get("bulk") else items[:first]


def _plain_connection(field: str) -> Callable[..., dict[str, Any]]:
    def resolve(parent: dict[str, Any], info: Any, **args: Any) -> dict[str, Any]:
        items = parent[field]
        return connection(items, [[i] for i in range(len(items))], args, bool(info.context.get("bulk")))
    return resolve


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    """The Admin schema subset with the simulator's resolvers."""
    sdl = build_schema(SDL_PATH.read_text(encoding="utf-8"))
    query = sdl.query_type.fields  # type: ignore[union-attr]
    query["shop"].resolve = lambda _root, info: _sim(info).shop_node()
    query["currentAppInstallation"].resolve = lambda _root, info: _sim(info).app_installation()
    query["orders"].resolve = lambda _root, info, **a: _sim(info).orders_connection(a, bool(info.context["bulk"]))
    query["productVariants"].resolve = lambda _root, info, **a: _sim(info).variants_connection(a)
    query["node"].resolve = lambda _root, info, id: _sim(info).node(id)
    query["nodes"].resolve = lambda _root, info, ids: [_sim(info).node(i) for i in ids]
    query["currentBulkOperation"].resolve = lambda _root, info, **_a: _sim(info).current_bulk()
    mutation = sdl.mutation_type.fields  # type: ignore[union-attr]
    mutation["bulkOperationRunQuery"].resolve = lambda _root, info, query: _sim(info).run_bulk(query, info.context)
    order = cast(GraphQLObjectType, sdl.type_map["Order"]).fields
    order["lineItems"].resolve = _plain_connection("_lines")
    for field in ("refunds", "fulfillments", "transactions"):
        order[field].resolve = (lambda f: lambda o, info, **a: _limit(o[f], info, **a))(f"_{field}")
    cast(GraphQLObjectType, sdl.type_map["Refund"]).fields["refundLineItems"].resolve = _plain_connection("_rlis")
    cast(GraphQLInterfaceType, sdl.type_map["Node"]).resolve_type = lambda obj, _info, _type: obj["__typename"]
    return sdl


def encode_cursor(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    try:
        return list(json.loads(base64.urlsafe_b64decode(cursor.encode())))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"Invalid cursor: {cursor!r}") from exc


def connection(items: Sequence[Any], keys: Sequence[list[Any]], args: dict[str, Any], bulk: bool,
               render: Callable[[Any], Any] = lambda x: x) -> dict[str, Any]:
    """A Relay connection over ``items`` sorted by ``keys`` (ascending lists,
    which the opaque cursors encode)."""
    start, end = 0, len(items)
    if args.get("after"):
        start = bisect_right(keys, decode_cursor(args["after"]))
    if args.get("before"):
        end = bisect_left(keys, decode_cursor(args["before"]))
    stop = end
    if not bulk and args.get("first") is not None:
        stop = min(end, start + args["first"])
    elif not bulk and args.get("last") is not None:
        start = max(start, end - args["last"])
    picked = [(render(items[i]), keys[i]) for i in range(start, stop)]
    cursors = [encode_cursor(k) for _n, k in picked]
    return {
        "edges": [{"cursor": c, "node": n} for (n, _k), c in zip(picked, cursors, strict=True)],
        "nodes": [n for n, _k in picked],
        "pageInfo": {"hasNextPage": stop < end, "hasPreviousPage": start > 0,
                     "startCursor": cursors[0] if cursors else None,
                     "endCursor": cursors[-1] if cursors else None},
    }


# --- search syntax ------------------------------------------------------------

SEARCH_TOKEN = re.compile(r"(\w+):(>=|<=|>|<)?(?:'([^']*)'|\"([^\"]*)\"|(\S+))")
SEARCH_FIELDS = {"created_at": "placed_at", "processed_at": "placed_at", "updated_at": "modified_at"}


def parse_search(text: str | None, tz: tzinfo) -> list[tuple[str, str, datetime]]:
    """``updated_at:>='2026-05-01T00:00:00Z' created_at:<'...'`` -> (attribute,
    op, instant). Times without an offset are in the shop's zone; fields the
    simulator does not know are ignored, as Shopify ignores unknown filters."""
    out = []
    for match in SEARCH_TOKEN.finditer(text or ""):
        name, op = match.group(1), match.group(2) or "="
        value = next(g for g in match.group(3, 4, 5) if g is not None)
        if name not in SEARCH_FIELDS:
            continue
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise QueryRefused("BAD_REQUEST", f"Invalid date in search query: {value!r}") from exc
        out.append((SEARCH_FIELDS[name], op, when if when.tzinfo else when.replace(tzinfo=tz)))
    return out


def matches(obj: Any, filters: list[tuple[str, str, datetime]]) -> bool:
    for attr, op, bound in filters:
        value = getattr(obj, attr)
        ok = {">=": value >= bound, ">": value > bound, "<=": value <= bound,
              "<": value < bound, "=": value == bound}[op]
        if not ok:
            return False
    return True
