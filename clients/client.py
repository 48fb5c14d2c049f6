"""A typed Python client for the makersync daemon, over the generated stubs.

::

    with MakersyncClient() as ms:                       # MAKERSYNC_ADDRESS, MAKERSYNC_KEY
        account = ms.create_account("Ada's Studio", "trial", "2026-01-01", "Europe/Berlin")
        for order in ms.iter_orders(account.id):
            print(order.order_number, order.total.amount)

Every unary call carries a deadline (``timeout_s``, 10 s by default) and the
caller's key as ``authorization: Bearer <key>``. Failures raise
:class:`MakersyncError` with the status code and the daemon's message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from makersync.v1 import (
    accounts_pb2 as acc,
)
from makersync.v1 import (
    accounts_pb2_grpc,
    admin_pb2_grpc,
    catalog_pb2_grpc,
    integrations_pb2_grpc,
    pulls_pb2_grpc,
    status_pb2_grpc,
)
from makersync.v1 import (
    admin_pb2 as adm,
)
from makersync.v1 import (
    catalog_pb2 as cat,
)
from makersync.v1 import (
    integrations_pb2 as integ,
)
from makersync.v1 import (
    pulls_pb2 as pul,
)
from makersync.v1 import (
    resources_pb2 as res,
)
from makersync.v1 import (
    status_pb2 as sta,
)

DEFAULT_ADDRESS = "127.0.0.1:50551"
DEFAULT_TIMEOUT_S = 10.0
ADDRESS_ENV, KEY_ENV = "MAKERSYNC_ADDRESS", "MAKERSYNC_KEY"
M = TypeVar("M", bound=Message)


class MakersyncError(Exception):
    """A call failed: ``code`` is the gRPC status code, ``details`` the daemon's message."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self.code = code
        self.details = details
        super().__init__(f"{code.name}: {details}")


