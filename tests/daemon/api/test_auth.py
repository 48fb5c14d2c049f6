"""Keys: open on loopback without keys; with keys, unknown callers are refused
and an account-scoped key reaches its own account only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from api_fixtures import Running, code_of, start_server
from grpc_health.v1 import health_pb2, health_pb2_grpc

from makersync.daemon.domain import integrations as dom_integrations
from makersync.v1 import accounts_pb2, catalog_pb2, integrations_pb2, pulls_pb2, status_pb2

ADMIN_KEY = "admin-key-0123456789abcdef"
SCOPED_KEY = "scoped-key-0123456789abcdef"


def bearer(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[Running]:
    """A server with an admin key and a key scoped to account 1 (the first created)."""
    toml = f"""
[server]
keys = [{{ key = "{ADMIN_KEY}" }}, {{ key = "{SCOPED_KEY}", account_id = "1" }}]
"""
    yield from start_server(tmp_path, toml)


def create(api: Running, name: str) -> str:
    req = accounts_pb2.CreateAccountRequest(
        name=name, plan="trial", start_date="2026-01-01", time_zone="UTC"
    )
    return api.accounts.CreateAccount(req, metadata=bearer(ADMIN_KEY), timeout=5).id


def test_loopback_without_keys_is_open(api):
    account = api.create_account()
    assert api.accounts.GetAccount(accounts_pb2.GetAccountRequest(account_id=account.id), timeout=5).id


def test_missing_key_is_unauthenticated(keyed):
    code, details = code_of(lambda: keyed.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(), timeout=5))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "Bearer" in details


def test_unknown_key_is_unauthenticated(keyed):
    code, _ = code_of(lambda: keyed.accounts.ListAccounts(
        accounts_pb2.ListAccountsRequest(), metadata=bearer("not-a-known-key-at-all"), timeout=5))
    assert code == grpc.StatusCode.UNAUTHENTICATED


def test_known_key_is_let_in(keyed):
    assert create(keyed, "Ada") == "1"


def test_health_needs_no_key(keyed):
    reply = health_pb2_grpc.HealthStub(keyed.channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_scoped_key_reads_its_own_account(keyed):
    own = create(keyed, "Ada")
    reply = keyed.accounts.GetAccount(accounts_pb2.GetAccountRequest(account_id=own),
                                      metadata=bearer(SCOPED_KEY), timeout=5)
    assert reply.name == "Ada"


def test_scoped_key_is_denied_another_account(keyed):
    create(keyed, "Ada")
    other = create(keyed, "Grace")
    code, details = code_of(lambda: keyed.accounts.GetAccount(
        accounts_pb2.GetAccountRequest(account_id=other), metadata=bearer(SCOPED_KEY), timeout=5))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "own account" in details


def test_scoped_key_lists_only_its_own_account(keyed):
    create(keyed, "Ada")
    create(keyed, "Grace")
    reply = keyed.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(), metadata=bearer(SCOPED_KEY), timeout=5)
    assert [a.name for a in reply.accounts] == ["Ada"]


def test_scoped_key_may_not_create_accounts(keyed):
    code, _ = code_of(lambda: keyed.accounts.CreateAccount(accounts_pb2.CreateAccountRequest(
        name="Eve", plan="trial", start_date="2026-01-01", time_zone="UTC"),
        metadata=bearer(SCOPED_KEY), timeout=5))
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_scoped_key_is_denied_the_store_and_pulls_of_another_account(keyed):
    create(keyed, "Ada")
    other = create(keyed, "Grace")
    app = keyed.app
    store = dom_integrations.record_store(
        app.db, app.clock, app.plans, app.box, other, "etsy", {"etsy"},
        external_shop_id="shop-1", shop_name="Grace's Shop", credentials={"access_token": "t0ken-value"},
    )
    scoped = bearer(SCOPED_KEY)
    calls = [
        lambda: keyed.integrations.GetStore(integrations_pb2.GetStoreRequest(store_id=store.id),
                                            metadata=scoped, timeout=5),
        lambda: keyed.integrations.Disconnect(integrations_pb2.DisconnectRequest(store_id=store.id),
                                              metadata=scoped, timeout=5),
        lambda: keyed.pulls.ListPulls(pulls_pb2.ListPullsRequest(store_id=store.id), metadata=scoped, timeout=5),
        lambda: keyed.pulls.CancelPull(pulls_pb2.CancelPullRequest(pull_id=store.initial_pull_id),
                                       metadata=scoped, timeout=5),
        lambda: keyed.catalog.ListOrders(catalog_pb2.ListOrdersRequest(account_id=other),
                                         metadata=scoped, timeout=5),
        lambda: keyed.status.GetStatus(status_pb2.GetStatusRequest(account_id=other), metadata=scoped, timeout=5),
    ]
    for call in calls:
        assert code_of(call)[0] == grpc.StatusCode.PERMISSION_DENIED
    # Nothing changed: the store is still there for its owner's key.
    kept = keyed.integrations.GetStore(integrations_pb2.GetStoreRequest(store_id=store.id),
                                       metadata=bearer(ADMIN_KEY), timeout=5)
    assert kept.id == store.id


def test_reloaded_keys_take_effect_without_restart(keyed):
    from makersync.daemon.config_sections import ApiKey, hash_key

    keyed.server.auth.update_keys([ApiKey(hash_key("a-brand-new-key-0123456789"))])
    code, _ = code_of(lambda: keyed.accounts.ListAccounts(
        accounts_pb2.ListAccountsRequest(), metadata=bearer(ADMIN_KEY), timeout=5))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert keyed.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(),
                                       metadata=bearer("a-brand-new-key-0123456789"), timeout=5) is not None
