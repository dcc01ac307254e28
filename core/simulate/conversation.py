"""One channel's conversation, generated in time order and written as it goes.

Each day gets its quota of messages (see ``volume``). The day is filled with episodes, a
question and its answers, a thread, a status update, a shared document, small talk, an
announcement, a bot notification, and with scheduled events that fall due (member joins,
handoff notes, answers that come days late). A cursor moves through the university's
local waking hours; gaps are drawn so the day's quota spreads over them.

Everything a channel writes depends only on the seed, the organisation and the channel's
quota, so channels can be generated in any order, or in parallel, with identical bytes.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.simulate import content as text
from core.simulate.behaviour import (
    ANNOUNCEMENTS,
    GENERAL,
    HELP,
    INTEGRATION,
    NORMAL,
    TEAM,
    TeamBehaviour,
)
from core.simulate.calendar import HOUR_MS, local_midnights_ms
from core.simulate.cast import Cast, WeekTables, draw
from core.simulate.content import QA, DocContext, Phrasebook, Slots, Subsystem, phrasebook
from core.simulate.daytime import (
    CLOCKS,
    MIN_ACTIVITY_LEFT,
    OPENING_HOUR,
    THREAD_GAP_CAP_MS,
)
from core.simulate.dce_writer import (
    DceFile,
    Fragments,
    channel_file_name,
    channel_header,
    safe_file_name,
)
from core.simulate.messages import ChannelResult, MessageWriter, Stream
from core.simulate.organisation import Organisation
from core.simulate.snowflakes import MAX_THREADS_PER_CHANNEL, snowflake, stream_bits

DISCORD_DIR = "discord"
THREADS_DIR = "discord/_threads"

# Episode kinds and their weights per channel kind (bots are added per channel).
QUESTION, THREAD, STATUS, DOC, SMALL_TALK, ANNOUNCE, COORDINATE, SCOPE, BOT = range(9)
EPISODE_WEIGHTS = {
    TEAM: {QUESTION: 0.40, THREAD: 0.07, STATUS: 0.17, DOC: 0.06, SMALL_TALK: 0.10, ANNOUNCE: 0.03},
    GENERAL: {
        QUESTION: 0.25,
        THREAD: 0.04,
        STATUS: 0.10,
        DOC: 0.05,
        SMALL_TALK: 0.36,
        ANNOUNCE: 0.12,
        COORDINATE: 0.08,
    },
    HELP: {QUESTION: 0.72, THREAD: 0.16, DOC: 0.07, SMALL_TALK: 0.05},
    INTEGRATION: {
        QUESTION: 0.34,
        THREAD: 0.12,
        STATUS: 0.18,
        DOC: 0.10,
        ANNOUNCE: 0.06,
        COORDINATE: 0.20,
    },
    ANNOUNCEMENTS: {ANNOUNCE: 0.80, DOC: 0.12, SMALL_TALK: 0.08},
}
MEAN_EPISODE_MESSAGES = 2.2  # used to turn a bot's share of messages into episode odds

SCOPE_ANSWERS = (
    "no idea, I thought it moved to next term",
    "it was cut at the last sync I think",
    "still in scope as far as I know",
    "ask the adviser, it changed again on Friday",
    "I reassigned it to myself but I'm not sure it's still needed",
)
COORDINATION_ANSWERS = (
    "should be final by {day}",
    "pinout is in the ICD, J{n} pins 1-4",
    "we're behind, sorry, next week at the earliest",
    "I'll send the numbers tonight",
    "yes, rev {rev} is current",
    "let's talk at the integration sync",
)
SCOPE_PAIRS: QA = tuple((question, SCOPE_ANSWERS) for question in text.SCOPE_CHURN)


@dataclass(frozen=True)
class Topic:
    """What a question is about: the answers that fit it and the values it used."""

    subsystem: Subsystem
    answers: tuple[str, ...]
    slots: Slots
    given: list[str] = field(default_factory=list)  # answers already posted

    def next_answer(self, rng: random.Random) -> str:
        """An answer nobody gave yet, so two people don't post the same words."""
        fresh = [a for a in self.answers if a not in self.given] or list(text.FILLER_ANSWERS)
        choice = fresh[rng.randrange(len(fresh))]
        self.given.append(choice)
        return choice


@dataclass(order=True)
class _Event:
    due: int
    seq: int
    kind: str = field(compare=False)
    payload: tuple[Any, ...] = field(compare=False)


