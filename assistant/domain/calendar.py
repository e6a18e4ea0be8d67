"""Business-day arithmetic for the protocol cadence (DESIGN.md, "Protocol cadence").

Step k+1 is due ``after_days`` business days after the *local date* (team time zone) of
the last outbound touch, at the send-window start: weekends and the public holidays of
``protocol.holidays_country`` (the ``holidays`` package) are skipped.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


@lru_cache(maxsize=32)
def _holiday_calendar(country: str) -> holidays.HolidayBase:
    # Years expand lazily on lookup, so one calendar object serves every year.
    return holidays.country_holidays(country)


@lru_cache(maxsize=4096)
def is_business_day(day: date, country: str) -> bool:
    return day.weekday() < 5 and day not in _holiday_calendar(country)


def add_business_days(start: date, days: int, country: str) -> date:
    """The date ``days`` business days after ``start`` (``start`` itself never counts)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current, country):
            remaining -= 1
    return current


def local_date(instant: datetime, timezone: str) -> date:
    """The calendar date of ``instant`` in the team's time zone (a quote sent at 21:30 in
    Mexico City is dated by that local day, not by its UTC day)."""
    return instant.astimezone(ZoneInfo(timezone)).date()


def due_at(last_touch: datetime, after_days: int, *, timezone: str, country: str,
           window_start: time) -> datetime:
    """When the next step is due: ``after_days`` business days after the local date of
    ``last_touch``, at ``window_start`` local time."""
    day = add_business_days(local_date(last_touch, timezone), after_days, country)
    return datetime.combine(day, window_start, tzinfo=ZoneInfo(timezone))


def due_on(day: date, after_days: int, *, timezone: str, country: str,
           window_start: time) -> datetime:
    """``after_days`` business days after the local date ``day``, at ``window_start``
    (rule 9: the cadence restarted from a promised date)."""
    return datetime.combine(add_business_days(day, after_days, country), window_start,
                            tzinfo=ZoneInfo(timezone))


def at_window(day: date, *, timezone: str, window_start: time) -> datetime:
    """``day`` at the send window, local time."""
    return datetime.combine(day, window_start, tzinfo=ZoneInfo(timezone))


def business_days_between(start: date, end: date, country: str) -> int:
    """Business days in ``(start, end]`` (0 when ``end <= start``): how overdue a step is."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_business_day(current, country):
            count += 1
    return count
