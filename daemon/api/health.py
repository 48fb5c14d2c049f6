"""The standard ``grpc.health.v1.Health`` service, with Watch streams that end
when the daemon stops.

The stock servicer keeps a Watch open until the server cancels it, which
``server.stop(grace)`` does only once the grace period has run out: one open
watch (a proxy, a probe) made every shutdown last the whole grace.
:meth:`DaemonHealth.end_watches` sends each open watch its last status
(NOT_SERVING by then) and ends it with UNAVAILABLE, so the server stops as soon
as the calls in flight are done.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2

from makersync.daemon.api.errors import ShuttingDown

_END = object()
"""Queued to a watch by :meth:`DaemonHealth.end_watches`."""


class DaemonHealth(health.HealthServicer):
    """Health status of the server and each service; Watch streams end on
    :meth:`end_watches`. Each open watch holds one server worker thread."""

    def __init__(self) -> None:
        # Blocking Watch: the interceptors wrap every method, which drops the
        # stock servicer's experimental non-blocking flag anyway.
        super().__init__(experimental_non_blocking=False)
        self._watches: set[queue.SimpleQueue[Any]] = set()
        self._watches_lock = threading.Lock()
        self._ending = False

    def Watch(  # noqa: N802 - the gRPC method name
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext,
        send_response_callback: Any = None,
    ) -> Iterator[health_pb2.HealthCheckResponse]:
        """The service's status now, then on each change; ends with
        UNAVAILABLE once the daemon is stopping (raises ShuttingDown)."""
        updates: queue.SimpleQueue[Any] = queue.SimpleQueue()
        with self._watches_lock:
            if self._ending:
                raise ShuttingDown()
            self._watches.add(updates)
        try:
            # The stock servicer records the status and feeds changes, then
            # None once the call is over (cancelled by the caller, or by the server).
            super().Watch(request, context, send_response_callback=updates.put)
            while True:
                item = updates.get()
                if item is None:
                    return
                if item is _END:
                    raise ShuttingDown()
                yield item
        finally:
            with self._watches_lock:
                self._watches.discard(updates)

    def end_watches(self) -> None:
        """End every open Watch (after the status it has not yet sent) and
        refuse new ones; call once health is NOT_SERVING."""
        with self._watches_lock:
            self._ending = True
            for updates in self._watches:
                updates.put(_END)
