"""The pure rules: plans (R1), floors (R2), manual ranges (R4), matching (R9), cadence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from makersync.daemon import rules
from makersync.daemon.domain.errors import FailedPrecondition, InvalidArgument


def test_default_plans_match_plan_table():
    """R1: the shipped plan table is exactly the one in RULES.md."""
    table = {
        name: (p.cadence, p.lookback_days, p.max_stores, p.default_location_allowed)
        for name, p in rules.DEFAULT_PLANS.items()
    }
    assert table == {
        "trial": ("daily", 30, 2, False),
        "pro": ("none", 365, 2, False),
        "studio": ("daily", 365, 5, False),
        "indie": ("daily", 365, 10, False),
        "business": ("hourly", 365, 25, True),
        "growth": ("hourly", 365, None, True),
    }


def test_validate_plan_refused_when_unknown():
    """R1: an unknown plan is refused, naming the field and the known plans."""
    with pytest.raises(InvalidArgument) as err:
        rules.validate_plan("platinum", rules.DEFAULT_PLANS)
    assert err.value.field == "plan" and "studio" in str(err.value) and "(R1)" in str(err.value)


def test_floor_is_start_date_when_later_than_lookback():
    """R2: the floor is the later of the start date and today - lookback."""
    assert rules.floor_date(date(2026, 1, 1), date(2026, 6, 1), 365) == (date(2026, 1, 1), "start_date")


def test_floor_is_lookback_when_start_date_older():
    """R2: an old start date is cut by the plan's lookback."""
    floor, reason = rules.floor_date(date(2020, 1, 1), date(2026, 6, 1), 30)
    assert (floor, reason) == (date(2026, 5, 2), "lookback")


def test_today_in_follows_account_time_zone():
    """R2: dates are in the account's zone (23:30 UTC is the next day in Berlin)."""
    now = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    assert rules.today_in("Europe/Berlin", now) == date(2026, 6, 2)
    assert rules.today_in("America/New_York", now) == date(2026, 6, 1)


def test_day_start_utc_uses_local_midnight():
    """R2/R4: a day begins at local midnight, here 22:00 UTC the day before (CEST)."""
    assert rules.day_start_utc(date(2026, 6, 2), "Europe/Berlin") == datetime(2026, 6, 1, 22, tzinfo=UTC)


def test_manual_range_accepted_when_thirty_days_inclusive():
    """R4: 30 days, first and last inclusive, is allowed."""
    rules.validate_manual_range(date(2026, 5, 2), date(2026, 5, 31), date(2026, 6, 1),
                                date(2026, 1, 1), "start_date")


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(2026, 5, 1), date(2026, 5, 31), "end_date"),  # 31 days
        (date(2026, 5, 10), date(2026, 6, 2), "end_date"),  # after today
        (date(2026, 5, 10), date(2026, 5, 9), "start_date"),  # start after end
    ],
)
def test_manual_range_refused_when_shape_wrong(start, end, field):
    """R4: over 30 days, an end after today, or a start after the end are invalid arguments."""
    with pytest.raises(InvalidArgument) as err:
        rules.validate_manual_range(start, end, date(2026, 6, 1), date(2026, 1, 1), "start_date")
    assert err.value.field == field and "(R4)" in str(err.value)


def test_manual_range_refused_when_before_floor_names_floor_and_lookback():
    """R2/R4: a range before the floor is a failed precondition naming the floor and why."""
    with pytest.raises(FailedPrecondition) as err:
        rules.validate_manual_range(date(2026, 4, 25), date(2026, 5, 5), date(2026, 6, 1),
                                    date(2026, 5, 2), "lookback", 30)
    message = str(err.value)
    assert message.startswith("start_date: must be on or after the account's floor 2026-05-02")
    assert "plan lookback of 30 days" in message and message.endswith("(R2)")


def test_manual_range_refused_when_before_start_date_floor():
    """R2: the error says the floor comes from the start date."""
    with pytest.raises(FailedPrecondition, match="start date"):
        rules.validate_manual_range(date(2025, 12, 30), date(2026, 1, 5), date(2026, 6, 1),
                                    date(2026, 1, 1), "start_date")


def test_parse_date_refused_when_malformed():
    """R15: a malformed date names its field."""
    for bad in ("2026-13-01", "2026-1-1", "yesterday", ""):
        with pytest.raises(InvalidArgument) as err:
            rules.parse_date(bad, "start_date")
        assert err.value.field == "start_date"


def test_validate_time_zone_refused_when_unknown():
    """R15: a time zone must be an IANA name."""
    assert str(rules.validate_time_zone("Europe/Berlin")) == "Europe/Berlin"
    for bad in ("Mars/Olympus", "", "../etc/passwd", " Europe/Berlin"):
        with pytest.raises(InvalidArgument) as err:
            rules.validate_time_zone(bad)
        assert err.value.field == "time_zone"