def _some(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class MakersyncClient:
    """One connection to the daemon; methods mirror the RPCs and return the reply messages."""

    def __init__(
        self,
        address: str | None = None,
        key: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        self.address = address or os.environ.get(ADDRESS_ENV) or DEFAULT_ADDRESS
        key = key if key is not None else os.environ.get(KEY_ENV)
        self.timeout_s = timeout_s
        self._metadata = (("authorization", f"Bearer {key}"),) if key else ()
        if credentials is None:
            self.channel = grpc.insecure_channel(self.address)
        else:
            self.channel = grpc.secure_channel(self.address, credentials)
        self.accounts = accounts_pb2_grpc.AccountServiceStub(self.channel)
        self.integrations = integrations_pb2_grpc.IntegrationServiceStub(self.channel)
        self.pulls = pulls_pb2_grpc.PullServiceStub(self.channel)
        self.catalog = catalog_pb2_grpc.CatalogServiceStub(self.channel)
        self.status = status_pb2_grpc.StatusServiceStub(self.channel)
        self.admin = admin_pb2_grpc.AdminServiceStub(self.channel)
        self._health = health_pb2_grpc.HealthStub(self.channel)

    def close(self) -> None:
        """Close the connection."""
        self.channel.close()

    def __enter__(self) -> MakersyncClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, rpc: Callable[..., M], request: Message, timeout_s: float | None = None) -> M:
        try:
            return rpc(request, timeout=timeout_s or self.timeout_s, metadata=self._metadata)
        except grpc.RpcError as exc:
            raise MakersyncError(exc.code(), exc.details() or "") from None

    # -- health ---------------------------------------------------------------

    def health(self, service: str = "") -> str:
        """The health status name ('SERVING', 'NOT_SERVING'...) of the daemon or one service."""
        reply = self._call(self._health.Check, health_pb2.HealthCheckRequest(service=service))
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))

    # -- accounts ------------------------------------------------------------

    def create_account(self, name: str, plan: str, start_date: str, time_zone: str,
                       daily_pull_hour: int | None = None) -> res.Account:
        return self._call(self.accounts.CreateAccount, acc.CreateAccountRequest(
            name=name, plan=plan, start_date=start_date, time_zone=time_zone,
            **_some(daily_pull_hour=daily_pull_hour)))

    def get_account(self, account_id: str) -> res.Account:
        return self._call(self.accounts.GetAccount, acc.GetAccountRequest(account_id=account_id))

    def list_accounts(self, page_size: int = 0, page_token: str = "") -> acc.ListAccountsResponse:
        return self._call(self.accounts.ListAccounts,
                          acc.ListAccountsRequest(page_size=page_size, page_token=page_token))

    def update_account(self, account_id: str, *, plan: str | None = None, start_date: str | None = None,
                       time_zone: str | None = None, daily_pull_hour: int | None = None) -> res.Account:
        return self._call(self.accounts.UpdateAccount, acc.UpdateAccountRequest(
            account_id=account_id, **_some(plan=plan, start_date=start_date, time_zone=time_zone,
                                           daily_pull_hour=daily_pull_hour)))

    def create_location(self, account_id: str, name: str) -> res.Location:
        return self._call(self.accounts.CreateLocation,
                          acc.CreateLocationRequest(account_id=account_id, name=name))

    def list_locations(self, account_id: str, page_size: int = 0, page_token: str = "") -> acc.ListLocationsResponse:
        return self._call(self.accounts.ListLocations, acc.ListLocationsRequest(
            account_id=account_id, page_size=page_size, page_token=page_token))

    # -- integrations -------------------------------------------------------

    def list_channels(self) -> integ.ListChannelsResponse:
        return self._call(self.integrations.ListChannels, integ.ListChannelsRequest())

    def connect(self, account_id: str, channel: str, credentials: Mapping[str, str],
                display_name: str = "", timeout_s: float = 60.0) -> res.Store:
        """Connect a store (the daemon checks the credentials with the channel, hence the longer deadline)."""
        return self._call(self.integrations.Connect, integ.ConnectRequest(
            account_id=account_id, channel=channel, credentials=dict(credentials),
            display_name=display_name), timeout_s)

    def disconnect(self, store_id: str, timeout_s: float = 60.0) -> integ.DisconnectResponse:
        return self._call(self.integrations.Disconnect, integ.DisconnectRequest(store_id=store_id), timeout_s)

    def configure(self, account_id: str, channel: str, *, automatic_updates: bool | None = None,
                  automatic_shipped_date: bool | None = None,
                  default_location_id: str | None = None) -> res.Integration:
        return self._call(self.integrations.Configure, integ.ConfigureRequest(
            account_id=account_id, channel=channel, **_some(
                automatic_updates=automatic_updates, automatic_shipped_date=automatic_shipped_date,
                default_location_id=default_location_id)))

    def list_integrations(self, account_id: str, page_size: int = 0,
                          page_token: str = "") -> integ.ListIntegrationsResponse:
        return self._call(self.integrations.ListIntegrations, integ.ListIntegrationsRequest(
            account_id=account_id, page_size=page_size, page_token=page_token))

    def get_store(self, store_id: str) -> res.Store:
        return self._call(self.integrations.GetStore, integ.GetStoreRequest(store_id=store_id))

    # -- pulls ----------------------------------------------------------------

    def pull(self, store_id: str, start_date: str, end_date: str, dry_run: bool = False) -> res.PullJob:
        return self._call(self.pulls.Pull, pul.PullRequest(
            store_id=store_id, start_date=start_date, end_date=end_date, dry_run=dry_run))

    def get_pull(self, pull_id: str) -> res.PullJob:
        return self._call(self.pulls.GetPull, pul.GetPullRequest(pull_id=pull_id))

    def watch_pull(self, pull_id: str, timeout_s: float | None = None) -> Iterator[res.PullJob]:
        """Snapshots of a pull until it ends (no deadline unless ``timeout_s``)."""
        stream = self.pulls.WatchPull(pul.WatchPullRequest(pull_id=pull_id), timeout=timeout_s,
                                      metadata=self._metadata)
        try:
            yield from stream
        except grpc.RpcError as exc:
            raise MakersyncError(exc.code(), exc.details() or "") from None
        finally:
            stream.cancel()

    def list_pulls(self, store_id: str, page_size: int = 0, page_token: str = "") -> pul.ListPullsResponse:
        return self._call(self.pulls.ListPulls, pul.ListPullsRequest(
            store_id=store_id, page_size=page_size, page_token=page_token))

    def sync_store(self, store_id: str) -> res.PullJob:
        """Queue an automatic pull of the store now: what changed since its last pull."""
        return self._call(self.pulls.SyncStore, pul.SyncStoreRequest(store_id=store_id))

    def cancel_pull(self, pull_id: str) -> res.PullJob:
        return self._call(self.pulls.CancelPull, pul.CancelPullRequest(pull_id=pull_id))

    # -- catalog --------------------------------------------------------------

    def list_orders(self, account_id: str, store_id: str = "", placed_from: str = "", placed_to: str = "",
                    page_size: int = 0, page_token: str = "") -> cat.ListOrdersResponse:
        return self._call(self.catalog.ListOrders, cat.ListOrdersRequest(
            account_id=account_id, store_id=store_id, placed_from=placed_from, placed_to=placed_to,
            page_size=page_size, page_token=page_token))

    def get_order(self, order_id: str) -> res.Order:
        return self._call(self.catalog.GetOrder, cat.GetOrderRequest(order_id=order_id))

    def update_order(self, order_id: str, *, status: int | None = None, shipped_at: datetime | None = None,
                     clear_shipped_at: bool = False, location_id: str | None = None,
                     note: str | None = None) -> res.Order:
        """Edit an order; ``status`` is an ``OrderStatus`` number, ``location_id`` '' clears it."""
        request = cat.UpdateOrderRequest(order_id=order_id, clear_shipped_at=clear_shipped_at,
                                         **_some(status=status, location_id=location_id, note=note))
        if shipped_at is not None:
            request.shipped_at.FromDatetime(shipped_at)
        return self._call(self.catalog.UpdateOrder, request)

    def copy_order(self, order_id: str) -> res.Order:
        return self._call(self.catalog.CopyOrder, cat.CopyOrderRequest(order_id=order_id))

    def delete_order(self, order_id: str) -> None:
        self._call(self.catalog.DeleteOrder, cat.DeleteOrderRequest(order_id=order_id))

    def list_products(self, account_id: str, page_size: int = 0, page_token: str = "") -> cat.ListProductsResponse:
        return self._call(self.catalog.ListProducts, cat.ListProductsRequest(
            account_id=account_id, page_size=page_size, page_token=page_token))

    def get_product(self, product_id: str) -> res.Product:
        return self._call(self.catalog.GetProduct, cat.GetProductRequest(product_id=product_id))

    def create_product(self, account_id: str, title: str, sku: str = "") -> res.Product:
        return self._call(self.catalog.CreateProduct,
                          cat.CreateProductRequest(account_id=account_id, title=title, sku=sku))

    def move_listing(self, listing_id: str, product_id: str) -> res.Listing:
        return self._call(self.catalog.MoveListing,
                          cat.MoveListingRequest(listing_id=listing_id, product_id=product_id))

    def list_fees(self, account_id: str, store_id: str = "", start_date: str = "", end_date: str = "",
                  page_size: int = 0, page_token: str = "") -> cat.ListFeesResponse:
        return self._call(self.catalog.ListFees, cat.ListFeesRequest(
            account_id=account_id, store_id=store_id, start_date=start_date, end_date=end_date,
            page_size=page_size, page_token=page_token))

    def delete_fee(self, fee_id: str) -> None:
        self._call(self.catalog.DeleteFee, cat.DeleteFeeRequest(fee_id=fee_id))

    # -- status ---------------------------------------------------------------

    def get_status(self, account_id: str = "") -> sta.GetStatusResponse:
        return self._call(self.status.GetStatus, sta.GetStatusRequest(account_id=account_id))

    # -- admin ----------------------------------------------------------------

    def rotate_secret_key(self, keep_previous_keys: bool = False,
                          timeout_s: float = 120.0) -> adm.RotateSecretKeyResponse:
        """Rotate the key that encrypts stored credentials (an admin key only;
        it re-encrypts every store, hence the longer deadline)."""
        return self._call(self.admin.RotateSecretKey,
                          adm.RotateSecretKeyRequest(keep_previous_keys=keep_previous_keys), timeout_s)

    # -- paging ---------------------------------------------------------------

    def iter_pages(self, method: Callable[..., Any], field: str, *args: Any, page_size: int = 1000,
                   **kwargs: Any) -> Iterator[Any]:
        """Every item of a list method, page after page (``field`` names the repeated field)."""
        token = ""
        while True:
            reply = method(*args, page_size=page_size, page_token=token, **kwargs)
            yield from getattr(reply, field)
            token = reply.next_page_token
            if not token:
                return

    def iter_orders(self, account_id: str, **filters: Any) -> Iterator[res.Order]:
        """Every order of an account matching ``filters`` (store_id, placed_from, placed_to)."""
        return self.iter_pages(self.list_orders, "orders", account_id, **filters)

    def iter_fees(self, account_id: str, **filters: Any) -> Iterator[res.Fee]:
        """Every fee of an account matching ``filters`` (store_id, start_date, end_date)."""
        return self.iter_pages(self.list_fees, "fees", account_id, **filters)

    def iter_products(self, account_id: str) -> Iterator[res.Product]:
        """Every product of an account, with its listings."""
        return self.iter_pages(self.list_products, "products", account_id)
