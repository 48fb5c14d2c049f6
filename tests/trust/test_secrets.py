"""Secrets (QUALITY O2): channel credentials encrypted at rest under a key that
can be rotated while the daemon runs (``AdminService.RotateSecretKey``,
``makersync admin rotate-key``), and canary secrets in every credential of
every channel found 0 times in the logs, error messages, gRPC replies, the
SQLite files and a PostgreSQL dump, across a run that goes through refused
credentials, throttling, a daemon killed mid-pull, revoked tokens whose error
echoes them, a crashed pull and a key rotation.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import grpc
import httpx
import pytest
import trust_figures
from cryptography.fernet import Fernet
from trust_kit import Served, SimulatedKill, TrustBooks, advance, revoke

from makersync.clients import cli
from makersync.daemon.config_sections import ApiKey, hash_key
from makersync.daemon.domain import integrations as dom_integrations
from makersync.daemon.store import secrets
from makersync.daemon.store.models import StoreRow
from makersync.plugins.simulate import Faults, Simulator
from makersync.v1 import (
    accounts_pb2,
    admin_pb2,
    admin_pb2_grpc,
    catalog_pb2,
    integrations_pb2,
    pulls_pb2,
    status_pb2,
)

MARK = "cnry7Q"  # in every canary, so a partial leak is found too


# --- key rotation ---------------------------------------------------------------------------


def admin_stub(served: Served) -> admin_pb2_grpc.AdminServiceStub:
    return admin_pb2_grpc.AdminServiceStub(served.channel)


def stored_tokens(books: TrustBooks) -> dict[int, str]:
    return {row.id: row.credentials_encrypted for row in StoreRow.select(StoreRow.id, StoreRow.credentials_encrypted)}


@pytest.fixture
def three_stores(tmp_path: Path, database_url: str) -> Iterator[tuple[TrustBooks, list[str]]]:
    """An account with an Etsy, a Shopify and an Amazon store, tokens that expire
    every few requests (so pulls save rotated credentials all the time)."""
    books = TrustBooks(tmp_path, database_url)
    for channel in ("etsy", "shopify", "amazon"):
        sim = books.add_sim(channel, seed=5, orders=60, days=20,
                            faults=Faults(access_token_ttl_s=300.0, latency_s=20.0))
        if channel != "amazon":
            sim.previous_refresh_token = "strict"  # type: ignore[attr-defined]  # a lost save shows at once
    books.start()
    account = books.account()
    stores = [books.connect(account, channel) for channel in ("etsy", "shopify", "amazon")]
    assert books.run_pulls() == ["succeeded"] * 3
    yield books, stores
    books.close()


def test_rotate_secret_key_reencrypts_every_store_and_retires_the_old_key(three_stores: Any) -> None:
    """RotateSecretKey on a daemon whose keys are in its key file: a new key
    first, every store re-encrypted under it, the old key gone from the file
    (mode 0600) and from the daemon, and a restarted daemon reads every store
    and pulls on."""
    books, stores = three_stores
    key_file = books.app.config.data_dir / "secret.key"
    old_key = key_file.read_text().split()[0]
    before = stored_tokens(books)
    with Served(books.app) as served:
        reply = admin_stub(served).RotateSecretKey(admin_pb2.RotateSecretKeyRequest(), timeout=30)
    assert reply.stores_reencrypted == 3 and reply.new_key_generated and reply.keys_in_use == 1
    assert reply.key_source == admin_pb2.SECRET_KEY_SOURCE_FILE and reply.key_file == str(key_file)
    keys = key_file.read_text().split()
    assert len(keys) == 1 and keys[0] != old_key and secrets.fingerprint(keys[0]) == reply.key_fingerprint
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    after = stored_tokens(books)
    assert set(after) == set(before) and all(after[i] != before[i] for i in after)
    new_only, old_only = secrets.SecretBox([keys[0]]), secrets.SecretBox([old_key])
    assert all(new_only.decrypt_json(t) == old_only.decrypt_json(before[i]) for i, t in after.items())
    with pytest.raises(secrets.SecretKeyError):
        old_only.decrypt_json(after[next(iter(after))])
    books.restart()  # reads the new key file; refuses to start if any store cannot be read
    for store in stores:
        books.automatic_pull(store)
    assert books.run_pulls() == ["succeeded"] * 3
    trust_figures.add("secrets O2 (key rotation)", rotations=1, stores_reencrypted=reply.stores_reencrypted)


def test_rotation_never_overwrites_credentials_a_pull_saves_meanwhile(three_stores: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A pull saves refreshed tokens between the rotation's read of a store and
    its write (forced here, on SQLite and PostgreSQL): the rotation re-reads and
    re-encrypts the new tokens instead of writing back the old ones, which
    would strand the store (the channel has retired the old refresh token)."""
    books, stores = three_stores
    box = books.app.box
    saved_meanwhile = {"access_token": "fresh-access", "refresh_token": "fresh-refresh"}
    real_rotate_token = box.rotate_token
    raced = []

    def rotate_token(token: str) -> str:
        if not raced:  # another worker commits new credentials for this very store now
            raced.append(1)
            store_id = next(i for i, t in stored_tokens(books).items() if t == token)
            secrets.save_credentials(books.app.db, box, store_id, saved_meanwhile)
            raced.append(store_id)
        return real_rotate_token(token)

    monkeypatch.setattr(box, "rotate_token", rotate_token)
    assert secrets.rotate(books.app.db, box) == 3
    assert secrets.load_credentials(books.app.db, box, raced[1]) == saved_meanwhile


