"""The checks the api layer owns: each refusal is INVALID_ARGUMENT naming the
field (or NOT_FOUND for an id that names nothing), and nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from api_fixtures import code_of
from google.protobuf.timestamp_pb2 import Timestamp

from makersync.v1 import accounts_pb2, catalog_pb2, integrations_pb2, pulls_pb2, status_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def test_create_account_with_a_bad_date_names_start_date(api):
    code, details = code_of(lambda: api.create_account(start_date="01/02/2026"))
    assert (code, details.split(":")[0]) == (INVALID, "start_date")
    assert "YYYY-MM-DD" in details
    assert not api.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(), timeout=5).accounts


def test_start_date_after_today_is_invalid_argument_naming_start_date(api):
    """R3: CreateAccount and UpdateAccount refuse a start date after today; nothing is written."""
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    code, details = code_of(lambda: api.create_account(start_date=future))
    assert code == INVALID and details.startswith("start_date:") and details.endswith("(R3)")
    assert not api.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(), timeout=5).accounts
    account = api.create_account()
    code, details = code_of(lambda: api.accounts.UpdateAccount(
        accounts_pb2.UpdateAccountRequest(account_id=account.id, start_date=future), timeout=5))
    assert code == INVALID and details.startswith("start_date:") and details.endswith("(R3)")
    got = api.accounts.GetAccount(accounts_pb2.GetAccountRequest(account_id=account.id), timeout=5)
    assert got.start_date == account.start_date


@pytest.mark.parametrize(
    "value", ["2026-13-01", "2026-02-30", "20260101", "2026-1-1", " 2026-01-01", "2026-W01-1", "２０２６-01-01"]
)
def test_list_orders_with_a_bad_placed_from_names_the_field(api, value):
    account = api.create_account()
    code, details = code_of(lambda: api.catalog.ListOrders(
        catalog_pb2.ListOrdersRequest(account_id=account.id, placed_from=value), timeout=5))
    assert code == INVALID
    assert details.startswith("placed_from:")


def test_list_fees_with_start_after_end_names_start_date(api):
    account = api.create_account()
    code, details = code_of(lambda: api.catalog.ListFees(catalog_pb2.ListFeesRequest(
        account_id=account.id, start_date="2026-03-02", end_date="2026-03-01"), timeout=5))
    assert code == INVALID
    assert details.startswith("start_date:")


def test_pull_with_a_missing_end_date_names_end_date(api):
    code, details = code_of(lambda: api.pulls.Pull(
        pulls_pb2.PullRequest(store_id="1", start_date="2026-03-01"), timeout=5))
    assert code == INVALID
    assert details.startswith("end_date:")


@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(page_size=-1), timeout=5),
        lambda api: api.accounts.ListLocations(
            accounts_pb2.ListLocationsRequest(account_id="1", page_size=-5), timeout=5),
        lambda api: api.catalog.ListOrders(catalog_pb2.ListOrdersRequest(account_id="1", page_size=-1), timeout=5),
        lambda api: api.pulls.ListPulls(pulls_pb2.ListPullsRequest(store_id="1", page_size=-1), timeout=5),
        lambda api: api.integrations.ListChannels(integrations_pb2.ListChannelsRequest(page_size=-2), timeout=5),
    ],
)
def test_negative_page_size_names_page_size(api, call):
    api.create_account()
    code, details = code_of(lambda: call(api))
    assert code == INVALID
    assert details.startswith("page_size:")


def test_page_size_above_the_maximum_is_lowered_not_refused(api):
    api.create_account()
    reply = api.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(page_size=5000), timeout=5)
    assert len(reply.accounts) == 1


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda api: api.accounts.GetAccount(accounts_pb2.GetAccountRequest(), timeout=5), "account_id"),
        (lambda api: api.integrations.GetStore(integrations_pb2.GetStoreRequest(), timeout=5), "store_id"),
        (lambda api: api.pulls.GetPull(pulls_pb2.GetPullRequest(), timeout=5), "pull_id"),
        (lambda api: api.catalog.GetOrder(catalog_pb2.GetOrderRequest(), timeout=5), "order_id"),
        (lambda api: api.catalog.DeleteFee(catalog_pb2.DeleteFeeRequest(), timeout=5), "fee_id"),
        (lambda api: api.catalog.MoveListing(catalog_pb2.MoveListingRequest(listing_id="1"), timeout=5),
         "product_id"),
    ],
)
def test_empty_id_is_invalid_and_names_the_field(api, call, field):
    code, details = code_of(lambda: call(api))
    assert code == INVALID
    assert details.startswith(f"{field}:")


@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.accounts.GetAccount(accounts_pb2.GetAccountRequest(account_id="999"), timeout=5),
        lambda api: api.accounts.GetAccount(accounts_pb2.GetAccountRequest(account_id="no-such"), timeout=5),
        lambda api: api.integrations.GetStore(integrations_pb2.GetStoreRequest(store_id="42"), timeout=5),
        lambda api: api.pulls.GetPull(pulls_pb2.GetPullRequest(pull_id="42"), timeout=5),
        lambda api: api.catalog.GetOrder(catalog_pb2.GetOrderRequest(order_id="42"), timeout=5),
        lambda api: api.status.GetStatus(status_pb2.GetStatusRequest(account_id="42"), timeout=5),
    ],
)
def test_unknown_ids_are_not_found(api, call):
    assert code_of(lambda: call(api))[0] == grpc.StatusCode.NOT_FOUND


def test_update_order_refuses_an_unknown_status_value(api):
    request = catalog_pb2.UpdateOrderRequest(order_id="1")
    request.status = 42  # an open enum lets any number through the wire
    code, details = code_of(lambda: api.catalog.UpdateOrder(request, timeout=5))
    assert code == INVALID
    assert details.startswith("status:") and "42" in details


def test_update_order_refuses_an_unspecified_status(api):
    request = catalog_pb2.UpdateOrderRequest(order_id="1", status=0)
    code, details = code_of(lambda: api.catalog.UpdateOrder(request, timeout=5))
    assert (code, details.split(":")[0]) == (INVALID, "status")


def test_update_order_refuses_shipped_at_with_clear_shipped_at(api):
    request = catalog_pb2.UpdateOrderRequest(order_id="1", clear_shipped_at=True,
                                             shipped_at=Timestamp(seconds=1_780_000_000))
    code, details = code_of(lambda: api.catalog.UpdateOrder(request, timeout=5))
    assert code == INVALID
    assert details.startswith("shipped_at:")


def test_update_order_refuses_a_timestamp_out_of_range(api):
    request = catalog_pb2.UpdateOrderRequest(order_id="1", shipped_at=Timestamp(seconds=10**12))
    code, details = code_of(lambda: api.catalog.UpdateOrder(request, timeout=5))
    assert code == INVALID
    assert details.startswith("shipped_at:")


def test_bad_page_token_is_invalid(api):
    api.create_account()
    code, details = code_of(lambda: api.integrations.ListChannels(
        integrations_pb2.ListChannelsRequest(page_token="garbage"), timeout=5))
    assert code == INVALID
    assert details.startswith("page_token:")


def test_page_token_of_another_account_is_invalid_naming_page_token(api):
    """A ListLocations token of one account used on another is refused, not an empty page."""
    first, second = api.create_account(), api.create_account("Other")
    for name in ("A", "B", "C"):
        api.accounts.CreateLocation(accounts_pb2.CreateLocationRequest(account_id=first.id, name=name), timeout=5)
    page = api.accounts.ListLocations(accounts_pb2.ListLocationsRequest(account_id=first.id, page_size=2), timeout=5)
    assert page.next_page_token
    code, details = code_of(lambda: api.accounts.ListLocations(
        accounts_pb2.ListLocationsRequest(account_id=second.id, page_token=page.next_page_token), timeout=5))
    assert code == INVALID
    assert details == "page_token: was issued for another request: keep the filters of the first page"
    rest = api.accounts.ListLocations(accounts_pb2.ListLocationsRequest(
        account_id=first.id, page_size=2, page_token=page.next_page_token), timeout=5)
    assert [loc.name for loc in [*page.locations, *rest.locations]] == ["A", "B", "C"]


def test_list_channels_token_pages_and_is_refused_on_another_list(api):
    """ListChannels pages with its own tokens; another list's token is refused."""
    first = api.integrations.ListChannels(integrations_pb2.ListChannelsRequest(page_size=1), timeout=5)
    everything = api.integrations.ListChannels(integrations_pb2.ListChannelsRequest(), timeout=5)
    names, token = [c.name for c in first.channels], first.next_page_token
    while token:
        page = api.integrations.ListChannels(
            integrations_pb2.ListChannelsRequest(page_size=1, page_token=token), timeout=5)
        names, token = names + [c.name for c in page.channels], page.next_page_token
    assert names == [c.name for c in everything.channels] and len(names) > 1
    code, details = code_of(lambda: api.accounts.ListAccounts(
        accounts_pb2.ListAccountsRequest(page_token=first.next_page_token), timeout=5))
    assert (code, details.split(":")[0]) == (INVALID, "page_token")


