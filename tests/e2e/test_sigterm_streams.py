"""SIGTERM with long-lived streams open: a ``WatchPull`` on a running pull and
a ``grpc.health.v1.Health/Watch``. Neither may hold the daemon past its
shutdown: the WatchPull caller gets the pull back in the queue and then
UNAVAILABLE (the daemon is shutting down), the health watcher gets
NOT_SERVING and then UNAVAILABLE, and the process exits 0 long before the
grace period is out."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography.fernet import Fernet
from fleet import Daemon, Sim, daemon_config, wait_for
from grpc_health.v1 import health_pb2, health_pb2_grpc

from makersync.clients.client import MakersyncClient
from makersync.v1 import pulls_pb2, pulls_pb2_grpc
from makersync.v1 import resources_pb2 as res

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GRACE_S = 10.0
PROMPT_EXIT_S = 5.0  # well inside the grace: nothing waits the grace out


class Stream(threading.Thread):
    """Reads a server stream to its end; keeps what arrived and how it ended."""

    def __init__(self, call: Any) -> None:
        super().__init__(daemon=True)
        self.call = call
        self.items: list[Any] = []
        self.code: grpc.StatusCode | None = None
        self.details = ""
        self.ended_at = 0.0
        self.start()

    def run(self) -> None:
        try:
            for item in self.call:
                self.items.append(item)
            self.code = grpc.StatusCode.OK
        except grpc.RpcError as exc:
            self.code, self.details = exc.code(), exc.details() or ""
        self.ended_at = time.monotonic()


def test_sigterm_ends_open_streams_and_exits_well_inside_the_grace(tmp_path: Path):
    # Slow pages (0.1 s a request, 1,000 orders) keep the pull running while we watch it.
    sim = Sim(orders=1000, days=30, speed=50.0, latency_s=0.1)
    config = daemon_config(tmp_path / "makersyncd.toml", sim, workers=2, poll_s=0.2, lease_s=30.0,
                           grace_s=GRACE_S)
    daemon = Daemon("d-streams", config, tmp_path / "data", {"MAKERSYNC_SECRET_KEY": Fernet.generate_key().decode()})
    try:
        address = daemon.wait_listening()
        with MakersyncClient(address) as client:
            account = client.create_account("Maker", "studio", "2026-01-01", "UTC")
            pull_id = client.connect(account.id, "example", sim.credentials).initial_pull_id
            wait_for(lambda: client.get_pull(pull_id).progress.pages_done >= 1, 60, "the pull past a page",
                     step_s=0.05)

        with grpc.insecure_channel(address) as channel:
            watch_pull = Stream(pulls_pb2_grpc.PullServiceStub(channel).WatchPull(
                pulls_pb2.WatchPullRequest(pull_id=pull_id)))
            watch_health = Stream(health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest()))
            wait_for(lambda: watch_pull.items and watch_health.items, 10, "both streams' first message")

            daemon.signal(signal.SIGTERM)
            sent = time.monotonic()
            code = daemon.proc.wait(GRACE_S + 5)
            took = time.monotonic() - sent
            watch_pull.join(5)
            watch_health.join(5)

        assert code == 0, daemon.stderr[-10:]
        assert took < PROMPT_EXIT_S, f"exit took {took:.2f}s with streams open (grace {GRACE_S}s)"

        assert watch_pull.code == grpc.StatusCode.UNAVAILABLE, (watch_pull.code, watch_pull.details)
        assert "shutting down" in watch_pull.details
        assert watch_pull.items[-1].state == res.PULL_STATE_QUEUED  # told where the pull was left
        assert watch_pull.ended_at - sent < PROMPT_EXIT_S

        assert watch_health.code == grpc.StatusCode.UNAVAILABLE, (watch_health.code, watch_health.details)
        assert watch_health.items[-1].status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert watch_health.ended_at - sent < PROMPT_EXIT_S

        logged = [r for _, r in daemon.events("rpc") if r.get("rpc", "").endswith("/WatchPull")]
        assert logged and logged[-1]["code"] == "UNAVAILABLE"
        print(f"\nsigterm with streams: exit 0 after {took:.2f}s (grace {GRACE_S}s); WatchPull ended "
              f"{watch_pull.code.name} after {watch_pull.ended_at - sent:.2f}s, health Watch "
              f"{watch_health.code.name} after {watch_health.ended_at - sent:.2f}s")
    finally:
        daemon.kill()
        daemon.dump()
        sim.stop()
