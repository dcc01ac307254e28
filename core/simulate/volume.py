"""How many messages each channel gets, and on which days.

Without ``messages`` the volume follows from the people: every regular of a channel adds
``rate x share x activity`` messages a week (``cast.RATES``; activity covers joining,
graduating and a failing team's decay), bots add a fixed weekly rate, and each day gets
its week's volume scaled by the weekday rhythm and the academic calendar. With
``messages=M`` the same per-channel and per-day weights are scaled to exactly M, using
largest-remainder rounding so the counts add up with no message lost or added.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.simulate.calendar import WEEKDAY_FACTOR, season_factor
from core.simulate.cast import Cast, build_casts
from core.simulate.config import SimulationConfig
from core.simulate.organisation import Organisation

_WEEKDAY_TOTAL = sum(WEEKDAY_FACTOR)


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` into integers that sum to ``total``."""
    count = len(weights)
    if count == 0:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        weights, weight_sum = [1.0] * count, float(count)
    ideal = [total * weight / weight_sum for weight in weights]
    shares = [int(value) for value in ideal]
    remainder = total - sum(shares)
    # Ties go to the earlier index, so the split never depends on anything but the input.
    order = sorted(range(count), key=lambda i: (shares[i] - ideal[i], i))
    position = 0
    while remainder > 0:
        shares[order[position % count]] += 1
        remainder -= 1
        position += 1
    return shares


def day_weights(cast: Cast, start: dt.date, days: int) -> list[float]:
    weekly: dict[int, float] = {}
    weights = []
    for index in range(days):
        week = index // 7
        if week not in weekly:
            weekly[week] = cast.weekly_volume(week)
        day = start + dt.timedelta(days=index)
        weights.append(
            weekly[week] * season_factor(day) * WEEKDAY_FACTOR[day.weekday()] / _WEEKDAY_TOTAL
        )
    return weights


@dataclass
class VolumePlan:
    casts: list[Cast]
    day_weights: list[list[float]]  # per channel, per day
    channel_quotas: list[int]

    @property
    def total(self) -> int:
        return sum(self.channel_quotas)

    def day_quotas(self, channel_index: int) -> list[int]:
        return apportion(self.channel_quotas[channel_index], self.day_weights[channel_index])


def plan_volume(org: Organisation, config: SimulationConfig) -> VolumePlan:
    casts = build_casts(org)
    days = config.weeks * 7
    weights = [day_weights(cast, config.start, days) for cast in casts]
    natural = [sum(channel) for channel in weights]
    total = config.messages if config.messages is not None else round(sum(natural))
    return VolumePlan(casts, weights, apportion(total, natural))
