"""Helpers of the api tests: a real gRPC server on port 0, in-process, over the
real App and a SQLite file in a temp dir, with stubs to call it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from makersync.daemon.api.server import MakersyncServer, create_server
from makersync.daemon.config import Config, load_config
from makersync.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    catalog_pb2_grpc,
    integrations_pb2_grpc,
    pulls_pb2_grpc,
    status_pb2_grpc,
)


def build_test_app(config: Config) -> Any:
    """The daemon's real App for ``config``."""
    from makersync.daemon.app import build_app

    return build_app(config)


class Running:
    """A started server, its App and a channel to it."""

    def __init__(self, server: MakersyncServer, port: int, app: Any) -> None:
        self.server, self.port, self.app = server, port, app
        self.address = f"127.0.0.1:{port}"
        self.channel = grpc.insecure_channel(self.address)
        self.accounts = accounts_pb2_grpc.AccountServiceStub(self.channel)
        self.integrations = integrations_pb2_grpc.IntegrationServiceStub(self.channel)
        self.pulls = pulls_pb2_grpc.PullServiceStub(self.channel)
        self.catalog = catalog_pb2_grpc.CatalogServiceStub(self.channel)
        self.status = status_pb2_grpc.StatusServiceStub(self.channel)

    def create_account(self, name: str = "Ada's Studio", **kw: Any) -> Any:
        req = {"plan": "trial", "start_date": "2026-01-01", "time_zone": "Europe/Berlin", **kw}
        return self.accounts.CreateAccount(accounts_pb2.CreateAccountRequest(name=name, **req), timeout=5)


def start_server(tmp_path: Path, toml: str = "") -> Iterator[Running]:
    """Start app + server with the config in ``toml``; stop both after."""
    config_file = tmp_path / "makersync.toml"
    config_file.write_text(toml)
    config = load_config(
        config_file, env={}, flags={"listen": "127.0.0.1:0", "data_dir": str(tmp_path / "data")}
    )
    app = build_test_app(config)
    server, port = create_server(config, app)
    server.start()
    running = Running(server, port, app)
    try:
        yield running
    finally:
        running.channel.close()
        server.stop(0).wait(5)
        app.shutdown(1.0)


def code_of(call: Any) -> tuple[grpc.StatusCode, str]:
    """Run ``call()`` and return the status code and details of the RpcError it raises."""
    with pytest.raises(grpc.RpcError) as info:
        call()
    err = info.value
    return err.code(), err.details()
