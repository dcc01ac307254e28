"""Streaming reader for DiscordChatExporter JSON exports.

Files can be gigabytes, so messages are parsed one at a time with ijson (constant memory).
A file cut off mid-way yields every complete message and then reports where it stopped.
Small complete files are parsed in one go instead, which is faster and reads the same.
The reader tolerates what older exporter versions leave out, "Deleted User" authors and
a ``messageCount`` that disagrees with the messages present.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ijson
import orjson

from core.capture.records import AttachmentRecord, MessageRecord, ReactionRecord

THREAD_TYPES = {
    "GuildPublicThread",
    "GuildPrivateThread",
    "GuildNewsThread",
    "PublicThread",
    "PrivateThread",
}
DM_TYPES = {"DirectTextChat", "DirectGroupTextChat"}
_KINDS = {
    "Default": "default",
    "Reply": "reply",
    "ThreadCreated": "thread_created",
    "GuildMemberJoin": "member_join",
    "ChannelPinnedMessage": "pin",
    "ThreadStarterMessage": "thread_starter",
}


@dataclass
class DceChannel:
    guild_id: int | None
    guild_name: str | None
    channel_id: int
    channel_name: str | None
    channel_type: str | None
    category_id: int | None
    category: str | None

    @property
    def is_thread(self) -> bool:
        return self.channel_type in THREAD_TYPES

    @property
    def is_dm(self) -> bool:
        return self.channel_type in DM_TYPES

    @property
    def parent_channel_id(self) -> int | None:
        # DCE writes a thread's parent channel as its category.
        return self.category_id if self.channel_type in THREAD_TYPES else None


@dataclass
class DceReadResult:
    """Filled while reading; complete once the message iterator is exhausted."""

    path: Path
    channel: DceChannel | None = None
    messages_read: int = 0
    declared_count: int | None = None
    truncated_at: str | None = None  # where the file stopped, when it was cut off
    skipped: list[str] = field(default_factory=list)  # messages that could not be read, and why

    @property
    def count_mismatch(self) -> bool:
        return self.declared_count is not None and self.declared_count != self.messages_read


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def parse_timestamp(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _channel(guild: dict[str, Any], channel: dict[str, Any]) -> DceChannel:
    return DceChannel(
        guild_id=_int(guild.get("id")),
        guild_name=guild.get("name"),
        channel_id=int(channel["id"]),
        channel_name=channel.get("name"),
        channel_type=channel.get("type"),
        category_id=_int(channel.get("categoryId")),
        category=channel.get("category"),
    )


def _reactions(raw: list[dict[str, Any]]) -> tuple[ReactionRecord, ...]:
    reactions = []
    for reaction in raw:
        emoji = reaction.get("emoji") or {}
        users = tuple(u for u in (_int(x.get("id")) for x in reaction.get("users") or ()) if u)
        reactions.append(
            ReactionRecord(
                emoji.get("name") or emoji.get("id") or "?", _int(reaction.get("count")) or 0, users
            )
        )
    return tuple(reactions)


def message_record(raw: dict[str, Any], channel: DceChannel) -> MessageRecord:
    # Hot path of every import: empty lists are the common case, so test before building.
    author = raw.get("author") or {}
    reference = raw.get("reference")
    kind = _KINDS.get(raw.get("type") or "Default", "system")
    edited = raw.get("timestampEdited")
    mentions = raw.get("mentions")
    reactions = raw.get("reactions")
    attachments = raw.get("attachments")
    embeds = raw.get("embeds")
    return MessageRecord(
        id=int(raw["id"]),
        channel_id=channel.channel_id,
        author_id=_int(author.get("id")) or 0,  # 0: the exporter lost the author
        timestamp=parse_timestamp(raw["timestamp"]),
        content=raw.get("content") or "",
        guild_id=channel.guild_id,
        parent_channel_id=channel.parent_channel_id,
        author_name=author.get("name"),
        author_display_name=author.get("nickname"),
        author_is_bot=bool(author.get("isBot")),
        kind=kind,
        edited_at=parse_timestamp(edited) if edited else None,
        reference_id=_int(reference.get("messageId")) if reference else None,
        referenced_channel_id=(
            _int(reference.get("channelId")) if reference and kind == "thread_created" else None
        ),
        mention_user_ids=(
            tuple(u for u in (_int(m.get("id")) for m in mentions) if u is not None)
            if mentions
            else ()
        ),
        reactions=_reactions(reactions) if reactions else (),
        attachments=(
            tuple(
                AttachmentRecord(
                    a.get("fileName") or "", _int(a.get("fileSizeBytes")), a.get("url")
                )
                for a in attachments
            )
            if attachments
            else ()
        ),
        embed_urls=tuple(e["url"] for e in embeds if e.get("url")) if embeds else (),
        is_pinned=bool(raw.get("isPinned")),
        is_dm=channel.is_dm,
        source="dce",
    )


def read_dce(stream: IO[bytes], result: DceReadResult) -> Iterator[MessageRecord]:
    """Yield the messages of one export file in file order, filling ``result`` as it goes.

    The header (guild, channel) is read event by event; messages are then built by ijson's
    C backend (``items``), which is three times faster than building them in Python.
    """
    header_end = _read_header(stream, result)
    if result.channel is None:
        result.truncated_at = "before any message (no channel header)"
        return
    stream.seek(header_end)
    try:
        for raw in ijson.items(_Prefixed(stream), "messages.item"):
            record = _record(raw, result)
            if record is not None:
                yield record
    except ijson.IncompleteJSONError:
        result.truncated_at = f"after message {result.messages_read} (the file is cut off)"
        return
    except ijson.JSONError as exc:
        result.truncated_at = f"after message {result.messages_read} (invalid JSON: {exc})"
        return
    result.declared_count = _declared_count(stream)


_TAIL_BYTES = 4096
_MESSAGE_COUNT = re.compile(rb'"messageCount"\s*:\s*(\d+)\s*}\s*$')


class _Prefixed:
    """A stream that replays ``{"messages": `` before the rest of the file from the current
    position, so ``ijson.items`` sees the messages array without re-reading the header."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._prefix = b'{"messages": '

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes the stream type with read(0)
            return b""
        if self._prefix:
            prefix, self._prefix = self._prefix, b""
            return prefix + self._stream.read(max(size - len(prefix), 1) if size > 0 else -1)
        return self._stream.read(size)


def _read_header(stream: IO[bytes], result: DceReadResult) -> int:
    """Parse ``guild`` and ``channel``; return the offset of the messages array."""
    head = stream.read(65536)
    marker = re.search(rb'"messages"\s*:\s*\[', head)
    if marker is None:
        return 0
    header = head[: marker.start()].rstrip().rstrip(b",") + b"}"
    try:
        document = json.loads(header)
    except ValueError:
        return 0
    guild, channel = document.get("guild") or {}, document.get("channel")
    if isinstance(channel, dict) and channel.get("id"):
        result.channel = _channel(guild, channel)
    return marker.end() - 1  # at the '['


def _declared_count(stream: IO[bytes]) -> int | None:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(max(0, size - _TAIL_BYTES))
    found = _MESSAGE_COUNT.search(stream.read())
    return int(found.group(1)) if found else None


def read_dce_file(path: Path) -> tuple[DceReadResult, Iterator[MessageRecord]]:
    result = DceReadResult(path)

    def messages() -> Iterator[MessageRecord]:
        with path.open("rb") as stream:
            whole = _read_whole(stream, result)
            if whole is None:
                stream.seek(0)
                yield from read_dce(stream, result)
                return
            for raw in whole:
                record = _record(raw, result)
                if record is not None:
                    yield record
            result.declared_count = _declared_count(stream)

    return result, messages()


# Files up to this size are parsed in one go with orjson (twice as fast as streaming them;
# their objects stay far below the import's memory bound). Larger files, and any file that
# is not complete, well-formed JSON, stream through ijson.
WHOLE_FILE_BYTES = 2_000_000


def _read_whole(stream: IO[bytes], result: DceReadResult) -> list[Any] | None:
    """The messages of a small, complete export, its header read into ``result``."""
    stream.seek(0, 2)
    if stream.tell() > WHOLE_FILE_BYTES:
        return None
    stream.seek(0)
    try:
        document = orjson.loads(stream.read())
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    guild, channel, messages = (document.get(k) for k in ("guild", "channel", "messages"))
    if not (isinstance(channel, dict) and channel.get("id") and isinstance(messages, list)):
        return None
    result.channel = _channel(guild or {}, channel)
    return messages


def _record(raw: Any, result: DceReadResult) -> MessageRecord | None:
    assert result.channel is not None
    try:
        record = message_record(raw, result.channel)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        message_id = raw.get("id", "?") if isinstance(raw, dict) else "?"
        result.skipped.append(f"message {message_id}: unreadable ({exc})")
        return None
    result.messages_read += 1
    return record


def dce_files(paths: list[Path]) -> list[Path]:
    """Expand directories into their JSON files (threads live in sub-folders), sorted."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.json")) if path.is_dir() else [path]
    return found
