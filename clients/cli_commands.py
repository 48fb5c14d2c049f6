"""The ``makersync`` subcommands: each calls the client and shows the reply.

Each handler takes the client, the parsed arguments and the Output, and
returns the exit code (errors from the daemon propagate as MakersyncError and
are turned into one line and an exit code by :mod:`makersync.clients.cli`).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from makersync.clients import cli_output as view
from makersync.clients.cli_live import follow_pull, show_status
from makersync.clients.cli_output import Output, money, when
from makersync.clients.client import MakersyncClient
from makersync.clients.export import OutputFolderError, export_account
from makersync.v1 import resources_pb2 as res

EXIT_OK, EXIT_PULL_FAILED = 0, 1

Args = argparse.Namespace


class UsageError(Exception):
    """A command-line value the daemon never needs to see is wrong (exit 2)."""


def _account(out: Output, a: res.Account) -> None:
    out.emit(a, lambda m: out.fields(f"account {m.id}", view.account_fields(m)))


def accounts_create(c: MakersyncClient, a: Args, out: Output) -> int:
    _account(out, c.create_account(a.name, a.plan, a.start_date, a.time_zone, a.daily_pull_hour))
    return EXIT_OK


def accounts_get(c: MakersyncClient, a: Args, out: Output) -> int:
    _account(out, c.get_account(a.account))
    return EXIT_OK


def accounts_update(c: MakersyncClient, a: Args, out: Output) -> int:
    _account(out, c.update_account(a.account, plan=a.plan, start_date=a.start_date,
                                   time_zone=a.time_zone, daily_pull_hour=a.daily_pull_hour))
    return EXIT_OK


def accounts_list(c: MakersyncClient, a: Args, out: Output) -> int:
    out.items("accounts", list(c.iter_pages(c.list_accounts, "accounts")), "accounts",
              ("id", "name", "plan", "start", "time zone", "floor", "stores"),
              lambda x: [x.id, x.name, x.plan, x.start_date, x.time_zone, x.floor_date,
                         f"{x.stores_connected}/{x.max_stores or '∞'}"])
    return EXIT_OK


def locations_create(c: MakersyncClient, a: Args, out: Output) -> int:
    loc = c.create_location(a.account, a.name)
    out.emit(loc, lambda m: out.fields(f"location {m.id}", [("id", m.id), ("name", m.name)]))
    return EXIT_OK


def locations_list(c: MakersyncClient, a: Args, out: Output) -> int:
    out.items("locations", list(c.iter_pages(c.list_locations, "locations", a.account)), "locations",
              ("id", "name", "created"), lambda x: [x.id, x.name, when(x, "created_at")])
    return EXIT_OK


def channels(c: MakersyncClient, a: Args, out: Output) -> int:
    reply = c.list_channels()
    if out.as_json:
        out.json(reply)
        return EXIT_OK
    out.table("channels", ("name", "display name", "version", "pulls", "lookback", "credentials"), (
        [ch.name, ch.display_name, ch.version, ", ".join(ch.pulls), ch.max_lookback_days or "",
         ", ".join(f.name + ("" if f.required else "?") for f in ch.credential_fields)]
        for ch in reply.channels))
    return EXIT_OK


def parse_credentials(pairs: list[str]) -> dict[str, str]:
    """``k=v`` pairs; ``k=@FILE`` reads the value from a file (keeps secrets out of ``ps``)."""
    creds: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--cred: expected NAME=VALUE or NAME=@FILE, got {pair.split('=')[0]!r}")
        if value.startswith("@"):
            try:
                value = Path(value[1:]).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise UsageError(f"--cred {name}: cannot read {value[1:]}: {exc.strerror or exc}") from None
            except UnicodeDecodeError:
                raise UsageError(f"--cred {name}: {value[1:]} is not UTF-8 text") from None
        creds[name] = value
    return creds


def _store(out: Output, s: res.Store) -> None:
    out.emit(s, lambda m: out.table(f"store {m.id}", view.STORE_COLUMNS, [view.store_row(m)]))


def connect(c: MakersyncClient, a: Args, out: Output) -> int:
    store = c.connect(a.account, a.channel, parse_credentials(a.cred or []), a.name or "")
    _store(out, store)
    if store.initial_pull_id:
        out.note(f"initial pull {store.initial_pull_id} queued; follow it with: makersync watch "
                 f"{store.initial_pull_id}")
    return EXIT_OK


def disconnect(c: MakersyncClient, a: Args, out: Output) -> int:
    reply = c.disconnect(a.store)
    out.emit(reply, lambda m: out.fields(f"disconnected store {m.store_id}", [
        (f.name, getattr(m, f.name)) for f in m.DESCRIPTOR.fields if f.name != "store_id"]))
    return EXIT_OK


def _on_off(value: str | None) -> bool | None:
    return None if value is None else value == "on"


def configure(c: MakersyncClient, a: Args, out: Output) -> int:
    integ = c.configure(a.account, a.channel, automatic_updates=_on_off(a.automatic_updates),
                        automatic_shipped_date=_on_off(a.automatic_shipped_date),
                        default_location_id=a.default_location)
    out.emit(integ, lambda m: out.fields(f"integration {m.id}", [
        ("channel", m.channel), ("automatic_updates", m.automatic_updates),
        ("automatic_shipped_date", m.automatic_shipped_date),
        ("default_location_id", m.default_location_id or "none"), ("stores", len(m.stores))]))
    return EXIT_OK


def integrations(c: MakersyncClient, a: Args, out: Output) -> int:
    items = list(c.iter_pages(c.list_integrations, "integrations", a.account))
    if out.as_json:
        out.json({"integrations": items})
        return EXIT_OK
    for i in items:
        title = (f"{i.channel} (integration {i.id}): automatic updates "
                 f"{'on' if i.automatic_updates else 'off'}, automatic shipped date "
                 f"{'on' if i.automatic_shipped_date else 'off'}, default location "
                 f"{i.default_location_id or 'none'}")
        out.table(title, view.STORE_COLUMNS, (view.store_row(s) for s in i.stores))
    if not items:
        out.note("no integrations yet: connect a store with `makersync connect`")
    return EXIT_OK


def store(c: MakersyncClient, a: Args, out: Output) -> int:
    _store(out, c.get_store(a.store))
    return EXIT_OK


def _finish_pull(job: res.PullJob, out: Output) -> int:
    def render(m: res.PullJob) -> None:
        out.table(f"pull {m.id}", view.PULL_COLUMNS, [view.pull_row(m)])
        out.table("counts", ("what", "count"), view.counts_rows(m))

    out.emit(job, render)
    state = view.pull_state(job)
    if state == "succeeded":
        return EXIT_OK
    out.err.print(f"error: pull {job.id} {state}" + (f": {job.error}" if job.error else ""))
    return EXIT_PULL_FAILED


def pull(c: MakersyncClient, a: Args, out: Output) -> int:
    job = c.pull(a.store, a.start_date, a.end_date, a.dry_run)
    if a.no_wait:
        out.emit(job, lambda m: out.table(f"pull {m.id}", view.PULL_COLUMNS, [view.pull_row(m)]))
        return EXIT_OK
    return _finish_pull(follow_pull(c, job.id, out), out)


def sync(c: MakersyncClient, a: Args, out: Output) -> int:
    job = c.sync_store(a.store)
    if a.no_wait:
        out.emit(job, lambda m: out.table(f"pull {m.id}", view.PULL_COLUMNS, [view.pull_row(m)]))
        return EXIT_OK
    return _finish_pull(follow_pull(c, job.id, out), out)


def watch(c: MakersyncClient, a: Args, out: Output) -> int:
    return _finish_pull(follow_pull(c, a.pull, out), out)


def pulls(c: MakersyncClient, a: Args, out: Output) -> int:
    items = _limited(c, c.list_pulls, "pulls", a.limit, a.store)
    out.items("pulls", items, f"pulls of store {a.store}", view.PULL_COLUMNS, view.pull_row)
    return EXIT_OK


def status(c: MakersyncClient, a: Args, out: Output) -> int:
    show_status(c, a.account or "", out, watch=a.watch, count=a.count)
    return EXIT_OK


def _limited(c: MakersyncClient, method: Any, field: str, limit: int, *args: Any, **kw: Any) -> list[Any]:
    items = []
    for item in c.iter_pages(method, field, *args, page_size=min(limit, 1000) if limit else 1000, **kw):
        items.append(item)
        if limit and len(items) >= limit:
            break
    return items


def orders(c: MakersyncClient, a: Args, out: Output) -> int:
    items = _limited(c, c.list_orders, "orders", a.limit, a.account, store_id=a.store or "",
                     placed_from=a.start_date or "", placed_to=a.end_date or "")
    out.items("orders", items, f"orders of account {a.account}", view.ORDER_COLUMNS, view.order_row)
    return EXIT_OK


def _order(out: Output, o: res.Order) -> None:
    def render(m: res.Order) -> None:
        out.table(f"order {m.id}", view.ORDER_COLUMNS, [view.order_row(m)])
        out.table("lines", ("sku", "title", "qty", "unit price", "product"),
                  ([li.sku, li.title, li.quantity, money(li.unit_price), li.product_id] for li in m.lines))

    out.emit(o, render)


def order_get(c: MakersyncClient, a: Args, out: Output) -> int:
    _order(out, c.get_order(a.order))
    return EXIT_OK


def order_edit(c: MakersyncClient, a: Args, out: Output) -> int:
    status_number = None
    if a.status is not None:
        status_number = res.OrderStatus.Value("ORDER_STATUS_" + a.status.upper())
    shipped = None
    if a.shipped_at is not None:
        try:
            shipped = datetime.fromisoformat(a.shipped_at.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--shipped-at: expected an ISO 8601 time, got {a.shipped_at!r}") from None
    _order(out, c.update_order(a.order, status=status_number, shipped_at=shipped,
                               clear_shipped_at=a.clear_shipped_at, location_id=a.location, note=a.note))
    return EXIT_OK


def order_copy(c: MakersyncClient, a: Args, out: Output) -> int:
    _order(out, c.copy_order(a.order))
    return EXIT_OK


def _deleted(out: Output, what: str, ident: str) -> int:
    if out.as_json:
        out.json({"deleted": what, "id": ident})
    else:
        out.note(f"deleted {what} {ident}")
    return EXIT_OK


def order_delete(c: MakersyncClient, a: Args, out: Output) -> int:
    c.delete_order(a.order)
    return _deleted(out, "order", a.order)


def products(c: MakersyncClient, a: Args, out: Output) -> int:
    items = _limited(c, c.list_products, "products", a.limit, a.account)
    out.items("products", items, f"products of account {a.account}", view.PRODUCT_COLUMNS, view.product_row)
    return EXIT_OK


def _product(out: Output, p: res.Product) -> None:
    def render(m: res.Product) -> None:
        out.table(f"product {m.id}", view.PRODUCT_COLUMNS, [view.product_row(m)])
        out.table("listings", view.LISTING_COLUMNS, (view.listing_row(li) for li in m.listings))

    out.emit(p, render)


def product_create(c: MakersyncClient, a: Args, out: Output) -> int:
    _product(out, c.create_product(a.account, a.title, a.sku or ""))
    return EXIT_OK


def product_get(c: MakersyncClient, a: Args, out: Output) -> int:
    _product(out, c.get_product(a.product))
    return EXIT_OK


def move_listing(c: MakersyncClient, a: Args, out: Output) -> int:
    listing = c.move_listing(a.listing, a.product)
    out.emit(listing, lambda m: out.table(f"listing {m.id}", view.LISTING_COLUMNS, [view.listing_row(m)]))
    return EXIT_OK


def fees(c: MakersyncClient, a: Args, out: Output) -> int:
    items = _limited(c, c.list_fees, "fees", a.limit, a.account, store_id=a.store or "",
                     start_date=a.start_date or "", end_date=a.end_date or "")
    out.items("fees", items, f"fees of account {a.account}", view.FEE_COLUMNS, view.fee_row)
    return EXIT_OK


def fee_delete(c: MakersyncClient, a: Args, out: Output) -> int:
    c.delete_fee(a.fee)
    return _deleted(out, "fee", a.fee)


def export(c: MakersyncClient, a: Args, out: Output) -> int:
    try:
        written = export_account(c, a.account, Path(a.out),
                                 on_file=lambda name, n: out.note(f"wrote {n} rows to {Path(a.out) / name}"))
    except OutputFolderError as exc:
        raise UsageError(f"--out {a.out}: {exc}") from None
    if out.as_json:
        out.json({"out": str(Path(a.out).resolve()), "rows": written})
    return EXIT_OK


def admin_rotate_key(c: MakersyncClient, a: Args, out: Output) -> int:
    """Rotate the daemon's secret key; prints what was done, never a key."""
    from makersync.v1 import admin_pb2

    reply = c.rotate_secret_key(keep_previous_keys=a.keep_previous_keys)
    source = view.enum_word(admin_pb2.SecretKeySource, reply.key_source, "SECRET_KEY_SOURCE")
    out.emit(reply, lambda m: out.fields("secret key rotated", [
        ("stores re-encrypted", m.stores_reencrypted), ("keys from", source),
        ("new key generated", "yes" if m.new_key_generated else "no (first key of MAKERSYNC_SECRET_KEY)"),
        ("key fingerprint", m.key_fingerprint), ("keys in use", m.keys_in_use),
        ("key file", m.key_file or "-")]))
    if source == "environment":
        out.note("the keys come from MAKERSYNC_SECRET_KEY: once every daemon runs with the new key first, "
                 "remove the old key from it and restart them")
    return EXIT_OK
