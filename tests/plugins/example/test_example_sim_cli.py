"""``makersync-sim example --port 0`` as a real process: one JSON line, the
control surface under /_sim/, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from makersync.plugins import sim_cli

ORDER_FIELDS = {"external_id", "status", "placed_at", "shipped_at", "total", "refunded"}
LISTING_FIELDS = {"external_id", "sku", "title"}
FEE_FIELDS = {"external_id", "order_external_id", "kind", "amount"}


def sim_command() -> list[str]:
    script = Path(sys.executable).parent / "makersync-sim"
    if script.exists():
        return [str(script)]
    found = shutil.which("makersync-sim")
    return [found] if found else [sys.executable, "-m", "makersync.plugins.sim_cli"]


def first_line(process: subprocess.Popen[str], timeout_s: float = 30.0) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout_s)
    if not line or not line[0]:
        process.kill()
        raise AssertionError(f"makersync-sim printed no line; stderr: {process.stderr.read()}")  # type: ignore[union-attr]
    return line[0]


@pytest.fixture
def running() -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    process = subprocess.Popen(
        [*sim_command(), "example", "--port", "0", "--seed", "3", "--orders", "120", "--days", "20",
         "--speed", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield process, json.loads(first_line(process))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_announces_base_url_config_and_credentials(running: tuple[subprocess.Popen[str], dict[str, Any]]) -> None:
    _, hello = running
    assert hello["channel"] == "example"
    assert hello["base_url"].startswith("http://127.0.0.1:")
    section = hello["config"]["channels"]["example"]
    assert section["base_url"] == hello["base_url"]
    assert section["token_url"] == hello["base_url"] + "/oauth/token"
    assert section["requests_per_second"] == 20.0, "--speed multiplies the allowance"
    assert {"client_id", "client_secret", "refresh_token", "access_token"} <= set(hello["credentials"])


def test_truth_change_and_faults_over_http(running: tuple[subprocess.Popen[str], dict[str, Any]]) -> None:
    _, hello = running
    base = hello["base_url"]
    with httpx.Client(base_url=base, timeout=10) as http:
        truth = http.get("/_sim/truth").json()
        assert len(truth["orders"]) == 120
        assert all(ORDER_FIELDS <= set(o) for o in truth["orders"])
        assert truth["listings"] and all(LISTING_FIELDS <= set(li) for li in truth["listings"])
        assert truth["fees"] and all(FEE_FIELDS <= set(f) for f in truth["fees"])

        order = next(o for o in truth["orders"]
                     if o["status"] in ("paid", "shipped") and Decimal(o["total"]) >= Decimal("5.00"))
        changed = http.post("/_sim/change", json={"action": "refund", "order": order["external_id"],
                                                  "amount": "5.00"})
        assert changed.status_code == 200
        record = changed.json()
        assert record["external_id"] == order["external_id"]
        assert Decimal(record["refunded"]) == Decimal(order["refunded"]) + Decimal("5.00")
        assert record["status"] == "partially_refunded"
        assert record["refunds"][-1]["amount"] == "5.00"

        knobs = http.post("/_sim/faults", json={"error_rate": 1.0, "latency_s": 0})
        assert knobs.status_code == 200 and knobs.json()["error_rate"] == 1.0
        auth = {"authorization": f"Bearer {hello['credentials']['access_token']}"}
        assert http.get("/api/shop", headers=auth).status_code == 500
        http.post("/_sim/faults", json={"error_rate": 0})
        assert http.get("/api/shop", headers=auth).json()["id"] == "shop-3"
        assert http.post("/_sim/faults", json={"no_such_knob": 1}).status_code == 400


def test_api_over_http_speaks_the_example_protocol(running: tuple[subprocess.Popen[str], dict[str, Any]]) -> None:
    _, hello = running
    creds = hello["credentials"]
    with httpx.Client(base_url=hello["base_url"], timeout=10) as http:
        assert http.get("/api/orders").status_code == 401
        token = http.post("/oauth/token", data={"grant_type": "refresh_token", **{
            k: creds[k] for k in ("refresh_token", "client_id", "client_secret")}}).json()["access_token"]
        page = http.get("/api/orders", params={"limit": 100}, headers={"authorization": f"Bearer {token}"})
    assert page.status_code == 200
    assert page.json()["total"] == 120
    assert "x-ratelimit-remaining" in page.headers


def test_stops_cleanly_on_sigterm(running: tuple[subprocess.Popen[str], dict[str, Any]]) -> None:
    process, hello = running
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(hello["base_url"] + "/_sim/stats", timeout=2)


def test_unknown_channel_exits_2_naming_it(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim_cli.importlib.metadata, "entry_points", lambda group: [])
    assert sim_cli.main(["no_such_channel", "--port", "0"]) == 2
    assert "no channel named 'no_such_channel'" in capsys.readouterr().err


def test_broken_plugin_exits_1_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert sim_cli.main(["example", "--plugin-module", "makersync_no_such_module"]) == 1
    assert "makersync_no_such_module" in capsys.readouterr().err


def test_plugin_file_channel_found_with_plugin_path(tmp_path: Path) -> None:
    path = tmp_path / "mirror_plugin.py"
    path.write_text(
        "from makersync.plugins import hookimpl\n"
        "from makersync.plugins.example import ExampleChannel\n"
        "class MirrorChannel(ExampleChannel):\n    name = 'mirror'\n    display_name = 'Mirror'\n"
        "@hookimpl\ndef makersync_register_channels(register):\n    register(MirrorChannel)\n")
    assert sim_cli.find_channel("mirror", paths=[str(path)]).display_name == "Mirror"
