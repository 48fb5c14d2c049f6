"""The gRPC server: the six services, health, reflection and the interceptors.

``create_server(config, app)`` binds ``config.listen`` (port 0 picks a free
port, for tests) and returns the server and its port; ``start()`` turns
health SERVING, and ``enter_graceful_shutdown()`` turns it NOT_SERVING at
once, before the App and the server stop. ``end_streams()`` then ends the
long-lived streams (WatchPull, health Watch) with UNAVAILABLE, so
``stop(grace)`` waits only for the calls in flight, not for the grace.
"""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from makersync.daemon.api.accounts import AccountServicer
from makersync.daemon.api.admin import AdminServicer
from makersync.daemon.api.app import App
from makersync.daemon.api.catalog import CatalogServicer
from makersync.daemon.api.health import DaemonHealth
from makersync.daemon.api.integrations import IntegrationServicer
from makersync.daemon.api.interceptors import (
    AuthInterceptor,
    DeadlineInterceptor,
    ErrorInterceptor,
    LoggingInterceptor,
    RequestLimitsInterceptor,
)
from makersync.daemon.api.pulls import PullServicer
from makersync.daemon.api.status import StatusServicer
from makersync.daemon.config import Config
from makersync.daemon.config_sections import is_loopback, split_listen
from makersync.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    admin_pb2,
    admin_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    integrations_pb2,
    integrations_pb2_grpc,
    pulls_pb2,
    pulls_pb2_grpc,
    status_pb2,
    status_pb2_grpc,
)

MAX_WORKERS = 32
"""Threads serving calls; WatchPull and health Watch streams hold one each while open."""

SERVICE_NAMES: tuple[str, ...] = tuple(
    module.DESCRIPTOR.services_by_name[name].full_name
    for module, name in (
        (accounts_pb2, "AccountService"),
        (integrations_pb2, "IntegrationService"),
        (pulls_pb2, "PullService"),
        (catalog_pb2, "CatalogService"),
        (status_pb2, "StatusService"),
        (admin_pb2, "AdminService"),
    )
)
HEALTH_SERVICE_NAME: str = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


class ServerRefused(RuntimeError):
    """The server will not listen: an open non-loopback address, or the address is taken."""


class MakersyncServer(grpc.Server):
    """A ``grpc.Server`` that also owns the health status and the auth keys."""

    def __init__(self, server: grpc.Server, health_servicer: DaemonHealth,
                 auth: AuthInterceptor, stopping: threading.Event | None = None) -> None:
        self._server = server
        self.health = health_servicer
        self.auth = auth
        self.stopping = stopping if stopping is not None else threading.Event()

    def start(self) -> None:
        """Start serving and report SERVING for the server and each service."""
        self._server.start()
        for name in ("", *SERVICE_NAMES):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    def enter_graceful_shutdown(self) -> None:
        """Report NOT_SERVING from now on (calls in flight continue)."""
        self.health.enter_graceful_shutdown()

    def end_streams(self) -> None:
        """End the open WatchPull and health Watch streams (UNAVAILABLE, the
        daemon is shutting down) and refuse new ones. WatchPull sends the
        pull's latest snapshot first, so call it once the App has stopped its pulls."""
        self.enter_graceful_shutdown()
        self.stopping.set()
        self.health.end_watches()

    def stop(self, grace: float | None) -> Any:
        """End the streams, then stop; calls in flight get ``grace`` seconds."""
        self.end_streams()
        return self._server.stop(grace)

    def update_config(self, config: Config) -> None:
        """Take the keys of a reloaded config (the listen address needs a restart)."""
        self.auth.update_keys(config.server.keys)

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return bool(self._server.wait_for_termination(timeout))

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Any) -> None:
        self._server.add_generic_rpc_handlers(generic_rpc_handlers)

    def add_insecure_port(self, address: str) -> int:
        return int(self._server.add_insecure_port(address))

    def add_secure_port(self, address: str, server_credentials: grpc.ServerCredentials) -> int:
        return int(self._server.add_secure_port(address, server_credentials))


def _credentials(config: Config) -> grpc.ServerCredentials | None:
    srv = config.server
    if srv.tls_cert is None or srv.tls_key is None:
        return None
    ca = srv.tls_client_ca.read_bytes() if srv.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [(srv.tls_key.read_bytes(), srv.tls_cert.read_bytes())],
        root_certificates=ca, require_client_auth=ca is not None,
    )


def check_listen_allowed(config: Config) -> None:
    """Raise ServerRefused when ``config.listen`` is not loopback and no keys are configured."""
    host, _ = split_listen(config.listen)
    if not is_loopback(host) and not config.server.keys:
        raise ServerRefused(
            f"refusing to listen on {config.listen} without keys: add [[server.keys]] to the "
            "config file, or listen on 127.0.0.1"
        )


def create_server(config: Config, services: App) -> tuple[MakersyncServer, int]:
    """Build the server for ``services`` and bind ``config.listen``; returns the
    (not yet started) server and the bound port.

    Raises ServerRefused when the address is not loopback and no keys are
    configured, or when the address cannot be bound."""
    check_listen_allowed(config)
    auth = AuthInterceptor(config.server.keys)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="grpc"),
        interceptors=[LoggingInterceptor(), ErrorInterceptor(), auth, DeadlineInterceptor(), RequestLimitsInterceptor()],
        options=[("grpc.so_reuseport", 0)],  # a second daemon on the same port must fail to bind
    )
    accounts_pb2_grpc.add_AccountServiceServicer_to_server(AccountServicer(services), server)
    integrations_pb2_grpc.add_IntegrationServiceServicer_to_server(IntegrationServicer(services), server)
    stopping = threading.Event()
    pulls_pb2_grpc.add_PullServiceServicer_to_server(PullServicer(services, stopping=stopping), server)
    catalog_pb2_grpc.add_CatalogServiceServicer_to_server(CatalogServicer(services), server)
    status_pb2_grpc.add_StatusServiceServicer_to_server(StatusServicer(services), server)
    admin_pb2_grpc.add_AdminServiceServicer_to_server(AdminServicer(services), server)
    health_servicer = DaemonHealth()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    creds = _credentials(config)
    try:
        if creds is None:
            port = server.add_insecure_port(config.listen)
        else:
            port = server.add_secure_port(config.listen, creds)
    except RuntimeError as exc:
        raise ServerRefused(f"cannot listen on {config.listen}: {exc}") from None
    if not port:
        raise ServerRefused(f"cannot listen on {config.listen}: the address is in use or invalid")
    return MakersyncServer(server, health_servicer, auth, stopping), port
