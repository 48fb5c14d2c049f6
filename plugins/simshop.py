"""A seeded, channel-neutral shop that every simulator renders in its own
API's shapes.

The same seed gives the same shop, so runs repeat exactly. Products come from
one shared maker catalogue, so shops of different channels share SKUs (some
listings carry a SKU, some only the same title, some are unique), which is
what makes matching (R9) visible in the demo.

The shop also changes on request (new order, ship, refund, cancel, edit a
listing), as a real shop does between two pulls.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

# The maker's catalogue: (base SKU, title, price, variation options).
CATALOGUE: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("MUG-SPK", "Speckled Stoneware Mug", "28.00", ("Blue", "Sage", "Cream")),
    ("BWL-NST", "Nesting Serving Bowls", "64.00", ()),
    ("VAS-BUD", "Bud Vase Trio", "42.50", ()),
    ("PLT-DIN", "Dinner Plate", "36.00", ("Matte", "Gloss")),
    ("CUP-ESP", "Espresso Cups Set of 2", "31.00", ()),
    ("CND-SOY", "Soy Candle in Ceramic Jar", "24.00", ("Fig", "Cedar", "Lavender")),
    ("SCF-WOL", "Hand-Knit Wool Scarf", "58.00", ("Charcoal", "Rust")),
    ("BAG-TOT", "Linen Tote Bag", "22.00", ()),
    ("EAR-HOP", "Hammered Brass Hoop Earrings", "34.00", ("Small", "Large")),
    ("NCK-MOON", "Moonstone Pendant Necklace", "48.00", ()),
    ("PRT-A4", "Botanical Print A4", "18.00", ("Fern", "Poppy", "Oak")),
    ("JRN-LTH", "Leather Bound Journal", "39.00", ()),
    ("SOP-OAT", "Oat Milk Soap Bar", "9.50", ()),
    ("BRD-OAK", "Oak Cutting Board", "55.00", ("Small", "Large")),
    ("PLN-HNG", "Macrame Plant Hanger", "27.00", ()),
    ("CST-SET", "Cork Coaster Set", "16.00", ()),
    ("TEA-TWL", "Block Print Tea Towel", "14.00", ("Indigo", "Ochre")),
    ("RNG-STK", "Silver Stacking Ring", "26.00", ("6", "7", "8")),
    ("POT-PLN", "Terracotta Planter", "33.00", ()),
    ("BLK-THR", "Chunky Throw Blanket", "120.00", ()),
)


@dataclass
class SimVariation:
    variation_id: int
    sku: str
    option: str
    price: Decimal


@dataclass
class SimListing:
    listing_id: int
    title: str
    state: str
    created_at: datetime
    modified_at: datetime
    variations: list[SimVariation]
    has_variations: bool


@dataclass
class SimLine:
    line_id: int
    listing_id: int
    variation_id: int
    sku: str
    title: str
    quantity: int
    unit_price: Decimal


@dataclass
class SimRefund:
    refund_id: int
    amount: Decimal
    created_at: datetime
    reason: str


@dataclass
class SimOrder:
    order_id: int
    number: str
    placed_at: datetime
    modified_at: datetime
    currency: str
    lines: list[SimLine]
    shipping: Decimal
    tax: Decimal
    discount: Decimal
    paid: bool = True
    shipped_at: datetime | None = None
    cancelled_at: datetime | None = None
    refunds: list[SimRefund] = field(default_factory=list)
    malformed: bool = False

    @property
    def subtotal(self) -> Decimal:
        return sum((ln.unit_price * ln.quantity for ln in self.lines), Decimal("0"))

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.shipping + self.tax

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal("0"))


@dataclass
class SimFee:
    fee_id: int
    kind: str
    amount: Decimal
    occurred_at: datetime
    order_id: int | None = None
    listing_id: int | None = None
    variation_id: int | None = None
    description: str = ""


def money(value: Decimal | float | str) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


class SimShop:
    """A generated shop: listings, orders and fees, changed on request.

    ``prefix`` makes SKUs and ids differ between channels while the shared
    catalogue keeps some SKUs and titles equal across them."""

    def __init__(
        self,
        *,
        seed: int = 1,
        orders: int = 200,
        days: int = 60,
        now: datetime,
        currency: str = "USD",
        id_base: int = 1_000_000,
        catalogue_size: int = 14,
        sku_mode: str = "mixed",
    ) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.currency = currency
        self.now = now
        self.lock = threading.RLock()
        self._next_id = id_base
        self.listings: list[SimListing] = []
        self.orders: list[SimOrder] = []
        self.fees: list[SimFee] = []
        self._make_listings(catalogue_size, days, sku_mode)
        for _ in range(orders):
            placed = now - timedelta(seconds=self.rng.uniform(60, days * 86400))
            self._make_order(placed, settle=True)
        self.orders.sort(key=lambda o: o.placed_at)

    # -- ids -----------------------------------------------------------------

    def next_id(self) -> int:
        self._next_id += self.rng.randint(1, 9)
        return self._next_id

    # -- generation ------------------------------------------------------------

    def _make_listings(self, size: int, days: int, sku_mode: str) -> None:
        picks = self.rng.sample(range(len(CATALOGUE)), min(size, len(CATALOGUE)))
        for n, idx in enumerate(picks):
            base_sku, title, price, options = CATALOGUE[idx]
            # mixed: most listings carry the catalogue SKU, every fourth only its title
            with_sku = sku_mode == "all" or (sku_mode == "mixed" and n % 4 != 3)
            created = self.now - timedelta(days=days + self.rng.randint(5, 200))
            variations = []
            for opt in options or ("",):
                sku = f"{base_sku}-{opt.upper()[:4]}" if opt else base_sku
                variations.append(
                    SimVariation(self.next_id(), sku if with_sku else "", opt, Decimal(price))
                )
            state = "active" if n % 7 != 6 else self.rng.choice(["inactive", "sold_out", "draft", "expired"])
            self.listings.append(
                SimListing(self.next_id(), title, state, created, created, variations, bool(options))
            )
            self.fees.append(
                SimFee(self.next_id(), "listing", Decimal("0.20"), created, listing_id=self.listings[-1].listing_id,
                       description="listing fee")
            )

    def _make_order(self, placed: datetime, settle: bool) -> SimOrder:
        rng = self.rng
        lines = []
        for _ in range(rng.choice((1, 1, 2, 3, 3, 4))):
            listing = rng.choice(self.listings)
            var = rng.choice(listing.variations)
            lines.append(
                SimLine(self.next_id(), listing.listing_id, var.variation_id, var.sku,
                        listing.title, rng.choice((1, 1, 1, 2, 3)), var.price)
            )
        order_id = self.next_id()
        subtotal = sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0"))
        discount = money(subtotal * Decimal("0.10")) if rng.random() < 0.2 else Decimal("0.00")
        shipping = rng.choice((Decimal("0.00"), Decimal("4.95"), Decimal("7.50"), Decimal("12.00")))
        tax = money((subtotal - discount) * Decimal("0.0825")) if rng.random() < 0.6 else Decimal("0.00")
        order = SimOrder(order_id, str(order_id), placed, placed, self.currency, lines, shipping, tax, discount)
        self.orders.append(order)
        self._order_fees(order)
        if settle:
            age_days = (self.now - placed).total_seconds() / 86400
            roll = rng.random()
            if age_days < 0.5 and roll < 0.1:
                order.paid = False
            elif roll < 0.05:
                order.cancelled_at = min(placed + timedelta(hours=rng.uniform(1, 20)), self.now)
                order.modified_at = order.cancelled_at
            else:
                if age_days > 2.5:
                    self._ship(order, min(placed + timedelta(days=rng.uniform(0.5, 2.5)), self.now))
                if roll > 0.92 and age_days > 1:
                    whole = roll > 0.96
                    amount = order.total if whole else money(order.subtotal * Decimal("0.3"))
                    when = min(placed + timedelta(days=rng.uniform(1, max(1.1, age_days - 0.1))), self.now)
                    self._refund(order, amount, when, "returned" if whole else "damaged item")
        return order

    def _order_fees(self, order: SimOrder) -> None:
        base = order.subtotal - order.discount
        self.fees.append(SimFee(self.next_id(), "transaction", money(base * Decimal("0.065")), order.placed_at,
                                order_id=order.order_id, description="transaction fee"))
        self.fees.append(SimFee(self.next_id(), "processing", money(order.total * Decimal("0.03") + Decimal("0.25")),
                                order.placed_at, order_id=order.order_id, description="payment processing fee"))
        if self.rng.random() < 0.15:
            self.fees.append(SimFee(self.next_id(), "advertising", money(self.rng.uniform(0.5, 4)), order.placed_at,
                                    order_id=order.order_id, listing_id=order.lines[0].listing_id,
                                    description="offsite ads fee"))

    def _ship(self, order: SimOrder, when: datetime) -> None:
        order.shipped_at = when
        order.modified_at = max(order.modified_at, when)
        if self.rng.random() < 0.3:
            self.fees.append(SimFee(self.next_id(), "shipping_label", money(self.rng.uniform(3.5, 9.5)), when,
                                    order_id=order.order_id, description="shipping label"))

    def _refund(self, order: SimOrder, amount: Decimal, when: datetime, reason: str) -> SimRefund:
        amount = min(money(amount), order.total - order.refunded)
        refund = SimRefund(self.next_id(), amount, when, reason)
        order.refunds.append(refund)
        order.modified_at = max(order.modified_at, when)
        return refund

    # -- lookups and changes ----------------------------------------------------

    def order(self, order_id: int | str) -> SimOrder:
        for o in self.orders:
            if str(o.order_id) == str(order_id):
                return o
        raise KeyError(order_id)

    def listing(self, listing_id: int | str) -> SimListing:
        for li in self.listings:
            if str(li.listing_id) == str(listing_id):
                return li
        raise KeyError(listing_id)

    def new_order(self, when: datetime) -> SimOrder:
        with self.lock:
            return self._make_order(when, settle=False)

    def ship(self, order_id: int | str, when: datetime) -> SimOrder:
        with self.lock:
            order = self.order(order_id)
            self._ship(order, when)
            return order

    def refund(self, order_id: int | str, amount: Decimal, when: datetime, reason: str = "refund") -> SimOrder:
        with self.lock:
            order = self.order(order_id)
            self._refund(order, amount, when, reason)
            return order

    def cancel(self, order_id: int | str, when: datetime) -> SimOrder:
        with self.lock:
            order = self.order(order_id)
            order.cancelled_at = when
            order.modified_at = max(order.modified_at, when)
            return order

    def edit_listing(self, listing_id: int | str, when: datetime, title: str | None = None,
                     sku: str | None = None) -> SimListing:
        with self.lock:
            listing = self.listing(listing_id)
            if title:
                listing.title = title
            if sku is not None:
                listing.variations[0].sku = sku
            listing.modified_at = when
            return listing

    def fees_between(self, start: datetime, end: datetime) -> list[SimFee]:
        return [f for f in self.fees if start <= f.occurred_at < end]
