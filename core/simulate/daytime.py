"""The hours of a student's day: when messages are written, in local time.

A channel's cursor moves through "activity time", the integral of an hourly activity
profile, and is mapped back to the clock, so message density follows the profile while
the cursor only moves forward (each file's messages stay in time order).
"""

from __future__ import annotations

from bisect import bisect_right

from core.simulate.calendar import HOUR_MS

# Relative activity by local hour from midnight (index 24+ is after midnight): students
# start mid-morning and are busiest in the afternoon and evening. The consortium's
# channels mix time zones from Hawaii to Puerto Rico, so their day is flatter and longer.
UNIVERSITY_DAY = (
    *(0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.12, 0.3, 0.55, 0.75, 0.85),  # 00-11
    *(0.8, 0.9, 1.0, 1.0, 1.0, 0.9, 0.8, 0.85, 0.95, 1.0, 0.85, 0.6),  # 12-23
    *(0.35, 0.15, 0.08, 0.05, 0.05, 0.05, 0.05),  # 24-30: after midnight
)
CONSORTIUM_DAY = (
    *(0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 0.85, 1.0, 1.0),
    *(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.95, 0.9, 0.85, 0.75, 0.6),
    *(0.45, 0.3, 0.15, 0.08, 0.05, 0.05, 0.05),
)
OPENING_HOUR = {True: 7, False: 8}
CLOSING_HOUR = {True: 27, False: 26}  # the day's quota is spread to 3 and 2 am


class DayClock:
    """Maps clock time to "activity time", the integral of the hourly profile.

    Gaps are drawn in activity time and mapped back, so message density follows the
    profile while the cursor only moves forward.
    """

    def __init__(self, profile: tuple[float, ...], closing_hour: int) -> None:
        self.profile = profile
        self.cumulative = [0.0]
        for weight in profile:
            self.cumulative.append(self.cumulative[-1] + weight * HOUR_MS)
        self.last = len(profile) - 1
        self.capacity = self.cumulative[closing_hour]

    def activity(self, offset_ms: int) -> float:
        hour = offset_ms // HOUR_MS
        if hour < 0:
            return 0.0
        if hour > self.last:  # past the table (next morning): time runs at rate 1
            return self.cumulative[-1] + (offset_ms - (self.last + 1) * HOUR_MS)
        return self.cumulative[hour] + (offset_ms - hour * HOUR_MS) * self.profile[hour]

    def offset(self, activity: float) -> int:
        if activity >= self.cumulative[-1]:
            return int((self.last + 1) * HOUR_MS + activity - self.cumulative[-1])
        hour = bisect_right(self.cumulative, activity) - 1
        return int(hour * HOUR_MS + (activity - self.cumulative[hour]) / self.profile[hour])


CLOCKS = {
    consortium: DayClock(CONSORTIUM_DAY if consortium else UNIVERSITY_DAY, CLOSING_HOUR[consortium])
    for consortium in (True, False)
}
THREAD_GAP_CAP_MS = 25 * 60_000  # thread replies come in minutes, not hours
MIN_ACTIVITY_LEFT = 0.05 * HOUR_MS
