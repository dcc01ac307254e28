"""Who appears in each channel, and how much each person posts, asks and answers there.

A person's weekly message rate is split over channel kinds by their team's ``Shares``; in
a given week it is scaled by whether they are around (joined, not yet graduated) and by
their team's weekly decay. Asking and answering lean on the lifecycle: incoming students
ask, established and outgoing ones answer.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

from core.simulate.behaviour import (
    DIRECTOR_SHARES,
    EXTERNAL_SHARES,
    GENERAL,
    RESEARCHER_SHARES,
    TEAM,
    Shares,
    TeamBehaviour,
    weekly_decay,
)
from core.simulate.organisation import Actor, Channel, Organisation

# Messages per week of a person who posts normally, before lifecycle factors. Tuned so
# the default consortium (8 universities, 16 weeks) writes about 30,000 messages.
RATES = {"student": 7.0, "faculty": 2.2, "external": 0.8, "researcher": 0.4}
POST_FACTOR = {"incoming": 0.85, "established": 1.1, "outgoing": 1.0, "": 1.0}
ASK_FACTOR = {"incoming": 1.6, "established": 0.9, "outgoing": 0.6, "": 0.25}
ANSWER_FACTOR = {"incoming": 0.25, "established": 1.2, "outgoing": 1.6, "": 3.0}
VISITOR_SHARE = {"student": 0.02, "faculty": 0.05}  # of their rate, into another team's channel
BOT_RATE = {TEAM: 2.0, "integration": 3.0}  # bot posts per week


@dataclass(frozen=True)
class CastMember:
    actor: int
    post: float
    ask: float
    answer: float
    team_id: str
    faculty: bool
    visitor: bool
    active_from: dt.date | None
    active_until: dt.date | None
    decay: float


@dataclass
class WeekTables:
    """Cumulative weights for drawing posters, askers, answerers and faculty."""

    actors: list[int]
    post: list[float]
    ask: list[float]
    answer: list[float]
    faculty: list[int] = field(default_factory=list)
    faculty_cum: list[float] = field(default_factory=list)


def draw(rng_value: float, actors: list[int], cumulative: list[float]) -> int:
    return actors[bisect_right(cumulative, rng_value * cumulative[-1])]


def shares_of(actor: Actor, behaviour: TeamBehaviour | None) -> Shares:
    if actor.role == "student":
        assert behaviour is not None
        return behaviour.student_shares
    if actor.role == "faculty":
        if actor.director or behaviour is None:
            return DIRECTOR_SHARES
        return behaviour.adviser_shares
    return EXTERNAL_SHARES if actor.role == "external" else RESEARCHER_SHARES


def base_rate(actor: Actor, behaviour: TeamBehaviour | None = None) -> float:
    rate = RATES[actor.role] * POST_FACTOR[actor.lifecycle]
    return rate * behaviour.chat_rate if behaviour is not None and actor.role == "student" else rate


@dataclass
class Cast:
    channel: Channel
    members: list[CastMember]
    bot: int | None
    bot_rate: float
    start: dt.date
    _cache: tuple[int, WeekTables] | None = None

    def activity(self, member: CastMember, week: int) -> float:
        week_start = self.start + dt.timedelta(weeks=week)
        week_end = week_start + dt.timedelta(days=6)
        first = max(week_start, member.active_from or week_start)
        last = min(week_end, member.active_until or week_end)
        days = (last - first).days + 1
        if days <= 0:
            return 0.0
        return days / 7 * member.decay**week

    def weekly_volume(self, week: int) -> float:
        """Messages this channel would see in ``week`` from its regulars and its bot."""
        total = sum(m.post * self.activity(m, week) for m in self.members if not m.visitor)
        return total + self.bot_rate

    def tables(self, week: int) -> WeekTables:
        if self._cache is not None and self._cache[0] == week:
            return self._cache[1]
        weights = [self.activity(m, week) for m in self.members]
        if not any(weights):
            # Nobody is around (everyone graduated or not yet joined): let anyone speak
            # rather than leave the channel's quota unwritten.
            weights = [1.0] * len(self.members)
        actors = [m.actor for m in self.members]
        tables = WeekTables(
            actors,
            list(accumulate(m.post * w for m, w in zip(self.members, weights, strict=True))),
            list(accumulate(m.ask * w + 1e-9 for m, w in zip(self.members, weights, strict=True))),
            list(
                accumulate(m.answer * w + 1e-9 for m, w in zip(self.members, weights, strict=True))
            ),
        )
        faculty = [
            (m.actor, m.post * w)
            for m, w in zip(self.members, weights, strict=True)
            if m.faculty and w > 0
        ]
        if faculty:
            tables.faculty = [actor for actor, _ in faculty]
            tables.faculty_cum = list(accumulate(weight + 1e-9 for _, weight in faculty))
        if tables.post[-1] <= 0:
            tables.post = list(accumulate(1.0 for _ in self.members))
        self._cache = (week, tables)
        return tables


def _member(
    actor: Actor,
    post: float,
    team_behaviour: TeamBehaviour | None,
    weeks: int,
    *,
    answer_multiplier: float = 1.0,
    visitor: bool = False,
) -> CastMember:
    lifecycle = actor.lifecycle
    decay = weekly_decay(team_behaviour, weeks)
    return CastMember(
        actor=actor.index,
        post=post,
        ask=post * ASK_FACTOR[lifecycle],
        answer=post * ANSWER_FACTOR[lifecycle] * answer_multiplier,
        team_id=actor.team_id,
        faculty=actor.role == "faculty",
        visitor=visitor,
        active_from=actor.active_from,
        active_until=actor.active_until,
        decay=decay,
    )


def build_casts(org: Organisation) -> list[Cast]:
    teams = org.teams_by_id
    weeks = org.config.weeks
    casts: list[Cast] = []
    for channel in org.channels:
        members: list[CastMember] = []
        bot: int | None = None
        bot_rate = 0.0
        if channel.kind == TEAM:
            assert channel.team_id is not None
            team = teams[channel.team_id]
            behaviour = team.behaviour
            for actor in org.people:
                if actor.team_id == team.id:
                    share = shares_of(actor, behaviour).team
                    if actor.role == "faculty":
                        multiplier = behaviour.faculty_answer
                    elif actor.lifecycle == "outgoing":
                        multiplier = behaviour.student_answer * behaviour.outgoing_answer
                    else:
                        multiplier = behaviour.student_answer * behaviour.non_outgoing_answer
                    members.append(
                        _member(
                            actor,
                            base_rate(actor, behaviour) * share,
                            behaviour,
                            weeks,
                            answer_multiplier=multiplier,
                        )
                    )
                elif (
                    behaviour.visitors
                    and actor.university_id == team.university_id
                    and actor.role in VISITOR_SHARE
                ):
                    own = teams[actor.team_id].behaviour if actor.team_id else None
                    if own is not None and own.dimension == "partitioned_knowledge":
                        continue  # a siloed team does not visit either
                    post = base_rate(actor, own) * VISITOR_SHARE[actor.role]
                    members.append(
                        _member(
                            actor,
                            post,
                            own,
                            weeks,
                            visitor=True,
                            answer_multiplier=behaviour.visitor_answer,
                        )
                    )
            if behaviour.bot:
                bot, bot_rate = org.bots[team.university_id], BOT_RATE[TEAM]
        else:
            for actor in org.people:
                if channel.kind == GENERAL and actor.university_id != channel.university_id:
                    continue
                own = teams[actor.team_id].behaviour if actor.team_id else None
                share = shares_of(actor, own).of(channel.kind)
                if share > 0:
                    members.append(_member(actor, base_rate(actor, own) * share, own, weeks))
            if channel.kind in BOT_RATE:
                bot, bot_rate = org.bots["consortium"], BOT_RATE[channel.kind]
        casts.append(Cast(channel, members, bot, bot_rate, org.config.start))
    return casts
