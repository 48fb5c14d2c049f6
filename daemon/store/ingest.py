"""Writing one page of pulled records: the store side of the pull engine.

Each ``write_*_page`` runs inside the caller's write transaction (together
with the pull's checkpoint), upserts on the unique keys of R14, matches new
listings to products (R9), applies the order rules (R6, R7, R8, R11) and the
fee rules (R12), and returns what it did as :class:`PageCounts`. Nothing here
commits: the engine commits the page and its checkpoint as one unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from makersync.daemon.rules import normalize_sku, normalize_title
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
    found: set[str] = set()
    for part in _chunks(list(external_ids)):
        q = TombstoneRow.select(TombstoneRow.external_id).where(
            (TombstoneRow.store == store_id) & (TombstoneRow.kind == kind) & (TombstoneRow.external_id.in_(part))
        )
        found.update(r.external_id for r in q)
    return found


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
    keys = list(set(keys))
    ids = sorted({k[0] for k in keys})
    found: dict[tuple[str, str], tuple[int, int, str]] = {}
    for part in _chunks(ids):
        q = ListingRow.select(ListingRow.id, ListingRow.external_id, ListingRow.external_variation_id,
                              ListingRow.product, ListingRow.payload_hash).where(
            (ListingRow.store == store_id) & (ListingRow.external_id.in_(part)))
        for lid, ext, var, pid, phash in q.tuples():
            found[(ext, var)] = (lid, pid, phash)
    return found


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
    for key, (lid, pid, old_hash) in existing.items():
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


def _order_fields(ctx: IngestContext, rec: OrderRecord) -> dict[str, Any]:
    return dict(
        order_number=rec.order_number, status=rec.status.value, channel_status=rec.channel_status,
        placed_at=rec.placed_at, modified_at=rec.modified_at, shipped_at=rec.shipped_at,
        cancelled_at=rec.cancelled_at, currency=rec.currency, subtotal=rec.subtotal, shipping=rec.shipping,
        tax=rec.tax, discount=rec.discount, total=rec.total, refunded=rec.refunded,
        fulfillment=rec.fulfillment, payload_hash=record_hash(rec), last_pull_id=ctx.pull_id,
        updated_at=ctx.now,
    )


def _write_children(order_id: int, rec: OrderRecord, links: dict[tuple[str, str], tuple[int, int]]) -> None:
    lines = []
    for pos, ln in enumerate(rec.lines):
        lid, pid = links.get((ln.listing_external_id, ln.variation_external_id), (None, None))
        lines.append(dict(order=order_id, position=pos, external_id=ln.external_id, listing=lid,
                          listing_external_id=ln.listing_external_id,
                          variation_external_id=ln.variation_external_id, sku=ln.sku, title=ln.title,
                          quantity=ln.quantity, unit_price=ln.unit_price, product=pid))
    if lines:
        OrderLineRow.insert_many(lines).execute()
    if rec.refunds:
        RefundRow.insert_many([dict(order=order_id, external_id=r.external_id, amount=r.amount,
                                    created_at=r.created_at, reason=r.reason) for r in rec.refunds]).execute()
    if rec.adjustments:
        AdjustmentRow.insert_many([dict(order=order_id, external_id=a.external_id, kind=a.kind, amount=a.amount,
                                        created_at=a.created_at, note=a.note) for a in rec.adjustments]).execute()


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
    existing: dict[str, Any] = {}
    for part in _chunks(ids):
        q = OrderRow.select(OrderRow.id, OrderRow.external_id, OrderRow.payload_hash, OrderRow.modified_at,
                            OrderRow.locally_edited, OrderRow.local_edits, OrderRow.shipped_at,
                            OrderRow.shipped_at_auto).where(
            (OrderRow.store == ctx.store_id) & (OrderRow.external_id.in_(part)))
        existing.update({row.external_id: row for row in q})
    links = _listings_for_lines(ctx, list(latest.values()), counts)
    recreate = ctx.pull_kind == "manual"
    to_replace: list[tuple[int, OrderRecord]] = []
    for ext, rec in latest.items():
        row = existing.get(ext)
        if ext in tombstoned:
            if not recreate:
                counts.add("orders_skipped_deleted")  # R7: automatic pulls respect deletions
                continue
            _clear_tombstones(ctx.store_id, "order", [ext])
        if row is None:
            fields = _order_fields(ctx, rec)
            if (ctx.automatic_shipped_date_since is not None and rec.shipped_at is None
                    and ctx.now >= ctx.automatic_shipped_date_since):
                fields.update(shipped_at=rec.placed_at, shipped_at_auto=True)  # R6
            order_id = OrderRow.insert(
                account=ctx.account_id, store=ctx.store_id, channel=ctx.channel, external_id=ext,
                location=ctx.default_location_id, first_pulled_at=ctx.now, created_at=ctx.now, **fields,
            ).execute()
            _write_children(order_id, rec, links)
            counts.add("orders_recreated" if ext in tombstoned else "orders_created")
            counts.changed_orders.append((order_id, True))
            continue
        if row.modified_at is not None and rec.modified_at < row.modified_at:
            counts.add("orders_unchanged")  # R14: an older copy never overwrites a newer one
            continue
        if row.payload_hash == record_hash(rec) and not row.locally_edited:
            counts.add("orders_unchanged")
            continue
        to_replace.append((row.id, rec))
        fields = _order_fields(ctx, rec)
        if rec.shipped_at is None and row.shipped_at_auto and row.shipped_at is not None:
            fields.pop("shipped_at")  # R6: keep the automatic date until the channel gives one
        else:
            fields["shipped_at_auto"] = False
        if row.locally_edited:
            OrderOverwriteRow.insert(order=row.id, pull_id=ctx.pull_id, overwritten_at=ctx.now,
                                     local_values=row.local_edits or {}).execute()
            fields.update(locally_edited=False, local_edits={})
            counts.add("local_edits_overwritten")
        OrderRow.update(**fields).where(OrderRow.id == row.id).execute()
        counts.add("orders_updated")
        counts.changed_orders.append((row.id, False))
    if to_replace:
        _delete_children([oid for oid, _ in to_replace])
        for oid, rec in to_replace:
            _write_children(oid, rec, links)


# --- fees (R12) --------------------------------------------------------------------


def write_fee_page(ctx: IngestContext, records: Sequence[FeeRecord], counts: PageCounts) -> None:
    """Upsert a page of fees, tied to their order and listing where the channel says."""
    latest = {rec.external_id: rec for rec in records}
    ids = list(latest)
    tombstoned = _tombstoned(ctx.store_id, "fee", ids)
    existing: dict[str, tuple[int, str]] = {}
    for part in _chunks(ids):
        q = FeeRow.select(FeeRow.id, FeeRow.external_id, FeeRow.payload_hash).where(
            (FeeRow.store == ctx.store_id) & (FeeRow.external_id.in_(part)))
        existing.update({ext: (fid, h) for fid, ext, h in q.tuples()})
    order_ids: dict[str, int] = {}
    order_refs = sorted({r.order_external_id for r in latest.values() if r.order_external_id})
    for part in _chunks(order_refs):
        q = OrderRow.select(OrderRow.id, OrderRow.external_id).where(
            (OrderRow.store == ctx.store_id) & (OrderRow.external_id.in_(part)))
        order_ids.update({ext: oid for oid, ext in q.tuples()})
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
            inserts.append(dict(account=ctx.account_id, store=ctx.store_id, external_id=ext, created_at=ctx.now,
                                **fields))
            counts.add("fees_created")
        elif found[1] == fields["payload_hash"]:
            counts.add("fees_unchanged")
        else:
            FeeRow.update(**fields).where(FeeRow.id == found[0]).execute()
            counts.add("fees_updated")
    for part in _chunks(inserts):
        FeeRow.insert_many(part).execute()
