"""The makersync.v1 protos keep the contract of design/API.md and its conventions.

API.md fixes service and method names (fields and methods may be added, never
renamed or dropped); the conventions are Google's: one request and one
response message per method, `_UNSPECIFIED` enum zeros, paging on every list,
no floats for money, and every service and method documented.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import (
    Descriptor,
    EnumDescriptor,
    FieldDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)

REPO = Path(__file__).resolve().parents[2]
PROTO_DIR = REPO / "protos" / "makersync" / "v1"
FILES = ("resources", "accounts", "integrations", "pulls", "catalog", "status")

# service -> method -> what API.md says it returns: a message's full name, or
# None where the method has its own `<Method>Response`.
API_METHODS: dict[str, dict[str, str | None]] = {
    "AccountService": {
        "CreateAccount": "makersync.v1.Account",
        "GetAccount": "makersync.v1.Account",
        "UpdateAccount": "makersync.v1.Account",
        "CreateLocation": "makersync.v1.Location",
        "ListLocations": None,
    },
    "IntegrationService": {
        "ListChannels": None,
        "Connect": "makersync.v1.Store",
        "Disconnect": None,
        "Configure": "makersync.v1.Integration",
        "ListIntegrations": None,
        "GetStore": "makersync.v1.Store",
    },
    "PullService": {
        "Pull": "makersync.v1.PullJob",
        "GetPull": "makersync.v1.PullJob",
        "WatchPull": "makersync.v1.PullJob",
        "ListPulls": None,
    },
    "CatalogService": {
        "ListOrders": None,
        "GetOrder": "makersync.v1.Order",
        "UpdateOrder": "makersync.v1.Order",
        "CopyOrder": "makersync.v1.Order",
        "DeleteOrder": "google.protobuf.Empty",
        "ListProducts": None,
        "GetProduct": "makersync.v1.Product",
        "MoveListing": "makersync.v1.Listing",
        "ListFees": None,
        "DeleteFee": "google.protobuf.Empty",
    },
    "StatusService": {"GetStatus": None},
}
STREAMING_METHODS = {"WatchPull"}
# The only floating-point field: a progress estimate, not money.
FLOAT_FIELDS_ALLOWED = {"makersync.v1.PullProgress.percent"}


def load(name: str) -> ModuleType:
    return importlib.import_module(f"makersync.v1.{name}_pb2")


def all_services() -> dict[str, ServiceDescriptor]:
    services: dict[str, ServiceDescriptor] = {}
    for name in FILES:
        services.update(load(name).DESCRIPTOR.services_by_name)
    return services


def all_methods() -> list[MethodDescriptor]:
    return [m for s in all_services().values() for m in s.methods]


def walk_messages(messages: list[Descriptor]) -> list[Descriptor]:
    found: list[Descriptor] = []
    for message in messages:
        found.append(message)
        found.extend(walk_messages(list(message.nested_types)))
    return found


def all_messages() -> list[Descriptor]:
    return [
        m
        for name in FILES
        for m in walk_messages(list(load(name).DESCRIPTOR.message_types_by_name.values()))
        if not m.GetOptions().map_entry
    ]


def all_enums() -> list[EnumDescriptor]:
    enums: list[EnumDescriptor] = []
    for name in FILES:
        enums.extend(load(name).DESCRIPTOR.enum_types_by_name.values())
    for message in all_messages():
        enums.extend(message.enum_types)
    return enums


def upper_snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).upper()


@pytest.mark.parametrize("file", FILES)
def test_every_file_is_in_package_makersync_v1(file: str) -> None:
    descriptor = load(file).DESCRIPTOR

    assert descriptor.package == "makersync.v1"
    assert descriptor.name == f"makersync/v1/{file}.proto"


@pytest.mark.parametrize(
    ("service", "method"),
    [(s, m) for s, methods in API_METHODS.items() for m in methods],
)
def test_api_md_method_exists_on_its_service(service: str, method: str) -> None:
    services = all_services()

    assert service in services, f"service {service} is missing"
    assert services[service].full_name == f"makersync.v1.{service}"
    methods = services[service].methods_by_name
    assert method in methods, f"{service}.{method} (named in API.md) is missing"

    rpc = methods[method]
    assert rpc.input_type.full_name == f"makersync.v1.{method}Request"
    expected = API_METHODS[service][method] or f"makersync.v1.{method}Response"
    assert rpc.output_type.full_name == expected
    assert rpc.server_streaming is (method in STREAMING_METHODS)
    assert not rpc.client_streaming


def test_each_request_message_serves_one_method() -> None:
    users: dict[str, list[str]] = {}
    for rpc in all_methods():
        users.setdefault(rpc.input_type.full_name, []).append(rpc.full_name)

    shared = {request: rpcs for request, rpcs in users.items() if len(rpcs) > 1}

    assert not shared, f"request messages used by several methods: {shared}"


def test_every_list_method_pages() -> None:
    def field_type(message: Descriptor, name: str) -> int | None:
        field = message.fields_by_name.get(name)
        return None if field is None else field.type

    lists = [m for m in all_methods() if m.name.startswith("List")]
    broken = [
        m.full_name
        for m in lists
        if field_type(m.input_type, "page_size") != FieldDescriptor.TYPE_INT32
        or field_type(m.input_type, "page_token") != FieldDescriptor.TYPE_STRING
        or field_type(m.output_type, "next_page_token") != FieldDescriptor.TYPE_STRING
    ]

    api_lists = {m for methods in API_METHODS.values() for m in methods if m.startswith("List")}
    assert api_lists <= {m.name for m in lists}
    assert not broken, (
        f"list methods without int32 page_size/string page_token/next_page_token: {broken}"
    )


def test_every_enum_has_unspecified_zero_and_prefixed_values() -> None:
    problems = []
    for enum in all_enums():
        prefix = upper_snake(enum.name) + "_"
        zero = enum.values_by_number.get(0)
        if zero is None or zero.name != prefix + "UNSPECIFIED":
            problems.append(f"{enum.full_name}: zero value must be {prefix}UNSPECIFIED")
        problems.extend(
            f"{enum.full_name}.{v.name}: must start with {prefix}"
            for v in enum.values
            if not v.name.startswith(prefix)
        )

    assert all_enums()
    assert not problems, "\n".join(problems)


def test_fields_are_snake_case_and_never_float_except_progress() -> None:
    fields = [f for m in all_messages() for f in m.fields]
    not_snake = [
        f.full_name for f in fields if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", f.name)
    ]
    floats = [
        f.full_name
        for f in fields
        if f.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE)
        and f.full_name not in FLOAT_FIELDS_ALLOWED
    ]

    assert not not_snake, f"fields not in snake_case: {not_snake}"
    assert not floats, f"float fields (money is a Money message, never a float): {floats}"


def test_money_is_an_exact_decimal_string() -> None:
    money = load("resources").Money.DESCRIPTOR

    assert [(f.name, f.type) for f in money.fields] == [
        ("currency_code", FieldDescriptor.TYPE_STRING),
        ("amount", FieldDescriptor.TYPE_STRING),
    ]


def test_every_service_method_message_and_enum_is_documented(tmp_path: Path) -> None:
    # Comments are the API reference but do not reach the generated Python,
    # so read them from a descriptor set built with source info.
    out = tmp_path / "makersync.pb"
    protos = sorted(p.relative_to(REPO).as_posix() for p in PROTO_DIR.glob("*.proto"))
    command = [
        sys.executable, "-m", "grpc_tools.protoc", "-I", "protos",
        "--include_source_info", f"--descriptor_set_out={out}", *protos,
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file

    undocumented = []
    for file in files:
        comments = {
            tuple(loc.path): loc.leading_comments.strip() for loc in file.source_code_info.location
        }
        # Paths per descriptor.proto: 4 = message_type, 5 = enum_type,
        # 6 = service, and 2 = method within a service.
        items = [((4, i), f"message {m.name}") for i, m in enumerate(file.message_type)]
        items += [((5, i), f"enum {e.name}") for i, e in enumerate(file.enum_type)]
        for i, service in enumerate(file.service):
            items.append(((6, i), f"service {service.name}"))
            for j, method in enumerate(service.method):
                if "Errors:" not in comments.get((6, i, 2, j), ""):
                    undocumented.append(
                        f"{file.name}: rpc {service.name}.{method.name} (no Errors:)"
                    )
        undocumented += [
            f"{file.name}: {label}"
            for path, label in items
            if not comments.get(path) and not label.endswith(("Request", "Response"))
        ]

    assert not undocumented, "undocumented:\n" + "\n".join(undocumented)
