"""The pure rules of pulling: plans (R1), floors (R2), manual ranges (R4),
matching normalisation (R9) and the scheduler's cadence (R1, R5).

Plain functions over plain values: no database, no network, no clock (time is
passed in), so every rule is tested without I/O.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from makersync.daemon.domain.errors import FailedPrecondition, InvalidArgument

Cadence = Literal["none", "daily", "hourly"]
CADENCES: tuple[str, ...] = ("none", "daily", "hourly")

MAX_MANUAL_RANGE_DAYS = 30
DEFAULT_DAILY_PULL_HOUR = 5
DAILY_JITTER_MAX_S = 5 * 60
AUTOMATIC_OVERLAP = timedelta(minutes=10)


@dataclass(frozen=True)
class Plan:
    """One row of the plan table (R1). ``max_stores`` None = unlimited."""

    name: str
    cadence: Cadence
    lookback_days: int
    max_stores: int | None
    default_location_allowed: bool

    def __post_init__(self) -> None:
        if self.cadence not in CADENCES:
            raise ValueError(f"plan {self.name}: cadence must be one of {CADENCES}")
        if self.lookback_days < 0:
            raise ValueError(f"plan {self.name}: lookback_days must be >= 0")
        if self.max_stores is not None and self.max_stores < 0:
            raise ValueError(f"plan {self.name}: max_stores must be >= 0 or unlimited")


DEFAULT_PLANS: Mapping[str, Plan] = {
    p.name: p
    for p in (
        Plan("trial", "daily", 30, 2, False),
        Plan("pro", "none", 365, 2, False),
        Plan("studio", "daily", 365, 5, False),
        Plan("indie", "daily", 365, 10, False),
        Plan("business", "hourly", 365, 25, True),
        Plan("growth", "hourly", 365, None, True),
    )
}


# --- validation of plain inputs -------------------------------------------


def validate_plan(name: str, plans: Mapping[str, Plan], field: str = "plan") -> Plan:
    """The plan called ``name``; InvalidArgument listing the known plans otherwise."""
    plan = plans.get(name)
    if plan is None:
        known = ", ".join(sorted(plans))
        raise InvalidArgument(field, f"unknown plan {name!r}; known plans: {known}", "R1")
    return plan


# Keys the zone database holds that are not IANA zone names: the host's own
# zone ('localtime', which means whatever the server is set to), the "no zone
# set" placeholder 'Factory', and a build artefact.
_NOT_IANA_ZONES = frozenset({"Factory", "localtime", "posixrules"})


@functools.cache
def _iana_zones() -> frozenset[str]:
    """The IANA zone names this host knows (read once; the scan takes ~0.1 s)."""
    return frozenset(available_timezones()) - _NOT_IANA_ZONES


def validate_time_zone(name: str, field: str = "time_zone") -> ZoneInfo:
    """The IANA zone ``name`` (e.g. 'Europe/Berlin'); InvalidArgument otherwise,
    also for keys the zone files hold that are no IANA zone ('localtime',
    'Factory', 'posix/...')."""
    message = f"must be an IANA time zone such as 'Europe/Berlin', got {name!r}"
    if not name or name not in _iana_zones():
        raise InvalidArgument(field, message)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidArgument(field, message) from None


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(9998, 12, 31)
"""The days a date or instant given to the API may name. Wide enough for any
shop's history and any range a person means; narrow enough that a day's end
or a time zone's offset never runs past what Python and both databases hold
(9999-12-31 plus a day used to fail deep inside with an overflow)."""


def parse_date(value: str, field: str) -> date:
    """A 'YYYY-MM-DD' date from 1970 to 9998; InvalidArgument naming ``field`` otherwise."""
    if not _ISO_DATE.fullmatch(value or ""):
        raise InvalidArgument(field, f"must be a date YYYY-MM-DD, got {value!r}")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(field, f"must be a date YYYY-MM-DD, got {value!r}") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidArgument(field, f"must be a date from {EARLIEST_DAY} to {LATEST_DAY}, got {value!r}")
    return day


def validate_start_date(start: date, today: date, field: str = "start_date") -> date:
    """An account's start date (R3): not after ``today`` (the date in the
    account's time zone), since no pull can read a day that has not come;
    InvalidArgument otherwise."""
    if start > today:
        raise InvalidArgument(
            field,
            f"must not be after today {today.isoformat()} in the account's time zone, "
            f"got {start.isoformat()}",
            "R3",
        )
    return start


def validate_daily_pull_hour(hour: int, field: str = "daily_pull_hour") -> int:
    """An hour 0-23 (R1); InvalidArgument otherwise."""
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise InvalidArgument(field, f"must be an hour from 0 to 23, got {hour!r}", "R1")
    return hour


# --- floors and windows (R2, R4) --------------------------------------------


def today_in(tz: ZoneInfo | str, now: datetime) -> date:
    """The date it is at ``now`` in the zone ``tz``."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return now.astimezone(zone).date()


