"""Hostile gRPC input (QUALITY B1): property-based fuzzing of every method the
server serves, the streaming WatchPull and Connect/Pull against the channel
simulators included: wrong and missing fields, huge and negative numbers,
odd unicode, unknown enum values, absurd page sizes and page tokens, ids of
other objects, oversize messages, 1 ms deadlines.

0 UNKNOWN or INTERNAL; every refusal's message names a field of the request
(and the rule where one applies: ``(Rn)``); the database is unchanged by
every refused call (rows of every table counted before and after).

tests/daemon/api/test_fuzz.py already fuzzes the unary methods of the first
five services (40 examples each) for the codes; this suite adds WatchPull,
Connect, Pull, SyncStore and RotateSecretKey, the hostile value sets, the
field-naming and nothing-written checks, deadlines and oversize messages.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import trust_figures
from conftest import soak
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from trust_kit import Served, TrustBooks, all_methods, invoke, message_class, row_counts

METHODS = all_methods()
REFUSALS = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION,
            grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.PERMISSION_DENIED,
            grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.OUT_OF_RANGE}
NEVER = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
# A refusal that need not name a field: the whole request, not one field, is refused.
FIELDLESS = {grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED}
ODD_TEXT = ["", " ", "\t\n", "0", "-1", "1e9", "99999999999999999999999", "١٢٣", "１", "1\u200b", "\u202e1",
            "Ω≈ç√∫", "🧶🏺", "e\u0301", "\x00", "\x7f\x01", "a" * 300, "'; DROP TABLE orders; --", "../../etc/passwd",
            "%s%n", "{}", "[]", "null", "true", "2026-02-30", "2026-W01-1", "２０２６-01-01", "9999-12-31",
            "0000-00-00", "-2026-01-01", "Europe/Nowhere", "UTC", "etsy", "shopify", "amazon", "example",
            "trial", "business", "growth"]
INT32 = st.one_of(st.sampled_from([0, 1, -1, 2**31 - 1, -(2**31), 1000, 1001, 23, 24, 5]),
                  st.integers(-(2**31), 2**31 - 1))
INT64 = st.one_of(st.sampled_from([0, 1, -1, 2**63 - 1, -(2**63)]), st.integers(-(2**63), 2**63 - 1))


def page_tokens() -> st.SearchStrategy[str]:
    raw = st.one_of(st.just(b"[]"), st.just(b"[1]"), st.just(b'["a",1]'), st.just(b"[9e999]"),
                    st.just(b'[[1],{"a":1}]'), st.just(b"[" + b"1," * 5000 + b"1]"), st.binary(max_size=40),
                    st.just(json.dumps([2**70, -1, "x"]).encode()))
    encoded = raw.map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="))
    return st.one_of(encoded, st.sampled_from(["", "1", "-1", "999999", "%%%", "=" * 10, "A" * 10_000]),
                     st.text(max_size=40))


class Ids:
    """Real ids of objects in the fuzzed daemon, so requests reach real rows."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def strategy(self, field: str) -> st.SearchStrategy[str]:
        real = self.by_field.get(field, [])
        odd = st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=20))
        return st.one_of(st.sampled_from(real), odd) if real else odd


def text_for(field: FieldDescriptor, ids: Ids) -> st.SearchStrategy[str]:
    name = field.name
    if name.endswith("_id"):
        return ids.strategy(name)
    if name == "page_token":
        return page_tokens()
    if name.endswith("date") or name in ("placed_from", "placed_to"):
        return st.one_of(st.sampled_from(["2026-05-20", "2026-06-01", "2025-01-01", "2026-06-02", "2026-05-01"]),
                         st.sampled_from(ODD_TEXT), st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True))
    if name == "channel":
        return st.sampled_from(["etsy", "shopify", "amazon", "example", "", "Etsy", "etsy ", "ftp", "🧶"])
    if name == "plan":
        return st.sampled_from(["trial", "pro", "studio", "indie", "business", "growth", "", "gold", "TRIAL"])
    if name == "time_zone":
        return st.sampled_from(["UTC", "Europe/Berlin", "America/Chicago", "", "Mars/Olympus", "utc", "+02:00"])
    return st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=60))


