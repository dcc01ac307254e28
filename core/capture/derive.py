"""The interface stage: classify messages and derive typed interfaces, channel by channel.

Live capture and imports both feed ``MessageRecord`` batches through ``ChannelStreams``,
which keeps the little state that derivation needs across batches (recent messages,
thread participants, the open question). Output rows are plain tuples in the column order
of the bulk writer, so they go straight into COPY.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from core.capture.classify import Classification, OpenQuestion, classify
from core.capture.consent import content_allowed
from core.capture.records import MessageRecord
from core.capture.scoring import ScoreParts, score_parts

MESSAGE_COLUMNS = (
    "id",
    "channel_id",
    "author_id",
    "content",
    "timestamp",
    "university_id",
    "team_id",
    "message_type",
    "metadata",
    "guild_id",
    "thread_id",
    "program_id",
    "reference_id",
    "is_bot",
    "is_dm",
    "edited_at",
    "deleted_at",
    "source",
)
INTERFACE_COLUMNS = (
    "from_user_id",
    "to_user_id",
    "interaction_type",
    "knowledge_transfer_score",
    "timestamp",
    "message_ids",
    "source_message_id",
    "guild_id",
    "channel_id",
    "university_id",
    "team_id",
    "weight",
    "confidence",
    "features",
)
REACTION_COLUMNS = ("message_id", "user_id", "emoji", "channel_id", "university_id", "created_at")

THREAD_PROXIMITY = 5  # earlier distinct participants a thread message connects to, weight 1/rank
RECENT_WINDOW = 100  # messages kept per stream for context
KNOWN_LIMIT = 20_000  # message summaries kept for reply look-ups before asking the database
_ACKNOWLEDGEMENT = re.compile(
    r"\b(thanks|thank you|thx|ty|got it|that worked|works now|perfect|makes sense)\b", re.I
)


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What a mapped channel belongs to; threads use their parent's."""

    channel_id: int
    guild_id: int | None
    team_id: str | None
    program_id: str | None
    university_id: str | None  # None for program channels: the author's university applies


@dataclass(frozen=True, slots=True)
class AuthorContext:
    person_id: str | None
    university_id: str | None
    consent: str | None
    is_bot: bool = False


@dataclass
class CaptureContext:
    channels: Mapping[int, ChannelContext]
    authors: Mapping[int, AuthorContext]
    consent_modes: Mapping[str, str]  # university → consent mode

    def channel_for(self, record: MessageRecord) -> ChannelContext | None:
        return self.channels.get(record.channel_id) or (
            self.channels.get(record.parent_channel_id) if record.parent_channel_id else None
        )


@dataclass(frozen=True, slots=True)
class MessageSummary:
    """Enough of a stored message to link a later reply to it."""

    id: int
    author_id: int
    message_type: str
    timestamp: dt.datetime
    codified: bool = False


@dataclass
class DerivedBatch:
    messages: list[tuple[object, ...]] = field(default_factory=list)
    interfaces: list[tuple[object, ...]] = field(default_factory=list)
    reactions: list[tuple[object, ...]] = field(default_factory=list)
    threads: dict[int, tuple[int | None, int]] = field(
        default_factory=dict
    )  # thread → (guild, parent)
    skipped_unmapped: dict[int, int] = field(default_factory=dict)  # channel → messages
    content_withheld: int = 0

    def extend(self, other: DerivedBatch) -> None:
        self.messages += other.messages
        self.interfaces += other.interfaces
        self.reactions += other.reactions
        self.threads.update(other.threads)
        for channel, count in other.skipped_unmapped.items():
            self.skipped_unmapped[channel] = self.skipped_unmapped.get(channel, 0) + count
        self.content_withheld += other.content_withheld


@dataclass
class _Stream:
    """Per channel or thread: recent messages, the open question, thread participants."""

    recent: deque[MessageSummary] = field(default_factory=lambda: deque(maxlen=RECENT_WINDOW))
    open_question: OpenQuestion | None = None
    participants: list[int] = field(default_factory=list)  # most recent first


