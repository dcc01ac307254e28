"""ISO weeks: the unit of every NDA snapshot (Monday 00:00 UTC to the next Monday)."""

from __future__ import annotations

import datetime as dt
import re

from core.errors import InputError, InputProblem

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
ONE_WEEK = dt.timedelta(weeks=1)


def parse_week(text: str) -> dt.date:
    """``2026-W47`` → the Monday that starts it; a clear error for anything else."""
    match = _ISO_WEEK.match(text.strip())
    if match is None:
        raise InputError(
            [InputProblem("--week", None, None, f"{text!r} is not an ISO week like 2026-W47")]
        )
    year, week = int(match[1]), int(match[2])
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InputError(
            [InputProblem("--week", None, None, f"{year} has no week {week:02d}")]
        ) from None


def week_label(week_start: dt.date) -> str:
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def week_of(moment: dt.date | dt.datetime) -> dt.date:
    """The Monday of the ISO week holding ``moment`` (datetimes are read in UTC)."""
    if isinstance(moment, dt.datetime):
        moment = moment.astimezone(dt.UTC).date() if moment.tzinfo else moment.date()
    return moment - dt.timedelta(days=moment.weekday())


def week_bounds(week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the week as UTC datetimes."""
    start = dt.datetime(week_start.year, week_start.month, week_start.day, tzinfo=dt.UTC)
    return start, start + ONE_WEEK


def weeks_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every week start from ``first``'s week to ``last``'s week, inclusive."""
    current, end = week_of(first), week_of(last)
    weeks = []
    while current <= end:
        weeks.append(current)
        current += ONE_WEEK
    return weeks