def credentials_for(sims: dict[str, Any]) -> st.SearchStrategy[dict[str, str]]:
    good = [sim.credentials() for sim in sims.values()]

    @st.composite
    def broken(draw: Any) -> dict[str, str]:
        out = dict(draw(st.sampled_from(good)))
        for key in draw(st.lists(st.sampled_from(sorted(out)), max_size=3)):
            choice = draw(st.sampled_from(["drop", "odd", "huge", "unicode"]))
            if choice == "drop":
                out.pop(key, None)
            elif choice == "odd":
                out[key] = draw(st.sampled_from(ODD_TEXT))
            elif choice == "huge":
                out[key] = "x" * draw(st.sampled_from([5000, 70_000]))
            else:
                out[key] = draw(st.text(min_size=1, max_size=20))
        if draw(st.booleans()):
            out[draw(st.sampled_from(["", "extra", "access_token\n", "🔑"]))] = "value"
        return out

    return st.one_of(st.sampled_from(good), broken(), st.dictionaries(st.text(max_size=10), st.text(max_size=10),
                                                                       max_size=4))


def field_strategy(field: FieldDescriptor, ids: Ids, sims: dict[str, Any]) -> st.SearchStrategy[Any]:
    if field.message_type is not None:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            return st.fixed_dictionaries({"seconds": st.one_of(st.sampled_from([0, -1, 253402300800, -62135596801,
                                                                                1_780_000_000]), INT64),
                                          "nanos": st.one_of(st.sampled_from([0, -1, 999_999_999, 10**9]), INT32)})
        if field.message_type.GetOptions().map_entry:
            return credentials_for(sims)
        return st.just(None)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(known), INT32)
    if field.type == FieldDescriptor.TYPE_INT32:
        return INT32
    if field.type == FieldDescriptor.TYPE_INT64:
        return INT64
    return text_for(field, ids)


