"""What every benchmark shares: the figure it reports, timers, quiet logs, and
a daemon over simulators on a fake clock (the test harness's ``Books``, with
the simulators' transports wrapped so a benchmark can see the traffic)."""

from __future__ import annotations

import importlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog

CHANNELS = ("etsy", "shopify", "amazon")
UNLIMITED_SPEED = 1e9
"""A simulator's allowance times this: no rate limit (P1, P5)."""


@dataclass
class Figure:
    """One line of the results: a measured value, the baseline measured in
    the same run, their ratio, the target and whether it is met (None: the
    line is informational)."""

    key: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    ratio: float | None = None
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline:
            self.ratio = self.value / self.baseline

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Skipped:
    """A figure not measured, and why."""

    key: str
    name: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "skipped": True}


Result = Figure | Skipped


@dataclass
class Clocked:
    """Wall and process CPU seconds of a block (CPU is what the noisy,
    shared machine disturbs least; both are kept)."""

    wall_s: float = 0.0
    cpu_s: float = 0.0


@contextmanager
def clocked() -> Iterator[Clocked]:
    out = Clocked()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield out
    finally:
        out.wall_s = time.perf_counter() - wall
        out.cpu_s = time.process_time() - cpu


def quiet() -> None:
    """Keep the daemon's info lines (one per pull) out of the benchmark's output."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    logging.getLogger().setLevel(logging.ERROR)


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def channel_ready(name: str) -> str:
    """'' when the channel's package imports and registers a simulator, else why not."""
    try:
        importlib.import_module(f"makersync.plugins.{name}")
        from makersync.plugins.manager import load_channels

        cls = load_channels().get(name)
    except Exception as exc:  # a half-finished plugin: say why and skip it
        return f"plugins/{name} does not load yet ({type(exc).__name__}: {str(exc)[:120]})"
    if getattr(cls, "simulator_class", None) is None:
        return f"plugins/{name} has no simulator_class yet"
    return ""


def without_fees(registry: Any, name: str) -> None:
    """Replace ``name``'s channel with a subclass that pulls no fees (the
    order figures time the listing and order streams only)."""
    cls = registry.get(name)
    pulls = tuple(s for s in cls.pulls if s != "fees")
    registry.channels[name] = type(f"{cls.__name__}NoFees", (cls,), {"pulls": pulls})


class Traffic:
    """Response bodies a simulator served while ``recording`` (P1's floor)."""

    def __init__(self) -> None:
        self.recording = False
        self.bodies: list[bytes] = []

    def wrap(self, sim: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            response = sim(request)
            if self.recording:
                self.bodies.append(response.content)
            return response
        return httpx.MockTransport(handle)


def books(tmp: Path, *, clock: Any = None, registry: Any = None, sims: dict[str, Any] | None = None,
          traffic: Traffic | None = None) -> Any:
    """A started ``Books`` (tests/harness.py) on ``tmp``, sharing ``clock``,
    ``registry`` and ready-made ``sims`` when given."""
    from makersync.daemon.app import build_app
    from makersync.daemon.config import Config
    from tests.harness import SIM_URL, Books

    b = Books(tmp)
    if clock is not None:
        b.clock = clock
    if registry is not None:
        b.registry = registry
    b.sims.update(sims or {})
    config = Config(data_dir=tmp / "data", database_url="",
                    channels={name: sim.config_section(SIM_URL) for name, sim in b.sims.items()})
    transports = {name: (traffic.wrap(sim) if traffic else sim.transport()) for name, sim in b.sims.items()}
    b.app = build_app(config, clock=b.clock, registry=b.registry, transports=transports)
    return b


@contextmanager
def stream_timer(app: Any, stream: str, on_page: Callable[[Any], None] | None = None,
                 traffic: Traffic | None = None) -> Iterator[Clocked]:
    """Time ``stream`` of the pulls run inside the block: from the engine's
    first request for it to the commit of its last page."""
    engine = app.engine
    original = engine._iterate
    total = Clocked()

    def timed(channel: Any, name: str, window: Any, cursor: Any) -> Iterator[Any]:
        pages = original(channel, name, window, cursor)
        if name != stream:
            yield from pages
            return
        if traffic is not None:
            traffic.recording = True
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            for page in pages:
                if on_page is not None:
                    on_page(page)
                yield page
        finally:
            total.wall_s += time.perf_counter() - wall
            total.cpu_s += time.process_time() - cpu
            if traffic is not None:
                traffic.recording = False

    engine._iterate = timed
    try:
        yield total
    finally:
        engine._iterate = original


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    if value != value:  # nan
        return "nan"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"
