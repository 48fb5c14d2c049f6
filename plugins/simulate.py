"""The simulator kit: what every channel's simulator is built on.

A simulator is a callable from ``httpx.Request`` to ``httpx.Response`` that
speaks one channel's real API over a :class:`~.simshop.SimShop`. The same
callable serves in-process through ``httpx.MockTransport`` (tests,
benchmarks) and over loopback through :class:`SimServer` (the demo, the
end-to-end tests, ``makersync-sim``).

The base class adds what every simulator needs: fault injection (latency,
5xx, resets, truncated JSON, stalls, forced 429 windows, limits that drop,
malformed records), and the control surface under ``/_sim/``:

* ``GET /_sim/truth``: every record a correct pull must produce, as the SDK's
  records in JSON;
* ``POST /_sim/change``: one change to the shop (``new_order``, ``ship``,
  ``refund``, ``cancel``, ``edit_listing``), answered with the changed record;
* ``POST /_sim/faults``: set fault knobs; ``GET /_sim/stats``: counters.
"""

from __future__ import annotations

import abc
import json
import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from .clock import SYSTEM_CLOCK, Clock
from .records import FeeRecord, ListingRecord, OrderRecord, to_json
from .simshop import SimShop


@dataclass
class Faults:
    """Fault knobs. Rates are probabilities per request (0..1)."""

    latency_s: float = 0.0
    error_rate: float = 0.0
    reset_rate: float = 0.0
    truncate_rate: float = 0.0
    stall_rate: float = 0.0
    stall_s: float = 10.0
    throttle_rate: float = 0.0
    throttle_windows: list[tuple[float, float]] = field(default_factory=list)
    """Forced-429 windows as (start, end) in seconds of the sim clock's monotonic time."""
    limit_scale: float = 1.0
    """Multiplies the channel's allowance: 0.5 halves it mid-pull."""
    malformed_rate: float = 0.0
    access_token_ttl_s: float | None = None
    page_token_ttl_s: float | None = None
    seed: int = 7

    def update(self, changes: Mapping[str, Any]) -> None:
        """Set knobs by name; values are checked first, so a bad change sets nothing
        (a knob of the wrong type would otherwise break every later request)."""
        types = {f.name: str(f.type) for f in fields(self)}
        checked: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in types:
                raise ValueError(f"unknown fault knob {key!r}; known: {sorted(types)}")
            checked[key] = _knob_value(key, types[key], value)
        for key, value in checked.items():
            setattr(self, key, value)


def _knob_value(key: str, kind: str, value: Any) -> Any:
    """``value`` as the knob's type; ValueError when it cannot be."""
    try:
        if key == "throttle_windows":
            return [(float(a), float(b)) for a, b in value]
        if value is None and "None" in kind:
            return None
        if isinstance(value, bool):
            raise TypeError("a boolean")
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("int"):
            return int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"fault knob {key!r}: {value!r} is not a {kind}") from exc
    return value


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body, default=_json_default).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


class SimStall(httpx.ReadTimeout):
    """Raised in-process for a stalled request (a read timeout)."""


class RotatingRefreshTokens:
    """What a simulated token endpoint does to the refresh token it was given
    when it hands out a new one (``previous_refresh_token``): ``strict``, it
    dies at once; ``until_used``, it keeps working until its replacement is
    first used; ``window``, it keeps working ``previous_refresh_window_s``
    after its first use. The simulator sets ``refresh_token`` and
    ``kept_refresh_tokens`` and calls the two methods from its token endpoint."""

    previous_refresh_token = "strict"
    previous_refresh_window_s = 3600.0
    refresh_token: str
    kept_refresh_tokens: dict[str, float | None]  # previous -> deadline (None: until replaced)
    clock: Clock

    def _refresh_accepted(self, token: str) -> bool:
        if token and token == self.refresh_token:
            return True
        deadline = self.kept_refresh_tokens.get(token, 0.0) if token in self.kept_refresh_tokens else 0.0
        return deadline is None or (deadline > 0.0 and self.clock.monotonic() < deadline)

    def _keep_previous(self, used: str) -> None:
        """Which refresh tokens still work after ``used`` is traded for a new one."""
        mode = self.previous_refresh_token
        if mode == "until_used":
            # Using the newest token retires every older one; a retry with a kept
            # one (its answer was lost) leaves it kept until a replacement is used.
            self.kept_refresh_tokens = {used: None}
        elif mode == "window":
            now = self.clock.monotonic()
            first_use = self.kept_refresh_tokens.get(used) or now + self.previous_refresh_window_s
            self.kept_refresh_tokens = {t: d for t, d in self.kept_refresh_tokens.items() if d and d > now}
            self.kept_refresh_tokens[used] = first_use
        else:
            self.kept_refresh_tokens = {}


