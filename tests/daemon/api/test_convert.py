"""Views to protobuf: exact money strings, timestamps, dates, enum words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from makersync.daemon.api import convert
from makersync.daemon.domain import views as v
from makersync.v1 import resources_pb2 as pb

T0 = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "text"),
    [("12.50", "12.50"), ("-3", "-3"), ("0.005", "0.005"), ("1E+2", "100"), ("-0", "0"),
     ("123456789012345678.99", "123456789012345678.99")],
)
def test_money_is_an_exact_decimal_string(amount, text):
    assert convert.money_to_proto(Decimal(amount), "USD") == pb.Money(currency_code="USD", amount=text)


def test_timestamps_round_trip_and_none_stays_unset():
    msg = pb.Location(id="1", created_at=convert.timestamp_to_proto(T0))
    assert convert.timestamp_from_proto(msg, "created_at") == T0
    assert convert.timestamp_from_proto(pb.Location(), "created_at") is None


def test_aware_timestamps_in_other_zones_are_converted_to_utc():
    berlin = T0.astimezone(timezone(timedelta(hours=1)))
    assert convert.timestamp_to_proto(berlin) == convert.timestamp_to_proto(T0)


def test_account_dates_are_iso_days():
    view = v.AccountView(id="7", name="Ada", plan="trial", start_date=date(2026, 1, 1), time_zone="UTC",
                         daily_pull_hour=5, floor_date=date(2026, 2, 1), floor_reason="lookback",
                         created_at=T0, max_stores=None, stores_connected=1)
    msg = convert.account_to_proto(view)
    assert (msg.start_date, msg.floor_date, msg.max_stores) == ("2026-01-01", "2026-02-01", 0)


def _pull(**kw):
    base = dict(id="3", store_id="2", account_id="1", channel="etsy", kind="manual", dry_run=False,
                state="running", window_start=T0, window_end=T0, modified_since=None,
                start_date="2026-03-01", end_date="2026-03-02",
                progress={"stage": "orders", "pages_done": 2, "records_done": 200, "unknown_key": 1},
                counts={"orders_created": 5, "not_a_count": 9}, requests_made=3, throttled=1, error="",
                warnings=["w"], set_aside=[{"kind": "order", "external_id": "9", "reason": "bad"}],
                set_aside_count=1, waiting_reason="", created_at=T0, started_at=T0, finished_at=None)
    base.update(kw)
    return v.PullView(**base)


def test_pull_maps_enums_progress_and_counts():
    msg = convert.pull_to_proto(_pull())
    assert msg.kind == pb.PULL_KIND_MANUAL and msg.state == pb.PULL_STATE_RUNNING
    assert (msg.progress.stage, msg.progress.records_done) == ("orders", 200)
    assert msg.counts.orders_created == 5 and msg.counts.records_set_aside == 1
    assert not msg.HasField("finished_at") and msg.throttled_responses == 1


def test_unknown_words_map_to_unspecified_and_unknown_fee_kinds_to_other():
    assert convert.pull_to_proto(_pull(state="exploded")).state == pb.PULL_STATE_UNSPECIFIED
    assert convert.enum_to_proto(pb.FeeKind, "FEE_KIND", "offsite_ads", fallback="OTHER") == pb.FEE_KIND_OTHER


def test_order_status_from_proto_gives_the_domain_word():
    assert convert.order_status_from_proto(pb.ORDER_STATUS_PARTIALLY_REFUNDED) == "partially_refunded"
    assert convert.order_status_from_proto(0) == ""
    assert convert.order_status_from_proto(99) == ""
