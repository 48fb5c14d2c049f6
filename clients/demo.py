"""``make demo``: the daemon on SQLite, three simulated shops, real pulls, a summary.

Starts Etsy, Shopify and Amazon simulators on loopback (one shared maker
catalogue, so SKUs and titles match across them), starts ``makersyncd`` on a
fresh data directory under ``.demo/``, connects one store of each channel to a
demo account, shows each initial pull with a live progress bar, prints what
reached the books, then runs one manual pull and lets an automatic pull find a
refund that Etsy hides from its modified time. Everything stops cleanly; the
books stay in ``.demo/data`` for the command line.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from makersync.clients.client import MakersyncClient
from makersync.plugins.manager import load_channels
from makersync.plugins.simulate import SimServer
from makersync.v1 import resources_pb2 as res

DEMO_DIR = Path(".demo")
SPEED = 5.0
SHOPS = (("etsy", 101, 500), ("shopify", 202, 450), ("amazon", 303, 350))
DAYS = 120
TIME_ZONE = "America/New_York"
FINAL = {res.PULL_STATE_SUCCEEDED, res.PULL_STATE_FAILED, res.PULL_STATE_CANCELLED}

console = Console()


def start_simulators() -> dict[str, tuple[SimServer, object]]:
    registry = load_channels()
    servers = {}
    for channel, seed, orders in SHOPS:
        sim = registry.get(channel).simulator_class.create(  # type: ignore[attr-defined]
            seed=seed, orders=orders, days=DAYS, speed=SPEED)
        servers[channel] = (SimServer(sim).start(), sim)
    return servers


def write_config(servers: dict[str, tuple[SimServer, object]], root: Path) -> Path:
    lines = ["# written by make demo: the daemon pointed at local simulated shops", "",
             "[scheduler]", "workers = 3", "poll_s = 0.2", ""]
    for channel, (server, sim) in servers.items():
        lines.append(f"[channels.{channel}]")
        for key, value in sim.config_section(server.base_url).items():  # type: ignore[attr-defined]
            lines.append(f"{key} = {value!r}".replace("'", '"') if isinstance(value, str) else f"{key} = {value}")
        lines.append("")
    path = root / "makersync.toml"
    path.write_text("\n".join(lines))
    return path


def start_daemon(config: Path, root: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "MAKERSYNC_LOG_FORMAT": "json"}
    log = (root / "makersyncd.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "makersync.daemon.main", "--config", str(config), "--data-dir",
         str(root / "data"), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()
    if "listening on" not in first:
        proc.kill()
        raise SystemExit(f"makersyncd did not start; see {root / 'makersyncd.log'}")
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    return proc, first.rsplit(" ", 1)[-1]


def watch(ms: MakersyncClient, pulls: dict[str, str]) -> dict[str, res.PullJob]:
    """Live progress bars, one per pull, fed by WatchPull; returns the final snapshots."""
    final: dict[str, res.PullJob] = {}
    columns = (TextColumn("{task.description:<28}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[detail]}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        tasks = {pid: progress.add_task(label, total=None, detail="queued") for label, pid in pulls.items()}

        def follow(label: str, pid: str) -> None:
            for job in ms.watch_pull(pid, timeout_s=600):
                p = job.progress
                total = max(p.estimated_records_total, p.records_done) or None
                progress.update(tasks[pid], completed=p.records_done, total=total,
                                detail=f"{p.stage or 'starting'}: {p.records_done} records, "
                                       f"{job.requests_made} requests")
                if job.state in FINAL:
                    final[label] = job
                    progress.update(tasks[pid], total=p.records_done or 1, completed=p.records_done or 1,
                                    detail=f"{res.PullState.Name(job.state)[11:].lower()}: {p.records_done} "
                                           f"records, {job.requests_made} requests")
                    return

        threads = [threading.Thread(target=follow, args=item) for item in pulls.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return final


def summary(ms: MakersyncClient, account_id: str, jobs: dict[str, res.PullJob]) -> dict[str, dict[str, object]]:
    orders = list(ms.iter_orders(account_id))
    stores = {s.store_id: s.channel for s in ms.get_status(account_id).stores}
    figures: dict[str, dict[str, object]] = {}
    table = Table(title="What reached the books", show_lines=False)
    for col in ("channel", "orders", "lines", "refunds", "refunded", "cancelled", "requests", "429s"):
        table.add_column(col, justify="right" if col != "channel" else "left")
    for label, job in jobs.items():
        mine = [o for o in orders if stores.get(o.store_id) == job.channel]
        refunds = sum(len(o.refunds) for o in mine)
        refunded = sum((Decimal(o.refunded.amount or "0") for o in mine), Decimal(0))
        cancelled = sum(1 for o in mine if o.status == res.ORDER_STATUS_CANCELLED)
        figures[job.channel] = {"orders": len(mine), "refunded": refunded, "requests": job.requests_made,
                                "lines": sum(len(o.lines) for o in mine)}
        table.add_row(label, str(len(mine)), str(sum(len(o.lines) for o in mine)), str(refunds),
                      f"{refunded:.2f}", str(cancelled), str(job.requests_made), str(job.throttled_responses))
    console.print(table)

    matched: Counter[str] = Counter()
    products = list(ms.iter_products(account_id))
    for product in products:
        for listing in product.listings:
            matched[res.MatchedBy.Name(listing.matched_by)[11:].lower()] += 1
    shared = sum(1 for p in products if len({stores.get(li.store_id) for li in p.listings}) > 1)
    ptable = Table(title=f"Products: {len(products)} ({shared} sold on more than one channel)")
    for col in ("listings matched by", "count"):
        ptable.add_column(col)
    for how in ("sku", "title", "created", "moved"):
        ptable.add_row(how, str(matched.get(how, 0)))
    console.print(ptable)

    by_kind: dict[str, Decimal] = {}
    counts: Counter[str] = Counter()
    for fee in ms.iter_fees(account_id):
        kind = res.FeeKind.Name(fee.kind)[9:].lower()
        by_kind[kind] = by_kind.get(kind, Decimal(0)) + Decimal(fee.amount.amount)
        counts[kind] += 1
    ftable = Table(title="Fees (the maker's expenses)")
    for col in ("kind", "count", "amount"):
        ftable.add_column(col, justify="right" if col != "kind" else "left")
    for kind in sorted(by_kind):
        ftable.add_row(kind, str(counts[kind]), f"{by_kind[kind]:.2f}")
    console.print(ftable)
    figures["_fees"] = {"total": sum(by_kind.values(), Decimal(0)), "count": sum(counts.values())}
    figures["_products"] = {"count": len(products), "shared": shared, **matched}
    return figures


def main() -> int:
    run(DEMO_DIR)
    return 0


def run(root: Path) -> dict[str, object]:
    """The whole demo with its data under ``root`` (wiped first); returns the
    figures it showed and the simulators, for tests to check against their truth."""
    started = time.monotonic()
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    result: dict[str, object] = {}
    console.rule("[bold]makersync demo")
    servers = start_simulators()
    for channel, (server, _sim) in servers.items():
        console.print(f"simulated {channel:<8} shop at {server.base_url} (limits x{SPEED:g})")
    proc, address = start_daemon(write_config(servers, root), root)
    console.print(f"makersyncd on {address}, books in {root / 'data'}")
    try:
        with MakersyncClient(address) as ms:
            local_today = datetime.now(ZoneInfo(TIME_ZONE)).date()
            today = local_today.isoformat()
            start = (local_today - timedelta(days=365)).isoformat()
            account = ms.create_account("Willow & Clay Studio", "business", start, TIME_ZONE)
            console.print(f"account {account.id}: plan business, floor {account.floor_date}")
            stores, pulls = {}, {}
            for channel, (_server, sim) in servers.items():
                store = ms.connect(account.id, channel, sim.credentials(), f"Willow & Clay on {channel}")  # type: ignore[attr-defined]
                stores[channel] = store
                pulls[channel] = store.initial_pull_id
                for warning in store.warnings:
                    console.print(f"  [yellow]{channel}: {warning}")
            jobs = watch(ms, pulls)
            result["figures"] = summary(ms, account.id, jobs)
            result["initial_states"] = {k: res.PullState.Name(v.state) for k, v in jobs.items()}

            week_ago = (local_today - timedelta(days=6)).isoformat()
            manual = ms.pull(stores["shopify"].id, week_ago, today)
            done = watch(ms, {"shopify: manual pull, 7 days": manual.id})
            c = done["shopify: manual pull, 7 days"].counts
            result["manual_counts"] = c
            console.print(f"manual pull: {c.orders_unchanged} orders unchanged, {c.orders_updated} updated, "
                          f"{c.orders_created} created (the same pull twice changes nothing, R14)")

            etsy_server, etsy_sim = servers["etsy"]
            target = next(o for o in ms.iter_orders(account.id, store_id=stores["etsy"].id)
                          if o.status == res.ORDER_STATUS_SHIPPED and not o.refunds)
            httpx.post(f"{etsy_server.base_url}/_sim/change",
                       json={"action": "refund", "order": target.external_id, "amount": "7.50"}).raise_for_status()
            console.print(f"Etsy refunded 7.50 on receipt {target.external_id} "
                          "(Etsy leaves the receipt's modified time alone)")
            auto = ms.sync_store(stores["etsy"].id)
            watch(ms, {"etsy: automatic pull": auto.id})
            after = ms.get_order(target.id)
            result["refund_found"] = (target.refunded.amount, after.refunded.amount)
            # the simulated shops stop with the demo: a daemon started later on these books
            # must not keep pulling them on the schedule
            for channel in servers:
                ms.configure(account.id, channel, automatic_updates=False)
            console.print(f"the automatic pull found it: order {after.order_number} now refunded "
                          f"{after.refunded.amount} {after.currency} (R5)")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        for server, _sim in servers.values():
            server.stop()
    console.rule()
    console.print(f"done in {time.monotonic() - started:.0f} s; daemon and shops stopped cleanly.")
    console.print(f"The books stay in {root / 'data'}. Explore them with:\n"
                  f"  .venv/bin/makersyncd --data-dir {root / 'data'} &\n"
                  "  .venv/bin/makersync orders 1\n  .venv/bin/makersync products 1\n  .venv/bin/makersync fees 1")
    result["sims"] = {channel: sim for channel, (_server, sim) in servers.items()}
    result["daemon_exit"] = proc.returncode
    result["seconds"] = time.monotonic() - started
    return result


if __name__ == "__main__":
    sys.exit(main())
