"""P6: the gRPC control plane against a bare grpcio echo server.

The daemon's real server (``daemon/api/server.py``: interceptors, servicers,
the App, SQLite) over a database seeded directly with ``STORED_ORDERS``
orders (two lines each) of one store, and, in the same process, a bare
grpcio server (the same thread-pool size) whose one method returns the
request's bytes. A client in another process (so it does not share the
servers' GIL) calls each, one call at a time and then ``IN_FLIGHT`` at once:
calls/s, p50 and p99 latency. ``GetStatus`` (no filter) and ``ListOrders``
(the first page of 100, with ``total_size``) are judged against the echo
server measured the same way: at least half its calls/s, p99 under 5 ms
one call at a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.bench.common import Figure, Result, Skipped, quiet

STORED_ORDERS = 100_000
QUICK_STORED_ORDERS = 20_000
IN_FLIGHT = 16
CALLS = {"echo": 3000, "status": 1500, "orders": 600}
QUICK_CALLS = {"echo": 1000, "status": 500, "orders": 200}
WARMUP_CALLS = 30
TARGET_RATIO = 0.5
TARGET_P99_MS = 5.0
ECHO_METHOD = "/bench.Echo/Echo"


# --- the servers ------------------------------------------------------------------


def _echo_server() -> tuple[Any, int]:
    import grpc

    from makersync.daemon.api.server import MAX_WORKERS

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=MAX_WORKERS))
    handler = grpc.unary_unary_rpc_method_handler(lambda request, _context: request)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", {"Echo": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def _seed(app: Any, orders: int) -> str:
    """An account with one store holding ``orders`` orders of two lines each."""
    from makersync.daemon.domain import accounts as dom_accounts
    from makersync.daemon.domain import integrations as dom_integrations
    from makersync.daemon.store.bulk import RowWriter
    from makersync.daemon.store.models import OrderLineRow, OrderRow

    account = dom_accounts.create_account(app.db, app.clock, app.plans, "Bench", "growth", "2025-01-01", "UTC").id
    store = dom_integrations.record_store(
        app.db, app.clock, app.plans, app.box, account, "etsy", ("etsy", "shopify", "amazon"),
        external_shop_id="bench-shop", shop_name="Bench shop", credentials={"access_token": "t"})
    now = app.clock.now()
    order_rows = RowWriter(OrderRow, ("account", "store", "channel", "external_id", "order_number", "status",
                                      "placed_at", "modified_at", "currency", "subtotal", "total", "payload_hash",
                                      "created_at", "updated_at"))
    line_rows = RowWriter(OrderLineRow, ("order", "position", "sku", "title", "quantity", "unit_price"))
    chunk = 10_000
    for start in range(0, orders, chunk):
        with app.db.write_tx():
            rows = []
            for n in range(start, min(orders, start + chunk)):
                placed = now - timedelta(minutes=5 * n)
                rows.append((int(account), int(store.id), "etsy", f"R{n}", str(n), "paid", placed, placed, "USD",
                             Decimal("56.00"), Decimal("60.62"), f"{n:032x}", now, now))
            order_rows.insert(rows)
            first = OrderRow.select(OrderRow.id).where(OrderRow.external_id == f"R{start}").scalar()
            line_rows.insert([(first + i, pos, f"MUG-{pos}", "Speckled Mug", 1, Decimal("28.00"))
                              for i in range(len(rows)) for pos in range(2)])
    return str(account)


# --- the client (its own process) --------------------------------------------------


def client(address: str, method: str, calls: int, in_flight: int, account: str) -> dict[str, float]:
    import grpc

    from makersync.v1 import catalog_pb2, catalog_pb2_grpc, status_pb2, status_pb2_grpc

    channel = grpc.insecure_channel(address)
    if method == "echo":
        echo = channel.unary_unary(ECHO_METHOD)
        payload = b"\x0a\x00"

        def call() -> Any:
            return echo(payload, timeout=10)
    elif method == "status":
        status = status_pb2_grpc.StatusServiceStub(channel)

        def call() -> Any:
            return status.GetStatus(status_pb2.GetStatusRequest(), timeout=10)
    else:
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        request = catalog_pb2.ListOrdersRequest(account_id=account, page_size=100)

        def call() -> Any:
            reply = catalog.ListOrders(request, timeout=10)
            assert len(reply.orders) == 100
            return reply

    for _ in range(WARMUP_CALLS):
        call()

    def timed(n: int) -> list[float]:
        out = []
        for _ in range(n):
            t = time.perf_counter()
            call()
            out.append(time.perf_counter() - t)
        return out

    started = time.perf_counter()
    if in_flight == 1:
        latencies = timed(calls)
    else:
        with futures.ThreadPoolExecutor(in_flight) as pool:
            parts = list(pool.map(timed, [calls // in_flight] * in_flight))
        latencies = [x for part in parts for x in part]
    wall = time.perf_counter() - started
    channel.close()
    latencies.sort()
    return {"calls": len(latencies), "calls_per_s": len(latencies) / wall,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000}


def _load(address: str, method: str, calls: int, in_flight: int, account: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.p6_grpc", "--client", address, method, str(calls), str(in_flight),
         account], capture_output=True, text=True, timeout=600, cwd=Path(__file__).parents[2])
    if done.returncode != 0:
        raise RuntimeError(f"client {method} failed: {done.stderr[-1500:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the figure ----------------------------------------------------------------------


def run(quick: bool = False) -> list[Result]:
    quiet()
    try:
        from makersync.daemon.api.server import create_server
    except ImportError as exc:
        return [Skipped("P6", "gRPC control plane", f"daemon/api/server.py does not import yet ({exc})")]
    from makersync.daemon.app import build_app
    from makersync.daemon.config import load_config

    stored = QUICK_STORED_ORDERS if quick else STORED_ORDERS
    calls = QUICK_CALLS if quick else CALLS
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-p6-") as tmp:
        config_file = Path(tmp) / "makersync.toml"
        config_file.write_text("")
        config = load_config(config_file, env={}, flags={"listen": "127.0.0.1:0", "data_dir": str(Path(tmp) / "data")})
        app = build_app(config)
        seeded = time.perf_counter()
        account = _seed(app, stored)
        seed_s = time.perf_counter() - seeded
        server, port = create_server(config, app)
        server.start()
        echo, echo_port = _echo_server()
        try:
            for in_flight in (1, IN_FLIGHT):
                base = _load(f"127.0.0.1:{echo_port}", "echo", calls["echo"], in_flight, account)
                for method, name in (("status", "GetStatus"), ("orders", f"ListOrders (100 of {stored:,})")):
                    got = _load(f"127.0.0.1:{port}", method, calls[method], in_flight, account)
                    ratio = got["calls_per_s"] / base["calls_per_s"]
                    how = "sequential" if in_flight == 1 else f"{in_flight} in flight"
                    met = ratio >= TARGET_RATIO and (in_flight > 1 or got["p99_ms"] < TARGET_P99_MS)
                    target = f">= {TARGET_RATIO}x echo" + (f", p99 < {TARGET_P99_MS:.0f} ms" if in_flight == 1 else "")
                    results.append(Figure(
                        "P6", f"{name}, {how}", got["calls_per_s"], "calls/s", baseline=base["calls_per_s"],
                        baseline_name=f"grpcio echo, {how}", target=target, met=met,
                        note=(f"p50 {got['p50_ms']:.2f} ms, p99 {got['p99_ms']:.2f} ms; echo p50 "
                              f"{base['p50_ms']:.2f} ms, p99 {base['p99_ms']:.2f} ms"),
                        detail={"daemon": got, "echo": base, "stored_orders": stored,
                                "seed_s": round(seed_s, 1)}))
        finally:
            server.stop(0).wait(5)
            echo.stop(0).wait(5)
            app.shutdown(1.0)
            app.db.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--client", nargs=5, metavar=("ADDRESS", "METHOD", "CALLS", "IN_FLIGHT", "ACCOUNT"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.client:
        address, method, n, in_flight, account = args.client
        print(json.dumps(client(address, method, int(n), int(in_flight), account)))
        return
    for result in run(quick=args.quick):
        print(json.dumps(result.to_json(), default=str))


if __name__ == "__main__":
    main()
