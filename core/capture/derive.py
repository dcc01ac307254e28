"""The interface stage: classify messages and derive typed interfaces, channel by channel.

Live capture and imports both feed ``MessageRecord`` batches through ``ChannelStreams``,
which keeps the little state that derivation needs across batches (recent messages,
thread participants, the open question). Output rows are plain tuples in the column order
of the bulk writer, so they go straight into COPY.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict, deque
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import orjson

from core.capture.classify import Classification, OpenQuestion, classify
from core.capture.consent import content_allowed
from core.capture.records import MessageRecord
from core.capture.scoring import ScoreParts, score_parts
from core.links import ChatMessage
from core.links.infer import LinkStream, infer_streams
from core.links.model import Mode
from core.links.records import author_names, chat_message
from core.links.text import TextFacts, read_text

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

ROLE_MENTION_WEIGHT = 0.5  # per member, divided by √(role size)
THREAD_PROXIMITY = 5  # earlier distinct participants a thread message connects to, weight 1/rank
ANSWER_LINK_CONFIDENCE = 0.5  # a link more likely than not makes a reply to a question an answer
LINK_CONTEXT = 100  # earlier messages reply inference may link to (as in Kummerfeld et al.)
LINK_MODE: Mode = "fast"  # the reply model capture and imports link with (keeps up with them)
KNOWN_LIMIT = 20_000  # message summaries kept for reply look-ups before asking the database
# Recent messages kept for reply inference, over all streams (about 2.5 kB each): a stream
# that stays quiet while this many messages of other streams come in starts afresh.
HISTORY_LIMIT = 20_000
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


@dataclass(slots=True)  # one per message: not frozen, see MessageRecord
class MessageSummary:
    """Enough of a stored message to link a later reply to it."""

    id: int
    author_id: int
    message_type: str
    timestamp: dt.datetime
    codified: bool = False


@dataclass(slots=True)  # one per message: not frozen, see MessageRecord
class Inference:
    """An inferred antecedent: the messages answered, how sure, and what decided it."""

    targets: tuple[int, ...]
    confidence: float
    features: dict[str, float]


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
    dms_without_consent: int = 0

    def extend(self, other: DerivedBatch) -> None:
        self.messages += other.messages
        self.interfaces += other.interfaces
        self.reactions += other.reactions
        self.threads.update(other.threads)
        for channel, count in other.skipped_unmapped.items():
            self.skipped_unmapped[channel] = self.skipped_unmapped.get(channel, 0) + count
        self.content_withheld += other.content_withheld
        self.dms_without_consent += other.dms_without_consent


@dataclass
class _Stream:
    """Per channel or thread: the open question and the participants of a thread or DM."""

    open_question: OpenQuestion | None = None
    participants: list[int] = field(default_factory=list)  # most recent first


class ReplyInference:
    """Reply inference across batches: each stream's recent messages (with their texts
    already read) and the names people go by. Needs nothing but the records, so an import
    can run it in a process of its own, ahead of derivation."""

    def __init__(self) -> None:
        # Least recently linked stream first; HISTORY_LIMIT messages in all.
        self._history: OrderedDict[int, deque[tuple[ChatMessage, TextFacts]]] = OrderedDict()
        self._kept = 0
        self._names: dict[str, list[str]] = {}

    def infer(self, records: list[MessageRecord], channels: Container[int]) -> dict[int, Inference]:
        """Which earlier message each message answers without the reply feature (fast model),
        per channel or thread, with the stream's recent messages as context; messages of
        channels not in ``channels`` (the mapped ones) are left out.

        All streams of the batch are linked in one call; each message's text is read once
        and kept with the stream's history, so later batches only read their new messages.
        """
        by_stream: dict[int, list[MessageRecord]] = {}
        for record in records:
            if is_mapped(record, channels):
                by_stream.setdefault(record.channel_id, []).append(record)
        display_names = {
            r.author_id: [r.author_display_name] for r in records if r.author_display_name
        }
        for author, names in author_names(records, display_names).items():
            known = self._names.setdefault(author, [])
            known.extend(name for name in names if name not in known)
        streams: list[LinkStream] = []
        for stream_id, group in by_stream.items():
            history = self._history.setdefault(stream_id, deque(maxlen=LINK_CONTEXT))
            self._history.move_to_end(stream_id)
            new = [chat_message(record) for record in group]
            texts = [read_text(message) for message in new]
            streams.append(
                LinkStream(
                    [*(message for message, _ in history), *new],
                    first_new=len(history),
                    texts=[*(facts for _, facts in history), *texts],
                )
            )
            self._kept -= len(history)
            history.extend(zip(new, texts, strict=True))
            self._kept += len(history)
        # Streams quiet the longest (finished threads, for an import) are forgotten first.
        while self._kept > HISTORY_LIMIT:
            _, forgotten = self._history.popitem(last=False)
            self._kept -= len(forgotten)
        found: dict[int, Inference] = {}
        linked = infer_streams(
            streams, mode=LINK_MODE, author_names=self._names, explain_starts=False
        )
        for links in linked:
            for link in links:
                message_id, links_to = link.message_id, link.links_to
                if links_to[0] == message_id and len(links_to) == 1:
                    continue  # starts a conversation
                targets = tuple([int(t) for t in links_to if t != message_id])
                found[int(message_id)] = Inference(targets, link.confidence, link.features)
        return found


class InChannel(Protocol):
    """A message, or a change to one: in a channel, or in a thread under ``parent``."""

    @property
    def channel_id(self) -> int: ...
    @property
    def parent_channel_id(self) -> int | None: ...


def is_mapped(record: InChannel, channels: Container[int]) -> bool:
    """Whether the record's channel, or a thread's parent, is mapped (as ``channel_for``)."""
    parent = record.parent_channel_id
    return record.channel_id in channels or bool(parent and parent in channels)


class ChannelStreams:
    """Derivation state across batches; feed each channel's messages in timestamp order."""

    def __init__(self, *, infer_replies: bool = True) -> None:
        self.infer_replies = infer_replies
        self._streams: dict[int, _Stream] = {}
        self._known: OrderedDict[int, MessageSummary] = OrderedDict()
        self._inference = ReplyInference()

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

    def derive(
        self,
        records: Iterable[MessageRecord],
        context: CaptureContext,
        inferred: Mapping[int, Inference] | None = None,
    ) -> DerivedBatch:
        """Messages, interfaces and reactions of a batch. ``inferred`` gives the batch's reply
        inference when it was run elsewhere (a ``ReplyInference`` fed the same batches);
        otherwise it runs here, unless the streams were made without it."""
        records = list(records)
        if inferred is None:
            inferred = (
                self._inference.infer(records, context.channels) if self.infer_replies else {}
            )
        batch = DerivedBatch()
        for record in records:
            channel = context.channel_for(record)
            if channel is None:
                key = record.parent_channel_id or record.channel_id
                batch.skipped_unmapped[key] = batch.skipped_unmapped.get(key, 0) + 1
                continue
            if record.is_dm and not consented(context.authors.get(record.author_id)):
                batch.dms_without_consent += 1  # a DM is kept only for people who consented
                continue
            self._derive_one(record, channel, context, batch, inferred.get(record.id))
        return batch

    def _derive_one(
        self,
        record: MessageRecord,
        channel: ChannelContext,
        context: CaptureContext,
        batch: DerivedBatch,
        inference: Inference | None,
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
        # Without the reply feature, the inferred antecedent stands in for classification.
        answered = [
            summary
            for target in (inference.targets if inference and reply_to is None else ())
            if (summary := self._known.get(target)) is not None
        ]
        sure = inference is not None and inference.confidence >= ANSWER_LINK_CONFIDENCE
        context_for_type = replied or (answered[0] if answered and sure else None)

        classification = classify(
            record,
            replied_type=context_for_type.message_type if context_for_type else None,
            replied_author=context_for_type.author_id if context_for_type else None,
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
                _json(_metadata(record, classification, keep_content)),
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
            confidence: float = 1.0,
            decided_by: dict[str, float] | None = None,
        ) -> None:
            # One row per (type, message, from, to): the first, strongest evidence wins, so
            # the upsert sees no duplicates and re-deriving is deterministic.
            if target == record.author_id or target == 0 or (kind, target) in drawn:
                return
            drawn.add((kind, target))
            parts = score_parts(
                kind,
                message_type,
                confidence=confidence,
                latency_hours=latency_h,
                codified=signals.codified,
                acknowledged=acknowledged,
            )
            features = (
                _json({**parts.as_features(), "message_type": message_type, **decided_by})
                if decided_by
                else _features_json(parts, message_type)
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
                    round(confidence, 4),
                    features,
                )
            )

        drawn: set[tuple[str, int]] = set()
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
        # One edge per person answered; its evidence names every message of theirs answered.
        by_author: dict[int, list[MessageSummary]] = {}
        for antecedent in answered:
            by_author.setdefault(antecedent.author_id, []).append(antecedent)
        for author_id, antecedents in by_author.items():
            assert inference is not None
            edge(
                "inferred_reply",
                author_id,
                weight=inference.confidence,
                confidence=inference.confidence,
                latency_h=(record.timestamp - antecedents[0].timestamp).total_seconds() / 3600,
                acknowledged=author_id in reactors,
                evidence=tuple(a.id for a in antecedents),
                decided_by=inference.features,
            )
        for mentioned in dict.fromkeys(record.mention_user_ids):
            if replied is None or mentioned != replied.author_id:
                edge("mention", mentioned, acknowledged=mentioned in reactors)
        # A role mention reaches each member, more weakly than a personal mention.
        role_weight = ROLE_MENTION_WEIGHT / max(1.0, len(record.role_member_ids) ** 0.5)
        for member in record.role_member_ids:
            edge("mention", member, weight=role_weight, acknowledged=member in reactors)
        if thread_id is not None:
            for rank, participant in enumerate(stream.participants[:THREAD_PROXIMITY], start=1):
                edge("thread", participant, weight=1.0 / rank)
        if record.is_dm:
            # Everyone else in the conversation reads a DM; a group DM reaches each more weakly.
            recipients = [
                person
                for person in dict.fromkeys((*record.dm_recipient_ids, *stream.participants))
                if person != record.author_id
            ]
            for person in recipients:
                edge("dm", person, weight=1.0 / max(1.0, len(recipients) ** 0.5))
        for reaction in record.reactions:
            for user_id in reaction.user_ids:
                if user_id == record.author_id:
                    continue
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
                if ("reaction", user_id) in drawn:
                    continue  # one reaction interface per person, whatever the emojis
                drawn.add(("reaction", user_id))
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
                        _json({**parts.as_features(), "emoji": reaction.emoji}),
                    )
                )

        summary = MessageSummary(
            record.id, record.author_id, message_type, record.timestamp, signals.codified
        )
        self.remember((summary,))
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
        if (thread_id is not None or record.is_dm) and not record.is_system:
            if record.author_id in stream.participants:
                stream.participants.remove(record.author_id)
            stream.participants.insert(0, record.author_id)


def consented(author: AuthorContext | None) -> bool:
    """Whether the person gave consent: what a DM needs to be kept at all."""
    return author is not None and author.consent == "granted"


@lru_cache(maxsize=4096)
def _features_json(parts: ScoreParts, message_type: str) -> str:
    return _json({**parts.as_features(), "message_type": message_type})


def _json(value: object) -> str:
    """JSON text for a jsonb column (orjson: several times faster than ``json.dumps`` on the
    float-heavy features of every interface)."""
    return orjson.dumps(value).decode()


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