@pytest.mark.parametrize("bad", ["localtime", "Factory", "posixrules", "posix/Europe/Berlin", "right/UTC"])
def test_validate_time_zone_refused_when_zone_file_is_no_iana_zone(bad):
    """R15: keys the host's zone files hold that are not IANA zone names (the
    server's own zone, the placeholder, the posix/right copies) are refused."""
    with pytest.raises(InvalidArgument) as err:
        rules.validate_time_zone(bad)
    assert err.value.field == "time_zone" and "IANA" in str(err.value)


@pytest.mark.parametrize("good", ["UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "Pacific/Kiritimati"])
def test_validate_time_zone_accepts_iana_names(good):
    """Real IANA names, including Etc/ and three-level ones, pass."""
    assert str(rules.validate_time_zone(good)) == good


def test_normalize_sku_trims_and_casefolds():
    """R9: SKUs match trimmed and case-insensitively."""
    assert rules.normalize_sku("  Mug-01 ") == rules.normalize_sku("MUG-01") == "mug-01"
    assert rules.normalize_sku("   ") == ""


def test_normalize_title_collapses_whitespace():
    """R9: titles match with whitespace collapsed, case-insensitively."""
    assert rules.normalize_title(" Blue\t Mug\n Large ") == rules.normalize_title("blue mug LARGE")


def test_choose_product_prefers_sku_then_title_then_create():
    """R9: SKU match before title match; no match creates."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert rules.choose_product([(t0, 5, "by-sku")], [(t0, 1, "by-title")]) == ("by-sku", "sku")
    assert rules.choose_product([], [(t0, 1, "by-title")]) == ("by-title", "title")
    assert rules.choose_product([], []) == (None, "created")


def test_choose_product_oldest_wins_when_several_match():
    """R9: where several products match, the oldest wins (then the lowest id)."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    candidates = [(t0 + timedelta(days=2), 1, "newer"), (t0, 9, "oldest"), (t0, 10, "same-time")]
    assert rules.choose_product(candidates, []) == ("oldest", "sku")


def test_next_daily_run_at_local_hour_plus_jitter():
    """R1: a daily pull runs at the account's local hour, spread by a per-store jitter."""
    after = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    run = rules.next_daily_run(after, "Europe/Berlin", 5, 90)
    assert run == datetime(2026, 6, 2, 3, 1, 30, tzinfo=UTC)  # 05:01:30 CEST


def test_next_daily_run_same_day_when_hour_not_yet_passed():
    """R1: before today's hour, the run is today."""
    after = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    assert rules.next_daily_run(after, "Europe/Berlin", 5, 0) == datetime(2026, 6, 1, 3, tzinfo=UTC)


def test_store_jitter_deterministic_and_within_minutes():
    """R1: the jitter is stable per store and a few minutes at most, and spreads stores."""
    values = {rules.store_jitter_s(i) for i in range(1, 200)}
    assert rules.store_jitter_s(42) == rules.store_jitter_s("42")
    assert all(0 <= v < rules.DAILY_JITTER_MAX_S for v in values) and len(values) > 100


def test_next_hourly_run_once_an_hour_at_jittered_minute():
    """R1: an hourly pull runs once an hour at the store's jittered minute."""
    after = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    assert rules.next_hourly_run(after, 600) == datetime(2026, 6, 1, 13, 10, tzinfo=UTC)
    assert rules.next_hourly_run(after, 2400) == datetime(2026, 6, 1, 12, 40, tzinfo=UTC)


def test_next_automatic_run_none_for_manual_only_plan():
    """R1/R5: the pro plan has no automatic pulls."""
    after = datetime(2026, 6, 1, tzinfo=UTC)
    assert rules.next_automatic_run(rules.DEFAULT_PLANS["pro"], after, "UTC", 5, 1) is None
    assert rules.next_automatic_run(rules.DEFAULT_PLANS["growth"], after, "UTC", 5, 1) > after


def test_automatic_window_start_overlaps_but_not_before_floor():
    """R5/R2: modified-since starts at the high-water mark minus the overlap, never before the floor."""
    floor = datetime(2026, 1, 1, tzinfo=UTC)
    hw = datetime(2026, 6, 1, 5, tzinfo=UTC)
    assert rules.automatic_window_start(hw, floor) == hw - rules.AUTOMATIC_OVERLAP
    assert rules.automatic_window_start(None, floor) == floor
    assert rules.automatic_window_start(floor, floor + timedelta(days=1)) == floor + timedelta(days=1)
