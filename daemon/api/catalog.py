"""CatalogService: the books (orders, products, listings, fees) and the maker's edits."""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2

from makersync.daemon.api import access, convert, validate
from makersync.daemon.api.app import App
from makersync.daemon.domain import catalog
from makersync.daemon.domain.errors import InvalidArgument
from makersync.v1 import catalog_pb2 as pb
from makersync.v1 import catalog_pb2_grpc, resources_pb2


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    """Reads the books and applies the maker's own changes (R7, R9)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def _order_owner(self, order_id: str) -> None:
        access.check_owner(lambda: catalog.get_order(self.app.db, order_id), "order_id")

    def ListOrders(self, request: pb.ListOrdersRequest, context: grpc.ServicerContext) -> pb.ListOrdersResponse:
        account_id = validate.require_id(request.account_id, "account_id")
        access.check_account(account_id)
        start = validate.date_str(request.placed_from, "placed_from")
        end = validate.date_str(request.placed_to, "placed_to")
        validate.date_range(start, end, "placed_from", "placed_to")
        page = catalog.list_orders(
            self.app.db, account_id, request.store_id, start, end,
            validate.page_size(request.page_size), request.page_token,
        )
        return pb.ListOrdersResponse(
            orders=[convert.order_to_proto(o) for o in page.items],
            next_page_token=page.next_page_token, total_size=max(page.total_size, 0),
        )

    def GetOrder(self, request: pb.GetOrderRequest, context: grpc.ServicerContext) -> resources_pb2.Order:
        view = catalog.get_order(self.app.db, validate.require_id(request.order_id, "order_id"))
        access.check_account(view.account_id, "order_id")
        return convert.order_to_proto(view)

    def UpdateOrder(self, request: pb.UpdateOrderRequest, context: grpc.ServicerContext) -> resources_pb2.Order:
        order_id = validate.require_id(request.order_id, "order_id")
        status = None
        if request.HasField("status"):
            number = validate.enum_number(resources_pb2.OrderStatus, request.status, "status")
            status = convert.order_status_from_proto(number)
        shipped_at = convert.timestamp_from_proto(request, "shipped_at")
        if shipped_at is not None and request.clear_shipped_at:
            raise InvalidArgument("shipped_at", "must not be set together with clear_shipped_at")
        self._order_owner(order_id)
        view = catalog.update_order(
            self.app.db, self.app.clock, order_id, status=status, shipped_at=shipped_at,
            clear_shipped_at=request.clear_shipped_at,
            location_id=request.location_id if request.HasField("location_id") else None,
            note=request.note if request.HasField("note") else None,
        )
        return convert.order_to_proto(view)

    def CopyOrder(self, request: pb.CopyOrderRequest, context: grpc.ServicerContext) -> resources_pb2.Order:
        order_id = validate.require_id(request.order_id, "order_id")
        self._order_owner(order_id)
        return convert.order_to_proto(catalog.copy_order(self.app.db, self.app.clock, order_id))

    def DeleteOrder(self, request: pb.DeleteOrderRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        order_id = validate.require_id(request.order_id, "order_id")
        self._order_owner(order_id)
        catalog.delete_order(self.app.db, self.app.clock, order_id)
        return empty_pb2.Empty()

    def ListProducts(
        self, request: pb.ListProductsRequest, context: grpc.ServicerContext
    ) -> pb.ListProductsResponse:
        account_id = validate.require_id(request.account_id, "account_id")
        access.check_account(account_id)
        page = catalog.list_products(
            self.app.db, account_id, validate.page_size(request.page_size), request.page_token
        )
        return pb.ListProductsResponse(
            products=[convert.product_to_proto(p) for p in page.items],
            next_page_token=page.next_page_token,
        )

    def GetProduct(self, request: pb.GetProductRequest, context: grpc.ServicerContext) -> resources_pb2.Product:
        view = catalog.get_product(self.app.db, validate.require_id(request.product_id, "product_id"))
        access.check_account(view.account_id, "product_id")
        return convert.product_to_proto(view)

    def CreateProduct(
        self, request: pb.CreateProductRequest, context: grpc.ServicerContext
    ) -> resources_pb2.Product:
        account_id = validate.require_id(request.account_id, "account_id")
        access.check_account(account_id)
        view = catalog.create_product(self.app.db, self.app.clock, account_id, request.sku, request.title)
        return convert.product_to_proto(view)

    def MoveListing(self, request: pb.MoveListingRequest, context: grpc.ServicerContext) -> resources_pb2.Listing:
        listing_id = validate.require_id(request.listing_id, "listing_id")
        product_id = validate.require_id(request.product_id, "product_id")
        # A scoped key must own both: the listing (else it would learn that another
        # account's listing exists) and the product.
        access.check_owner(lambda: catalog.get_listing(self.app.db, listing_id), "listing_id")
        access.check_owner(lambda: catalog.get_product(self.app.db, product_id), "product_id")
        return convert.listing_to_proto(catalog.move_listing(self.app.db, listing_id, product_id))

    def ListFees(self, request: pb.ListFeesRequest, context: grpc.ServicerContext) -> pb.ListFeesResponse:
        account_id = validate.require_id(request.account_id, "account_id")
        access.check_account(account_id)
        start = validate.date_str(request.start_date, "start_date")
        end = validate.date_str(request.end_date, "end_date")
        validate.date_range(start, end, "start_date", "end_date")
        page = catalog.list_fees(
            self.app.db, account_id, request.store_id, start, end,
            validate.page_size(request.page_size), request.page_token,
        )
        return pb.ListFeesResponse(
            fees=[convert.fee_to_proto(f) for f in page.items], next_page_token=page.next_page_token
        )

    def DeleteFee(self, request: pb.DeleteFeeRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        fee_id = validate.require_id(request.fee_id, "fee_id")
        access.check_owner(lambda: catalog.get_fee(self.app.db, fee_id), "fee_id")
        catalog.delete_fee(self.app.db, self.app.clock, fee_id)
        return empty_pb2.Empty()
