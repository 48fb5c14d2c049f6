"""``makersync export``: an account's books as CSV files, paging through the list RPCs.

Writes ``orders.csv``, ``order_lines.csv``, ``fees.csv`` and ``products.csv``
into a folder. Money is the exact decimal string with its currency in a
column of its own; instants are RFC 3339 UTC (``2026-03-01T12:00:00Z``),
empty when unset.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from makersync.clients.cli_output import enum_word
from makersync.clients.client import MakersyncClient
from makersync.v1 import resources_pb2 as res


def _ts(msg: Message, field: str) -> str:
    if not msg.HasField(field):
        return ""
    return str(getattr(msg, field).ToJsonString())


ORDER_COLUMNS = (
    "id", "account_id", "store_id", "channel", "external_id", "order_number", "status",
    "channel_status", "placed_at", "shipped_at", "cancelled_at", "location_id", "currency",
    "subtotal", "shipping", "tax", "discount", "total", "refunded", "fulfillment", "note",
    "locally_edited", "copied_from_order_id", "last_pull_id",
)
LINE_COLUMNS = (
    "order_id", "line_id", "external_id", "listing_id", "listing_external_id",
    "variation_external_id", "sku", "title", "quantity", "unit_price", "currency", "product_id",
)
FEE_COLUMNS = (
    "id", "store_id", "order_id", "listing_id", "product_id", "external_id", "kind", "channel_kind",
    "amount", "currency", "occurred_at", "order_external_id", "description",
)
PRODUCT_COLUMNS = ("id", "sku", "title", "created_by", "created_by_pull_id", "created_at", "listing_ids")


def order_record(o: res.Order) -> list[Any]:
    money = {f: getattr(o, f).amount for f in ("subtotal", "shipping", "tax", "discount", "total", "refunded")}
    return [
        o.id, o.account_id, o.store_id, o.channel, o.external_id, o.order_number,
        enum_word(res.OrderStatus, o.status, "ORDER_STATUS"), o.channel_status,
        _ts(o, "placed_at"), _ts(o, "shipped_at"), _ts(o, "cancelled_at"), o.location_id, o.currency,
        money["subtotal"], money["shipping"], money["tax"], money["discount"], money["total"],
        money["refunded"], o.fulfillment, o.note, str(o.locally_edited).lower(),
        o.copied_from_order_id, o.last_pull_id,
    ]


def line_records(o: res.Order) -> list[list[Any]]:
    return [
        [o.id, li.id, li.external_id, li.listing_id, li.listing_external_id, li.variation_external_id,
         li.sku, li.title, li.quantity, li.unit_price.amount, li.unit_price.currency_code or o.currency,
         li.product_id]
        for li in o.lines
    ]


def fee_record(f: res.Fee) -> list[Any]:
    return [
        f.id, f.store_id, f.order_id, f.listing_id, f.product_id, f.external_id,
        enum_word(res.FeeKind, f.kind, "FEE_KIND"), f.channel_kind, f.amount.amount,
        f.amount.currency_code, _ts(f, "occurred_at"), f.order_external_id, f.description,
    ]


def product_record(p: res.Product) -> list[Any]:
    return [p.id, p.sku, p.title, enum_word(res.ProductOrigin, p.created_by, "PRODUCT_ORIGIN"),
            p.created_by_pull_id, _ts(p, "created_at"), " ".join(li.id for li in p.listings)]


class OutputFolderError(Exception):
    """The folder to export into cannot be used (not a folder, cannot be
    created, files cannot be created in it); the message says why."""


class _CsvFile:
    """One CSV file being written, counting its rows."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.fh = path.open("w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.fh)
        self.writer.writerow(columns)
        self.rows = 0

    def write(self, rows: Iterable[list[Any]]) -> None:
        for row in rows:
            self.writer.writerow(row)
            self.rows += 1

    def close(self) -> int:
        self.fh.close()
        return self.rows


def _open_first_files(out_dir: Path) -> tuple[_CsvFile, _CsvFile]:
    """Create ``out_dir`` (and its parents) and open the order files in it;
    raises OutputFolderError."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFolderError("is a file, not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFolderError(f"cannot create the folder: {exc.strerror or exc}") from None
    opened: list[_CsvFile] = []
    try:
        for name, columns in (("orders.csv", ORDER_COLUMNS), ("order_lines.csv", LINE_COLUMNS)):
            opened.append(_CsvFile(out_dir / name, columns))
    except OSError as exc:
        for f in opened:
            f.close()
        raise OutputFolderError(f"cannot write {name} in it: {exc.strerror or exc}") from None
    return opened[0], opened[1]


def export_account(client: MakersyncClient, account_id: str, out_dir: Path,
                   on_file: Callable[[str, int], None] = lambda _n, _c: None) -> dict[str, int]:
    """Write the account's CSV files into ``out_dir``, streaming page by page;
    returns the rows written per file. Raises MakersyncError (NOT_FOUND before
    any file is written), OutputFolderError before any row is written, and
    OSError when a file cannot be written after that (a full disk)."""
    client.get_account(account_id)
    written: dict[str, int] = {}
    orders, lines = _open_first_files(out_dir)
    try:
        for order in client.iter_orders(account_id):
            orders.write([order_record(order)])
            lines.write(line_records(order))
    finally:
        written["orders.csv"], written["order_lines.csv"] = orders.close(), lines.close()
    on_file("orders.csv", written["orders.csv"])
    on_file("order_lines.csv", written["order_lines.csv"])
    for name, columns, rows in (
        ("fees.csv", FEE_COLUMNS, (fee_record(f) for f in client.iter_fees(account_id))),
        ("products.csv", PRODUCT_COLUMNS, (product_record(p) for p in client.iter_products(account_id))),
    ):
        out = _CsvFile(out_dir / name, columns)
        try:
            out.write(rows)
        finally:
            written[name] = out.close()
        on_file(name, written[name])
    return written
