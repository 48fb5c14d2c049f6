"""Access (API.md auth): keys scoped to one account or to everything; a key for
account A gets PERMISSION_DENIED on everything of account B in every method
(table-driven over every method the server serves, checked complete), and
refused calls write nothing. Keys are kept hashed: no plain key in the
Config's repr, the logs or the process's live objects but the log-masking
registry. TLS and mutual TLS with certificates made here.

tests/daemon/api/test_auth.py covers missing and unknown keys, health without
a key, reloaded keys and a first set of denied calls; tests/daemon/api/
test_tls.py covers server-only TLS. This suite adds the complete table, the
memory and log checks and mutual TLS.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import ipaddress
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import trust_figures
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from trust_kit import Served, TrustBooks, all_methods, invoke, message_class, row_counts

from makersync.daemon.config import load_config
from makersync.daemon.config_sections import ApiKey, hash_key
from makersync.daemon.domain import catalog as dom_catalog
from makersync.daemon.domain import pulls as dom_pulls
from makersync.daemon.logging import configure_logging, get_logger

ADMIN = "admin-key-trust-0123456789abcdef"
KEY_A = "scoped-key-a-trust-0123456789abc"
DENIED = grpc.StatusCode.PERMISSION_DENIED


class Two:
    """Accounts A and B, each with an Etsy store pulled once, a location, a
    maker product, and their orders, fees, listings and pulls."""

    def __init__(self, books: TrustBooks) -> None:
        self.books = books
        app = books.app
        self.a = books.account()
        self.b = books.account()
        ids = {}
        for name, account in (("a", self.a), ("b", self.b)):
            store = books.connect(account, "etsy")
            books.run_pulls()
            order = books.orders(account)[0]
            fee = books.fees(account)[0]
            product = dom_catalog.create_product(app.db, app.clock, account, f"SKU-{name}", f"Maker {name}")
            listing = next(li for p in books.products(account) for li in p.listings)
            pull = dom_pulls.list_pulls(app.db, store, 1, "").items[0]
            ids[name] = dict(account=account, store=store, order=order.id, fee=fee.id, product=product.id,
                             listing=listing.id, pull=pull.id)
        self.ids = ids


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Two, Served]]:
    books = TrustBooks(tmp_path_factory.mktemp("access"))
    books.add_sim("etsy", seed=8, orders=30, days=10)
    books.start()
    setup = Two(books)
    served = Served(books.app, keys=(ApiKey(hash_key(ADMIN)), ApiKey(hash_key(KEY_A), setup.a)))
    yield setup, served
    served.close()
    books.close()


def bearer(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


def today(two: Two) -> str:
    return two.books.clock.now().date().isoformat()


# Each method: what a key scoped to A sends to reach B. Values are filled from
# Two.ids["b"] (and "a" where the call mixes the two accounts).
B_REQUESTS: dict[str, Callable[[Two], dict[str, Any]]] = {
    "CreateAccount": lambda t: dict(name="Eve", plan="trial", start_date="2026-01-01", time_zone="UTC"),
    "GetAccount": lambda t: dict(account_id=t.ids["b"]["account"]),
    "UpdateAccount": lambda t: dict(account_id=t.ids["b"]["account"], plan="growth"),
    "CreateLocation": lambda t: dict(account_id=t.ids["b"]["account"], name="Studio B2"),
    "ListLocations": lambda t: dict(account_id=t.ids["b"]["account"]),
    "Connect": lambda t: dict(account_id=t.ids["b"]["account"], channel="etsy",
                              credentials=t.books.sims["etsy"].credentials()),
    "Disconnect": lambda t: dict(store_id=t.ids["b"]["store"]),
    "Configure": lambda t: dict(account_id=t.ids["b"]["account"], channel="etsy", automatic_updates=False),
    "ListIntegrations": lambda t: dict(account_id=t.ids["b"]["account"]),
    "GetStore": lambda t: dict(store_id=t.ids["b"]["store"]),
    "Pull": lambda t: dict(store_id=t.ids["b"]["store"], start_date=today(t), end_date=today(t)),
    "GetPull": lambda t: dict(pull_id=t.ids["b"]["pull"]),
    "WatchPull": lambda t: dict(pull_id=t.ids["b"]["pull"]),
    "ListPulls": lambda t: dict(store_id=t.ids["b"]["store"]),
    "CancelPull": lambda t: dict(pull_id=t.ids["b"]["pull"]),
    "SyncStore": lambda t: dict(store_id=t.ids["b"]["store"]),
    "ListOrders": lambda t: dict(account_id=t.ids["b"]["account"]),
    "GetOrder": lambda t: dict(order_id=t.ids["b"]["order"]),
    "UpdateOrder": lambda t: dict(order_id=t.ids["b"]["order"], note="mine now"),
    "CopyOrder": lambda t: dict(order_id=t.ids["b"]["order"]),
    "DeleteOrder": lambda t: dict(order_id=t.ids["b"]["order"]),
    "ListProducts": lambda t: dict(account_id=t.ids["b"]["account"]),
    "GetProduct": lambda t: dict(product_id=t.ids["b"]["product"]),
    "CreateProduct": lambda t: dict(account_id=t.ids["b"]["account"], title="Planted"),
    "MoveListing": lambda t: dict(listing_id=t.ids["b"]["listing"], product_id=t.ids["b"]["product"]),
    "ListFees": lambda t: dict(account_id=t.ids["b"]["account"]),
    "DeleteFee": lambda t: dict(fee_id=t.ids["b"]["fee"]),
    "GetStatus": lambda t: dict(account_id=t.ids["b"]["account"]),
    "RotateSecretKey": lambda t: dict(),
}
# Calls that mix A's and B's objects: still nothing of B may be touched.
MIXED: dict[str, Callable[[Two], dict[str, Any]]] = {
    "MoveListing/B's listing to A's product": lambda t: dict(listing_id=t.ids["b"]["listing"],
                                                             product_id=t.ids["a"]["product"]),
    "MoveListing/A's listing to B's product": lambda t: dict(listing_id=t.ids["a"]["listing"],
                                                             product_id=t.ids["b"]["product"]),
    "ListOrders/A's account, B's store": lambda t: dict(account_id=t.ids["a"]["account"],
                                                        store_id=t.ids["b"]["store"]),
    "ListFees/A's account, B's store": lambda t: dict(account_id=t.ids["a"]["account"],
                                                      store_id=t.ids["b"]["store"]),
}
NOT_ACCOUNT_DATA = {"ListChannels": "the installed plugins", "ListAccounts": "answers with the key's own account"}
METHODS = {m.name: m for m in all_methods()}


def test_the_table_covers_every_method_the_server_serves() -> None:
    assert set(METHODS) == set(B_REQUESTS) | set(NOT_ACCOUNT_DATA), (
        "a method was added: say in B_REQUESTS how a key scoped to A would reach B with it")


@pytest.mark.parametrize("name", sorted(B_REQUESTS))
def test_a_key_scoped_to_a_is_denied_everything_of_b(two: Any, name: str) -> None:
    setup, served = two
    method = METHODS[name]
    request = message_class(method.input_type)(**B_REQUESTS[name](setup))
    before = row_counts()
    with pytest.raises(grpc.RpcError) as info:
        invoke(served.channel, method, request, metadata=bearer(KEY_A))
    assert info.value.code() == DENIED, (info.value.code(), info.value.details())
    assert "own account" in info.value.details() or "scoped to one account" in info.value.details()
    assert row_counts() == before
    trust_figures.add("access (scoped keys)", denied_calls=1, methods_checked=1)


@pytest.mark.parametrize("case", sorted(MIXED))
def test_calls_mixing_a_and_b_are_denied(two: Any, case: str) -> None:
    setup, served = two
    method = METHODS[case.split("/")[0]]
    request = message_class(method.input_type)(**MIXED[case](setup))
    before = row_counts()
    with pytest.raises(grpc.RpcError) as info:
        invoke(served.channel, method, request, metadata=bearer(KEY_A))
    assert info.value.code() in (DENIED, grpc.StatusCode.NOT_FOUND), (info.value.code(), info.value.details())
    assert row_counts() == before
    trust_figures.add("access (scoped keys)", denied_calls=1)


def test_what_is_not_account_data_shows_only_a(two: Any) -> None:
    setup, served = two
    listed = invoke(served.channel, METHODS["ListAccounts"], message_class(METHODS["ListAccounts"].input_type)(),
                    metadata=bearer(KEY_A))[0]
    assert [a.id for a in listed.accounts] == [setup.a]
    status = invoke(served.channel, METHODS["GetStatus"], message_class(METHODS["GetStatus"].input_type)(),
                    metadata=bearer(KEY_A))[0]
    assert {s.account_id for s in status.stores} == {setup.a}
    assert {p.account_id for p in status.running_pulls} <= {setup.a}
    assert invoke(served.channel, METHODS["ListChannels"], message_class(METHODS["ListChannels"].input_type)(),
                  metadata=bearer(KEY_A))[0].channels


READS = sorted(n for n in B_REQUESTS if n.startswith(("Get", "List", "Watch")))


@pytest.mark.parametrize("name", READS)
def test_the_admin_key_reads_everything_of_b(two: Any, name: str) -> None:
    """The same reads with the admin key answer (writes with the admin key are
    what every other suite does)."""
    setup, served = two
    method = METHODS[name]
    request = message_class(method.input_type)(**B_REQUESTS[name](setup))
    assert invoke(served.channel, method, request, metadata=bearer(ADMIN))


# --- keys are kept hashed -----------------------------------------------------------------


PLAIN_KEYS = ("plain-admin-key-7f1e2d3c4b5a6978", "plain-scoped-key-0a9b8c7d6e5f4321")


def config_with_plain_keys(tmp_path: Path) -> Any:
    path = tmp_path / "makersyncd.toml"
    path.write_text(f'[server]\nkeys = [{{ key = "{PLAIN_KEYS[0]}" }}, {{ key = "{PLAIN_KEYS[1]}", account_id = "1" }}]\n')
    return load_config(path, env={}, flags={"listen": "127.0.0.1:0", "data_dir": str(tmp_path / "data")})


def test_config_keys_are_hashed_on_load_and_never_shown(tmp_path: Path) -> None:
    log = io.StringIO()
    configure_logging("json", "debug", stream=log)
    try:
        config = config_with_plain_keys(tmp_path)
        get_logger("makersync.test").info("config_loaded", config=repr(config), server=config.server,
                                          keys=config.server.keys)
    finally:
        configure_logging()
    assert [k.sha256 for k in config.server.keys] == [hash_key(k) for k in PLAIN_KEYS]
    for shown in (repr(config), str(config), repr(config.server), log.getvalue()):
        assert not any(k in shown for k in PLAIN_KEYS)


def test_no_plain_key_lives_in_the_process_but_the_masking_registry(tmp_path: Path) -> None:
    """After load_config, the plain keys survive only where the log masking
    keeps them (it must know a value to mask it); no config object, parsed
    TOML table or server object holds one."""
    from makersync.daemon import logging as mlog

    config = config_with_plain_keys(tmp_path)
    del config
    gc.collect()
    kept = mlog._secrets
    registry = {id(kept), id(kept._recent), id(kept._by_end), *(id(t) for t in kept._by_end.values())}
    holders = []
    for obj in gc.get_objects():
        if id(obj) in registry:
            continue
        try:
            values = (list(obj.keys()) + list(obj.values())) if isinstance(obj, dict) else (
                obj if isinstance(obj, list | tuple | set | frozenset) else ())
            if any(isinstance(v, str) and v in PLAIN_KEYS for v in values):
                holders.append(type(obj).__name__ + ":" + repr(obj)[:80])
        except Exception:  # some objects refuse to be looked at
            continue
    trust_figures.add("access (scoped keys)", objects_scanned=len(gc.get_objects()))
    assert not [h for h in holders if "frame" not in h], holders


# --- mutual TLS ---------------------------------------------------------------------------


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _cert(subject: str, key: Any, issuer: tuple[str, Any] | None, *, ca: bool, server: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer[0])]) if issuer else name
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
               .not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    if not ca:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class Pki:
    """A CA, a server certificate, a client certificate it signed, and a client
    certificate from another CA."""

    def __init__(self, folder: Path) -> None:
        self.ca_key, self.other_ca_key = _key(), _key()
        self.ca = _cert("makersync test CA", self.ca_key, None, ca=True, server=False)
        other_ca = _cert("someone else's CA", self.other_ca_key, None, ca=True, server=False)
        self.server_key, self.client_key, self.stranger_key = _key(), _key(), _key()
        self.server = _cert("localhost", self.server_key, ("makersync test CA", self.ca_key), ca=False, server=True)
        self.client = _cert("bookkeeping-service", self.client_key, ("makersync test CA", self.ca_key),
                            ca=False, server=False)
        self.stranger = _cert("stranger", self.stranger_key, ("someone else's CA", self.other_ca_key),
                              ca=False, server=False)
        del other_ca
        self.files = {}
        for name, data in (("ca.pem", _pem(self.ca)), ("server.pem", _pem(self.server)),
                           ("server.key", _key_pem(self.server_key))):
            (folder / name).write_bytes(data)
            self.files[name] = folder / name

    def credentials(self, who: str | None) -> grpc.ChannelCredentials:
        if who is None:
            return grpc.ssl_channel_credentials(root_certificates=_pem(self.ca))
        cert, key = (self.client, self.client_key) if who == "client" else (self.stranger, self.stranger_key)
        return grpc.ssl_channel_credentials(root_certificates=_pem(self.ca), private_key=_key_pem(key),
                                            certificate_chain=_pem(cert))


def test_mutual_tls_lets_in_only_clients_with_a_certificate_from_the_ca(tmp_path: Path) -> None:
    """tls_client_ca set: a client certificate signed by that CA gets in (and
    still needs its key); no certificate, another CA's certificate, or a plain
    connection do not."""
    from makersync.v1 import accounts_pb2, accounts_pb2_grpc
    from tests.daemon.api.api_fixtures import start_server

    pki = Pki(tmp_path)
    toml = (f'[server]\ntls_cert = "{pki.files["server.pem"]}"\ntls_key = "{pki.files["server.key"]}"\n'
            f'tls_client_ca = "{pki.files["ca.pem"]}"\nkeys = [{{ key = "{ADMIN}" }}]\n')
    outcomes = {}
    for api in start_server(tmp_path, toml):
        target = f"localhost:{api.port}"
        for who in ("client", None, "stranger", "plain"):
            channel = grpc.insecure_channel(target) if who == "plain" else grpc.secure_channel(
                target, pki.credentials(who))
            try:
                stub = accounts_pb2_grpc.AccountServiceStub(channel)
                stub.ListAccounts(accounts_pb2.ListAccountsRequest(), metadata=bearer(ADMIN), timeout=3)
                outcomes[who] = "OK"
                with pytest.raises(grpc.RpcError) as info:
                    stub.ListAccounts(accounts_pb2.ListAccountsRequest(), timeout=3)
                outcomes["client without key"] = info.value.code().name
            except grpc.RpcError as exc:
                outcomes.setdefault(who, exc.code().name)
            finally:
                channel.close()
    assert outcomes == {"client": "OK", "client without key": "UNAUTHENTICATED", None: "UNAVAILABLE",
                        "stranger": "UNAVAILABLE", "plain": "UNAVAILABLE"}
    trust_figures.add("access (scoped keys)", tls_handshakes_checked=len(outcomes))
