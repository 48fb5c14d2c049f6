"""AccountService: accounts and their locations. Thin: check, call one domain
function, convert; errors are mapped by the ErrorInterceptor."""

from __future__ import annotations

import grpc

from makersync.daemon.api import access, convert, validate
from makersync.daemon.api.app import App
from makersync.daemon.domain import accounts
from makersync.v1 import accounts_pb2 as pb
from makersync.v1 import accounts_pb2_grpc, resources_pb2


class AccountServicer(accounts_pb2_grpc.AccountServiceServicer):
    """Creates and reads accounts and locations."""

    def __init__(self, app: App) -> None:
        self.app = app

    def CreateAccount(self, request: pb.CreateAccountRequest, context: grpc.ServicerContext) -> resources_pb2.Account:
        access.require_unscoped("create accounts")
        validate.date_str(request.start_date, "start_date", required=True)
        view = accounts.create_account(
            self.app.db, self.app.clock, self.app.plans,
            name=request.name, plan=request.plan, start_date=request.start_date,
            time_zone=request.time_zone,
            daily_pull_hour=(request.daily_pull_hour if request.HasField("daily_pull_hour")
                             else self.app.default_daily_pull_hour),
        )
        return convert.account_to_proto(view)

    def GetAccount(self, request: pb.GetAccountRequest, context: grpc.ServicerContext) -> resources_pb2.Account:
        account_id = validate.require_id(request.account_id, "account_id")
        access.check_account(account_id)
        view = accounts.get_account(self.app.db, self.app.clock, self.app.plans, account_id)
        return convert.account_to_proto(view)

    def ListAccounts(self, request: pb.ListAccountsRequest, context: grpc.ServicerContext) -> pb.ListAccountsResponse:
        size = validate.page_size(request.page_size)
        scoped = access.scoped_account()
        if scoped is not None:  # a scoped key sees its own account only
            view = accounts.get_account(self.app.db, self.app.clock, self.app.plans, scoped)
            return pb.ListAccountsResponse(accounts=[convert.account_to_proto(view)])
        page = accounts.list_accounts(
            self.app.db, self.app.clock, self.app.plans, size, request.page_token
        )
        return pb.ListAccountsResponse(
            accounts=[convert.account_to_proto(a) for a in page.items],
            next_page_token=page.next_page_token,
        )

    def UpdateAccount(self, request: pb.UpdateAccountRequest, context: grpc.ServicerContext) -> resources_pb2.Account:
        account_id = validate.require_id(request.account_id, "account_id")
        access.check_account(account_id)
        start_date = request.start_date if request.HasField("start_date") else None
        if start_date is not None:
            validate.date_str(start_date, "start_date", required=True)
        view = accounts.update_account(
            self.app.db, self.app.clock, self.app.plans, account_id,
            plan=request.plan if request.HasField("plan") else None,
            start_date=start_date,
            time_zone=request.time_zone if request.HasField("time_zone") else None,
            daily_pull_hour=request.daily_pull_hour if request.HasField("daily_pull_hour") else None,
        )
        return convert.account_to_proto(view)

    def CreateLocation(self, request: pb.CreateLocationRequest, context: grpc.ServicerContext) -> resources_pb2.Location:
        account_id = validate.require_id(request.account_id, "account_id")
        access.check_account(account_id)
        view = accounts.create_location(self.app.db, self.app.clock, account_id, request.name)
        return convert.location_to_proto(view)

    def ListLocations(self, request: pb.ListLocationsRequest, context: grpc.ServicerContext) -> pb.ListLocationsResponse:
        account_id = validate.require_id(request.account_id, "account_id")
        access.check_account(account_id)
        page = accounts.list_locations(
            self.app.db, account_id, validate.page_size(request.page_size), request.page_token
        )
        return pb.ListLocationsResponse(
            locations=[convert.location_to_proto(loc) for loc in page.items],
            next_page_token=page.next_page_token,
        )
