"""IntegrationService: channels, connect/disconnect, integration settings, stores."""

from __future__ import annotations

import grpc

from makersync.daemon.api import access, convert, validate
from makersync.daemon.api.app import App
from makersync.daemon.domain import integrations, paging
from makersync.daemon.domain.errors import InvalidArgument
from makersync.daemon.logging import register_secret
from makersync.v1 import integrations_pb2 as pb
from makersync.v1 import integrations_pb2_grpc, resources_pb2

_CHANNELS_SCOPE = paging.token_scope("channels")


def offset_token(token: str, total: int) -> int:
    """The offset in a ListChannels page token ('' = 0); InvalidArgument naming
    ``page_token`` when it is not one (another list's token included)."""
    key = paging.decode_token(token, 1, _CHANNELS_SCOPE)
    if key is None:
        return 0
    if not isinstance(key[0], int) or not 0 <= key[0] <= total:
        raise InvalidArgument("page_token", "is not a token this method returned")
    return key[0]


class IntegrationServicer(integrations_pb2_grpc.IntegrationServiceServicer):
    """Connects stores and sets the per-channel settings of an account."""

    def __init__(self, app: App) -> None:
        self.app = app

    def _channel_names(self) -> list[str]:
        return [c.name for c in self.app.list_channels()]

    def ListChannels(self, request: pb.ListChannelsRequest, context: grpc.ServicerContext) -> pb.ListChannelsResponse:
        size = validate.page_size(request.page_size) or validate.MAX_PAGE_SIZE
        channels = sorted(self.app.list_channels(), key=lambda c: c.name)
        start = offset_token(request.page_token, len(channels))
        end = start + size
        return pb.ListChannelsResponse(
            channels=[convert.channel_info_to_proto(c) for c in channels[start:end]],
            next_page_token=paging.encode_token([end], _CHANNELS_SCOPE) if end < len(channels) else "",
        )

    def Connect(self, request: pb.ConnectRequest, context: grpc.ServicerContext) -> resources_pb2.Store:
        # Registered first: from here on no log line or error shows these values.
        # Every value, not only the fields a channel declares secret: an app's
        # client id or keystring is half of its credentials, and the engine
        # registers every decrypted value before each pull anyway.
        for value in request.credentials.values():
            register_secret(value)
        account_id = validate.require_id(request.account_id, "account_id")
        channel = validate.require_id(request.channel, "channel")
        access.check_account(account_id)
        validate.credentials(request.credentials)
        view = self.app.connect(account_id, channel, dict(request.credentials), request.display_name)
        return convert.store_to_proto(view, self.app.clock.now())

    def Disconnect(self, request: pb.DisconnectRequest, context: grpc.ServicerContext) -> pb.DisconnectResponse:
        store_id = validate.require_id(request.store_id, "store_id")
        access.check_owner(lambda: integrations.get_store(self.app.db, store_id), "store_id")
        return convert.disconnect_to_proto(self.app.disconnect(store_id))

    def Configure(self, request: pb.ConfigureRequest, context: grpc.ServicerContext) -> resources_pb2.Integration:
        account_id = validate.require_id(request.account_id, "account_id")
        channel = validate.require_id(request.channel, "channel")
        access.check_account(account_id)
        view = integrations.configure(
            self.app.db, self.app.clock, self.app.plans, account_id, channel, self._channel_names(),
            automatic_updates=(
                request.automatic_updates if request.HasField("automatic_updates") else None
            ),
            automatic_shipped_date=(
                request.automatic_shipped_date if request.HasField("automatic_shipped_date") else None
            ),
            default_location_id=(
                request.default_location_id if request.HasField("default_location_id") else None
            ),
        )
        return convert.integration_to_proto(view, self.app.clock.now())

    def ListIntegrations(
        self, request: pb.ListIntegrationsRequest, context: grpc.ServicerContext
    ) -> pb.ListIntegrationsResponse:
        account_id = validate.require_id(request.account_id, "account_id")
        access.check_account(account_id)
        page = integrations.list_integrations(
            self.app.db, account_id, validate.page_size(request.page_size), request.page_token
        )
        now = self.app.clock.now()
        return pb.ListIntegrationsResponse(
            integrations=[convert.integration_to_proto(i, now) for i in page.items],
            next_page_token=page.next_page_token,
        )

    def GetStore(self, request: pb.GetStoreRequest, context: grpc.ServicerContext) -> resources_pb2.Store:
        store_id = validate.require_id(request.store_id, "store_id")
        view = integrations.get_store(self.app.db, store_id)
        access.check_account(view.account_id, "store_id")
        return convert.store_to_proto(view, self.app.clock.now())
