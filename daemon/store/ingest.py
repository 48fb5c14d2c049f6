"""Writing one page of pulled records: the store side of the pull engine.

Each ``write_*_page`` runs inside the caller's write transaction (together
with the pull's checkpoint), upserts on the unique keys of R14, matches new
listings to products (R9), applies the order rules (R6, R7, R8, R11) and the
fee rules (R12), and returns what it did as :class:`PageCounts`. Nothing here
commits: the engine commits the page and its checkpoint as one unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from makersync.daemon.rules import normalize_sku, normalize_title
from makersync.daemon.store.bulk import RowWriter, select_in
from makersync.daemon.store.models import (
    AdjustmentRow,
    FeeRow,
    ListingRow,
    OrderLineRow,
    OrderOverwriteRow,
    OrderRow,
    ProductRow,
    RefundRow,
    TombstoneRow,
)
from makersync.plugins.records import FeeRecord, ListingRecord, OrderRecord, record_hash

CHUNK = 400  # keeps IN (...) lists under SQLite's variable limit


@dataclass
class PageCounts:
    """What one page did; the engine adds these to the pull's counts."""

    values: dict[str, int] = field(default_factory=dict)
    changed_orders: list[tuple[int, bool]] = field(default_factory=list)

    def add(self, key: str, n: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + n


@dataclass(frozen=True)
class IngestContext:
    """The facts about a store and pull that every page write needs."""

    account_id: int
    store_id: int
    channel: str
    pull_id: int
    pull_kind: str
    now: datetime
    default_location_id: int | None
    automatic_shipped_date_since: datetime | None


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _tombstoned(store_id: int, kind: str, external_ids: Sequence[str]) -> set[str]:
    rows = select_in(TombstoneRow, ("external_id",), "external_id", external_ids, store=store_id, kind=kind)
    return {ext for (ext,) in rows}


def _clear_tombstones(store_id: int, kind: str, external_ids: Iterable[str]) -> None:
    ids = list(external_ids)
    for part in _chunks(ids):
        TombstoneRow.delete().where(
            (TombstoneRow.store == store_id) & (TombstoneRow.kind == kind) & (TombstoneRow.external_id.in_(part))
        ).execute()


# --- products and listings (R9, R10) -------------------------------------------


class ProductMatcher:
    """Finds or creates the product for listings not linked yet (R9): by SKU,
    then by title, else a new product; the oldest match wins."""

    def __init__(self, ctx: IngestContext) -> None:
        self.ctx = ctx

    def _oldest_by(self, column: Any, values: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in _chunks(sorted(values)):
            q = (ProductRow.select(ProductRow.id, column)
                 .where((ProductRow.account == self.ctx.account_id) & column.in_(part))
                 .order_by(ProductRow.created_at, ProductRow.id))
            for row in q.tuples():
                found.setdefault(row[1], row[0])
        return found

    def match(self, wanted: Sequence[tuple[str, str]], counts: PageCounts) -> list[tuple[int, str]]:
        """For each (sku, title), the product id and how it was matched."""
        skus = {normalize_sku(s) for s, _ in wanted} - {""}
        titles = {normalize_title(t) for _, t in wanted} - {""}
        by_sku = self._oldest_by(ProductRow.sku_norm, skus) if skus else {}
        by_title = self._oldest_by(ProductRow.title_norm, titles) if titles else {}
        out: list[tuple[int, str]] = []
        for sku, title in wanted:
            s, t = normalize_sku(sku), normalize_title(title)
            if s and s in by_sku:
                out.append((by_sku[s], "sku"))
                counts.add("products_matched_by_sku")
            elif t and t in by_title:
                out.append((by_title[t], "title"))
                counts.add("products_matched_by_title")
            else:
                pid = ProductRow.insert(
                    account=self.ctx.account_id, sku=sku.strip(), sku_norm=s, title=" ".join(title.split()),
                    title_norm=t, created_by="pull", created_by_pull_id=self.ctx.pull_id,
                    created_by_store_id=self.ctx.store_id, created_at=self.ctx.now,
                ).execute()
                # later listings of the same page match the product just made
                if s:
                    by_sku[s] = pid
                if t:
                    by_title.setdefault(t, pid)
                out.append((pid, "created"))
                counts.add("products_created")
        return out


def _listing_map(store_id: int, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int, str]]:
    """(external_id, variation) -> (listing id, product id, payload hash)."""
    ids = sorted({k[0] for k in keys})
    rows = select_in(ListingRow, ("id", "external_id", "external_variation_id", "product", "payload_hash"),
                     "external_id", ids, store=store_id)
    return {(ext, var): (lid, pid, phash) for lid, ext, var, pid, phash in rows}


def write_listing_page(ctx: IngestContext, records: Sequence[ListingRecord], counts: PageCounts,
                       ) -> dict[tuple[str, str], tuple[int, int]]:
    """Upsert listings (R14) and link new ones to products (R9). A changed
    listing updates only its own record, never its product (R10)."""
    latest: dict[tuple[str, str], ListingRecord] = {}
    for rec in records:
        latest[(rec.external_id, rec.variation_external_id)] = rec
    existing = _listing_map(ctx.store_id, latest)
    new_keys = [k for k in latest if k not in existing]
    matches = ProductMatcher(ctx).match([(latest[k].sku, latest[k].title) for k in new_keys], counts)
    result: dict[tuple[str, str], tuple[int, int]] = {}
    for key, (pid, how) in zip(new_keys, matches, strict=True):
        rec = latest[key]
        lid = ListingRow.insert(
            account=ctx.account_id, store=ctx.store_id, external_id=rec.external_id,
            external_variation_id=rec.variation_external_id, sku=rec.sku, title=rec.title, state=rec.state,
            price=rec.price, currency=rec.currency, product=pid, matched_by=how, payload_hash=record_hash(rec),
            last_pull_id=ctx.pull_id, modified_at=rec.modified_at, created_at=ctx.now, updated_at=ctx.now,
        ).execute()
        result[key] = (lid, pid)
        counts.add("listings_created")
    # existing may hold other variations of the page's listings: only the page's own are compared
    for key in (k for k in latest if k in existing):
        lid, pid, old_hash = existing[key]
        rec = latest[key]
        result[key] = (lid, pid)
        new_hash = record_hash(rec)
        if new_hash == old_hash:
            counts.add("listings_unchanged")
            continue
        ListingRow.update(
            sku=rec.sku, title=rec.title, state=rec.state, price=rec.price, currency=rec.currency,
            payload_hash=new_hash, last_pull_id=ctx.pull_id, modified_at=rec.modified_at, updated_at=ctx.now,
        ).where(ListingRow.id == lid).execute()
        counts.add("listings_updated")
    return result


def _listings_for_lines(ctx: IngestContext, records: Sequence[OrderRecord], counts: PageCounts,
                        ) -> dict[tuple[str, str], tuple[int, int]]:
    """Listing and product of every line; a line naming a listing the listing
    stream never showed makes that listing from the line itself (R9)."""
    keys = {(ln.listing_external_id, ln.variation_external_id): ln for o in records for ln in o.lines
            if ln.listing_external_id}
    known = {k: (v[0], v[1]) for k, v in _listing_map(ctx.store_id, keys).items()}
    missing = [ListingRecord(ln.listing_external_id, ln.variation_external_id, ln.sku, ln.title)
               for k, ln in keys.items() if k not in known]
    if missing:
        known.update(write_listing_page(ctx, missing, counts))
    return known


# --- orders (R6, R7, R8, R11, R14) -----------------------------------------------

ORDER_EDITABLE = ("status", "shipped_at", "location_id", "note")
# The editable fields a pull writes from the channel (R7). ``location_id`` and
# ``note`` are the maker's own: the channel has no value for them, so a pull
# never replaces them and their edits survive it.
PULL_WRITES = ("status", "shipped_at")


def _replaced_edits(row: _StoredOrder, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The local edits of ``row`` that writing ``fields`` replaces: edited
    fields the pull writes with a different value (R7: what the maker loses)."""
    edits = dict(row.local_edits or {}) if row.locally_edited else {}
    current = {"status": row.status, "shipped_at": row.shipped_at}
    return {k: v for k, v in edits.items()
            if k in PULL_WRITES and k in fields and fields[k] != current[k]}


def _order_fields(ctx: IngestContext, rec: OrderRecord) -> dict[str, Any]:
    return dict(
        order_number=rec.order_number, status=rec.status.value, channel_status=rec.channel_status,
        placed_at=rec.placed_at, modified_at=rec.modified_at, shipped_at=rec.shipped_at,
        cancelled_at=rec.cancelled_at, currency=rec.currency, subtotal=rec.subtotal, shipping=rec.shipping,
        tax=rec.tax, discount=rec.discount, total=rec.total, refunded=rec.refunded,
        fulfillment=rec.fulfillment, payload_hash=record_hash(rec), last_pull_id=ctx.pull_id,
        updated_at=ctx.now,
    )


_NEW_ORDERS = RowWriter(OrderRow, (
    "account", "store", "channel", "external_id", "location", "first_pulled_at", "created_at", "order_number",
    "status", "channel_status", "placed_at", "modified_at", "shipped_at", "shipped_at_auto", "cancelled_at",
    "currency", "subtotal", "shipping", "tax", "discount", "total", "refunded", "fulfillment", "payload_hash",
    "last_pull_id", "updated_at"))
_LINES = RowWriter(OrderLineRow, (
    "order", "position", "external_id", "listing", "listing_external_id", "variation_external_id", "sku", "title",
    "quantity", "unit_price", "product"))
_REFUNDS = RowWriter(RefundRow, ("order", "external_id", "amount", "created_at", "reason"))
_ADJUSTMENTS = RowWriter(AdjustmentRow, ("order", "external_id", "kind", "amount", "created_at", "note"))


def _new_order_row(ctx: IngestContext, ext: str, rec: OrderRecord) -> tuple[Any, ...]:
    """A new order in ``_NEW_ORDERS`` column order (the fields of ``_order_fields``)."""
    shipped_at, auto = rec.shipped_at, False
    if (ctx.automatic_shipped_date_since is not None and shipped_at is None
            and ctx.now >= ctx.automatic_shipped_date_since):
        shipped_at, auto = rec.placed_at, True  # R6
    return (ctx.account_id, ctx.store_id, ctx.channel, ext, ctx.default_location_id, ctx.now, ctx.now,
            rec.order_number, rec.status.value, rec.channel_status, rec.placed_at, rec.modified_at, shipped_at,
            auto, rec.cancelled_at, rec.currency, rec.subtotal, rec.shipping, rec.tax, rec.discount, rec.total,
            rec.refunded, rec.fulfillment, record_hash(rec), ctx.pull_id, ctx.now)


def _order_ids(store_id: int, external_ids: Sequence[str]) -> dict[str, int]:
    return dict(select_in(OrderRow, ("external_id", "id"), "external_id", external_ids, store=store_id))


class _StoredOrder(NamedTuple):
    """What a page write needs of an order already in the books."""

    id: int
    external_id: str
    payload_hash: str
    modified_at: datetime | None
    locally_edited: bool
    local_edits: Any
    status: str
    shipped_at: datetime | None
    shipped_at_auto: bool


def _write_children(orders: Sequence[tuple[int, OrderRecord]],
                    links: dict[tuple[str, str], tuple[int, int]]) -> None:
    """Lines, refunds and adjustments of ``orders`` (order id, record), one statement each."""
    lines: list[tuple[Any, ...]] = []
    refunds: list[tuple[Any, ...]] = []
    adjustments: list[tuple[Any, ...]] = []
    for order_id, rec in orders:
        for pos, ln in enumerate(rec.lines):
            lid, pid = links.get((ln.listing_external_id, ln.variation_external_id), (None, None))
            lines.append((order_id, pos, ln.external_id, lid, ln.listing_external_id, ln.variation_external_id,
                          ln.sku, ln.title, ln.quantity, ln.unit_price, pid))
        refunds.extend((order_id, r.external_id, r.amount, r.created_at, r.reason) for r in rec.refunds)
        adjustments.extend((order_id, a.external_id, a.kind, a.amount, a.created_at, a.note)
                           for a in rec.adjustments)
    _LINES.insert(lines)
    _REFUNDS.insert(refunds)
    _ADJUSTMENTS.insert(adjustments)


def _delete_children(order_ids: Sequence[int]) -> None:
    for part in _chunks(list(order_ids)):
        OrderLineRow.delete().where(OrderLineRow.order.in_(part)).execute()
        RefundRow.delete().where(RefundRow.order.in_(part)).execute()
        AdjustmentRow.delete().where(AdjustmentRow.order.in_(part)).execute()


def write_order_page(ctx: IngestContext, records: Sequence[OrderRecord], counts: PageCounts) -> None:
    """Upsert a page of orders with their lines, refunds and adjustments."""
    latest: dict[str, OrderRecord] = {}
    for rec in records:
        kept = latest.get(rec.external_id)
        if kept is None or rec.modified_at >= kept.modified_at:
            latest[rec.external_id] = rec
    ids = list(latest)
    tombstoned = _tombstoned(ctx.store_id, "order", ids)
    existing = {row.external_id: row for row in map(_StoredOrder._make, select_in(
        OrderRow, _StoredOrder._fields, "external_id", ids, store=ctx.store_id))}
    links = _listings_for_lines(ctx, list(latest.values()), counts)
    recreate = ctx.pull_kind == "manual"
    to_replace: list[tuple[int, OrderRecord]] = []
    new: list[tuple[str, OrderRecord]] = []
    changed: list[tuple[int | str, bool]] = []  # new orders by external id until inserted
    for ext, rec in latest.items():
        row = existing.get(ext)
        if ext in tombstoned:
            if not recreate:
                counts.add("orders_skipped_deleted")  # R7: automatic pulls respect deletions
                continue
            _clear_tombstones(ctx.store_id, "order", [ext])
        if row is None:
            new.append((ext, rec))
            counts.add("orders_recreated" if ext in tombstoned else "orders_created")
            changed.append((ext, True))
            continue
        if row.modified_at is not None and rec.modified_at < row.modified_at:
            counts.add("orders_unchanged")  # R14: an older copy never overwrites a newer one
            continue
        fields = _order_fields(ctx, rec)
        if rec.shipped_at is None and row.shipped_at_auto and row.shipped_at is not None:
            fields.pop("shipped_at")  # R6: keep the automatic date until the channel gives one
        else:
            fields["shipped_at_auto"] = False
        lost = _replaced_edits(row, fields)
        if row.payload_hash == record_hash(rec) and not lost:
            counts.add("orders_unchanged")
            continue
        to_replace.append((row.id, rec))
        if lost:  # R7: record exactly the local values this pull replaces, no more
            OrderOverwriteRow.insert(order=row.id, pull_id=ctx.pull_id, overwritten_at=ctx.now,
                                     local_values=lost).execute()
            counts.add("local_edits_overwritten")
        if row.locally_edited:
            # Edits the pull wrote over (or now agrees with) are gone; the rest stay the maker's.
            kept = {k: v for k, v in dict(row.local_edits or {}).items()
                    if k not in PULL_WRITES or k not in fields}
            fields.update(locally_edited=bool(kept), local_edits=kept)
        OrderRow.update(**fields).where(OrderRow.id == row.id).execute()
        counts.add("orders_updated")
        changed.append((row.id, False))
    if to_replace:
        _delete_children([oid for oid, _ in to_replace])
    new_ids: dict[str, int] = {}
    if new:  # one statement for the page's new orders, one per kind of child (QUALITY P1)
        _NEW_ORDERS.insert([_new_order_row(ctx, ext, rec) for ext, rec in new])
        new_ids = _order_ids(ctx.store_id, [ext for ext, _ in new])
    counts.changed_orders.extend(
        (new_ids[key] if isinstance(key, str) else key, created) for key, created in changed)
    _write_children([*to_replace, *((new_ids[ext], rec) for ext, rec in new)], links)


# --- fees (R12) --------------------------------------------------------------------


_FEE_FIELDS = ("kind", "channel_kind", "amount", "channel_amount", "currency", "occurred_at", "order",
               "order_external_id", "listing", "listing_external_id", "variation_external_id", "description",
               "payload_hash", "last_pull_id", "updated_at")
_NEW_FEES = RowWriter(FeeRow, ("account", "store", "external_id", "created_at", *_FEE_FIELDS))


def write_fee_page(ctx: IngestContext, records: Sequence[FeeRecord], counts: PageCounts) -> None:
    """Upsert a page of fees, tied to their order and listing where the channel says."""
    latest = {rec.external_id: rec for rec in records}
    ids = list(latest)
    tombstoned = _tombstoned(ctx.store_id, "fee", ids)
    existing = {ext: (fid, h) for fid, ext, h in select_in(
        FeeRow, ("id", "external_id", "payload_hash"), "external_id", ids, store=ctx.store_id)}
    order_ids = _order_ids(ctx.store_id, sorted({r.order_external_id for r in latest.values()
                                                 if r.order_external_id}))
    listing_keys = {(r.listing_external_id, r.variation_external_id) for r in latest.values() if r.listing_external_id}
    listings = _listing_map(ctx.store_id, listing_keys)
    listing_any = {k[0]: v[0] for k, v in listings.items()}
    recreate = ctx.pull_kind == "manual"
    inserts = []
    for ext, rec in latest.items():
        if ext in tombstoned:
            if not recreate:
                counts.add("fees_skipped_deleted")
                continue
            _clear_tombstones(ctx.store_id, "fee", [ext])
        listing_id = None
        if rec.listing_external_id:
            hit = listings.get((rec.listing_external_id, rec.variation_external_id))
            listing_id = hit[0] if hit else listing_any.get(rec.listing_external_id)
        fields = dict(kind=rec.kind.value, channel_kind=rec.channel_kind, amount=rec.amount,
                      channel_amount=rec.channel_amount, currency=rec.currency, occurred_at=rec.occurred_at,
                      order=order_ids.get(rec.order_external_id), order_external_id=rec.order_external_id,
                      listing=listing_id, listing_external_id=rec.listing_external_id,
                      variation_external_id=rec.variation_external_id, description=rec.description,
                      payload_hash=record_hash(rec), last_pull_id=ctx.pull_id, updated_at=ctx.now)
        found = existing.get(ext)
        if found is None:
            inserts.append((ctx.account_id, ctx.store_id, ext, ctx.now, *(fields[k] for k in _FEE_FIELDS)))
            counts.add("fees_created")
        elif found[1] == fields["payload_hash"]:
            counts.add("fees_unchanged")
        else:
            FeeRow.update(**fields).where(FeeRow.id == found[0]).execute()
            counts.add("fees_updated")
    _NEW_FEES.insert(inserts)
