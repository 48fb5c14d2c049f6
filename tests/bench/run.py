"""Run the benchmarks (QUALITY P1-P7), print a table and write ``bench-results.json``.

::

    python -m tests.bench.run [--only P1,P6] [--quick] [--out bench-results.json]

Each figure comes with the baseline measured in the same run and their ratio,
because the machines are shared and noisy. ``--quick`` runs smaller sizes
(a smoke test of the benchmarks themselves, not figures to quote). A
benchmark that fails is reported as such; the others still run. The exit
status is 0 whether or not targets are met (this is a measurement).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tests.bench.common import Figure, Result, Skipped, fmt, load_average

BENCHMARKS: tuple[tuple[str, str], ...] = (
    ("P1", "tests.bench.p1_ingest"),
    ("P2", "tests.bench.p2_pacing"),  # P2 and P3
    ("P4", "tests.bench.p4_requests"),
    ("P5", "tests.bench.p5_memory"),
    ("P6", "tests.bench.p6_grpc"),
    ("P7", "tests.bench.p7_scheduler"),
)
DEFAULT_OUT = "bench-results.json"


def run_all(only: set[str], quick: bool, console: Console) -> tuple[list[Result], dict[str, float]]:
    results: list[Result] = []
    seconds: dict[str, float] = {}
    for key, module in BENCHMARKS:
        if only and key not in only and not (key == "P2" and "P3" in only):
            continue
        console.print(f"[bold]{key}[/bold] {module} ...", highlight=False)
        started = time.perf_counter()
        try:
            results.extend(importlib.import_module(module).run(quick=quick))
        except Exception as exc:  # one broken benchmark must not hide the others
            results.append(Skipped(key, module.rsplit(".", 1)[-1], f"failed: {type(exc).__name__}: {exc}"))
            console.print(traceback.format_exc(), style="red", highlight=False)
        seconds[key] = round(time.perf_counter() - started, 1)
        console.print(f"    {seconds[key]:.0f} s", highlight=False)
    return results, seconds


def table(results: Sequence[Result]) -> Table:
    out = Table(title="makersync benchmarks (QUALITY.md P1-P7)", show_lines=False)
    for name, justify in (("#", "left"), ("figure", "left"), ("value", "right"), ("baseline", "right"),
                          ("ratio", "right"), ("target", "left"), ("met", "center"), ("note", "left")):
        out.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in results:
        if isinstance(r, Skipped):
            out.add_row(r.key, r.name, "-", "-", "-", "-", "[yellow]skipped[/yellow]", r.reason)
            continue
        met = {True: "[green]yes[/green]", False: "[red]no[/red]", None: "-"}[r.met]
        baseline = f"{fmt(r.baseline)} ({r.baseline_name})" if r.baseline is not None else "-"
        out.add_row(r.key, r.name, f"{fmt(r.value)} {r.unit}", baseline, fmt(r.ratio), r.target or "-", met, r.note)
    return out


def write_json(path: Path, results: Sequence[Result], seconds: dict[str, float], quick: bool,
               started: datetime, load_before: float) -> None:
    doc: dict[str, Any] = {
        "started_at": started.isoformat(),
        "seconds": round(sum(seconds.values()), 1),
        "seconds_by_benchmark": seconds,
        "quick": quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_before": load_before, "load_average_after": load_average()},
        "figures": [r.to_json() for r in results],
    }
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated benchmark keys, e.g. P1,P6")
    parser.add_argument("--quick", action="store_true", help="smaller sizes: check the benchmarks run")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"where to write the JSON (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    console = Console(width=max(Console().width, 160))
    only = {k.strip().upper() for k in args.only.split(",") if k.strip()}
    started, load_before = datetime.now(UTC), load_average()
    results, seconds = run_all(only, args.quick, console)
    console.print(table(results))
    met = [r for r in results if isinstance(r, Figure) and r.met is not None]
    console.print(f"{sum(1 for r in met if r.met)} of {len(met)} targets met; "
                  f"{sum(1 for r in results if isinstance(r, Skipped))} skipped; {sum(seconds.values()):.0f} s; "
                  f"load average {load_before:.1f} -> {load_average():.1f} on {os.cpu_count()} CPUs", highlight=False)
    write_json(Path(args.out), results, seconds, args.quick, started, load_before)
    console.print(f"wrote {args.out}", highlight=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
