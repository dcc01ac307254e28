"""Academic terms, the rhythm of the week and semester, and local days in UTC."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# Monday..Sunday: students work less at weekends, Sunday evening more than Saturday.
WEEKDAY_FACTOR = (1.0, 1.05, 1.05, 1.0, 0.85, 0.45, 0.55)


@dataclass(frozen=True)
class Term:
    university_id: str
    name: str  # YYYY-spring|summer|fall|winter
    starts_on: dt.date
    ends_on: dt.date
    season: str


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def _weeks_long(start: dt.date, weeks: int) -> dt.date:
    """The Friday of the term's last week."""
    return start + dt.timedelta(weeks=weeks - 1, days=4)


def terms_for(university_id: str, calendar: str, first_year: int, last_year: int) -> list[Term]:
    """Terms of one university, in date order, for the given calendar years."""
    terms: list[Term] = []
    seasons: tuple[tuple[str, dt.date, int], ...]
    for year in range(first_year, last_year + 1):
        if calendar == "quarter":
            winter = dt.date(year, 1, 5) + dt.timedelta(days=(-dt.date(year, 1, 5).weekday()) % 7)
            spring = winter + dt.timedelta(weeks=12)
            summer = spring + dt.timedelta(weeks=12)
            fall = _nth_weekday(year, 9, 0, 4)
            seasons = (
                ("winter", winter, 11),
                ("spring", spring, 11),
                ("summer", summer, 10),
                ("fall", fall, 11),
            )
        else:
            spring = _nth_weekday(year, 1, 0, 3)
            summer = spring + dt.timedelta(weeks=17)
            fall = _nth_weekday(year, 8, 0, 4)
            seasons = (("spring", spring, 16), ("summer", summer, 12), ("fall", fall, 16))
        for season, starts_on, weeks in seasons:
            terms.append(
                Term(
                    university_id,
                    f"{year}-{season}",
                    starts_on,
                    _weeks_long(starts_on, weeks),
                    season,
                )
            )
    return terms


def current_term(terms: list[Term], start: dt.date) -> int:
    """Index of the teaching term the simulation is about: the first regular term that is
    still running four weeks after ``start`` (summer sessions are skipped)."""
    soon = start + dt.timedelta(weeks=4)
    for index, term in enumerate(terms):
        if term.season != "summer" and term.ends_on >= soon:
            return index
    return len(terms) - 1


def regular_terms_after(terms: list[Term], index: int) -> list[Term]:
    return [term for term in terms[index + 1 :] if term.season != "summer"]


def season_factor(day: dt.date) -> float:
    """Program-wide activity by the calendar: breaks are quiet, the rest is steady."""
    thanksgiving = _nth_weekday(day.year, 11, 3, 4)
    if thanksgiving - dt.timedelta(days=3) <= day <= thanksgiving + dt.timedelta(days=3):
        return 0.55
    if (day.month == 12 and day.day >= 18) or (day.month == 1 and day.day <= 8):
        return 0.3
    if day.month in (6, 7):
        return 0.5
    return 1.0


def local_midnights_ms(time_zone: str, start: dt.date, days: int) -> list[int]:
    """UTC epoch milliseconds of local midnight for each simulated day.

    The offset is taken at local noon, so a day on which daylight saving changes at 2 am
    is placed by its waking hours, which is what the activity model uses.
    """
    zone = ZoneInfo(time_zone)
    result = []
    for index in range(days):
        day = start + dt.timedelta(days=index)
        noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=zone)
        offset = noon.utcoffset() or dt.timedelta(0)
        midnight_utc = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - offset
        result.append(int((midnight_utc - _EPOCH).total_seconds()) * 1000)
    return result


def epoch_ms(day: dt.date) -> int:
    return (
        int((dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - _EPOCH).total_seconds())
        * 1000
    )


def iso_utc(ms: int) -> str:
    """Second-precision UTC time as project tools write it (``2026-08-25T17:03:00Z``)."""
    return (_EPOCH + dt.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%SZ")