AMAZON_CREDENTIALS = {
    "client_id": "amzn1.application-oa2-client.canary", "client_secret": "amzn-secret-canary-0001",
    "refresh_token": "Atzr|refresh-canary-0001", "region": "na", "marketplace_ids": "ATVPDKIKX0DER",
    "selling_partner_id": "A2SELLER",
}


@pytest.mark.parametrize(
    ("channel", "credentials", "field", "rule"),
    [
        ("shopify", {"shop_domain": "not a domain", "access_token": "shpat_canary_0001"},
         "shop_domain", "must be a *.myshopify.com domain"),
        ("amazon", {**AMAZON_CREDENTIALS, "region": "mars"}, "region", "must be one of na, eu, fe"),
        ("amazon", {**AMAZON_CREDENTIALS, "marketplace_ids": " , "}, "marketplace_ids",
         "must name at least one marketplace id"),
        ("shopify", {"shop_domain": "maker.myshopify.com"}, "access_token", "is required by channel shopify"),
    ],
)
def test_connect_with_a_malformed_credential_names_the_field_and_its_rule(api, channel, credentials, field, rule):
    """R15: a credential that breaks the channel's format rule is INVALID_ARGUMENT
    naming credentials.<field> and that rule (not "is required" for a field that
    is there); no secret is shown, nothing is masked that need not be, nothing written."""
    account = api.create_account()
    code, details = code_of(lambda: api.integrations.Connect(integrations_pb2.ConnectRequest(
        account_id=account.id, channel=channel, credentials=credentials), timeout=10))
    assert code == INVALID
    assert details.startswith(f"credentials.{field}: {rule}"), details
    assert "[redacted]" not in details and "canary" not in details
    listed = api.integrations.ListIntegrations(
        integrations_pb2.ListIntegrationsRequest(account_id=account.id), timeout=5)
    assert not [s for i in listed.integrations for s in i.stores]
