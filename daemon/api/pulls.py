"""PullService: manual pulls, and following pulls of every kind."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc

from makersync.daemon.api import access, convert, validate
from makersync.daemon.api.app import App
from makersync.daemon.api.errors import ShuttingDown
from makersync.daemon.domain import integrations, pulls
from makersync.daemon.domain.errors import FailedPrecondition
from makersync.v1 import pulls_pb2 as pb
from makersync.v1 import pulls_pb2_grpc, resources_pb2

FINAL_STATES = frozenset({"succeeded", "failed", "cancelled"})
WATCH_POLL_S = 0.2


class PullServicer(pulls_pb2_grpc.PullServiceServicer):
    """Starts manual pulls and streams their progress. Once ``stopping`` is
    set (the daemon shuts down), open WatchPull streams send the pull as the
    shutdown left it and end with UNAVAILABLE."""

    def __init__(self, app: App, poll_s: float = WATCH_POLL_S, stopping: threading.Event | None = None) -> None:
        self.app = app
        self.poll_s = poll_s
        self.stopping = stopping if stopping is not None else threading.Event()

    def Pull(self, request: pb.PullRequest, context: grpc.ServicerContext) -> resources_pb2.PullJob:
        store_id = validate.require_id(request.store_id, "store_id")
        validate.date_str(request.start_date, "start_date", required=True)
        validate.date_str(request.end_date, "end_date", required=True)
        store = integrations.get_store(self.app.db, store_id)
        access.check_account(store.account_id, "store_id")
        if store.state == "needs_reconnect":
            # pulls.proto: refused here, not queued to fail again at the channel.
            raise FailedPrecondition(
                "store_id", "the channel refused this store's credentials; reconnect it (Connect with new "
                "credentials) before pulling" + (f"; last error: {store.last_error}" if store.last_error else ""))
        view = self.app.request_pull(store_id, request.start_date, request.end_date, request.dry_run)
        return convert.pull_to_proto(view)

    def GetPull(self, request: pb.GetPullRequest, context: grpc.ServicerContext) -> resources_pb2.PullJob:
        pull_id = validate.require_id(request.pull_id, "pull_id")
        view = pulls.get_pull(self.app.db, pull_id)
        access.check_account(view.account_id, "pull_id")
        return convert.pull_to_proto(view)

    def WatchPull(
        self, request: pb.WatchPullRequest, context: grpc.ServicerContext
    ) -> Iterator[resources_pb2.PullJob]:
        pull_id = validate.require_id(request.pull_id, "pull_id")
        view = pulls.get_pull(self.app.db, pull_id)
        access.check_account(view.account_id, "pull_id")
        ended = threading.Event()
        context.add_callback(ended.set)  # client cancelled, deadline passed or server stopping
        yield convert.pull_to_proto(view)
        wait_change = getattr(self.app, "wait_pull_change", None)
        read_at = time.monotonic()
        while view.state not in FINAL_STATES and context.is_active():
            stopping = self.stopping.is_set()
            if not stopping:
                if wait_change is not None:
                    wait_change(pull_id, self.poll_s)
                # At most one read (and snapshot) per poll interval, however busy the pull.
                if ended.wait(max(self.poll_s - (time.monotonic() - read_at), 0.0)):
                    return
            latest = pulls.get_pull(self.app.db, pull_id)
            read_at = time.monotonic()
            if latest != view:
                view = latest
                yield convert.pull_to_proto(view)
            if stopping and view.state not in FINAL_STATES:
                # Not an OK end: that would say the pull ended. The caller watches again later.
                raise ShuttingDown()

    def ListPulls(self, request: pb.ListPullsRequest, context: grpc.ServicerContext) -> pb.ListPullsResponse:
        store_id = validate.require_id(request.store_id, "store_id")
        access.check_owner(lambda: integrations.get_store(self.app.db, store_id), "store_id")
        page = pulls.list_pulls(
            self.app.db, store_id, validate.page_size(request.page_size), request.page_token
        )
        return pb.ListPullsResponse(
            pulls=[convert.pull_to_proto(p) for p in page.items], next_page_token=page.next_page_token
        )

    def CancelPull(self, request: pb.CancelPullRequest, context: grpc.ServicerContext) -> resources_pb2.PullJob:
        pull_id = validate.require_id(request.pull_id, "pull_id")
        access.check_owner(lambda: pulls.get_pull(self.app.db, pull_id), "pull_id")
        return convert.pull_to_proto(self.app.cancel_pull(pull_id))

    def SyncStore(self, request: pb.SyncStoreRequest, context: grpc.ServicerContext) -> resources_pb2.PullJob:
        store_id = validate.require_id(request.store_id, "store_id")
        access.check_owner(lambda: integrations.get_store(self.app.db, store_id), "store_id")
        return convert.pull_to_proto(self.app.sync_store(store_id))