class ChannelSimulator:
    def __init__(
        self,
        org: Organisation,
        cast: Cast,
        day_quotas: list[int],
        out_dir: Path,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        config = org.config
        channel = cast.channel
        self.org = org
        self.cast = cast
        self.channel = channel
        self.actors = org.actors
        self.day_quotas = day_quotas
        self.out_dir = out_dir
        self.progress = progress
        self.rng = random.Random(f"{config.seed}:channel:{channel.id}")
        self.result = ChannelResult(channel.index)
        self.writer = MessageWriter(self.rng, org.actors, self.result, self._poster)
        self.emit = self.writer.emit
        self.teams = org.teams_by_id
        self.team = self.teams[channel.team_id] if channel.team_id else None
        self.behaviour: TeamBehaviour = self.team.behaviour if self.team else NORMAL
        self.links = self.behaviour.links
        self.consortium = channel.university_id is None
        self.thread_count = 0
        self.seq = 0
        self.pending: list[_Event] = []
        self.tables: WeekTables | None = None
        self.midnight = 0
        self.quota = 0
        self.in_thread = False
        self.clock = CLOCKS[self.consortium]
        self.books: dict[tuple[str, bool], Phrasebook] = {}
        self.contexts: dict[int, DocContext] = {}
        self._episodes, self._episode_cum = self._episode_table(cast)
        self._outsiders = self._outsider_pool()
        self._schedule_events()

    # -- set-up -------------------------------------------------------------------------

    def _episode_table(self, cast: Cast) -> tuple[list[int], list[float]]:
        weights = dict(EPISODE_WEIGHTS[self.channel.kind])
        if self.channel.kind == TEAM:
            if not self.links:
                weights.pop(DOC, None)
            if self.behaviour.scope_churn:
                weights[SCOPE] = self.behaviour.scope_churn
            if self.behaviour.coordination:
                weights[COORDINATE] = self.behaviour.coordination
        if cast.bot is not None and cast.bot_rate > 0:
            volume = sum(cast.weekly_volume(w) for w in range(self.org.config.weeks))
            share = cast.bot_rate * self.org.config.weeks / volume if volume else 0.0
            others = sum(weights.values())
            # Odds per episode that give the bot its share of messages, not of episodes.
            weights[BOT] = share * MEAN_EPISODE_MESSAGES * others / max(1e-9, 1 - share)
        kinds = sorted(weights)
        cumulative, running = [], 0.0
        for kind in kinds:
            running += weights[kind]
            cumulative.append(running)
        return kinds, cumulative

    def _outsider_pool(self) -> list[int]:
        """People from other teams whom this channel's members coordinate with."""
        if self.channel.kind != TEAM or not self.behaviour.coordination or self.team is None:
            return []
        team = self.team
        pool = [
            a.index
            for a in self.org.people
            if a.role == "student"
            and a.team_id
            and a.team_id != team.id
            and self.teams[a.team_id].behaviour.dimension != "partitioned_knowledge"
            and (
                a.university_id == team.university_id
                or self.teams[a.team_id].subsystem in ("integration", "kit")
            )
        ]
        return pool

    def _schedule_events(self) -> None:
        channel, config = self.channel, self.org.config
        midnights = local_midnights_ms(channel.time_zone, config.start, config.weeks * 7)
        self.midnights = midnights
        self.window_end_ms = midnights[-1] + 30 * HOUR_MS
        rng = self.rng
        if channel.kind == GENERAL:
            for actor in self.org.people:
                joined = actor.joined_on
                if (
                    actor.university_id == channel.university_id
                    and joined is not None
                    and config.start <= joined < config.end
                ):
                    day = (joined - config.start).days
                    due = midnights[day] + rng.randint(9 * HOUR_MS, 17 * HOUR_MS)
                    self._push(due, "join", (actor.index,))
        if channel.kind == TEAM:
            for handoff in self.org.handoffs:
                if handoff.team_id == channel.team_id:
                    day = (handoff.day - config.start).days
                    due = midnights[day] + rng.randint(10 * HOUR_MS, 20 * HOUR_MS)
                    thing = self.rng.randrange(1 << 16)
                    self._push(due, "handoff", (handoff.from_actor, handoff.to_actor, thing))

    def _push(self, due: int, kind: str, payload: tuple[Any, ...]) -> None:
        self.seq += 1
        heapq.heappush(self.pending, _Event(due, self.seq, kind, payload))

    # -- main loop ----------------------------------------------------------------------

    def run(self) -> ChannelResult:
        channel = self.channel
        name = channel_file_name(channel.guild_name, channel.category, channel.name, channel.id)
        guild, info = channel_header(channel, self._icon(name))
        file = DceFile(self.out_dir, f"{DISCORD_DIR}/{name}", guild, info)
        self.parent = Stream(
            file,
            Fragments(name),
            stream_bits(channel.index),
            channel.id,
            channel.guild_id,
            self.midnights[0],
        )
        if self.cast.members:
            self._days()
        self.result.files.append(file.close())
        self.result.messages += file.count
        self._report(force=True)
        return self.result

    def _icon(self, file_name: str) -> str:
        return f"{file_name}_Files/0-{abs(self.channel.guild_id) % 0xFFFFF:05X}.png"

    def _days(self) -> None:
        rng = self.rng
        opening_hour = OPENING_HOUR[self.consortium]
        for day, quota in enumerate(self.day_quotas):
            if quota == 0:
                continue
            self.tables = self.cast.tables(day // 7)
            self.midnight = self.midnights[day]
            opening = self.midnight + opening_hour * HOUR_MS + rng.randrange(HOUR_MS)
            self.parent.now = max(self.parent.now, opening)
            self.quota = quota
            self.writer.written = 0
            while self.writer.written < quota:
                budget = quota - self.writer.written
                if self.pending and self.pending[0].due <= self.parent.now + HOUR_MS // 2:
                    self._event(heapq.heappop(self.pending), budget)
                else:
                    self._episode(budget)
            self._report()

    def _report(self, force: bool = False) -> None:
        writer = self.writer
        if self.progress is not None and (force or writer.unreported >= 2000):
            if writer.unreported:
                self.progress(writer.unreported)
            writer.unreported = 0

    # -- drawing people, topics and gaps ------------------------------------------------

    def gap(self, scale: float = 1.0) -> int:
        """Milliseconds to the next message: the day's remaining activity shared among the
        day's remaining messages (episodes run faster than that: ``scale`` < 1)."""
        clock = self.clock
        offset = self.parent.now - self.midnight
        position = clock.activity(offset)
        left = max(clock.capacity - position, MIN_ACTIVITY_LEFT)
        mean = left / ((self.quota - self.writer.written) * 0.8 + 1)
        # Capped so an exponential tail cannot throw the cursor into the night.
        step = min(self.rng.expovariate(1.0), 4.0) * mean * scale
        spread = clock.offset(position + step) - offset
        if self.in_thread:
            spread = min(spread, int(self.rng.expovariate(1.0) * THREAD_GAP_CAP_MS))
        return max(0, spread) + self.rng.randint(1500, 40_000)

    def _poster(self) -> int:
        assert self.tables is not None
        return draw(self.rng.random(), self.tables.actors, self.tables.post)

    def _asker(self) -> int:
        assert self.tables is not None
        return draw(self.rng.random(), self.tables.actors, self.tables.ask)

    def _answerer(self, asker: int) -> int:
        """Anyone but the asker; in shared channels, preferably someone from another team."""
        assert self.tables is not None
        tables, rng = self.tables, self.rng
        asker_team = self.actors[asker].team_id
        choice = asker
        for attempt in range(6):
            choice = draw(rng.random(), tables.actors, tables.answer)
            if choice == asker:
                continue
            if (
                self.channel.kind != TEAM
                and attempt < 3
                and asker_team
                and self.actors[choice].team_id == asker_team
            ):
                continue
            return choice
        if choice == asker:
            others = [a for a in tables.actors if a != asker]
            choice = others[rng.randrange(len(others))] if others else asker
        return choice

    def _faculty(self) -> int | None:
        assert self.tables is not None
        if not self.tables.faculty:
            return None
        return draw(self.rng.random(), self.tables.faculty, self.tables.faculty_cum)

    def _subsystem(self, actor: int) -> Subsystem:
        if self.team is not None and self.rng.random() < 0.85:
            return text.SUBSYSTEMS[self.team.subsystem]
        team_id = self.actors[actor].team_id
        if team_id and self.rng.random() < 0.7:
            return text.SUBSYSTEMS[self.teams[team_id].subsystem]
        return text.SUBSYSTEMS[self.rng.choice(_SUBSYSTEM_KEYS)]

    def _book(self, subsystem: Subsystem) -> Phrasebook:
        key = (subsystem.key, self.links)
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = phrasebook(subsystem, self.links)
        return book

    def _context(self, actor: int) -> DocContext | None:
        if not self.links:
            return None
        ctx = self.contexts.get(actor)
        if ctx is None:
            person = self.actors[actor]
            university_id = person.university_id or self.org.universities[0].id
            seed = self.org.university(university_id).seed
            repo = (
                text.SUBSYSTEMS[self.teams[person.team_id].subsystem].channel
                if person.team_id
                else "handbook"
            )
            space = "".join(ch for ch in (university_id + repo).upper() if ch.isalpha())[:10]
            ctx = self.contexts[actor] = DocContext(
                seed.org, repo, seed.email_domain, seed.tracker, space
            )
        return ctx

    def _slots(self, actor: int, subsystem: Subsystem, **fixed: str) -> Slots:
        return Slots(self.rng, subsystem, self._context(actor), **fixed)

    def _say(self, template: str, actor: int, subsystem: Subsystem, **fixed: str) -> str:
        return template.format_map(self._slots(actor, subsystem, **fixed))

    def _attachment(self, subsystem: Subsystem, chance: float) -> tuple[str, int] | None:
        if self.rng.random() < chance:
            return text.attachment_name(self.rng, subsystem)
        return None

    # -- episodes -----------------------------------------------------------------------

    def _episode(self, budget: int) -> None:
        kind = draw(self.rng.random(), self._episodes, self._episode_cum)
        stream = self.parent
        if kind == QUESTION:
            self._qa(stream, budget)
        elif kind == THREAD:
            self._thread(budget)
        elif kind == STATUS:
            self._status(stream)
        elif kind == DOC:
            self._doc(stream, budget)
        elif kind == SMALL_TALK:
            self._small_talk(stream, budget)
        elif kind == ANNOUNCE:
            self._announce(stream)
        elif kind == COORDINATE:
            self._coordinate(stream, budget)
        elif kind == SCOPE:
            self._qa(stream, budget, pairs=SCOPE_PAIRS)
        else:
            self._bot(stream)

    def _question(
        self, asker: int, subsystem: Subsystem, pairs: QA | None, slots: Slots | None = None
    ) -> tuple[str, tuple[str, int] | None, Topic]:
        """A question, maybe with code or a file, and what its answers draw on."""
        rng = self.rng
        book = self._book(subsystem)
        question, answers = rng.choice(pairs or book.qa)
        slots = slots if slots is not None else self._slots(asker, subsystem)
        content = question.format_map(slots)
        if book.code and rng.random() < 0.12:
            content += "\n" + rng.choice(book.code).format_map(slots)
        return content, self._attachment(subsystem, 0.05), Topic(subsystem, answers, slots)

    def _qa(self, stream: Stream, budget: int, *, pairs: QA | None = None) -> None:
        rng = self.rng
        asker = self._asker()
        subsystem = self._subsystem(asker)
        content, attachment, topic = self._question(asker, subsystem, pairs)
        question = self.emit(
            stream, asker, content, gap=self.gap(), attachment=attachment, react=0.04
        )
        in_team = self.channel.kind == TEAM
        unanswered = self.behaviour.unanswered if in_team else 0.09
        if rng.random() < unanswered:
            return
        if in_team and rng.random() < self.behaviour.late_answers:
            delay = int(rng.uniform(1.5, 6.0) * 24 * HOUR_MS)
            self._push(stream.now + delay, "answer", (question, asker, True, topic))
            return
        if budget <= 1:
            # The day's quota is spent: the answer comes with the next day's first messages.
            self._push(stream.now + self.gap(), "answer", (question, asker, False, topic))
            return
        remaining = budget - 1
        last: tuple[int, int] | None = None
        for number in range(1 + (rng.random() < 0.35) + (rng.random() < 0.12)):
            if remaining == 0:
                break
            answerer = self._answerer(asker)
            answer_id = self._answer(stream, answerer, asker, question, topic, first=number == 0)
            last = (answer_id, answerer)
            remaining -= 1
        if remaining and last is not None and rng.random() < 0.45:
            self._thanks(stream, asker, *last)

    def _answer(
        self,
        stream: Stream,
        answerer: int,
        asker: int,
        question: int,
        topic: Topic,
        *,
        first: bool,
        late: bool = False,
        gap: int | None = None,
    ) -> int:
        rng = self.rng
        subsystem = topic.subsystem
        book = self._book(subsystem)
        slots = topic.slots.reply(rng, self._context(answerer))
        template = topic.next_answer(rng) if rng.random() < 0.9 else rng.choice(text.FILLER_ANSWERS)
        content = template.format_map(slots)
        if book.code and rng.random() < 0.08:
            content += "\n" + rng.choice(book.code).format_map(slots)
        if late and rng.random() < 0.6:
            content = (
                rng.choice(("sorry for the late reply, ", "just saw this: ", "late but ")) + content
            )
        gap = self.gap(0.6) if gap is None else gap
        style = rng.random()
        if style < 0.38:
            return self.emit(
                stream,
                answerer,
                content,
                gap=gap,
                reply_to=question,
                attachment=self._attachment(subsystem, 0.03),
            )
        if style < 0.68 and first and not late:
            # Simply follows the question: the next message in the channel.
            return self.emit(stream, answerer, content, gap=gap, inferred_to=question)
        person = self.actors[asker]
        if style < 0.87:
            address = rng.choice(
                (
                    f"{person.first_name}: ",
                    f"@{person.first_name.lower()} ",
                    f"{person.first_name}, ",
                )
            )
            return self.emit(stream, answerer, address + content, gap=gap, inferred_to=question)
        return self.emit(
            stream,
            answerer,
            f"@{person.nickname} {content}",
            gap=gap,
            inferred_to=question,
            mentions=(asker,),
        )

    def _thanks(self, stream: Stream, asker: int, answer_id: int, answerer: int) -> None:
        rng = self.rng
        if rng.random() < 0.5:
            self.emit(
                stream,
                asker,
                rng.choice(text.THANKS_PLAIN),
                gap=self.gap(0.5),
                reply_to=answer_id,
                react=0.05,
            )
        else:
            first = self.actors[answerer].first_name
            self.emit(
                stream,
                asker,
                rng.choice(text.THANKS_NAMED).format(first=first),
                gap=self.gap(0.5),
                inferred_to=answer_id,
                react=0.05,
            )

    def _thread(self, budget: int) -> None:
        if budget < 2 or self.thread_count >= MAX_THREADS_PER_CHANNEL:
            self._qa(self.parent, budget)
            return
        rng, channel, parent = self.rng, self.channel, self.parent
        starter = self._asker()
        subsystem = self._subsystem(starter)
        slots = self._slots(starter, subsystem)  # the title and the opening question agree
        title = rng.choice(text.THREAD_TITLES).format_map(slots)
        title = title[:1].upper() + title[1:]
        self.thread_count += 1
        self.result.threads += 1
        low = stream_bits(channel.index, self.thread_count)
        created = parent.now + self.gap()
        thread_id = snowflake(created, low)
        self.emit(
            parent,
            starter,
            "Started a thread.",
            gap=created - parent.now,
            kind="ThreadCreated",
            react=0,
            reference=parent.reference(None, thread_id),
        )
        name = safe_file_name(f"{channel.guild_name} - {channel.name} - {title} [{thread_id}].json")
        guild, info = channel_header(channel, self._icon(name), (thread_id, title))
        file = DceFile(self.out_dir, f"{THREADS_DIR}/{name}", guild, info)
        thread = Stream(
            file,
            Fragments(name),
            low,
            thread_id,
            channel.guild_id,
            created + rng.randint(5_000, 90_000),
        )
        self.in_thread = True
        try:
            count = min(budget - 1, rng.randint(3, 14))
            self._thread_messages(thread, starter, subsystem, slots, count)
        finally:
            self.in_thread = False
        self.result.files.append(file.close())
        self.result.messages += file.count

    def _thread_messages(
        self, thread: Stream, starter: int, subsystem: Subsystem, slots: Slots, count: int
    ) -> None:
        rng = self.rng
        content, attachment, topic = self._question(starter, subsystem, None, slots)
        question = self.emit(thread, starter, content, gap=1, attachment=attachment)
        count -= 1
        late = self.channel.kind == TEAM and rng.random() < self.behaviour.late_answers
        if count == 0 or (self.channel.kind == TEAM and rng.random() < self.behaviour.unanswered):
            return
        first_gap = int(rng.uniform(1.5, 6.0) * 24 * HOUR_MS) if late else None
        if first_gap is not None and thread.now + first_gap >= self.window_end_ms:
            return  # the answer would come after the export: the question stays open
        answerer = self._answerer(starter)
        last = self._answer(
            thread,
            answerer,
            starter,
            question,
            topic,
            first=True,
            late=late,
            gap=first_gap,
        )
        speakers = [starter, answerer]
        history = [(question, starter), (last, answerer)]
        count -= 1
        while count > 0:
            if count == 1 and rng.random() < 0.5:
                self._thanks(thread, starter, last, answerer)
                break
            speaker = (
                self._answerer(speakers[-1])
                if rng.random() < 0.6
                else speakers[rng.randrange(len(speakers))]
            )
            target_id, target = history[rng.randrange(max(0, len(history) - 3), len(history))]
            line = rng.choice(text.DISCUSSION).format_map(
                topic.slots.reply(rng, self._context(speaker))
            )
            if target == speaker:
                last = self.emit(thread, speaker, line, gap=self.gap(0.7))
            elif rng.random() < 0.45:
                last = self.emit(thread, speaker, line, gap=self.gap(0.7), reply_to=target_id)
            else:
                first = self.actors[target].first_name
                last = self.emit(
                    thread, speaker, f"{first}: {line}", gap=self.gap(0.7), inferred_to=target_id
                )
            answerer = speaker
            speakers.append(speaker)
            history.append((last, speaker))
            count -= 1

    def _status(self, stream: Stream) -> None:
        poster = self._poster()
        subsystem = self._subsystem(poster)
        book = self._book(subsystem)
        content = self._say(self.rng.choice(book.statuses), poster, subsystem)
        self.emit(
            stream,
            poster,
            content,
            gap=self.gap(),
            attachment=self._attachment(subsystem, 0.08),
            react=0.2,
        )

    def _doc(self, stream: Stream, budget: int) -> None:
        rng = self.rng
        poster = self._poster()
        subsystem = self._subsystem(poster)
        slots = self._slots(poster, subsystem)
        content = rng.choice(text.DOC_SHARES).format_map(slots)
        url = slots.get("doc")
        embed: dict[str, object] | None = None
        if url and rng.random() < 0.35:
            embed = {
                "title": slots.get("doc_title") or slots.get("thing") or "Document",
                "url": url,
                "timestamp": None,
                "description": "",
                "images": [],
                "fields": [],
            }
        pinned = budget >= 2 and rng.random() < 0.3
        attachment = None
        if url is None or rng.random() < 0.15:
            attachment = (f"{slots['thing'].replace(' ', '_')}.pdf", rng.randint(80_000, 5_000_000))
        doc_id = self.emit(
            stream,
            poster,
            content,
            gap=self.gap(),
            pinned=pinned,
            embed=embed,
            attachment=attachment,
            react=0.3,
        )
        if pinned:
            pinner = self._faculty() or poster
            self.emit(
                stream,
                pinner,
                "Pinned a message.",
                gap=self.gap(0.3),
                kind="ChannelPinnedMessage",
                react=0,
                reference=stream.reference(doc_id),
            )

    def _small_talk(self, stream: Stream, budget: int) -> None:
        rng = self.rng
        for _ in range(min(budget, rng.choice((1, 1, 2, 3)))):
            self.emit(
                stream, self._poster(), rng.choice(text.SMALL_TALK), gap=self.gap(0.5), react=0.25
            )

    def _announce(self, stream: Stream) -> None:
        poster = self._faculty()
        if poster is None:
            self._status(stream)
            return
        subsystem = self._subsystem(poster)
        content = self._say(self.rng.choice(text.ANNOUNCEMENTS), poster, subsystem)
        self.emit(
            stream, poster, content, gap=self.gap(), react=0.65, pinned=self.rng.random() < 0.08
        )

    def _coordinate(self, stream: Stream, budget: int) -> None:
        """A real mention of someone on another team about an interface, and their reply."""
        rng = self.rng
        poster = self._poster()
        person = self.actors[poster]
        if self._outsiders:
            target = self._outsiders[rng.randrange(len(self._outsiders))]
        else:
            target = self._answerer(poster)
        if target == poster or (
            person.team_id
            and self.actors[target].team_id == person.team_id
            and self.channel.kind == TEAM
        ):
            self._qa(stream, budget)
            return
        subsystem = self._subsystem(poster)
        slots = self._slots(poster, subsystem)
        content = rng.choice(text.COORDINATION).format_map(slots)
        ask = self.emit(
            stream,
            poster,
            f"@{self.actors[target].nickname} {content}",
            gap=self.gap(),
            mentions=(target,),
        )
        if budget >= 2 and rng.random() < 0.8:
            answer = rng.choice(COORDINATION_ANSWERS).format_map(
                slots.reply(rng, self._context(target))
            )
            if rng.random() < 0.5:
                self.emit(stream, target, answer, gap=self.gap(0.8), reply_to=ask)
            else:
                self.emit(
                    stream,
                    target,
                    f"{person.first_name}: {answer}",
                    gap=self.gap(0.8),
                    inferred_to=ask,
                )

    def _bot(self, stream: Stream) -> None:
        rng = self.rng
        bot = self.cast.bot
        assert bot is not None
        poster = self._poster()
        subsystem = self._subsystem(poster)
        person = self.actors[poster]
        login = person.github_login or person.username
        summary = self._say(rng.choice(text.BOT_SUMMARIES), poster, subsystem)
        if self.consortium:
            template = rng.choice(text.BOT_CI)
        elif self.actors[bot].username == "Jira Cloud":
            template = rng.choice(text.BOT_JIRA)
        else:
            template = rng.choice(text.BOT_GITHUB)
        ctx = self._context(poster)
        university = person.university_id or ""
        fixed = {
            "org": ctx.org if ctx else university,
            "repo": subsystem.channel,
            "login": login,
            "sha": f"{rng.getrandbits(28):07x}",
            "summary": summary,
            "key": (university + subsystem.key).upper()[:10],
        }
        self.emit(
            stream, bot, self._say(template, poster, subsystem, **fixed), gap=self.gap(), react=0.03
        )

    # -- scheduled events ---------------------------------------------------------------

    def _event(self, event: _Event, budget: int) -> None:
        stream = self.parent
        stream.now = max(stream.now, event.due)
        if event.kind == "answer":
            question, asker, late, topic = event.payload
            self._answer(
                stream,
                self._answerer(asker),
                asker,
                question,
                topic,
                first=False,
                late=late,
                gap=self.rng.randint(1000, 120_000),
            )
        elif event.kind == "join":
            (person,) = event.payload
            self.emit(
                stream, person, "Joined the server.", gap=1, kind="GuildMemberJoin", react=0.2
            )
            newcomer = self.actors[person]
            siloed = (
                bool(newcomer.team_id)
                and self.teams[newcomer.team_id].behaviour.dimension == "partitioned_knowledge"
            )
            if budget >= 2 and not siloed and self.rng.random() < 0.4:
                greeter = self._poster()
                if greeter != person:
                    line = self.rng.choice(text.WELCOMES).format(
                        mention=f"@{self.actors[person].nickname}"
                    )
                    self.emit(stream, greeter, line, gap=self.gap(0.5), mentions=(person,))
        elif event.kind == "handoff":
            self._handoff(stream, budget, *event.payload)

    def _handoff(self, stream: Stream, budget: int, leaving: int, taking: int, thing: int) -> None:
        rng = self.rng
        assert self.team is not None
        subsystem = text.SUBSYSTEMS[self.team.subsystem]
        artefact = subsystem.artefacts[thing % len(subsystem.artefacts)]
        templates = text.HANDOFFS if self.links else text.HANDOFFS_NO_LINKS
        target = self.actors[taking]
        content = self._say(
            rng.choice(templates),
            leaving,
            subsystem,
            mention=f"@{target.nickname}",
            thing=artefact,
            doc_title=artefact,
        )
        note = self.emit(
            stream,
            leaving,
            content,
            gap=1,
            mentions=(taking,),
            react=0.5,
            pinned=self.links and rng.random() < 0.3,
        )
        if budget >= 2:
            reply = self._say(
                rng.choice(text.HANDOFF_THANKS),
                taking,
                subsystem,
                first=self.actors[leaving].first_name,
            )
            if rng.random() < 0.5:
                self.emit(stream, taking, reply, gap=self.gap(0.5), reply_to=note)
            else:
                self.emit(stream, taking, reply, gap=self.gap(0.5), inferred_to=note)


_SUBSYSTEM_KEYS = tuple(text.SUBSYSTEMS)


def simulate_channel(
    org: Organisation,
    cast: Cast,
    day_quotas: list[int],
    out_dir: Path,
    progress: Callable[[int], None] | None = None,
) -> ChannelResult:
    return ChannelSimulator(org, cast, day_quotas, out_dir, progress=progress).run()