def day_start_utc(day: date, tz: ZoneInfo | str) -> datetime:
    """The UTC instant at which ``day`` begins in the zone ``tz``."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def floor_date(start_date: date, today: date, lookback_days: int) -> tuple[date, str]:
    """The account's floor (R2): the later of its start date and
    ``today - lookback_days``, with the reason 'start_date' or 'lookback'.
    A tie is reported as 'start_date'."""
    lookback_floor = today - timedelta(days=lookback_days)
    if start_date >= lookback_floor:
        return start_date, "start_date"
    return lookback_floor, "lookback"


def describe_floor(floor: date, reason: str, lookback_days: int | None = None) -> str:
    """Words for why the floor is where it is, for error messages (R2)."""
    if reason == "lookback":
        days = f" of {lookback_days} days" if lookback_days is not None else ""
        return f"{floor.isoformat()} (plan lookback{days})"
    return f"{floor.isoformat()} (the account's start date)"


def validate_manual_range(
    start: date,
    end: date,
    today: date,
    floor: date,
    floor_reason: str,
    lookback_days: int | None = None,
) -> None:
    """Check a manual pull's range (R4); first and last day inclusive.

    Raises InvalidArgument when the end is after today, the start after the
    end, or the range longer than 30 days; FailedPrecondition when the start
    is before the floor, naming the floor and why (R2)."""
    if end > today:
        raise InvalidArgument(
            "end_date", f"must not be after today {today.isoformat()}, got {end.isoformat()}", "R4"
        )
    if start > end:
        raise InvalidArgument(
            "start_date",
            f"must not be after end_date {end.isoformat()}, got {start.isoformat()}",
            "R4",
        )
    days = (end - start).days + 1
    if days > MAX_MANUAL_RANGE_DAYS:
        raise InvalidArgument(
            "end_date",
            f"range must be at most {MAX_MANUAL_RANGE_DAYS} days inclusive, got {days} days",
            "R4",
        )
    if start < floor:
        raise FailedPrecondition(
            "start_date",
            f"must be on or after the account's floor {describe_floor(floor, floor_reason, lookback_days)}",
            "R2",
        )


def reachable_since(now: datetime, fixed: datetime | None, reach: timedelta | None) -> datetime | None:
    """The earliest instant a store's channel can read at ``now`` (R2): the
    later of the fixed instant it declared on connect and ``now - reach`` for
    a rolling limit (Shopify's last 60 days); None when neither limits it.
    Evaluated per pull, never stored: the rolling limit moves with time."""
    rolling = now - reach if reach is not None else None
    if fixed is None or rolling is None:
        return fixed or rolling
    return max(fixed, rolling)


def automatic_window_start(
    high_water: datetime | None,
    floor_start: datetime,
    overlap: timedelta = AUTOMATIC_OVERLAP,
) -> datetime:
    """Where an automatic pull's modified-since filter starts (R5): the last
    high-water mark minus a safety overlap, never before the floor (R2). With
    no high-water mark yet, the floor itself."""
    if high_water is None:
        return floor_start
    return max(high_water - overlap, floor_start)


# --- matching (R9) ----------------------------------------------------------


def normalize_sku(sku: str | None) -> str:
    """A SKU as matched (R9): trimmed and case-folded. '' means "never matches"."""
    return (sku or "").strip().casefold()


def normalize_title(title: str | None) -> str:
    """A title as matched (R9): whitespace collapsed, case-folded."""
    return " ".join((title or "").split()).casefold()


C = TypeVar("C")


def choose_product(
    candidates_by_sku: Sequence[tuple[datetime, int, C]],
    candidates_by_title: Sequence[tuple[datetime, int, C]],
) -> tuple[C | None, str]:
    """Decide R9 for one unlinked listing.

    Candidates are ``(created_at, id, product)`` of the same account. Returns
    ``(product, 'sku')`` when any product matches by SKU, else
    ``(product, 'title')``, else ``(None, 'created')`` (the caller creates
    one). Where several match, the oldest wins (ties broken by lowest id)."""
    if candidates_by_sku:
        return min(candidates_by_sku, key=lambda c: (c[0], c[1]))[2], "sku"
    if candidates_by_title:
        return min(candidates_by_title, key=lambda c: (c[0], c[1]))[2], "title"
    return None, "created"


# --- cadence (R1, R5) -------------------------------------------------------


def store_jitter_s(store_id: int | str, spread_s: int = DAILY_JITTER_MAX_S) -> int:
    """A per-store offset in ``[0, spread_s)`` seconds, stable across restarts
    and daemons (derived from the store id), so pulls do not all start at once."""
    if spread_s <= 0:
        return 0
    digest = hashlib.blake2b(str(store_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % spread_s


def next_daily_run(
    after: datetime, tz: ZoneInfo | str, hour: int, jitter_s: int
) -> datetime:
    """The first daily run strictly after ``after`` (R1): ``hour`` o'clock
    local time in ``tz`` plus ``jitter_s`` seconds, as an aware UTC instant.
    Local hours skipped or doubled by DST resolve the way zoneinfo does."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local_day = after.astimezone(zone).date()
    for offset in range(0, 3):
        day = local_day + timedelta(days=offset)
        run = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
        run += timedelta(seconds=jitter_s)
        if run > after:
            return run
    raise AssertionError("unreachable: a daily run exists within three days")


def next_hourly_run(after: datetime, jitter_s: int) -> datetime:
    """The first hourly run strictly after ``after`` (R1): the top of an hour
    plus ``jitter_s % 3600`` seconds, as an aware UTC instant."""
    base = after.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    run = base + timedelta(seconds=jitter_s % 3600)
    while run <= after:
        run += timedelta(hours=1)
    return run


def next_automatic_run(
    plan: Plan, after: datetime, tz: ZoneInfo | str, daily_hour: int, store_id: int | str
) -> datetime | None:
    """The next automatic pull of a store on ``plan`` (None for manual-only plans)."""
    if plan.cadence == "daily":
        return next_daily_run(after, tz, daily_hour, store_jitter_s(store_id))
    if plan.cadence == "hourly":
        return next_hourly_run(after, store_jitter_s(store_id, 3600))
    return None
