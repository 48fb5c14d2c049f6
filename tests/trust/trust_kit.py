"""Wiring shared by the trust suites.

:class:`TrustBooks` is the ``Books`` harness of ``tests/harness.py`` (a daemon
App on a real database, simulators on a FakeClock, pulls run synchronously)
with each simulator behind a :class:`ChaosHandler`: a wrapper that can act
at a given request (open a forced-429 window, drop the limit), turn a
simulated stall into time passing on the fake clock (a stalled connection
costs its seconds before it fails), rewrite answers (hostile payloads) and
count what the channel answered. :meth:`TrustBooks.restart` is the daemon
process dying and starting again on the same data.

:func:`compare_books` checks the books against the simulator's ground truth
(orders by external id: total, refunded, status, shipped_at; fees by
external id: amount), each record exactly once.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from makersync.daemon.app import build_app
from makersync.daemon.config import Config
from makersync.daemon.domain import integrations as dom_integrations
from makersync.daemon.domain import pulls as dom_pulls
from makersync.daemon.store import leases
from makersync.plugins.clock import FakeClock
from makersync.plugins.simulate import SimStall, Simulator
from tests.harness import SIM_URL, START, Books

Mutator = Callable[[httpx.Request, httpx.Response], httpx.Response]


class SimulatedKill(BaseException):
    """The daemon process dies here (raised from inside a pull; a BaseException,
    so no ``except Exception`` boundary of the daemon catches it)."""


class ChaosHandler:
    """A simulator behind a wrapper that acts at chosen requests and counts answers."""

    def __init__(self, sim: Simulator, clock: Any) -> None:
        self.sim = sim
        self.clock = clock
        self.requests = 0
        self.stalls = 0
        self.stalled_s = 0.0
        self.statuses: Counter[int] = Counter()
        self.throttled_200 = 0
        self.windows_opened = 0
        self.limit_changes = 0
        self.mutated = 0
        self.actions: dict[int, list[Callable[[], None]]] = defaultdict(list)
        self.mutate: Mutator | None = None
        self.before: Callable[[httpx.Request], None] | None = None
        self.paths: Counter[str] = Counter()

    def at(self, request_no: int, action: Callable[[], None]) -> None:
        """Run ``action`` just before request number ``request_no`` (1-based, counted from now)."""
        self.actions[self.requests + request_no].append(action)

    def open_throttle_window(self, seconds: float = 60.0) -> None:
        """Every request for the next ``seconds`` of sim time is answered 429 (R1)."""
        now = self.clock.monotonic()
        self.sim.faults.throttle_windows = [*self.sim.faults.throttle_windows, (now, now + seconds)]
        self.windows_opened += 1

    def set_limit(self, scale: float) -> None:
        """The channel's allowance times ``scale`` from now on (a limit that drops mid-pull)."""
        self.sim.faults.limit_scale = scale
        self.limit_changes += 1

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.paths[self.sim.route_name(request)] += 1
        for action in self.actions.pop(self.requests, []):
            action()
        if self.before is not None:
            self.before(request)
        try:
            response = self.sim(request)
        except SimStall:
            # The connection hangs for stall_s, then fails: the client's time is spent.
            self.stalls += 1
            self.stalled_s += self.sim.faults.stall_s
            self.clock.sleep(self.sim.faults.stall_s)
            raise
        if self.mutate is not None:
            changed = self.mutate(request, response)
            if changed is not response:
                self.mutated += 1
                response = changed
        self.statuses[response.status_code] += 1
        if response.status_code == 200 and b'"THROTTLED"' in response.content[:400]:
            self.throttled_200 += 1
        return response

    @property
    def throttled(self) -> int:
        return self.statuses[429] + self.throttled_200


