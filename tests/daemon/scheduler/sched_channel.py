"""A test channel for the runner tests: no HTTP, pages held in memory.

Each store names its shop in its credentials (``{"shop": "s1"}``). A shop's
orders stream serves ``PAGES`` pages of one order each; the test can hold a
shop's stream before a page (``hold``), slow every page down (``delay_s``)
or make the stream wait for the channel's allowance before its first page
(``wait_s``), through the shared limiters like a real paced client. What was
served is recorded per shop (``served``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from makersync.plugins import hookimpl
from makersync.plugins.channel import Channel
from makersync.plugins.pacing import BucketSpec
from makersync.plugins.records import (
    CredentialField,
    ListingRecord,
    OrderLine,
    OrderRecord,
    OrderStatus,
    Page,
    ShopInfo,
    Window,
)

PAGES = 5
PLACED = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)


class Controls:
    """Per-shop knobs and records, shared with the test."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holds: dict[str, tuple[int, threading.Event]] = {}
        self.delay_s: dict[str, float] = {}
        self.wait_s: dict[str, float] = {}
        self.pages: dict[str, int] = {}
        self.served: dict[str, list[int]] = {}
        self.reached: dict[str, threading.Event] = {}

    def hold(self, shop: str, before_page: int) -> threading.Event:
        """Stop ``shop``'s stream before ``before_page`` until the returned event is set."""
        gate = threading.Event()
        self.holds[shop] = (before_page, gate)
        self.reached[shop] = threading.Event()
        return gate

    def serve(self, shop: str, page: int) -> None:
        held = self.holds.get(shop)
        if held is not None and page >= held[0]:
            self.reached[shop].set()
            held[1].wait(30)
        if self.delay_s.get(shop):
            time.sleep(self.delay_s[shop])
        with self.lock:
            self.served.setdefault(shop, []).append(page)


CONTROLS = Controls()


def _order(shop: str, n: int) -> OrderRecord:
    line = OrderLine(external_id=f"{shop}-l{n}", listing_external_id="L1", variation_external_id="",
                     sku="MUG", title="Mug", quantity=1, unit_price=Decimal("10.00"))
    return OrderRecord(
        external_id=f"{shop}-o{n}", order_number=str(n), status=OrderStatus.PAID, channel_status="paid",
        placed_at=PLACED + timedelta(minutes=n), modified_at=PLACED + timedelta(minutes=n), currency="EUR",
        subtotal=Decimal("10.00"), shipping=Decimal("0"), tax=Decimal("0"), discount=Decimal("0"),
        total=Decimal("10.00"), lines=(line,))


class TestChannel(Channel):
    """Serves in-memory pages; see the module docstring."""

    name: ClassVar[str] = "schedtest"
    display_name: ClassVar[str] = "Scheduler test channel"
    pulls: ClassVar[tuple[str, ...]] = ("listings", "orders")
    credential_fields: ClassVar[tuple[CredentialField, ...]] = (CredentialField("shop", "the shop", secret=False),)

    @property
    def shop(self) -> str:
        return str(self.credentials["shop"])

    def connect(self) -> ShopInfo:
        return ShopInfo(external_shop_id=self.shop, name=f"Shop {self.shop}", currency="EUR")

    def iter_listings(self, cursor: Any = None) -> Iterator[Page[ListingRecord]]:
        if cursor:
            return
        yield Page(records=(ListingRecord(external_id="L1", variation_external_id="", sku="MUG", title="Mug",
                                          state="active", price=Decimal("10.00"), currency="EUR"),),
                   cursor={"done": True})

    def iter_orders(self, window: Window, cursor: Any = None) -> Iterator[Page[OrderRecord]]:
        shop = self.shop
        wait = CONTROLS.wait_s.get(shop)
        if wait:
            spec = BucketSpec(("schedtest", "quota", shop), rate=1.0 / wait, capacity=1.0)
            self.limiters.bucket(spec).tokens = 0.0
            self.limiters.acquire([spec])
        start = int((cursor or {}).get("page", 0))
        for page in range(start, CONTROLS.pages.get(shop, PAGES)):
            CONTROLS.serve(shop, page)
            yield Page(records=(_order(shop, page),), cursor={"page": page + 1})

    def iter_fees(self, window: Window, cursor: Any = None) -> Iterator[Page[Any]]:
        return iter(())


@hookimpl
def makersync_register_channels(register):  # type: ignore[no-untyped-def]
    register(TestChannel)
