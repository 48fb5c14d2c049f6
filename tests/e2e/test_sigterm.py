"""SIGTERM with pulls running (QUALITY O1): health turns NOT_SERVING at once,
each pull stops at a page boundary and goes back to the queue with its
checkpoint, leases are released, and the process exits 0 within the grace
period. A restart resumes the pulls and the books match the shop."""

from __future__ import annotations

import signal
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from cryptography.fernet import Fernet
from fleet import Daemon, Sim, daemon_config, wait_for
from grpc_health.v1 import health_pb2, health_pb2_grpc

from makersync.clients.client import MakersyncClient

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GRACE_S = 5.0
STORES = 3


def _health(address: str) -> str:
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.RpcError as exc:
            return f"rpc error {exc.code().name}"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def test_sigterm_stops_pulls_at_a_page_boundary_and_exits_in_grace(tmp_path: Path):
    # Slow pages (0.1 s a request, 1,000 orders: 10 pages of orders a pull) keep pulls running.
    sim = Sim(orders=1000, days=30, speed=50.0, latency_s=0.1)
    config = daemon_config(tmp_path / "makersyncd.toml", sim, workers=4, poll_s=0.2, lease_s=30.0,
                           grace_s=GRACE_S)
    env = {"MAKERSYNC_SECRET_KEY": Fernet.generate_key().decode()}
    data_dir = tmp_path / "data"
    daemon = Daemon("d", config, data_dir, env)
    restarted: Daemon | None = None
    try:
        address = daemon.wait_listening()
        with MakersyncClient(address) as client:
            stores = []
            for i in range(STORES):
                account = client.create_account(f"Maker {i}", "studio", "2026-01-01", "UTC")
                stores.append(client.connect(account.id, "example", sim.credentials))
            pulls = [s.initial_pull_id for s in stores]
            wait_for(lambda: all(client.get_pull(p).progress.pages_done >= 2 for p in pulls), 60,
                     "every pull past its second page", step_s=0.05)

        daemon.signal(signal.SIGTERM)
        sent = time.monotonic()
        first_not_serving = wait_for(lambda: _health(address) == "NOT_SERVING" and time.monotonic(), 5,
                                     "health NOT_SERVING", step_s=0.02)
        code = daemon.proc.wait(GRACE_S + 5)
        took = time.monotonic() - sent
        assert code == 0, daemon.stderr[-10:]
        assert first_not_serving - sent < 1.0
        assert took < GRACE_S

        db = sqlite3.connect(data_dir / "makersync.db")
        rows = db.execute("SELECT id, state, checkpoint, lease_owner FROM pulls ORDER BY id").fetchall()
        assert [r[1] for r in rows] == ["queued"] * STORES  # back in the queue...
        assert all(r[2] and '"cursor"' in r[2] for r in rows)  # ...with their checkpoints
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        leases = db.execute("SELECT owner, expires_at FROM leases").fetchall()
        assert len(leases) == STORES and all(owner == "" and expires < now for owner, expires in leases)
        kept = db.execute("SELECT count(*) FROM orders").fetchone()[0]
        db.close()

        restarted = Daemon("d-restarted", config, data_dir, env)
        address = restarted.wait_listening()
        with MakersyncClient(address) as client:
            wait_for(lambda: all(client.get_pull(p).state == 3 for p in pulls), 90,  # PULL_STATE_SUCCEEDED
                     "the resumed pulls")
            truth = len(sim.sim.truth()[0])
            for store in stores:
                orders = list(client.iter_orders(store.account_id, store_id=store.id))
                assert len(orders) == truth
                assert len({o.external_id for o in orders}) == truth
        assert restarted.terminate(GRACE_S + 5)[0] == 0
        print(f"\nsigterm: NOT_SERVING after {first_not_serving - sent:.2f}s, exit 0 after {took:.2f}s "
              f"(grace {GRACE_S}s); {kept} orders kept from {STORES} interrupted pulls, resumed to {truth} each")
    finally:
        daemon.kill()
        daemon.dump()
        if restarted is not None:
            restarted.kill()
            restarted.dump()
        sim.stop()