class HeartbeatClock(FakeClock):
    """A FakeClock that runs ``beat`` each time a third of a lease has passed:
    the runner's heartbeat thread renews a running pull's lease on real time,
    which a fake clock does not move, so the harness renews on fake time."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.beat: Callable[[], None] | None = None
        self.beat_every_s = 20.0
        self._last_beat = self.monotonic()

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        beat = self.beat
        if beat is not None and self.monotonic() - self._last_beat >= self.beat_every_s:
            self._last_beat = self.monotonic()
            beat()


class TrustBooks(Books):
    """``Books`` with every simulator behind a :class:`ChaosHandler`."""

    def __init__(self, tmp_path: Path, database_url: str = "") -> None:
        super().__init__(tmp_path, database_url)
        self.clock = HeartbeatClock(START)
        self.handlers: dict[str, ChaosHandler] = {}
        self.settings: dict[str, dict[str, Any]] = {}
        self.restarts = 0

    def start(self) -> Any:
        for name, sim in self.sims.items():
            self.handlers.setdefault(name, ChaosHandler(sim, self.clock))
        channels = {name: {**sim.config_section(SIM_URL), **self.settings.get(name, {})}
                    for name, sim in self.sims.items()}
        config = Config(data_dir=self.tmp_path / "data", database_url=self.database_url, channels=channels)
        self.app = build_app(config, clock=self.clock, registry=self.registry,
                             transports={name: httpx.MockTransport(h) for name, h in self.handlers.items()})
        return self.app

    def restart(self, after_s: float = 0.0) -> Any:
        """The daemon died (nothing of its memory survives) and starts again on the
        same database, ``after_s`` later; pulls it left running go back to the
        queue once their lease has expired, as ``PullRunner.start`` does."""
        assert self.app is not None
        lease_s = self.app.engine.settings.lease_s
        self.close()
        self.restarts += 1
        self.clock.advance(max(after_s, lease_s + 1.0))
        app = self.start()
        leases.requeue_orphans(app.db, self.clock.now())
        return app

    def run_pulls(self) -> list[str]:
        """Claim and run every queued pull in this thread, renewing each one's
        lease as time passes (as the runner's heartbeat does); their final states."""
        assert self.app is not None
        app, states = self.app, []
        owner, lease_s = app.engine.settings.owner, app.engine.settings.lease_s
        self.clock.beat_every_s = lease_s / 3
        while True:
            claim = leases.claim_next(app.db, owner, self.clock.now(), lease_s)
            if claim is None:
                return states

            def beat(c: leases.Claim = claim) -> None:
                leases.renew(app.db, c.store_id, owner, c.token, self.clock.now(), lease_s)

            self.clock.beat = beat
            try:
                states.append(app.engine.run(claim, threading.Event()))
            finally:
                self.clock.beat = None

    def pulls_of(self, store_id: str) -> list[Any]:
        assert self.app is not None
        return dom_pulls.list_pulls(self.app.db, store_id, 1000, "").items

    def after_each_page(self, action: Callable[[int], None]) -> None:
        """Call ``action(pages_committed_so_far)`` after each committed page of any
        pull (the engine bumps the pull's events after each page's commit)."""
        assert self.app is not None
        events = self.app.events
        original = events.bump
        pages = [0]

        def bump(pull_id: int) -> None:
            pages[0] += 1
            action(pages[0])
            original(pull_id)

        events.bump = bump  # type: ignore[method-assign]


HORIZON_MARGIN = timedelta(minutes=2, seconds=30)
"""How far before a pull's start the channel's data must be complete in the
books: Amazon keeps every ``...Before`` two minutes in the past."""


def truth_at(sim: Simulator, when: datetime) -> tuple[list[Any], list[Any], list[Any]]:
    """The simulator's ground truth as it stood at ``when``: Amazon's Finances
    make a transaction visible minutes to 48 hours after it posts, so what a
    pull can see depends on when it looked."""
    clock = sim.clock
    with clock._lock:  # type: ignore[attr-defined]
        saved, clock._now = clock._now, min(clock._now, when)  # type: ignore[attr-defined]
    try:
        return sim.truth()
    finally:
        with clock._lock:  # type: ignore[attr-defined]
            clock._now = saved  # type: ignore[attr-defined]


def compare_books(books: Books, account_id: str, sim: Simulator, *, fees: bool = True,
                  allow_extra: frozenset[str] = frozenset()) -> int:
    """Assert the account's books equal the simulator's ground truth, each record
    once; returns how many records were compared.

    The truth is taken at two moments: now, and just before the latest pull
    started (its horizon). Everything the channel showed at the horizon must be
    in the books, everything in the books must exist now, and each booked value
    must be what the channel said at one of the two moments. Where nothing
    changes while a pull runs (Etsy, Shopify, every pull without time passing)
    the two are the same and this is plain equality."""
    pulls = [p for store in dom_integrations.list_stores(books.app.db, account_id, 1000, "").items
             for p in dom_pulls.list_pulls(books.app.db, store.id, 1, "").items]
    started = max((p.started_at for p in pulls if p.started_at is not None), default=books.clock.now())
    early_orders, _, early_fees = truth_at(sim, started - HORIZON_MARGIN)
    now_orders, _, now_fees = sim.truth()
    booked = books.orders(account_id)
    ids = [o.external_id for o in booked]
    assert len(ids) == len(set(ids)), "an order is in the books twice"
    got = {o.external_id: (o.total, o.refunded, o.status, o.shipped_at) for o in booked}

    def order_values(orders: list[Any]) -> dict[str, tuple[Any, ...]]:
        return {o.external_id: (o.total, o.refunded, o.status.value, o.shipped_at) for o in orders}

    early, now = order_values(early_orders), order_values(now_orders)
    missing = sorted(set(early) - set(got))
    extra = sorted(set(got) - set(now) - allow_extra)
    wrong = sorted(k for k in set(got) & set(now) if got[k] not in (now[k], early.get(k)))
    assert not (missing or extra or wrong), (
        f"orders: {len(missing)} missing {missing[:5]}, {len(extra)} extra {extra[:5]}, "
        f"{len(wrong)} wrong {[(k, got[k], now[k]) for k in wrong[:3]]}")
    compared = len(got)
    if fees:
        booked_fees = books.fees(account_id)
        fee_ids = [f.external_id for f in booked_fees]
        assert len(fee_ids) == len(set(fee_ids)), "a fee is in the books twice"
        got_f = {f.external_id: f.amount for f in booked_fees}
        early_f = {f.external_id: f.amount for f in early_fees}
        now_f = {f.external_id: f.amount for f in now_fees}
        missing_f = sorted(set(early_f) - set(got_f))
        extra_f = sorted(k for k in set(got_f) - set(now_f) if not any(h in k for h in allow_extra))
        wrong_f = sorted(k for k in set(got_f) & set(now_f) if got_f[k] not in (now_f[k], early_f.get(k)))
        assert not (missing_f or extra_f or wrong_f), (
            f"fees: {len(missing_f)} missing {missing_f[:3]}, {len(extra_f)} extra {extra_f[:3]}, "
            f"{len(wrong_f)} wrong")
        compared += len(got_f)
    return compared


def shop_changes(sim: Simulator, rng: random.Random, n: int) -> int:
    """``n`` changes a real shop sees between two pulls: new orders, shipments,
    refunds (whole and partial), cancellations. Returns how many were applied."""
    applied = 0
    for _ in range(n):
        orders = sim.shop.orders
        roll = rng.random()
        try:
            if roll < 0.35:
                sim.apply_change({"action": "new_order"})
            elif roll < 0.6:
                candidates = [o for o in orders if o.shipped_at is None and o.cancelled_at is None]
                if not candidates:
                    continue
                sim.apply_change({"action": "ship", "order": str(rng.choice(candidates).order_id)})
            elif roll < 0.85:
                candidates = [o for o in orders if o.cancelled_at is None and o.refunded < o.total]
                if not candidates:
                    continue
                order = rng.choice(candidates)
                part = (order.total - order.refunded) / 2 if rng.random() < 0.5 else None
                change: dict[str, Any] = {"action": "refund", "order": str(order.order_id)}
                if part is not None:
                    change["amount"] = str(part.quantize(order.total.__class__("0.01")))
                sim.apply_change(change)
            else:
                candidates = [o for o in orders if o.cancelled_at is None and o.shipped_at is None]
                if not candidates:
                    continue
                sim.apply_change({"action": "cancel", "order": str(rng.choice(candidates).order_id)})
        except (KeyError, ValueError):
            continue
        applied += 1
    return applied


def sign_in_again(sim: Simulator) -> dict[str, str]:
    """The maker authorises the app again: the channel issues fresh tokens."""
    if sim.channel == "etsy":
        sim.refresh_token = sim._new_token("r")  # type: ignore[attr-defined]
        sim.kept_refresh_tokens = {}  # type: ignore[attr-defined]
        sim.access_token = sim._issue_access()  # type: ignore[attr-defined]
    elif sim.channel == "shopify":
        sim.kept_refresh_tokens = {}  # type: ignore[attr-defined]
        sim.access_token = sim._issue_tokens()  # type: ignore[attr-defined]
    return sim.credentials()


def revoke(sim: Simulator) -> None:
    """The channel stops honouring every token the daemon holds (a password
    change on Etsy does this, etsy/open-api#519; an uninstalled app on Shopify)."""
    if sim.channel == "etsy":
        sim.tokens.clear()  # type: ignore[attr-defined]
        sim.refresh_token = sim._new_token("r")  # type: ignore[attr-defined]
        sim.kept_refresh_tokens = {}  # type: ignore[attr-defined]
    elif sim.channel == "shopify":
        sim.access_tokens = {}  # type: ignore[attr-defined]
        sim.refresh_token = "shprt_revoked"  # type: ignore[attr-defined]
        sim.kept_refresh_tokens = {}  # type: ignore[attr-defined]
    else:
        sim.tokens.clear()  # type: ignore[attr-defined]
        sim.refresh_token = "Atzr|revoked"  # type: ignore[attr-defined]


def advance(books: Books, hours: float) -> None:
    books.clock.advance(timedelta(hours=hours).total_seconds())


# --- the daemon's gRPC face, for suites that drive it as a caller would ----------------


class Served:
    """A gRPC server on port 0 in front of an App, with stubs of every service."""

    def __init__(self, app: Any, keys: tuple[Any, ...] = ()) -> None:
        import grpc

        from makersync.daemon.api.server import create_server
        from makersync.daemon.config_sections import ServerConfig
        from makersync.v1 import (
            accounts_pb2_grpc,
            catalog_pb2_grpc,
            integrations_pb2_grpc,
            pulls_pb2_grpc,
            status_pb2_grpc,
        )

        config = Config(server=ServerConfig(listen="127.0.0.1:0", keys=keys), data_dir=app.config.data_dir)
        self.server, self.port = create_server(config, app)
        self.server.start()
        self.address = f"127.0.0.1:{self.port}"
        self.channel = grpc.insecure_channel(self.address)
        self.accounts = accounts_pb2_grpc.AccountServiceStub(self.channel)
        self.integrations = integrations_pb2_grpc.IntegrationServiceStub(self.channel)
        self.pulls = pulls_pb2_grpc.PullServiceStub(self.channel)
        self.catalog = catalog_pb2_grpc.CatalogServiceStub(self.channel)
        self.status = status_pb2_grpc.StatusServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()
        self.server.stop(0).wait(5)

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- every RPC, generically (access table, fuzzing) ---------------------------------------


def all_methods() -> list[Any]:
    """Every method of every makersync service the server serves (descriptors)."""
    from google.protobuf import descriptor_pool

    from makersync.daemon.api.server import SERVICE_NAMES

    pool = descriptor_pool.Default()
    return [m for name in SERVICE_NAMES for m in pool.FindServiceByName(name).methods]


def message_class(descriptor: Any) -> Any:
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(descriptor)


def invoke(channel: Any, method: Any, request: Any, *, metadata: Any = (), timeout: float = 10.0) -> list[Any]:
    """Call ``method`` (a MethodDescriptor) on ``channel``; the replies as a list
    (a stream is read to its end). gRPC errors raise ``grpc.RpcError``."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    out_cls = message_class(method.output_type)
    if method.server_streaming:
        stream = channel.unary_stream(path, request_serializer=lambda m: m.SerializeToString(),
                                      response_deserializer=out_cls.FromString)
        return list(stream(request, metadata=metadata, timeout=timeout))
    unary = channel.unary_unary(path, request_serializer=lambda m: m.SerializeToString(),
                                response_deserializer=out_cls.FromString)
    return [unary(request, metadata=metadata, timeout=timeout)]


def row_counts() -> dict[str, int]:
    """Rows of every table: equal before and after means nothing was written."""
    from makersync.daemon.store.models import ALL_MODELS

    return {m._meta.table_name: m.select().count() for m in ALL_MODELS}
