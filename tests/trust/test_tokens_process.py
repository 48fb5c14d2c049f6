"""F6 with a real ``makersyncd`` process: SIGKILL at the moment the channel has
rotated the refresh token, before the daemon could save it (the simulator,
served over loopback, kills the daemon as it answers the refresh).

The in-process suite (test_tokens.py) repeats this many times; this one shows
the same outcome on the real process, with its own SQLite file, its worker
threads and a restart: where the channel retired the old refresh token the
store ends NEEDS_RECONNECT and stops asking the channel; where the channel
keeps it (Shopify's documented behaviour, set on the Etsy simulator here) the
restarted daemon finishes the pull by itself.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import trust_figures
from conftest import soak
from cryptography.fernet import Fernet

from makersync.clients.client import MakersyncClient
from makersync.plugins.etsy.simulator import EtsySimulator
from makersync.plugins.simulate import Faults, SimServer
from makersync.v1 import resources_pb2
from tests.e2e.fleet import Daemon, wait_for, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FINAL = {resources_pb2.PULL_STATE_SUCCEEDED, resources_pb2.PULL_STATE_FAILED, resources_pb2.PULL_STATE_CANCELLED}


class KillingSim:
    """The Etsy simulator over loopback; when armed, the next successful refresh
    kills the daemon with SIGKILL before the answer leaves."""

    def __init__(self, mode: str) -> None:
        # Access tokens last 1 s: the daemon refreshes before every request.
        self.sim = EtsySimulator.create(seed=17, orders=60, days=20, faults=Faults(access_token_ttl_s=1.0))
        self.sim.previous_refresh_token = mode
        self.victim = 0
        self.kills = 0
        self.armed = threading.Event()
        original = self.sim._token

        def token(request):  # type: ignore[no-untyped-def]
            answer = original(request)
            if self.armed.is_set() and answer.status_code == 200 and self.victim:
                self.armed.clear()
                self.kills += 1
                os.kill(self.victim, signal.SIGKILL)  # rotated on the channel, never saved
            return answer

        self.sim._token = token  # type: ignore[method-assign]
        self.server = SimServer(self.sim).start()

    def stop(self) -> None:
        self.server.stop()


def config(tmp_path: Path, sim: KillingSim) -> Path:
    return write_config(tmp_path / "makersyncd.toml", {
        "server": {"grace_period_s": 3.0},
        "log": {"format": "json", "level": "info"},
        "scheduler": {"workers": 2, "poll_s": 0.2, "lease_s": 2.0},
        "channels.etsy": sim.sim.config_section(sim.server.base_url),
    })


def wait_final(client: MakersyncClient, pull_id: str, timeout_s: float = 60.0) -> resources_pb2.PullJob:
    return wait_for(lambda: (p := client.get_pull(pull_id)).state in FINAL and p, timeout_s, f"pull {pull_id} to end")


@pytest.mark.parametrize("mode", ["strict", "until_used"])
def test_f6_sigkill_after_the_channel_rotated_the_refresh_token(tmp_path: Path, mode: str) -> None:
    sim = KillingSim(mode)
    env = {"MAKERSYNC_SECRET_KEY": Fernet.generate_key().decode()}
    path, data = config(tmp_path, sim), tmp_path / "data"
    daemons: list[Daemon] = []
    stranded = 0
    try:
        for kill_no in range(soak(1, 4)):
            daemon = Daemon(f"f6-{mode}-{kill_no}", path, data, env)
            daemons.append(daemon)
            with MakersyncClient(daemon.wait_listening()) as client:
                if kill_no == 0:
                    account = client.create_account("Kiln & Co", "business", "2026-01-01", "UTC").id
                    store = client.connect(account, "etsy", sim.sim.credentials())
                    assert wait_final(client, store.initial_pull_id).state == resources_pb2.PULL_STATE_SUCCEEDED
                    store_id = store.id
                today = time.strftime("%Y-%m-%d", time.gmtime())
                start = time.strftime("%Y-%m-%d", time.gmtime(time.time() - timedelta(days=10).total_seconds()))
                sim.victim = daemon.pid
                sim.armed.set()
                pull = client.pull(store_id, start, today)
            daemon.proc.wait(30)
            assert daemon.proc.returncode == -signal.SIGKILL
            assert sim.kills == kill_no + 1

            restarted = Daemon(f"f6-{mode}-{kill_no}-restarted", path, data, env)
            daemons.append(restarted)
            with MakersyncClient(restarted.wait_listening()) as client:
                ended = wait_final(client, pull.id)
                got = client.get_store(store_id)
                if mode == "strict":
                    stranded += 1
                    assert ended.state == resources_pb2.PULL_STATE_FAILED and "reconnect" in ended.error
                    assert got.state == resources_pb2.STORE_STATE_NEEDS_RECONNECT
                    asked = sim.sim.token_requests
                    time.sleep(2.0)  # ten scheduler polls: nothing more for this store
                    assert sim.sim.token_requests == asked
                    assert client.get_pull(pull.id).state == resources_pb2.PULL_STATE_FAILED
                else:
                    assert ended.state == resources_pb2.PULL_STATE_SUCCEEDED, ended.error
                    assert got.state == resources_pb2.STORE_STATE_ACTIVE
            assert restarted.terminate(10)[0] == 0
            if mode == "strict":
                break  # the store now needs the maker; the in-process suite covers the repair
    finally:
        for d in daemons:
            d.kill()
            d.dump()
        sim.stop()
        trust_figures.add("tokens F6 (real process, SIGKILL)", kills=sim.kills, stores_stranded=stranded,
                          restarts=sum(1 for d in daemons if "restarted" in d.name))
        trust_figures.note("tokens F6 (real process, SIGKILL)",
                           f"etsy ({mode}): {stranded} of {sim.kills} kills needed the maker to sign in again")
