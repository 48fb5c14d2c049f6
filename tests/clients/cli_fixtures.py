"""Helpers of the CLI tests: a real daemon in-process (real App, real gRPC on
port 0, SQLite in a temp dir) whose Etsy channel talks to the Etsy simulator
through httpx.MockTransport, and a runner for ``makersync`` commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from makersync.clients import cli
from makersync.daemon.api.server import create_server
from makersync.daemon.app import build_app
from makersync.daemon.config import load_config
from makersync.daemon.logging import configure_logging
from makersync.plugins.etsy import EtsySimulator
from makersync.plugins.shopify import ShopifySimulator
from makersync.plugins.simulate import Simulator


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Daemon:
    address: str
    app: Any
    sims: dict[str, Simulator]
    log_path: Path

    def creds(self, channel: str = "etsy") -> list[str]:
        """``--cred NAME=VALUE`` arguments for the channel's simulated shop."""
        args = []
        for name, value in self.sims[channel].credentials().items():
            args += ["--cred", f"{name}={value}"]
        return args


def start_daemon(tmp_path: Path, toml: str = "", *, orders: int = 30) -> Iterator[Daemon]:
    log_path = tmp_path / "daemon.log"
    log_file = log_path.open("w", encoding="utf-8")
    configure_logging("json", "info", stream=log_file)  # keeps stdout for the CLI under test
    sims: dict[str, Simulator] = {
        "etsy": EtsySimulator.create(seed=5, orders=orders, days=20),
        "shopify": ShopifySimulator.create(seed=6, orders=orders, days=20),
    }
    sections = ""
    for name, sim in sims.items():
        section = sim.config_section(f"https://{name}.sim.test")
        sections += f"\n[channels.{name}]\n" + "".join(f'{k} = "{v}"\n' for k, v in section.items())
    config_file = tmp_path / "makersync.toml"
    config_file.write_text(toml + sections)
    config = load_config(config_file, env={},
                         flags={"listen": "127.0.0.1:0", "data_dir": str(tmp_path / "data")})
    transports = {name: httpx.MockTransport(sim.handle) for name, sim in sims.items()}
    app = build_app(config, transports=transports)
    app.start(scheduler=False, watch_config=False)
    server, port = create_server(config, app)
    server.start()
    try:
        yield Daemon(f"127.0.0.1:{port}", app, sims, log_path)
    finally:
        server.stop(0).wait(5)
        app.shutdown(2.0)
        configure_logging()  # back to stdout before the file closes
        log_file.close()


def runner(address: str, capsys: pytest.CaptureFixture[str], *global_args: str):
    """``run(*args)`` runs ``makersync --address ADDRESS *global_args *args`` in-process."""
    def run(*args: str) -> Result:
        code = cli.main(["--address", address, *global_args, *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run
