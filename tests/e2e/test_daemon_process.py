"""The real ``makersyncd`` process: it prints where it listens, serves health
and reflection, stops cleanly on SIGTERM within the grace period, keeps its
books across restarts, and a second daemon on the same data dir refuses."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

pytestmark = pytest.mark.e2e

START_TIMEOUT_S = 30.0
GRACE_S = 10.0
LISTENING = "makersyncd listening on "


class Daemon:
    """A running makersyncd with its stdout read line by line in a thread."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        env = {**os.environ, "MAKERSYNC_LOG_FORMAT": "json"}
        env.pop("MAKERSYNC_CONFIG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "makersync.daemon.main", "--listen", "127.0.0.1:0",
             "--data-dir", str(data_dir), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_listening(self) -> str:
        """The address from the ``makersyncd listening on HOST:PORT`` line."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise AssertionError(f"daemon exited {self.proc.returncode}: {self.proc.stderr.read()}") from None
                continue
            self.seen.append(line)
            if line.startswith(LISTENING):
                return line[len(LISTENING):].strip()
        raise AssertionError(f"no listening line within {START_TIMEOUT_S}s: {self.seen}")

    def stop(self) -> tuple[int, float]:
        """SIGTERM; returns the exit code and the seconds it took."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(GRACE_S + 5)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for d in started:
        d.kill()


def makersync(address: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "makersync.clients.cli", "--address", address, "--json", *args],
        capture_output=True, text=True, timeout=60,
    )


def test_daemon_serves_stops_cleanly_and_keeps_its_books(tmp_path: Path, daemons):
    data_dir = tmp_path / "data"
    first = Daemon(data_dir)
    daemons.append(first)
    address = first.wait_listening()
    assert first.seen[0].startswith(LISTENING), "the listening line comes first"
    assert not address.endswith(":0")

    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        reply = next(iter(reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([request]), timeout=5)))
        names = {s.name for s in reply.list_services_response.service}
    assert {"makersync.v1.AccountService", "makersync.v1.PullService", "grpc.health.v1.Health"} <= names

    created = makersync(address, "accounts", "create", "--name", "Ada's Studio", "--plan", "trial",
                        "--start-date", "2026-01-01", "--time-zone", "Europe/Berlin")
    assert created.returncode == 0, created.stderr
    code, took = first.stop()
    assert code == 0 and took < GRACE_S

    second = Daemon(data_dir)
    daemons.append(second)
    address = second.wait_listening()
    listed = makersync(address, "accounts", "list")
    assert listed.returncode == 0, listed.stderr
    assert "Ada's Studio" in listed.stdout
    assert second.stop()[0] == 0


def test_second_daemon_on_the_same_data_dir_refuses_to_start(tmp_path: Path, daemons):
    data_dir = tmp_path / "data"
    first = Daemon(data_dir)
    daemons.append(first)
    first.wait_listening()
    second = Daemon(data_dir)
    daemons.append(second)
    code = second.proc.wait(START_TIMEOUT_S)
    err = second.proc.stderr.read()
    assert code != 0
    assert "in use by another makersyncd" in err and err.count("\n") == 1
    assert first.proc.poll() is None, "the first daemon keeps running"


def test_check_config_reports_the_bad_key(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[scheduler]\nworkers = 0\n")
    run = subprocess.run([sys.executable, "-m", "makersync.daemon.main", "--config", str(bad), "--check-config"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "scheduler.workers" in run.stderr
    good = tmp_path / "good.toml"
    good.write_text("[scheduler]\nworkers = 2\n")
    run = subprocess.run([sys.executable, "-m", "makersync.daemon.main", "--config", str(good), "--check-config"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "config OK" in run.stdout


def test_open_non_loopback_address_is_refused(tmp_path: Path):
    run = subprocess.run([sys.executable, "-m", "makersync.daemon.main", "--listen", "0.0.0.0:0",
                          "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "without keys" in run.stderr