class ChannelStreams:
    """Derivation state across batches; feed each channel's messages in timestamp order."""

    def __init__(self) -> None:
        self._streams: dict[int, _Stream] = {}
        self._known: OrderedDict[int, MessageSummary] = OrderedDict()

    def missing_references(self, records: Iterable[MessageRecord]) -> set[int]:
        """Referenced messages this state does not know; load them with ``remember``."""
        batch_ids = set()
        missing = set()
        for record in records:
            batch_ids.add(record.id)
            if (
                record.reference_id
                and not record.is_system
                and record.reference_id not in self._known
            ):
                missing.add(record.reference_id)
        return missing - batch_ids

    def remember(self, summaries: Iterable[MessageSummary]) -> None:
        for summary in summaries:
            self._known[summary.id] = summary
        while len(self._known) > KNOWN_LIMIT:
            self._known.popitem(last=False)

    def derive(self, records: Iterable[MessageRecord], context: CaptureContext) -> DerivedBatch:
        batch = DerivedBatch()
        for record in records:
            channel = context.channel_for(record)
            if channel is None:
                key = record.parent_channel_id or record.channel_id
                batch.skipped_unmapped[key] = batch.skipped_unmapped.get(key, 0) + 1
                continue
            self._derive_one(record, channel, context, batch)
        return batch

    def _derive_one(
        self,
        record: MessageRecord,
        channel: ChannelContext,
        context: CaptureContext,
        batch: DerivedBatch,
    ) -> None:
        stream = self._streams.setdefault(record.channel_id, _Stream())
        author = context.authors.get(record.author_id)
        university_id = channel.university_id or (author.university_id if author else None)
        mode = context.consent_modes.get(university_id) if university_id else None
        keep_content = content_allowed(mode, author.consent if author else None)
        # System messages (a pin notice, a thread starter) reference a message without
        # replying to it: no reply edge, and the reference goes to metadata instead.
        reply_to = record.reference_id if not record.is_system else None
        replied = self._known.get(reply_to) if reply_to else None

        classification = classify(
            record,
            replied_type=replied.message_type if replied else None,
            replied_author=replied.author_id if replied else None,
            open_question=stream.open_question,
        )
        message_type = classification.message_type
        signals = classification.signals
        thread_id = record.channel_id if record.parent_channel_id else None
        if thread_id is not None:
            batch.threads[thread_id] = (
                record.guild_id,
                record.parent_channel_id or channel.channel_id,
            )
        if not keep_content:
            batch.content_withheld += 1
        batch.messages.append(
            (
                record.id,
                record.parent_channel_id or record.channel_id,
                record.author_id,
                record.content if keep_content else None,
                record.timestamp,
                university_id,
                channel.team_id,
                message_type,
                json.dumps(_metadata(record, classification, keep_content)),
                record.guild_id,
                thread_id,
                channel.program_id,
                reply_to,
                record.author_is_bot or bool(author and author.is_bot),
                record.is_dm,
                record.edited_at,
                None,
                record.source,
            )
        )

        def edge(
            kind: str,
            target: int,
            *,
            weight: float = 1.0,
            latency_h: float | None = None,
            acknowledged: bool = False,
            evidence: tuple[int, ...] = (),
        ) -> None:
            if target == record.author_id or target == 0:
                return
            parts = score_parts(
                kind,
                message_type,
                latency_hours=latency_h,
                codified=signals.codified,
                acknowledged=acknowledged,
            )
            batch.interfaces.append(
                (
                    record.author_id,
                    target,
                    kind,
                    parts.score,
                    record.timestamp,
                    [record.id, *evidence],
                    record.id,
                    record.guild_id,
                    channel.channel_id,
                    university_id,
                    channel.team_id,
                    round(weight, 4),
                    1.0,
                    _features_json(parts, message_type),
                )
            )

        reactors = {u for reaction in record.reactions for u in reaction.user_ids}
        if replied is not None:
            latency = (record.timestamp - replied.timestamp).total_seconds() / 3600
            edge(
                "reply",
                replied.author_id,
                latency_h=latency,
                acknowledged=replied.author_id in reactors,
                evidence=(replied.id,),
            )
        for mentioned in dict.fromkeys(record.mention_user_ids):
            if replied is None or mentioned != replied.author_id:
                edge("mention", mentioned, acknowledged=mentioned in reactors)
        if thread_id is not None:
            for rank, participant in enumerate(stream.participants[:THREAD_PROXIMITY], start=1):
                edge("thread", participant, weight=1.0 / rank)
        for reaction in record.reactions:
            for user_id in reaction.user_ids:
                if user_id != record.author_id:
                    batch.reactions.append(
                        (
                            record.id,
                            user_id,
                            reaction.emoji,
                            channel.channel_id,
                            university_id,
                            record.timestamp,
                        )
                    )
                    parts = score_parts("reaction", message_type, codified=signals.codified)
                    batch.interfaces.append(
                        (
                            user_id,
                            record.author_id,
                            "reaction",
                            parts.score,
                            record.timestamp,
                            [record.id],
                            record.id,
                            record.guild_id,
                            channel.channel_id,
                            university_id,
                            channel.team_id,
                            0.5,
                            1.0,
                            json.dumps({**parts.as_features(), "emoji": reaction.emoji}),
                        )
                    )

        summary = MessageSummary(
            record.id, record.author_id, message_type, record.timestamp, signals.codified
        )
        self._known[record.id] = summary
        if len(self._known) > KNOWN_LIMIT:
            self._known.popitem(last=False)
        stream.recent.append(summary)
        if message_type == "question":
            stream.open_question = OpenQuestion(record.id, record.author_id, record.timestamp)
        elif classification.rule == "follows an open question" and stream.open_question:
            stream.open_question = stream.open_question.answered_by(record)
        elif (
            _ACKNOWLEDGEMENT.search(record.content)
            and stream.open_question
            and (stream.open_question.author_id == record.author_id)
        ):
            stream.open_question = None  # the asker is satisfied
        if thread_id is not None and not record.is_system:
            if record.author_id in stream.participants:
                stream.participants.remove(record.author_id)
            stream.participants.insert(0, record.author_id)


@lru_cache(maxsize=4096)
def _features_json(parts: ScoreParts, message_type: str) -> str:
    return json.dumps({**parts.as_features(), "message_type": message_type})


def _metadata(
    record: MessageRecord, classification: Classification, keep_content: bool
) -> dict[str, object]:
    signals = classification.signals.as_metadata()
    if not keep_content:
        # Links are content: without consent only the fact that there were some is kept.
        signals["links"] = len(classification.signals.links)
        signals["doc_links"] = len(classification.signals.doc_links)
    metadata: dict[str, object] = {
        "kind": record.kind,
        "rule": classification.rule,
        "signals": signals,
    }
    if record.mention_user_ids:
        metadata["mentions"] = [str(u) for u in record.mention_user_ids]
    if record.reactions:
        metadata["reactions"] = [{"emoji": r.emoji, "count": r.count} for r in record.reactions]
    if record.attachments:
        metadata["attachments"] = len(record.attachments)
    if record.referenced_channel_id:
        metadata["thread_created"] = str(record.referenced_channel_id)
    if record.is_system and record.reference_id:
        metadata["references"] = str(record.reference_id)
    return metadata
