"""Etsy's offset paging over ``{count, results}``, and the walk over payment
ledger entries, whose ``min_created``/``max_created`` are both required and at
most 31 days apart (etsy/open-api#346)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from makersync.plugins import OffsetPaginator, PacedClient, PermanentChannelError

API = "/v3/application"
PAGE_LIMIT = 100


def get_page(http: PacedClient, path: str, params: dict[str, Any], offset: int,
             operation: str) -> tuple[list[Any], int]:
    """One page of ``limit=100``; returns its results and Etsy's total ``count``."""
    body = http.get_json(path, params={**params, "limit": PAGE_LIMIT, "offset": offset}, operation=operation)
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        raise PermanentChannelError(f"{operation}: expected {{count, results}}, got {str(body)[:200]}")
    count = body.get("count")
    return results, count if isinstance(count, int) else len(results)


def walk_ledger(http: PacedClient, shop: str, span: int, low: int, high: int, state: dict[str, Any]
                ) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    """Ledger pages over ``[low, high]`` in spans of ``span`` seconds, both
    bounds always sent; yields (entries, cursor fields to resume after them).
    ``chunk`` past ``high`` means the walk is done. Spans share their edge
    second, since Etsy does not say whether its bounds are inclusive."""
    start, offset = state.get("chunk") or low, state.get("offset") or 0
    while start <= high:
        end = min(start + span, high)
        pager = OffsetPaginator(PAGE_LIMIT, offset, what="ledger-entries")
        more = True
        while more:
            pager.params()
            entries, count = get_page(http, f"{API}/shops/{shop}/payment-account/ledger-entries",
                                      {"min_created": start, "max_created": end}, pager.offset, "ledger")
            more = pager.advance(len(entries), count)
            if more:
                yield entries, {"chunk": start, "offset": pager.offset}
            else:
                start, offset = (end if end < high else high + 1), 0
                yield entries, {"chunk": start, "offset": 0}