def test_rotation_with_pulls_running_loses_no_token(three_stores: Any) -> None:
    """Rotations from another thread while pulls refresh and save tokens (the
    channels retire a refresh token the moment they rotate it): every pull
    succeeds, no store needs reconnecting, and the key file ends with one key
    that reads every store."""
    books, stores = three_stores
    rotations = []
    with Served(books.app) as served:
        stub = admin_stub(served)
        for _ in range(4):
            for store in stores:
                books.automatic_pull(store)
            advance(books, 1)
            worker = threading.Thread(target=lambda: rotations.append(
                stub.RotateSecretKey(admin_pb2.RotateSecretKeyRequest(), timeout=60)))
            worker.start()
            states = books.run_pulls()
            worker.join(60)
            assert states == ["succeeded"] * 3, [p.error for s in stores for p in books.pulls_of(s)[:1]]
    assert len(rotations) == 4
    assert all(dom_integrations.get_store(books.app.db, s).state == "active" for s in stores)
    (key,) = (books.app.config.data_dir / "secret.key").read_text().split()
    only = secrets.SecretBox([key])
    assert all(only.is_current(t) for t in stored_tokens(books).values())
    trust_figures.add("secrets O2 (key rotation)", rotations=len(rotations), pulls_run=12)


def test_rotate_with_keys_from_the_environment_reencrypts_under_the_first(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """MAKERSYNC_SECRET_KEY="NEW,OLD": the daemon cannot change its environment;
    RotateSecretKey re-encrypts every store under NEW and says so, so OLD can
    then be dropped from the environment."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("MAKERSYNC_SECRET_KEY", old)
    books = TrustBooks(tmp_path)
    try:
        books.add_sim("etsy", seed=2, orders=20, days=10)
        books.start()
        store = books.connect(books.account(), "etsy")
        assert books.run_pulls() == ["succeeded"]
        monkeypatch.setenv("MAKERSYNC_SECRET_KEY", f"{new},{old}")
        books.restart()
        with Served(books.app) as served:
            reply = admin_stub(served).RotateSecretKey(admin_pb2.RotateSecretKeyRequest(), timeout=30)
        assert reply.key_source == admin_pb2.SECRET_KEY_SOURCE_ENVIRONMENT and not reply.new_key_generated
        assert reply.stores_reencrypted == 1 and reply.key_fingerprint == secrets.fingerprint(new)
        assert not (books.app.config.data_dir / "secret.key").exists()
        monkeypatch.setenv("MAKERSYNC_SECRET_KEY", new)
        books.restart()
        books.automatic_pull(store)
        assert books.run_pulls() == ["succeeded"]
    finally:
        books.close()


def test_a_key_file_that_cannot_be_written_changes_nothing(three_stores: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    books, stores = three_stores
    before, key_text = stored_tokens(books), (books.app.config.data_dir / "secret.key").read_text()

    def refuse(path: Path, keys: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(secrets, "write_key_file", refuse)
    with Served(books.app) as served, pytest.raises(grpc.RpcError) as info:
        admin_stub(served).RotateSecretKey(admin_pb2.RotateSecretKeyRequest(), timeout=30)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "key file" in info.value.details() and "Permission denied" in info.value.details()
    assert stored_tokens(books) == before
    assert (books.app.config.data_dir / "secret.key").read_text() == key_text


def test_makersync_admin_rotate_key_command(three_stores: Any, json_log: Any) -> None:
    """``makersync admin rotate-key`` with an admin key rotates and prints the
    fingerprint (never a key); with a key scoped to an account it is refused
    (exit 5); ``--keep-previous-keys`` leaves two keys."""
    books, stores = three_stores
    admin, scoped = "admin-key-for-the-trust-suite", "scoped-key-for-the-trust-suite"
    keys = (ApiKey(hash_key(admin)), ApiKey(hash_key(scoped), "1"))
    with Served(books.app, keys=keys) as served:
        out = io.StringIO()
        with redirect_stdout(out):
            code = cli.main(["--address", served.address, "--key", admin, "--json", "admin", "rotate-key",
                             "--keep-previous-keys"])
        assert code == 0, out.getvalue()
        reply = json.loads(out.getvalue())
        assert reply["stores_reencrypted"] == 3 and reply["keys_in_use"] == 2
        file_keys = (books.app.config.data_dir / "secret.key").read_text().split()
        assert len(file_keys) == 2 and not any(k in out.getvalue() for k in file_keys)
        assert cli.main(["--address", served.address, "--key", scoped, "admin", "rotate-key"]) == 5
        with redirect_stdout(io.StringIO()):
            assert cli.main(["--address", served.address, "--key", admin, "admin", "rotate-key"]) == 0
        assert len((books.app.config.data_dir / "secret.key").read_text().split()) == 1


# --- canaries -------------------------------------------------------------------------------


class Canaries:
    """Every secret a run hands the daemon or the channels issue to it, all
    carrying :data:`MARK`."""

    def __init__(self) -> None:
        self.planted: set[str] = set()
        self.n = 0

    def new(self, kind: str) -> str:
        self.n += 1
        value = f"{MARK}-{kind}-{self.n:04d}-{os.urandom(4).hex()}"
        self.planted.add(value)
        return value

    def found_in(self, text: str) -> list[str]:
        hits = [c for c in self.planted if c in text]
        return hits or ([MARK] if MARK in text else [])


def plant(sim: Simulator, canaries: Canaries) -> None:
    """Make the simulator's credentials, and every token it will issue, canaries."""
    if sim.channel == "etsy":
        sim.keystring = canaries.new("etsy-keystring")  # type: ignore[attr-defined]
        sim.shared_secret = canaries.new("etsy-secret")  # type: ignore[attr-defined]
        uid = sim.user_id  # type: ignore[attr-defined]
        sim._new_token = lambda kind: f"{uid}.{canaries.new('etsy-' + kind)}"  # type: ignore[attr-defined]
        sim.refresh_token = sim._new_token("r")  # type: ignore[attr-defined]
        sim.access_token = sim._issue_access()  # type: ignore[attr-defined]
    elif sim.channel == "shopify":
        sim.client_id = canaries.new("shopify-client-id")  # type: ignore[attr-defined]
        sim.client_secret = canaries.new("shopify-client-secret")  # type: ignore[attr-defined]

        def issue() -> str:
            token = canaries.new("shpat")
            sim.access_tokens = {token: sim.clock.monotonic()}  # type: ignore[attr-defined]
            sim.refresh_token = canaries.new("shprt")  # type: ignore[attr-defined]
            return token

        sim._issue_tokens = issue  # type: ignore[attr-defined]
        sim.access_token = issue()  # type: ignore[attr-defined]
    else:
        sim.client_id = canaries.new("amazon-client-id")  # type: ignore[attr-defined]
        sim.client_secret = canaries.new("amazon-client-secret")  # type: ignore[attr-defined]
        sim.refresh_token = "Atzr|" + canaries.new("amazon-refresh")  # type: ignore[attr-defined]
        original = sim.lwa_token  # type: ignore[attr-defined]

        def lwa_token(request: httpx.Request) -> httpx.Response:
            answer = original(request)
            if answer.status_code != 200:
                return answer
            body = answer.json()
            marked = "Atza|" + canaries.new("amazon-access")
            sim.tokens[marked] = sim.tokens.pop(body["access_token"])  # type: ignore[attr-defined]
            body["access_token"] = marked
            return httpx.Response(200, json=body, headers=dict(answer.headers))

        sim.lwa_token = lwa_token  # type: ignore[attr-defined]


def echo_refused_tokens(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    """A channel whose refusals repeat the token they refuse (some do)."""
    if response.status_code not in (400, 401, 403):
        return response
    sent = dict(request.headers)
    if request.content:
        try:
            sent.update({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
        except UnicodeDecodeError:
            pass
        try:
            body = json.loads(request.content)
            if isinstance(body, dict):
                sent.update({k: str(v) for k, v in body.items()})
        except ValueError:
            pass
    echoed = {k: unquote(str(v)) for k, v in sent.items() if MARK in str(v)}
    if not echoed:
        return response
    try:
        body = response.json()
    except ValueError:
        return response
    echo = f" (refused: {echoed})"
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0]
        first["details"] = str(first.get("details") or "") + echo
        first["message"] = str(first.get("message") or "") + echo
    elif isinstance(body, dict):
        for key in ("error_description", "errors", "error"):
            if isinstance(body.get(key), str):
                body[key] += echo
    return httpx.Response(response.status_code, json=body, headers={"content-type": "application/json"})


def replies_text(served: Served, account: str, stores: list[str]) -> tuple[str, int]:
    """Every reply a caller can get about the account, serialised; and how many."""
    replies: list[Any] = [
        served.status.GetStatus(status_pb2.GetStatusRequest(), timeout=10),
        served.accounts.GetAccount(accounts_pb2.GetAccountRequest(account_id=account), timeout=10),
        served.integrations.ListChannels(integrations_pb2.ListChannelsRequest(), timeout=10),
        served.integrations.ListIntegrations(integrations_pb2.ListIntegrationsRequest(account_id=account),
                                             timeout=10),
        served.catalog.ListOrders(catalog_pb2.ListOrdersRequest(account_id=account, page_size=1000), timeout=10),
        served.catalog.ListFees(catalog_pb2.ListFeesRequest(account_id=account, page_size=1000), timeout=10),
        served.catalog.ListProducts(catalog_pb2.ListProductsRequest(account_id=account, page_size=1000), timeout=10),
    ]
    for store in stores:
        replies.append(served.integrations.GetStore(integrations_pb2.GetStoreRequest(store_id=store), timeout=10))
        pulls = served.pulls.ListPulls(pulls_pb2.ListPullsRequest(store_id=store, page_size=1000), timeout=10)
        replies.append(pulls)
        for pull in pulls.pulls:
            replies.append(served.pulls.GetPull(pulls_pb2.GetPullRequest(pull_id=pull.id), timeout=10))
            replies.extend(served.pulls.WatchPull(pulls_pb2.WatchPullRequest(pull_id=pull.id), timeout=10))
    return "\n".join(str(r) + repr(r.SerializeToString()) for r in replies), len(replies)


def database_text(books: TrustBooks) -> tuple[str, str]:
    """Every byte of the SQLite files, or a pg_dump of the test's schema (every
    text column SELECTed when pg_dump is missing); and what it was."""
    assert books.app is not None
    db = books.app.db
    if db.is_sqlite:
        db.pw.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        blobs = [p.read_bytes() for p in sorted(books.app.config.data_dir.glob("makersync.db*"))]
        return b"".join(blobs).decode("latin-1"), "sqlite files"
    params = db.pw.connect_params
    options = unquote(str(params.get("options") or ""))
    schema = options.split("search_path=")[1].split()[0]
    env = {**os.environ, "PGPASSWORD": str(params.get("password") or "")}
    args = ["pg_dump", "-h", str(params.get("host") or "127.0.0.1"), "-p", str(params.get("port") or 5432),
            "-U", str(params.get("user") or "postgres"), "-n", schema, db.pw.database]
    try:
        dump = subprocess.run(args, capture_output=True, text=True, env=env, check=True, timeout=60).stdout
        return dump, "pg_dump"
    except (FileNotFoundError, subprocess.CalledProcessError):
        cursor = db.pw.execute_sql("SELECT table_name, column_name FROM information_schema.columns WHERE "
                                   "table_schema = %s AND data_type IN ('text', 'character varying', 'jsonb', "
                                   "'json')", (schema,))
        out = []
        for table, column in cursor.fetchall():
            out.extend(str(v) for (v,) in db.pw.execute_sql(f'SELECT "{column}" FROM "{table}"').fetchall())
        return "\n".join(out), "SELECT of every text column"


def test_o2_canaries_in_every_credential_are_found_nowhere(tmp_path: Path, database_url: str, json_log: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    canaries = Canaries()
    books = TrustBooks(tmp_path, database_url)
    served: Served | None = None
    errors: list[str] = []
    try:
        for channel in ("etsy", "shopify", "amazon"):
            sim = books.add_sim(channel, seed=7, orders=60, days=15,
                                faults=Faults(access_token_ttl_s=300.0, latency_s=20.0, reset_rate=0.05,
                                              error_rate=0.03, truncate_rate=0.02, seed=7))
            plant(sim, canaries)
        books.start()
        served = Served(books.app)
        account = served.accounts.CreateAccount(accounts_pb2.CreateAccountRequest(
            name="Canary Ceramics", plan="business", start_date="2025-06-01", time_zone="UTC"), timeout=10).id
        for handler in books.handlers.values():
            handler.mutate = echo_refused_tokens

        # refused credentials at Connect: each secret field wrong in turn, each a canary
        for channel, sim in books.sims.items():
            for name, value in sim.credentials().items():
                if MARK not in value:
                    continue
                wrong = {**sim.credentials(), name: value.replace(MARK, MARK + "-wrong")}
                canaries.planted.add(wrong[name])
                try:
                    served.integrations.Connect(integrations_pb2.ConnectRequest(
                        account_id=account, channel=channel, credentials=wrong), timeout=30)
                except grpc.RpcError as exc:
                    errors.append(f"{exc.code().name}: {exc.details()}")
        stores = [served.integrations.Connect(integrations_pb2.ConnectRequest(
            account_id=account, channel=channel, credentials=sim.credentials()), timeout=30).id
            for channel, sim in books.sims.items()]

        # a throttle storm, then the daemon killed mid-pull and restarted
        for handler in books.handlers.values():
            handler.at(3, handler.open_throttle_window)
        kill_at = books.handlers["etsy"].requests + 6

        def die() -> None:
            raise SimulatedKill("killed mid-pull")

        books.handlers["etsy"].at(6, die)
        try:
            books.run_pulls()
        except SimulatedKill:
            served.close()
            books.restart()
            served = Served(books.app)
        assert books.handlers["etsy"].requests >= kill_at
        states = books.run_pulls()
        assert set(states) <= {"succeeded"}, [p.error for s in stores for p in books.pulls_of(s)]

        # a key rotation, then automatic pulls that refresh (and save) tokens again
        reply = admin_stub(served).RotateSecretKey(admin_pb2.RotateSecretKeyRequest(), timeout=60)
        errors.append(str(reply))
        for store in stores:
            books.automatic_pull(store)
        advance(books, 1)
        assert books.run_pulls() == ["succeeded"] * 3

        # a crash inside a pull (a hostile page), logged with its traceback
        def crash(request: httpx.Request, response: httpx.Response) -> httpx.Response:
            if request.url.path.endswith("/receipts") and response.status_code == 200:
                raise RuntimeError(f"boom while holding {books.sims['etsy'].access_token}")  # type: ignore[attr-defined]
            return echo_refused_tokens(request, response)

        books.handlers["etsy"].mutate = crash
        books.automatic_pull(stores[0])
        assert books.run_pulls() == ["failed"]
        books.handlers["etsy"].mutate = echo_refused_tokens

        # the channels revoke every token; their refusals echo the tokens
        for sim in books.sims.values():
            revoke(sim)
        advance(books, 2)
        for store in stores:
            books.automatic_pull(store)
        assert books.run_pulls() == ["failed"] * 3
        today = books.clock.now().date()
        for store in stores:
            try:
                served.pulls.Pull(pulls_pb2.PullRequest(store_id=store, start_date=str(today - timedelta(days=2)),
                                                        end_date=str(today)), timeout=10)
            except grpc.RpcError as exc:
                errors.append(f"{exc.code().name}: {exc.details()}")

        replies, reply_count = replies_text(served, account, stores)
        stored, where = database_text(books)
    finally:
        if served is not None:
            served.close()
        books.close()
    log = json_log.getvalue()
    places = {"log": log, "errors": "\n".join(errors), "gRPC replies": replies, where: stored}
    found = {name: canaries.found_in(text) for name, text in places.items()}
    trust_figures.add("secrets O2 (canaries)", canaries_planted=len(canaries.planted),
                      canaries_found=sum(len(v) for v in found.values()), log_lines=len(log.splitlines()),
                      error_messages=len(errors), grpc_replies=reply_count, database_bytes=len(stored))
    assert log.count("\n") > 50 and "[redacted]" in log  # the run did log, and masked what it had to
    assert any("INVALID_ARGUMENT: credentials" in e for e in errors)
    leaks = {name: [text[max(0, text.find(c) - 120):text.find(c) + 60] for c in hits[:3]]
             for name, hits in found.items() for text in [places[name]] if hits}
    assert not leaks, json.dumps(leaks, indent=1)


def test_masking_keeps_up_with_thousands_of_refreshed_tokens() -> None:
    """Every refreshed token is registered for masking. Registering used to
    compile one pattern of every secret so far, each time: 3,000 tokens took
    minutes and the whole suite crawled (registration's cost is a benchmark's
    business, not this test's). Now the oldest age out past the cap, and
    masking still finds them anywhere in a line, a secret inside another
    masked whole."""
    from makersync.daemon import logging as mlog

    registry = mlog._SecretRegistry(max_secrets=20_000)
    tokens = [f"Atza|{os.urandom(24).hex()}" for _ in range(30_000)]
    for token in tokens:
        registry.add(token)
    assert len(registry) == 20_000 and tokens[0] not in registry and tokens[-1] in registry
    line = f"refresh of {tokens[-1]} failed; old={tokens[-2]}&x={tokens[-20_000]}"
    assert registry.mask(line) == "refresh of [redacted] failed; old=[redacted]&x=[redacted]"
    registry.add("abcd-1234")
    registry.add("zz-abcd-1234-zz")
    assert registry.mask("<zz-abcd-1234-zz> <abcd-1234>") == "<[redacted]> <[redacted]>"
    trust_figures.add("secrets O2 (canaries)", secrets_registered=len(tokens))
