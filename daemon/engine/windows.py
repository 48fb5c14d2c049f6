"""Which window a pull reads (R2, R4, R5): pure functions over plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from makersync.daemon.rules import automatic_window_start, day_start_utc, floor_date, today_in


@dataclass(frozen=True)
class PullWindow:
    placed_from: datetime
    placed_to: datetime
    modified_since: datetime | None
    warnings: tuple[str, ...] = ()


def floor_start(start_date: date, time_zone: str, lookback_days: int, now: datetime) -> datetime:
    """The first instant a pull may read (R2): the floor date's midnight in the account's zone."""
    floor, _ = floor_date(start_date, today_in(time_zone, now), lookback_days)
    return day_start_utc(floor, time_zone)


def plan_window(*, kind: str, now: datetime, floor: datetime, stored_start: datetime, stored_end: datetime,
                high_water: datetime | None, reachable_since: datetime | None,
                overlap: timedelta) -> PullWindow:
    """The window of a pull starting now.

    initial: the floor up to now. automatic: the same bounds, reading what
    changed since the last high-water mark minus ``overlap`` (none yet: like
    an initial pull). manual: the requested days, as stored. Where the channel
    cannot reach back as far (``reachable_since``), the window is narrowed
    and says so, so a pull never claims days it could not read (R2)."""
    if kind == "manual":
        start, end, since = max(stored_start, floor), min(stored_end, now), None
    else:
        start, end = floor, now
        since = automatic_window_start(high_water, floor, overlap) if kind == "automatic" and high_water else None
    warnings: list[str] = []
    if reachable_since is not None and start < reachable_since:
        warnings.append(
            f"the channel lets these credentials read only from {reachable_since:%Y-%m-%d %H:%M} UTC; "
            f"days before it were not read (R2)"
        )
        start = reachable_since
    if end <= start:
        end = start + timedelta(seconds=1)
    return PullWindow(start, end, since, tuple(warnings))
