"""The server itself: health, reflection, binding rules, request ids."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from makersync.daemon.api.interceptors import DeadlineInterceptor, ErrorInterceptor
from makersync.daemon.api.server import SERVICE_NAMES, ServerRefused, create_server
from makersync.daemon.config import load_config
from makersync.v1 import accounts_pb2

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def test_health_reports_serving_for_server_and_each_service(api):
    stub = health_pb2_grpc.HealthStub(api.channel)
    for name in ("", *SERVICE_NAMES):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert reply.status == SERVING, name


def test_health_turns_not_serving_at_once_on_graceful_shutdown(api):
    stub = health_pb2_grpc.HealthStub(api.channel)
    api.server.enter_graceful_shutdown()
    assert stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status == NOT_SERVING
    # Calls in flight and new calls still work until the server stops.
    assert api.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(), timeout=5) is not None


def test_health_watch_gets_not_serving_then_ends_unavailable_when_streams_end(api):
    stub = health_pb2_grpc.HealthStub(api.channel)
    stream = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert next(stream).status == SERVING
    api.server.enter_graceful_shutdown()
    assert next(stream).status == NOT_SERVING
    api.server.end_streams()
    with pytest.raises(grpc.RpcError) as info:
        next(stream)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "shutting down" in (info.value.details() or "")
    # A new watch is refused at once rather than held open.
    with pytest.raises(grpc.RpcError) as info:
        next(stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=5))
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


def test_reflection_lists_the_five_services_and_health(api):
    stub = reflection_pb2_grpc.ServerReflectionStub(api.channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    reply = next(iter(stub.ServerReflectionInfo(iter([request]), timeout=5)))
    names = {s.name for s in reply.list_services_response.service}
    assert {
        "makersync.v1.AccountService",
        "makersync.v1.IntegrationService",
        "makersync.v1.PullService",
        "makersync.v1.CatalogService",
        "makersync.v1.StatusService",
        "grpc.health.v1.Health",
    } <= names


def test_reflection_serves_the_file_of_a_service(api):
    stub = reflection_pb2_grpc.ServerReflectionStub(api.channel)
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="makersync.v1.PullService")
    reply = next(iter(stub.ServerReflectionInfo(iter([request]), timeout=5)))
    assert reply.file_descriptor_response.file_descriptor_proto


def test_create_server_refuses_a_non_loopback_address_without_keys(tmp_path: Path):
    config = load_config(None, env={}, flags={"listen": "0.0.0.0:0", "data_dir": str(tmp_path)})
    with pytest.raises(ServerRefused, match=r"without keys.*server\.keys"):
        create_server(config, object())  # type: ignore[arg-type]


def test_create_server_refuses_a_port_already_taken(api, tmp_path: Path):
    config = load_config(None, env={}, flags={"listen": api.address, "data_dir": str(tmp_path)})
    with pytest.raises(ServerRefused, match="cannot listen"):
        create_server(config, api.app)


def test_reply_carries_the_request_id_the_caller_sent(api):
    _, call = api.accounts.ListAccounts.with_call(
        accounts_pb2.ListAccountsRequest(), metadata=(("x-request-id", "req-42"),), timeout=5
    )
    assert ("x-request-id", "req-42") in tuple(call.trailing_metadata())


def test_every_call_gets_a_request_id(api):
    _, call = api.accounts.ListAccounts.with_call(accounts_pb2.ListAccountsRequest(), timeout=5)
    ids = [v for k, v in call.trailing_metadata() if k == "x-request-id"]
    assert ids and len(ids[0]) >= 8


def test_errors_carry_the_request_id_too(api):
    with pytest.raises(grpc.RpcError) as info:
        api.accounts.GetAccount(accounts_pb2.GetAccountRequest(account_id="404"), timeout=5)
    assert any(k == "x-request-id" for k, _ in info.value.trailing_metadata())


class _Aborted(Exception):
    pass


class _CallContext:
    """What the interceptors read of a call: its deadline, and abort()."""

    def __init__(self, remaining_s: float) -> None:
        self.remaining_s = remaining_s
        self.aborted: tuple[grpc.StatusCode, str] | None = None

    def time_remaining(self) -> float:
        return self.remaining_s

    def code(self) -> None:
        return None

    def is_active(self) -> bool:
        return True

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.aborted = (code, details)
        raise _Aborted(details)


def _through_the_server_interceptors(remaining_s: float) -> tuple[_CallContext, list[str]]:
    """One unary call through the server's error and deadline interceptors,
    in the order create_server stacks them. Returns the context and the work done."""
    work: list[str] = []

    def behaviour(request: object, context: object) -> str:
        work.append("created an account")
        return "reply"

    handler = grpc.unary_unary_rpc_method_handler(behaviour)
    details = type("Details", (), {"method": "/makersync.v1.AccountService/CreateAccount"})()
    for interceptor in (DeadlineInterceptor(), ErrorInterceptor()):  # innermost first
        handler = interceptor.intercept_service(lambda _d, h=handler: h, details)
    context = _CallContext(remaining_s)
    try:
        handler.unary_unary(object(), context)
    except _Aborted:
        pass
    return context, work


def test_expired_deadline_is_refused_with_deadline_exceeded_and_does_no_work():
    # A real client cannot deliver an already-passed deadline reliably: with a
    # zero timeout about one call in five still completes OK on loopback, the
    # rest fail on either side. So the server's own interceptors are driven
    # with one, as create_server stacks them.
    context, work = _through_the_server_interceptors(remaining_s=-0.001)
    assert context.aborted is not None
    assert context.aborted[0] == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "deadline" in context.aborted[1]
    assert work == []

    context, work = _through_the_server_interceptors(remaining_s=5.0)
    assert context.aborted is None and work == ["created an account"]


def test_create_account_takes_daily_hour_from_config_when_request_names_none(tmp_path):
    """R1: daily pulls run at 05:00 by default; [scheduler] daily_hour_default changes it."""
    from tests.daemon.api.api_fixtures import start_server

    toml = "[scheduler]\ndaily_hour_default = 7\n"
    for running in start_server(tmp_path, toml):
        assert running.create_account().daily_pull_hour == 7
        assert running.create_account(name="Other", daily_pull_hour=22).daily_pull_hour == 22


def test_update_account_changes_only_the_fields_sent(api):
    """API.md UpdateAccount: optional fields. A plan or time zone change keeps
    the daily pull hour the maker chose (it used to fall back to 05:00)."""
    account = api.create_account(daily_pull_hour=7)
    changed = api.accounts.UpdateAccount(accounts_pb2.UpdateAccountRequest(
        account_id=account.id, plan="indie"), timeout=5)
    assert (changed.plan, changed.daily_pull_hour, changed.time_zone) == ("indie", 7, "Europe/Berlin")
    changed = api.accounts.UpdateAccount(accounts_pb2.UpdateAccountRequest(
        account_id=account.id, time_zone="America/Chicago"), timeout=5)
    assert (changed.plan, changed.daily_pull_hour, changed.time_zone) == ("indie", 7, "America/Chicago")
    read = api.accounts.GetAccount(accounts_pb2.GetAccountRequest(account_id=account.id), timeout=5)
    assert read.daily_pull_hour == 7


@pytest.mark.parametrize("call", ["orders_to", "fees_to", "orders_from_before_1970", "shipped_at_year_1",
                                  "shipped_at_year_9999", "start_date_9999"])
def test_dates_at_the_ends_of_the_calendar_are_refused_naming_the_field(api, call):
    """API.md: bad input is INVALID_ARGUMENT naming the field, never INTERNAL.
    Dates and instants past what a day's end or a zone's offset can reach
    (9999-12-31, year 1) used to fail deep inside with an overflow."""
    from google.protobuf.timestamp_pb2 import Timestamp

    from makersync.v1 import catalog_pb2

    account = api.create_account()
    far_end, year_one = Timestamp(seconds=253402300000 - 86_400), Timestamp(seconds=-62135596800)
    calls = {
        "orders_to": ("placed_to", lambda: api.catalog.ListOrders(catalog_pb2.ListOrdersRequest(
            account_id=account.id, placed_to="9999-12-31"), timeout=5)),
        "fees_to": ("end_date", lambda: api.catalog.ListFees(catalog_pb2.ListFeesRequest(
            account_id=account.id, end_date="9999-12-31"), timeout=5)),
        "orders_from_before_1970": ("placed_from", lambda: api.catalog.ListOrders(catalog_pb2.ListOrdersRequest(
            account_id=account.id, placed_from="1969-12-31"), timeout=5)),
        "shipped_at_year_1": ("shipped_at", lambda: api.catalog.UpdateOrder(catalog_pb2.UpdateOrderRequest(
            order_id="1", shipped_at=year_one), timeout=5)),
        "shipped_at_year_9999": ("shipped_at", lambda: api.catalog.UpdateOrder(catalog_pb2.UpdateOrderRequest(
            order_id="1", shipped_at=far_end), timeout=5)),
        "start_date_9999": ("start_date", lambda: api.create_account(name="Far", start_date="9999-12-31")),
    }
    field, invoke = calls[call]
    with pytest.raises(grpc.RpcError) as info:
        invoke()
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
    assert field in info.value.details()
    accounts = api.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(), timeout=5).accounts
    assert [a.name for a in accounts] == ["Ada's Studio"]  # nothing else was written


def test_page_size_zero_means_the_documented_default_of_100(api):
    """The proto comments: page_size 0 means the server's default (100)."""
    account = api.create_account()
    for n in range(101):
        api.accounts.CreateLocation(accounts_pb2.CreateLocationRequest(account_id=account.id, name=f"Shelf {n}"),
                                    timeout=5)
    first = api.accounts.ListLocations(accounts_pb2.ListLocationsRequest(account_id=account.id), timeout=5)
    assert len(first.locations) == 100 and first.next_page_token
    rest = api.accounts.ListLocations(accounts_pb2.ListLocationsRequest(
        account_id=account.id, page_token=first.next_page_token), timeout=5)
    names = [loc.name for loc in [*first.locations, *rest.locations]]
    assert not rest.next_page_token and len(names) == len(set(names))
    assert {f"Shelf {n}" for n in range(101)} <= set(names)
