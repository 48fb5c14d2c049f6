"""Every paginator refuses a position the channel sends twice, so a
misbehaving API can never spin a pull forever."""

from __future__ import annotations

import httpx
import pytest

from makersync.plugins import (
    CursorPaginator,
    LinkHeaderPaginator,
    LoopGuard,
    OffsetPaginator,
    PermanentChannelError,
    TokenPaginator,
    next_link,
)


def test_loop_guard_refuses_a_repeated_position() -> None:
    guard = LoopGuard("receipts")
    guard.check(("2026-06-01", 7))
    with pytest.raises(PermanentChannelError, match="receipts.*twice"):
        guard.check(("2026-06-01", 7))


def test_offset_paginator_walks_pages_and_stops_on_short_page() -> None:
    pager = OffsetPaginator(limit=100)
    assert pager.params() == {"limit": 100, "offset": 0}
    assert pager.advance(got=100, total=250)
    assert pager.params() == {"limit": 100, "offset": 100}
    assert pager.advance(got=100, total=250)
    assert pager.params() == {"limit": 100, "offset": 200}
    assert not pager.advance(got=50, total=250)


def test_offset_paginator_stops_at_total_without_an_empty_page() -> None:
    pager = OffsetPaginator(limit=100)
    pager.params()
    assert not pager.advance(got=100, total=100)


def test_offset_paginator_loop_detected_when_offset_repeats() -> None:
    pager = OffsetPaginator(limit=100, what="etsy receipts")
    pager.params()
    pager.advance(got=0, total=None)  # a page that moved nothing on
    with pytest.raises(PermanentChannelError, match="etsy receipts"):
        pager.params()


def test_token_paginator_loop_detected_on_repeated_token() -> None:
    pager = TokenPaginator(what="amazon orders")
    assert pager.advance("t1")
    assert pager.advance("t2")
    with pytest.raises(PermanentChannelError, match="amazon orders"):
        pager.advance("t1")


def test_token_paginator_resumed_token_counts_as_seen() -> None:
    pager = TokenPaginator("t5")
    with pytest.raises(PermanentChannelError):
        pager.advance("t5")


def test_token_paginator_ends_without_token() -> None:
    pager = TokenPaginator("t1")
    assert not pager.advance(None)
    assert pager.token is None


def test_cursor_paginator_loop_detected_on_repeated_end_cursor() -> None:
    pager = CursorPaginator(what="shopify orders")
    assert pager.advance_page_info({"hasNextPage": True, "endCursor": "c1"})
    with pytest.raises(PermanentChannelError, match="shopify orders"):
        pager.advance_page_info({"hasNextPage": True, "endCursor": "c1"})


def test_cursor_paginator_stops_when_no_next_page() -> None:
    pager = CursorPaginator()
    assert not pager.advance_page_info({"hasNextPage": False, "endCursor": "c9"})
    assert pager.token is None


def link_response(url: str | None) -> httpx.Response:
    headers = {"link": f'<{url}>; rel="next"'} if url else {}
    return httpx.Response(200, headers=headers, request=httpx.Request("GET", "https://x.test/orders.json"))


def test_link_header_paginator_follows_next_and_detects_loop() -> None:
    pager = LinkHeaderPaginator(what="shopify rest")
    first = "https://x.test/orders.json?page_info=abc&limit=250"
    assert pager.advance_response(link_response(first))
    assert pager.token == first
    assert pager.advance_response(link_response("https://x.test/orders.json?page_info=def&limit=250"))
    with pytest.raises(PermanentChannelError, match="shopify rest"):
        pager.advance_response(link_response(first))


def test_link_header_paginator_ends_without_next() -> None:
    pager = LinkHeaderPaginator()
    assert not pager.advance_response(link_response(None))
    assert next_link(link_response(None)) is None
