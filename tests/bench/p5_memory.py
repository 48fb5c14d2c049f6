"""P5: peak memory of a backfill does not grow with the shop.

Two backfills, ``SMALL`` and ``LARGE`` orders, each in a process of its own
(the daemon's side only: the Etsy simulator runs in a third process,
``makersync-sim``, over loopback HTTP with no rate limit, so its shop does
not count). Each worker builds the daemon (SQLite, the real clock), connects
the store and runs the initial pull of listings and orders in its own
thread, then reports ``ru_maxrss``. The figure is the large backfill's peak
RSS; the baseline is the small one's (target: at most 1.2 times, and under
250 MB).

Fees are left out: the Etsy simulator renders its whole ledger for every
ledger page, so a 100,000-order fee stream costs the simulator minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.bench.common import Figure, Result, Skipped, channel_ready, quiet

SMALL, LARGE = 10_000, 100_000
QUICK_SMALL, QUICK_LARGE = 2_000, 20_000
DAYS = 300
TARGET_RATIO = 1.2
TARGET_MB = 250.0
CHANNEL = "etsy"
SIM_START_TIMEOUT_S = 300.0
WORKER_TIMEOUT_S = 420.0
TRAMPOLINE = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
"""Workers start from this small process, not from the benchmark's: on Linux
a process's ``ru_maxrss`` starts at the size of the process it was forked
from (the kernel keeps the old image's high-water mark across ``exec``), and
the benchmark runner holds a few hundred MB by the time P5 runs."""


def _start_sim(orders: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "makersync.plugins.sim_cli", CHANNEL, "--orders", str(orders), "--days", str(DAYS),
         "--speed", "1e9", "--seed", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError(f"the simulator did not start: {proc.stderr.read() if proc.stderr else ''}")
    return proc, json.loads(line)


def worker(announcement: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """The daemon's side of one backfill (run in its own process)."""
    import threading

    from makersync.daemon.app import build_app
    from makersync.daemon.config import Config
    from makersync.daemon.domain import accounts as dom_accounts
    from makersync.daemon.store import leases
    from makersync.daemon.store.models import OrderRow
    from makersync.plugins.manager import load_channels
    from tests.bench.common import without_fees

    quiet()
    registry = load_channels()
    without_fees(registry, CHANNEL)
    config = Config(data_dir=data_dir, database_url="", channels=announcement["config"]["channels"])
    app = build_app(config, registry=registry)
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start_date = (datetime.now(UTC) - timedelta(days=DAYS + 30)).date().isoformat()
    account = dom_accounts.create_account(app.db, app.clock, app.plans, "Bench", "business", start_date, "UTC").id
    app.connect(account, CHANNEL, announcement["credentials"], "")
    started = time.monotonic()
    states = []
    while True:
        claim = leases.claim_next(app.db, app.engine.settings.owner, app.clock.now(), app.engine.settings.lease_s)
        if claim is None:
            break
        states.append(app.engine.run(claim, threading.Event()))
    seconds = time.monotonic() - started
    stored = OrderRow.select().count()
    app.shutdown(1.0)
    return {"states": states, "orders_stored": stored, "seconds": round(seconds, 2),
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "before_pull_kb": before_kb,
            "vm_hwm_kb": _vm_hwm_kb()}


def _vm_hwm_kb() -> int:
    """The kernel's own peak RSS of this process image (a cross-check of ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def _backfill(orders: int) -> dict[str, Any]:
    sim, announcement = _start_sim(orders)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-p5-") as tmp:
            done = subprocess.run(
                [sys.executable, "-S", "-c", TRAMPOLINE,
                 sys.executable, "-m", "tests.bench.p5_memory", "--worker", json.dumps(announcement), tmp],
                capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, cwd=Path(__file__).parents[2])
            if done.returncode != 0:
                raise RuntimeError(f"worker failed: {done.stderr[-2000:]}")
            result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        sim.terminate()
        sim.wait(10)
    if result["states"] != ["succeeded"]:
        raise RuntimeError(f"the backfill ended {result['states']}")
    return result


def run(quick: bool = False) -> list[Result]:
    why = channel_ready(CHANNEL)
    if why:
        return [Skipped("P5", "backfill memory", why)]
    small_n, large_n = (QUICK_SMALL, QUICK_LARGE) if quick else (SMALL, LARGE)
    small, large = _backfill(small_n), _backfill(large_n)
    small_mb, large_mb = small["maxrss_kb"] / 1024, large["maxrss_kb"] / 1024
    ratio = large_mb / small_mb
    return [Figure(
        "P5", f"{CHANNEL} {large_n:,}-order backfill, peak RSS", large_mb, "MB", baseline=small_mb,
        baseline_name=f"{small_n:,}-order backfill", ratio=ratio,
        target=f"<= {TARGET_RATIO}x and < {TARGET_MB:.0f} MB", met=ratio <= TARGET_RATIO and large_mb < TARGET_MB,
        note=(f"{large['orders_stored']:,} orders in {large['seconds']:.0f} s, {small['orders_stored']:,} in "
              f"{small['seconds']:.0f} s; RSS before the pull {large['before_pull_kb'] / 1024:.0f} MB"),
        detail={"small": small, "large": large})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help="run one backfill's daemon side (internal)")
    parser.add_argument("data_dir", nargs="?")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker), Path(args.data_dir))))
        return
    for result in run(quick=args.quick):
        print(json.dumps(result.to_json(), default=str))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
