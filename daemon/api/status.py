"""StatusService: what the daemon runs and how each store's pulls are going."""

from __future__ import annotations

import grpc

from makersync.daemon.api import access, convert
from makersync.daemon.api.app import App
from makersync.v1 import status_pb2 as pb
from makersync.v1 import status_pb2_grpc


class StatusServicer(status_pb2_grpc.StatusServiceServicer):
    """The daemon's status, for every account the key may see or for one."""

    def __init__(self, app: App) -> None:
        self.app = app

    def GetStatus(self, request: pb.GetStatusRequest, context: grpc.ServicerContext) -> pb.GetStatusResponse:
        account_id = request.account_id or access.scoped_account() or None
        if account_id is not None:
            access.check_account(account_id)
        return convert.status_to_proto(self.app.status(account_id))
