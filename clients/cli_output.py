"""How the ``makersync`` command shows replies: rich tables, or JSON for scripts.

JSON is the reply message as protobuf's JSON mapping with the proto field
names (``snake_case``), defaults included, int64 counts as numbers; lists
print as one object holding the list and ``next_page_token``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console
from rich.table import Table

from makersync.v1 import resources_pb2 as res


def to_dict(msg: Message) -> dict[str, Any]:
    """A message as a JSON-ready dict (proto field names, defaults printed)."""
    return json_format.MessageToDict(
        msg, preserving_proto_field_name=True, always_print_fields_with_no_presence=True,
        unquote_int64_if_possible=True,
    )


def when(msg: Message, field: str) -> str:
    """A Timestamp field as ``YYYY-MM-DD HH:MMZ`` in UTC ('' when unset; --json has the full instant)."""
    if not msg.HasField(field):
        return ""
    return getattr(msg, field).ToDatetime().strftime("%Y-%m-%d %H:%MZ")


def money(value: res.Money) -> str:
    """``12.50 USD`` ('' when unset)."""
    return f"{value.amount} {value.currency_code}".strip() if value.amount else ""


def enum_word(enum: Any, number: int, prefix: str) -> str:
    """``PULL_STATE_RUNNING`` -> ``running``."""
    try:
        return str(enum.Name(number)).removeprefix(prefix + "_").lower()
    except ValueError:
        return str(number)


def pull_state(job: res.PullJob) -> str:
    return enum_word(res.PullState, job.state, "PULL_STATE")


class _StdoutConsole(Console):
    """A rich console whose closed pipe ends the command like any other write
    to stdout (rich's own default exits with status 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


class Output:
    """Writes results to stdout: JSON with ``--json``, else rich tables."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.console = _StdoutConsole(soft_wrap=False)
        self.err = Console(stderr=True)

    def json(self, value: Any) -> None:
        """Print ``value`` (a message, a dict or a list of those) as JSON."""
        def plain(v: Any) -> Any:
            if isinstance(v, Message):
                return to_dict(v)
            if isinstance(v, list | tuple):
                return [plain(x) for x in v]
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            return v

        sys.stdout.write(json.dumps(plain(value), indent=2, sort_keys=False) + "\n")
        sys.stdout.flush()

    def table(self, title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """A rich table of ``rows``."""
        table = Table(title=title, title_justify="left", show_lines=False)
        for col in columns:
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*("" if c is None else str(c) for c in row))
        self.console.print(table)

    def fields(self, title: str, pairs: Iterable[tuple[str, Any]]) -> None:
        """A two-column table of ``name: value`` pairs, skipping empty values."""
        self.table(title, ("field", "value"), ((k, v) for k, v in pairs if v not in ("", None)))

    def emit(self, msg: Message, render: Any) -> None:
        """``msg`` as JSON, or ``render(msg)`` for people."""
        if self.as_json:
            self.json(msg)
        else:
            render(msg)

    def items(self, key: str, items: Sequence[Any], title: str, columns: Sequence[str],
              row: Any) -> None:
        """A list: ``{key: [...]}`` as JSON, or a table with ``row(item)`` per item."""
        if self.as_json:
            self.json({key: list(items)})
        else:
            self.table(title, columns, (row(item) for item in items))

    def note(self, text: str) -> None:
        """A line for people (not printed with --json)."""
        if not self.as_json:
            self.console.print(text)


# -- renderers for people ----------------------------------------------------


def account_fields(a: res.Account) -> list[tuple[str, Any]]:
    return [("id", a.id), ("name", a.name), ("plan", a.plan), ("start_date", a.start_date),
            ("time_zone", a.time_zone), ("floor_date", f"{a.floor_date} ({a.floor_reason})"),
            ("daily_pull_hour", a.daily_pull_hour),
            ("stores", f"{a.stores_connected} of {a.max_stores or 'unlimited'}"),
            ("created_at", when(a, "created_at"))]


def store_row(s: res.Store) -> list[Any]:
    last = f"{s.last_pull.id} {pull_state(s.last_pull)}" if s.HasField("last_pull") else ""
    return [s.id, s.channel, s.name, s.external_shop_id,
            enum_word(res.StoreState, s.state, "STORE_STATE"), last,
            when(s, "next_automatic_pull_at"), "; ".join(s.warnings) or s.last_error]


STORE_COLUMNS = ("id", "channel", "name", "shop", "state", "last pull", "next automatic", "notes")
PULL_COLUMNS = ("id", "kind", "state", "window", "records", "requests", "created", "error")


def pull_row(p: res.PullJob) -> list[Any]:
    window = f"{p.start_date}..{p.end_date}" if p.start_date else (
        f"{when(p, 'window_start')[:10]}..{when(p, 'window_end')[:10]}")
    return [p.id, enum_word(res.PullKind, p.kind, "PULL_KIND") + (" (dry run)" if p.dry_run else ""),
            pull_state(p), window, p.progress.records_done, p.requests_made,
            when(p, "created_at"), p.error]


def counts_rows(p: res.PullJob) -> list[tuple[str, int]]:
    return [(f.name, getattr(p.counts, f.name)) for f in p.counts.DESCRIPTOR.fields]


def order_row(o: res.Order) -> list[Any]:
    return [o.id, o.store_id or "local", o.order_number, enum_word(res.OrderStatus, o.status, "ORDER_STATUS"),
            when(o, "placed_at"), money(o.total), money(o.refunded), "yes" if o.locally_edited else ""]


ORDER_COLUMNS = ("id", "store", "number", "status", "placed", "total", "refunded", "edited")


def fee_row(f: res.Fee) -> list[Any]:
    return [f.id, f.store_id, enum_word(res.FeeKind, f.kind, "FEE_KIND"), f.channel_kind,
            money(f.amount), when(f, "occurred_at"), f.order_id, f.product_id]


FEE_COLUMNS = ("id", "store", "kind", "channel kind", "amount", "occurred", "order", "product")


def product_row(p: res.Product) -> list[Any]:
    return [p.id, p.sku, p.title, enum_word(res.ProductOrigin, p.created_by, "PRODUCT_ORIGIN"),
            len(p.listings), when(p, "created_at")]


PRODUCT_COLUMNS = ("id", "sku", "title", "created by", "listings", "created")


def listing_row(li: res.Listing) -> list[Any]:
    return [li.id, li.store_id, li.external_id, li.external_variation_id, li.sku, li.title,
            li.product_id, enum_word(res.MatchedBy, li.matched_by, "MATCHED_BY")]


LISTING_COLUMNS = ("id", "store", "external id", "variation", "sku", "title", "product", "matched by")
