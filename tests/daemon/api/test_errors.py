"""The one exception -> status table, and what a bug looks like to a caller."""

from __future__ import annotations

import io

import grpc
import pytest
from api_fixtures import code_of

from makersync.daemon.api.errors import (
    INTERNAL_MESSAGE,
    ChannelUnavailable,
    DeadlineExceeded,
    message_for,
    status_for,
)
from makersync.daemon.domain import errors as de
from makersync.daemon.logging import configure_logging, register_secret
from makersync.plugins import errors as ce
from makersync.v1 import status_pb2


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (de.InvalidArgument("start_date", "bad"), grpc.StatusCode.INVALID_ARGUMENT),
        (de.NotFound("account_id", "no account 9"), grpc.StatusCode.NOT_FOUND),
        (de.AlreadyExists("name", "taken"), grpc.StatusCode.ALREADY_EXISTS),
        (de.FailedPrecondition("start_date", "stores connected", "R3"), grpc.StatusCode.FAILED_PRECONDITION),
        (de.QuotaExceeded("", "plan trial allows 2 stores", "R1"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (de.PermissionDenied("account_id", "not yours"), grpc.StatusCode.PERMISSION_DENIED),
        (de.Unauthenticated("authorization", "no key"), grpc.StatusCode.UNAUTHENTICATED),
        (DeadlineExceeded("late"), grpc.StatusCode.DEADLINE_EXCEEDED),
        (ChannelUnavailable("etsy could not be reached"), grpc.StatusCode.UNAVAILABLE),
        (ce.AuthError("invalid_grant"), grpc.StatusCode.INVALID_ARGUMENT),
        (ce.TransientChannelError("reset"), grpc.StatusCode.UNAVAILABLE),
    ],
)
def test_status_table_maps_each_known_error(exc, code):
    assert status_for(exc) == code


def test_unmapped_exceptions_have_no_code():
    assert status_for(KeyError("x")) is None
    assert status_for(RuntimeError("x")) is None


def test_domain_message_names_field_and_rule():
    assert message_for(de.FailedPrecondition("start_date", "disconnect first", "R3")) == (
        "start_date: disconnect first (R3)"
    )


def test_messages_are_scrubbed_of_registered_secrets():
    register_secret("sk_live_canary_123456")
    assert "sk_live_canary_123456" not in message_for(ce.AuthError("token sk_live_canary_123456 refused"))


def test_a_bug_becomes_internal_with_a_generic_message_and_a_logged_traceback(api, monkeypatch):
    log = io.StringIO()
    configure_logging("json", "info", stream=log)

    def broken(account_id):
        raise ZeroDivisionError("the private detail 7f3a")

    monkeypatch.setattr(api.app, "status", broken)
    with pytest.raises(grpc.RpcError) as info:
        api.status.GetStatus(status_pb2.GetStatusRequest(), metadata=(("x-request-id", "bug-1"),), timeout=5)
    err = info.value
    assert err.code() == grpc.StatusCode.INTERNAL
    assert "7f3a" not in err.details() and "ZeroDivision" not in err.details()
    assert err.details() == INTERNAL_MESSAGE.format(request_id="bug-1")
    text = log.getvalue()
    assert "ZeroDivisionError" in text and "the private detail 7f3a" in text  # traceback in the log
    assert '"request_id": "bug-1"' in text
    configure_logging()


def test_refusals_are_never_internal_or_unknown(api):
    code, _ = code_of(lambda: api.create_account(name="", plan="no-such-plan"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