class Simulator(abc.ABC):
    """Base of a channel simulator. Subclasses implement :meth:`handle`,
    :meth:`truth` and may extend :meth:`apply_change`."""

    channel: str = ""

    def __init__(
        self,
        shop: SimShop,
        *,
        clock: Clock = SYSTEM_CLOCK,
        speed: float = 1.0,
        faults: Faults | None = None,
    ) -> None:
        self.shop = shop
        self.clock = clock
        self.speed = speed
        self.faults = faults or Faults()
        self._fault_rng = random.Random(self.faults.seed)
        self.lock = threading.RLock()
        self.requests = 0
        self.throttled = 0
        self.faults_injected = 0
        self.by_path: dict[str, int] = {}
        self._responses: dict[tuple[str, str, bytes], tuple[int, bytes, list[tuple[str, str]]]] | None = None
        self._cached_methods: frozenset[str] = frozenset()
        self.cache_hits = 0

    # -- the callable ---------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/_sim/"):
            return self._control(request)
        with self.lock:
            self.requests += 1
            key = self.route_name(request)
            self.by_path[key] = self.by_path.get(key, 0) + 1
            injected = self._inject(request)
        if injected is not None:
            return injected
        if self.faults.latency_s:
            self.clock.sleep(self.faults.latency_s)
        with self.lock:
            cache = self._responses
            cache_key = None
            if cache is not None and request.method in self._cached_methods:
                cache_key = (request.method, str(request.url), request.content)
                hit = cache.get(cache_key)
                if hit is not None:
                    self.cache_hits += 1
                    return httpx.Response(hit[0], content=hit[1], headers=hit[2])
            response = self.handle(request)
            if cache is not None and cache_key is not None and response.status_code == 200:
                cache[cache_key] = (200, response.content, list(response.headers.items()))
            if response.status_code == 429:
                self.throttled += 1
            if self.faults.truncate_rate and self._roll(self.faults.truncate_rate):
                body = response.content
                self.faults_injected += 1
                return httpx.Response(response.status_code, content=body[: max(1, len(body) // 2)],
                                      headers=dict(response.headers))
        return response

    def transport(self) -> httpx.MockTransport:
        """This simulator as an in-process transport."""
        return httpx.MockTransport(self)

    def cache_responses(self, enabled: bool = True, methods: tuple[str, ...] = ("GET",)) -> None:
        """Answer a request seen before (same method, URL and body) from
        memory, for benchmarks (QUALITY P1). Only ``methods`` are cached: a
        token endpoint's POST must never be (GraphQL reads may).

        A real channel renders its pages on its own machines; the benchmark
        measures our side of the pipeline, so after a warm-up pull the
        simulator only hands back the bytes it rendered then. A cached answer
        skips the channel's allowance and its checks: use it with an
        unlimited ``speed`` and unchanging credentials. A change to the shop
        (``/_sim/change``, :meth:`clear_cache`) drops the cache."""
        with self.lock:
            self._responses = {} if enabled else None
            self._cached_methods = frozenset(m.upper() for m in methods)

    def clear_cache(self) -> None:
        """Forget cached answers (the shop changed)."""
        with self.lock:
            if self._responses is not None:
                self._responses = {}

    def route_name(self, request: httpx.Request) -> str:
        return request.url.path

    # -- faults -------------------------------------------------------------

    def _roll(self, rate: float) -> bool:
        return rate > 0 and self._fault_rng.random() < rate

    def _inject(self, request: httpx.Request) -> httpx.Response | None:
        f = self.faults
        if f.reset_rate and self._roll(f.reset_rate):
            self.faults_injected += 1
            raise httpx.ConnectError("connection reset by peer (simulated)", request=request)
        if f.stall_rate and self._roll(f.stall_rate):
            self.faults_injected += 1
            raise SimStall(f"stalled {f.stall_s}s (simulated)", request=request)
        if f.error_rate and self._roll(f.error_rate):
            self.faults_injected += 1
            return self.error_response(500, "internal server error (simulated)")
        now = self.clock.monotonic()
        forced = any(a <= now < b for a, b in f.throttle_windows)
        if forced or (f.throttle_rate and self._roll(f.throttle_rate)):
            self.faults_injected += 1
            self.throttled += 1
            return self.throttle_response()
        return None

    def malformed(self) -> bool:
        """Whether the next rendered record should be malformed (a fault knob)."""
        return self._roll(self.faults.malformed_rate)

    # -- what subclasses give ----------------------------------------------------

    @abc.abstractmethod
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one API request as the channel would."""

    @abc.abstractmethod
    def truth(self) -> tuple[list[OrderRecord], list[ListingRecord], list[FeeRecord]]:
        """Every order, listing and fee a complete, correct pull must produce."""

    def error_response(self, status: int, message: str) -> httpx.Response:
        """The channel's error body for ``status``."""
        return json_response(status, {"error": message})

    def throttle_response(self) -> httpx.Response:
        """The channel's answer when it throttles."""
        return json_response(429, {"error": "rate limit exceeded"}, {"retry-after": "1"})

    def credentials(self) -> dict[str, str]:
        """Credentials to pass to ``Connect`` for this simulated shop."""
        return {}

    def config_section(self, base_url: str) -> dict[str, Any]:
        """The ``[channels.<name>]`` settings that point the daemon here."""
        return {"base_url": base_url}

    # -- control ------------------------------------------------------------

    def truth_json(self) -> dict[str, list[dict[str, Any]]]:
        orders, listings, fees = self.truth()
        return {
            "orders": [to_json(o) for o in orders],
            "listings": [to_json(li) for li in listings],
            "fees": [to_json(f) for f in fees],
        }

    def apply_change(self, change: Mapping[str, Any]) -> dict[str, Any]:
        """Apply one change to the shop and return the changed record's truth."""
        action = change.get("action")
        when = self.clock.now()
        shop: SimShop = self.shop
        if action == "new_order":
            order = shop.new_order(when)
            return self._order_truth(str(order.order_id))
        if action == "ship":
            shop.ship(change["order"], when)
            return self._order_truth(str(change["order"]))
        if action == "refund":
            order = shop.order(change["order"])
            amount = Decimal(str(change.get("amount") or order.total - order.refunded))
            shop.refund(change["order"], amount, when, str(change.get("reason", "refund")))
            return self._order_truth(str(change["order"]))
        if action == "cancel":
            shop.cancel(change["order"], when)
            return self._order_truth(str(change["order"]))
        if action == "edit_listing":
            listing = shop.edit_listing(change["listing"], when, change.get("title"), change.get("sku"))
            _, listings, _ = self.truth()
            for rec in listings:
                if rec.external_id == str(listing.listing_id):
                    return to_json(rec)
        raise ValueError(f"unknown change action {action!r}")

    def _order_truth(self, external_id: str) -> dict[str, Any]:
        orders, _, _ = self.truth()
        for rec in orders:
            if rec.external_id == external_id:
                return to_json(rec)
        raise KeyError(external_id)

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "throttled": self.throttled,
            "faults_injected": self.faults_injected,
            "by_path": dict(self.by_path),
            "faults": asdict(self.faults),
        }

    def _control(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        try:
            body = json.loads(request.content or b"{}")
            with self.lock:
                if path == "/_sim/truth" and request.method == "GET":
                    return json_response(200, self.truth_json())
                if path == "/_sim/stats" and request.method == "GET":
                    return json_response(200, self.stats())
                if path == "/_sim/change" and request.method == "POST":
                    self.clear_cache()
                    return json_response(200, self.apply_change(body))
                if path == "/_sim/faults" and request.method == "POST":
                    self.faults.update(body)
                    return json_response(200, asdict(self.faults))
        except (KeyError, ValueError, TypeError) as exc:
            return json_response(400, {"error": f"{type(exc).__name__}: {exc}"})
        return json_response(404, {"error": f"no control endpoint {request.method} {path}"})


class SimServer:
    """Serves a simulator over loopback HTTP in a background thread."""

    def __init__(self, simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        sim = simulator

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                content = self.rfile.read(length) if length else b""
                host_hdr = self.headers.get("host") or f"{host}:{self.server.server_address[1]!s}"  # type: ignore[index]
                request = httpx.Request(
                    self.command, f"http://{host_hdr}{self.path}", headers=dict(self.headers.items()),
                    content=content,
                )
                try:
                    response = sim(request)
                except SimStall:
                    sim.clock.sleep(min(sim.faults.stall_s, 30.0))
                    self.close_connection = True
                    return
                except httpx.TransportError:
                    self.close_connection = True
                    return
                body = response.content
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=f"sim-{sim.channel}", daemon=True)
        self._started = False

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimServer:
        self._thread.start()
        self._started = True
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (also when never started)."""
        if self._started:  # shutdown() waits for serve_forever, forever if it never ran
            self.httpd.shutdown()
            self._started = False
        self.httpd.server_close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
