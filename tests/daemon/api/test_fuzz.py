"""Property fuzzing of every unary RPC (B1): whatever the request, the reply is
never UNKNOWN or INTERNAL, and INVALID_ARGUMENT names a field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from api_fixtures import Running, start_server
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from makersync.v1 import accounts_pb2, catalog_pb2, integrations_pb2, pulls_pb2, status_pb2

SKIPPED = {"Connect", "WatchPull"}  # Connect talks to the channel; WatchPull streams (tested elsewhere)
MODULES = (accounts_pb2, integrations_pb2, pulls_pb2, catalog_pb2, status_pb2)
INT32 = st.integers(-(2**31), 2**31 - 1)
TEXT = st.one_of(st.just(""), st.sampled_from(["1", "2", "0", "-1", "trial", "UTC", "etsy", "2026-01-01"]),
                 st.text(max_size=30), st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True))


def field_strategy(field: FieldDescriptor) -> st.SearchStrategy:
    if field.message_type is not None:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            return st.fixed_dictionaries({"seconds": st.integers(-(2**40), 2**40), "nanos": INT32})
        if field.message_type.GetOptions().map_entry:
            return st.dictionaries(TEXT, TEXT, max_size=3)
        return st.just(None)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_ENUM):
        return INT32
    if field.type == FieldDescriptor.TYPE_INT64:
        return st.integers(-(2**63), 2**63 - 1)
    return TEXT


def request_strategy(message_class: type) -> st.SearchStrategy:
    fields = message_class.DESCRIPTOR.fields
    return st.fixed_dictionaries({}, optional={f.name: field_strategy(f) for f in fields})


def build(message_class: type, values: dict) -> object:
    msg = message_class()
    for name, value in values.items():
        field = message_class.DESCRIPTOR.fields_by_name[name]
        if value is None:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            getattr(msg, name).update(value)
        elif field.message_type is not None:
            getattr(msg, name).seconds, getattr(msg, name).nanos = value["seconds"], value["nanos"]
        else:
            setattr(msg, name, value)
    return msg


METHODS = [
    (module, service.name, method)
    for module in MODULES
    for service in module.DESCRIPTOR.services_by_name.values()
    for method in service.methods
    if method.name not in SKIPPED
]


@pytest.fixture(scope="module")
def fuzz_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    for api in start_server(tmp):
        api.create_account()
        yield api


@pytest.mark.parametrize(("module", "service", "method"), METHODS, ids=[m.name for _, _, m in METHODS])
def test_no_request_gets_unknown_or_internal(fuzz_api, module, service, method):
    stub = getattr(fuzz_api, {"AccountService": "accounts", "IntegrationService": "integrations",
                              "PullService": "pulls", "CatalogService": "catalog",
                              "StatusService": "status"}[service])
    rpc = getattr(stub, method.name)
    request_class = getattr(module, method.input_type.name)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(request_strategy(request_class))
    def check(values: dict) -> None:
        try:
            rpc(build(request_class, values), timeout=10)
        except grpc.RpcError as err:
            assert err.code() not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL), err.details()
            if err.code() == grpc.StatusCode.INVALID_ARGUMENT:
                assert ":" in err.details(), err.details()

    check()
