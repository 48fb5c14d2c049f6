"""The simulator kit's own edges: fault knobs and the loopback server."""

from __future__ import annotations

import threading

import httpx
import pytest

from makersync.plugins import FakeClock
from makersync.plugins.example import ExampleSimulator
from makersync.plugins.simulate import Faults, SimServer


def test_fault_knobs_take_numbers_given_as_text() -> None:
    faults = Faults()
    faults.update({"error_rate": "0.25", "access_token_ttl_s": 900, "seed": "3",
                   "throttle_windows": [[10, 20]]})
    assert (faults.error_rate, faults.access_token_ttl_s, faults.seed) == (0.25, 900.0, 3)
    assert faults.throttle_windows == [(10.0, 20.0)]


def test_fault_knob_of_wrong_type_refused_and_nothing_set() -> None:
    faults = Faults()
    with pytest.raises(ValueError, match="error_rate"):
        faults.update({"reset_rate": 0.5, "error_rate": "often"})
    assert faults.reset_rate == 0.0
    with pytest.raises(ValueError, match="unknown fault knob"):
        faults.update({"eror_rate": 0.1})


def test_fault_knob_refused_over_http_with_400() -> None:
    sim = ExampleSimulator.create(seed=2, orders=5, clock=FakeClock())
    with httpx.Client(transport=sim.transport(), base_url="http://sim") as http:
        refused = http.post("/_sim/faults", json={"error_rate": "often"})
        assert refused.status_code == 400
        assert http.post("/_sim/faults", json={"error_rate": 0.5}).json()["error_rate"] == 0.5


def test_sim_server_stops_even_if_never_started() -> None:
    server = SimServer(ExampleSimulator.create(seed=2, orders=5, clock=FakeClock()))
    done = threading.Event()
    threading.Thread(target=lambda: (server.stop(), done.set()), daemon=True).start()
    assert done.wait(5), "stop() must not wait for a serve loop that never ran"


def test_sim_server_serves_the_simulator_over_loopback() -> None:
    sim = ExampleSimulator.create(seed=2, orders=5, clock=FakeClock())
    with SimServer(sim) as server:
        truth = httpx.get(f"{server.base_url}/_sim/truth", timeout=5).json()
        refused = httpx.get(f"{server.base_url}/api/orders", timeout=5)
    assert len(truth["orders"]) == 5
    assert refused.status_code == 401
