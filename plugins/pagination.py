"""Paging helpers shared by channels. Each remembers the positions it has
seen and raises :class:`PermanentChannelError` when a channel sends one back
twice, so a misbehaving API can never spin a pull forever."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import httpx

from .errors import PermanentChannelError


class LoopGuard:
    """Remembers page positions; a repeat is a loop."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._seen: set[Hashable] = set()

    def check(self, position: Hashable) -> None:
        if position in self._seen:
            raise PermanentChannelError(f"{self.what}: the channel sent position {position!r} twice (page loop)")
        self._seen.add(position)


class OffsetPaginator:
    """``limit``/``offset`` paging over ``{"count": N, "results": [...]}`` (Etsy)."""

    def __init__(self, limit: int, offset: int = 0, what: str = "offset paging") -> None:
        self.limit = limit
        self.offset = offset
        self.guard = LoopGuard(what)

    def params(self) -> dict[str, int]:
        self.guard.check(self.offset)
        return {"limit": self.limit, "offset": self.offset}

    def advance(self, got: int, total: int | None) -> bool:
        """Move past a page of ``got`` rows; False when the stream is done. A page
        longer than asked moves the offset by the limit only, so the surplus
        rows of the next page are not skipped (R14)."""
        self.offset += min(got, self.limit)
        if got == 0 or got < self.limit:
            return False
        return total is None or self.offset < total


class TokenPaginator:
    """Opaque next-token paging (Amazon's ``nextToken``/``paginationToken``)."""

    def __init__(self, token: str | None = None, what: str = "token paging") -> None:
        self.token = token
        self.guard = LoopGuard(what)
        if token:
            self.guard.check(token)

    def advance(self, next_token: str | None) -> bool:
        if not next_token:
            self.token = None
            return False
        self.guard.check(next_token)
        self.token = next_token
        return True


class CursorPaginator(TokenPaginator):
    """GraphQL connections: ``pageInfo { hasNextPage endCursor }``."""

    def advance_page_info(self, page_info: dict[str, Any]) -> bool:
        if not page_info.get("hasNextPage"):
            self.token = None
            return False
        return self.advance(page_info.get("endCursor"))


def next_link(response: httpx.Response) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header (Shopify REST), or None."""
    links = response.links
    nxt = links.get("next")
    return nxt.get("url") if nxt else None


class LinkHeaderPaginator(TokenPaginator):
    """``Link: <...page_info=...>; rel="next"`` paging: follow the URL as given."""

    def advance_response(self, response: httpx.Response) -> bool:
        return self.advance(next_link(response))