def request_strategy(method: Any, ids: Ids, sims: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    fields = method.input_type.fields
    return st.fixed_dictionaries({}, optional={f.name: field_strategy(f, ids, sims) for f in fields})


def build(method: Any, values: dict[str, Any]) -> Any:
    cls = message_class(method.input_type)
    msg = cls()
    for name, value in values.items():
        field = method.input_type.fields_by_name[name]
        if value is None:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            getattr(msg, name).update(value)
        elif field.message_type is not None:
            ts = getattr(msg, name)
            ts.seconds, ts.nanos = value["seconds"], value["nanos"]
        else:
            setattr(msg, name, value)
    return msg


class Fuzzed:
    """The daemon under fuzz: two accounts with an Etsy, a Shopify and an Amazon
    store each, pulled once, served on port 0."""

    def __init__(self, tmp: Path) -> None:
        self.books = TrustBooks(tmp)
        for channel in ("etsy", "shopify", "amazon"):
            self.books.add_sim(channel, seed=4, orders=25, days=10)
        self.books.start()
        ids = Ids()
        for _ in range(2):
            account = self.books.account()
            for channel in ("etsy", "shopify", "amazon"):
                store = self.books.connect(account, channel)
                ids.by_field.setdefault("store_id", []).append(store)
            ids.by_field.setdefault("account_id", []).append(account)
        self.books.run_pulls()
        app = self.books.app
        from makersync.daemon.domain import accounts as dom_accounts
        from makersync.daemon.domain import catalog as dom_catalog
        from makersync.daemon.domain import pulls as dom_pulls

        for account in ids.by_field["account_id"]:
            ids.by_field.setdefault("location_id", []).append(
                dom_accounts.create_location(app.db, app.clock, account, f"Shelf {account}").id)
            ids.by_field.setdefault("default_location_id", ids.by_field["location_id"])
            ids.by_field.setdefault("order_id", []).extend(o.id for o in self.books.orders(account)[:5])
            ids.by_field.setdefault("fee_id", []).extend(f.id for f in self.books.fees(account)[:5])
            products = self.books.products(account)[:5]
            ids.by_field.setdefault("product_id", []).extend(p.id for p in products)
            ids.by_field.setdefault("listing_id", []).extend(li.id for p in products for li in p.listings)
            ids.by_field["product_id"].append(dom_catalog.create_product(app.db, app.clock, account, "", "Mine").id)
        for store in ids.by_field["store_id"]:
            ids.by_field.setdefault("pull_id", []).extend(p.id for p in dom_pulls.list_pulls(app.db, store, 5, "").items)
        self.ids = ids
        self.served = Served(app)

    def close(self) -> None:
        self.served.close()
        self.books.close()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    target = Fuzzed(tmp_path_factory.mktemp("fuzz"))
    yield target
    target.close()


def field_named(details: str, method: Any) -> bool:
    """The message starts with a field of the request (``field:`` or
    ``parent.child:``), or says the whole request is refused."""
    head = details.split(":", 1)[0].strip()
    root = head.split(".", 1)[0].split("[", 1)[0]
    return bool(head) and ":" in details and root in method.input_type.fields_by_name


def check_reply(fuzzed: Fuzzed, method: Any, request: Any, timeout: float) -> str:
    """Call once; the code's name. Asserts the B1 properties."""
    before = row_counts()
    try:
        invoke(fuzzed.served.channel, method, request, timeout=timeout)
    except grpc.RpcError as err:
        code, details = err.code(), err.details() or ""
        assert code not in NEVER, f"{method.name}({request}) -> {code.name}: {details}"
        if code in REFUSALS:
            assert row_counts() == before, f"{method.name} refused ({code.name}: {details}) but wrote rows"
            whole_message = details.startswith("SERVER: Received message larger than max")  # gRPC's own limit
            if code not in FIELDLESS and not whole_message:
                assert field_named(details, method), f"{method.name} -> {code.name}: {details!r} names no field"
        return code.name
    return "OK"


FUZZ_PARAMS = list(METHODS)


@pytest.mark.parametrize("method", FUZZ_PARAMS, ids=[f"{m.containing_service.name}.{m.name}" for m in METHODS])
def test_b1_every_method_refuses_hostile_input_cleanly(fuzzed: Fuzzed, method: Any) -> None:
    seen: dict[str, int] = {}
    timeout = 3.0 if method.server_streaming else 20.0

    # No shrinking: a failure is reported as generated (shrinking a CreateLocation
    # failure took longer than the whole method's fuzzing).
    @settings(max_examples=soak(60, 2000), deadline=None, database=None,
              phases=(Phase.explicit, Phase.reuse, Phase.generate),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(request_strategy(method, fuzzed.ids, fuzzed.books.sims))
    def check(values: dict[str, Any]) -> None:
        try:
            request = build(method, values)
        except (ValueError, TypeError):  # protobuf refuses it before the wire (e.g. out-of-range int)
            return
        code = check_reply(fuzzed, method, request, timeout)
        seen[code] = seen.get(code, 0) + 1

    check()
    cases = sum(seen.values())
    trust_figures.add("gRPC fuzz B1", cases_tried=cases, methods=1, unknown_or_internal=0)
    trust_figures.note("gRPC fuzz B1", f"{method.name}: {dict(sorted(seen.items()))}")


@pytest.mark.parametrize("method", METHODS, ids=[f"{m.containing_service.name}.{m.name}" for m in METHODS])
def test_b1_a_one_millisecond_deadline_is_never_unknown_or_internal(fuzzed: Fuzzed, method: Any) -> None:
    """A call whose deadline is 1 ms: DEADLINE_EXCEEDED or an answer, never
    UNKNOWN/INTERNAL; the daemon keeps answering after it. (A call may still
    complete on the server after its caller gave up: gRPC semantics.)"""
    request = build(method, {})
    codes = set()
    for _ in range(5):
        try:
            invoke(fuzzed.served.channel, method, request, timeout=0.001)
            codes.add("OK")
        except grpc.RpcError as err:
            assert err.code() not in NEVER, (err.code(), err.details())
            codes.add(err.code().name)
    status = [m for m in METHODS if m.name == "GetStatus"][0]
    assert invoke(fuzzed.served.channel, status, build(status, {}), timeout=5)
    trust_figures.add("gRPC fuzz B1", cases_tried=5, deadline_cases=5)


def test_b1_oversize_messages_are_refused_not_crashed(fuzzed: Fuzzed) -> None:
    """5 MB (over gRPC's 4 MB limit): RESOURCE_EXHAUSTED; 3 MB text in a name,
    a title, a credential: refused naming the field, or stored whole; never
    UNKNOWN/INTERNAL, nothing written by a refusal; the daemon answers after."""
    by_name = {m.name: m for m in METHODS}
    account = fuzzed.ids.by_field["account_id"][0]
    cases = [
        ("CreateAccount", {"name": "n" * 5_000_000, "plan": "trial", "start_date": "2026-01-01", "time_zone": "UTC"}),
        ("CreateAccount", {"name": "n" * 3_000_000, "plan": "trial", "start_date": "2026-01-01", "time_zone": "UTC"}),
        ("CreateProduct", {"account_id": account, "title": "t" * 3_000_000}),
        ("CreateLocation", {"account_id": account, "name": "l" * 3_000_000}),
        ("Connect", {"account_id": account, "channel": "etsy",
                     "credentials": {**fuzzed.books.sims["etsy"].credentials(), "access_token": "a" * 3_000_000}}),
        ("ListOrders", {"account_id": account, "page_token": "p" * 3_000_000}),
        ("GetOrder", {"order_id": "9" * 3_000_000}),
        ("GetOrder", {"order_id": "9" * 5000}),
        ("ListOrders", {"account_id": account, "store_id": "7" * 4400}),
        ("CreateAccount", {"name": "Zed", "plan": "trial", "start_date": "2026-01-01", "time_zone": "z" * 100_000}),
        ("Connect", {"account_id": account, "channel": "etsy", "credentials": {
            **fuzzed.books.sims["etsy"].credentials(), "refresh_token": "tök\u202e\x00\n" * 1000}}),
    ]
    codes = []
    for name, values in cases:
        codes.append(check_reply(fuzzed, by_name[name], build(by_name[name], values), timeout=30))
    assert codes[0] == "RESOURCE_EXHAUSTED", codes
    status = by_name["GetStatus"]
    assert invoke(fuzzed.served.channel, status, build(status, {}), timeout=5)
    trust_figures.add("gRPC fuzz B1", cases_tried=len(cases), oversize_cases=len(cases))
    trust_figures.note("gRPC fuzz B1", "oversize: " + ", ".join(f"{c[0]} {code}" for c, code in zip(cases, codes,
                                                                                                  strict=True)))


def test_b1_many_watchers_and_cancelled_streams_leave_the_daemon_serving(fuzzed: Fuzzed) -> None:
    """Forty WatchPull streams opened and dropped at once (cancelled by their
    callers) on queued pulls: the server's threads come back, it answers."""
    from makersync.daemon.domain import integrations as dom_integrations

    by_name = {m.name: m for m in METHODS}
    stores = dom_integrations.list_stores(fuzzed.books.app.db, None, 100, "").items  # the fuzz may disconnect
    store = next((s.id for s in stores if s.state == "active"), None) or fuzzed.books.connect(
        fuzzed.ids.by_field["account_id"][0], "etsy")
    today = fuzzed.books.clock.now().date().isoformat()
    pull = invoke(fuzzed.served.channel, by_name["Pull"], build(by_name["Pull"], {
        "store_id": store, "start_date": today, "end_date": today}), timeout=5)[0]
    path = "/makersync.v1.PullService/WatchPull"
    stream = fuzzed.served.channel.unary_stream(path, request_serializer=lambda m: m.SerializeToString(),
                                                response_deserializer=message_class(by_name["WatchPull"]
                                                                                    .output_type).FromString)
    calls = [stream(build(by_name["WatchPull"], {"pull_id": pull.id}), timeout=30) for _ in range(40)]
    for call in calls:
        next(call)
        call.cancel()
    time.sleep(0.5)
    status = by_name["GetStatus"]
    # A server whose threads the cancelled streams still held would miss this deadline.
    assert invoke(fuzzed.served.channel, status, build(status, {}), timeout=5)
    trust_figures.add("gRPC fuzz B1", cases_tried=len(calls))


@pytest.mark.parametrize("name", ["Åre", "ÅÓ6P"])
def test_b1_the_same_non_ascii_location_name_twice_is_already_exists(tmp_path: Path, database_url: str,
                                                                     name: str, request: pytest.FixtureRequest) -> None:
    """integrations.proto: ALREADY_EXISTS for a location name the account has,
    compared trimmed and case-insensitively, for every name, not only ASCII."""
    books = TrustBooks(tmp_path, database_url)
    try:
        books.add_sim("etsy", seed=1, orders=5, days=5)
        books.start()
        account = books.account()
        with Served(books.app) as served:
            from makersync.v1 import accounts_pb2

            ask = accounts_pb2.CreateLocationRequest(account_id=account, name=name)
            served.accounts.CreateLocation(ask, timeout=5)
            codes = []
            for again in (name, name.upper(), f"  {name.lower()} "):
                with pytest.raises(grpc.RpcError) as info:
                    served.accounts.CreateLocation(accounts_pb2.CreateLocationRequest(account_id=account, name=again),
                                                   timeout=5)
                codes.append(info.value.code())
        assert codes == [grpc.StatusCode.ALREADY_EXISTS] * 3, codes
    finally:
        books.close()
