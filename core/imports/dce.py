"""Streaming reader for DiscordChatExporter JSON exports.

Files can be gigabytes, so messages are parsed one at a time with ijson (constant memory).
A file cut off mid-way yields every complete message and then reports where it stopped.
The reader tolerates what older exporter versions leave out, "Deleted User" authors and
a ``messageCount`` that disagrees with the messages present.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ijson
from ijson.common import ObjectBuilder

from core.capture.records import AttachmentRecord, MessageRecord, ReactionRecord

THREAD_TYPES = {"GuildPublicThread", "GuildPrivateThread", "GuildNewsThread", "PublicThread", "PrivateThread"}
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
    def parent_channel_id(self) -> int | None:
        # DCE writes a thread's parent channel as its category.
        return self.category_id if self.is_thread else None


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


def _build(parser: Iterator[tuple[str, str, Any]], prefix: str, event: str, value: Any) -> Any:
    builder = ObjectBuilder()
    builder.event(event, value)
    for current_prefix, current_event, current_value in parser:
        builder.event(current_event, current_value)
        if current_prefix == prefix and current_event in ("end_map", "end_array"):
            break
    return builder.value


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


def message_record(raw: dict[str, Any], channel: DceChannel) -> MessageRecord:
    author = raw.get("author") or {}
    reference = raw.get("reference") or {}
    kind = _KINDS.get(raw.get("type") or "Default", "system")
    reactions = tuple(
        ReactionRecord(
            emoji=(r.get("emoji") or {}).get("name") or (r.get("emoji") or {}).get("id") or "?",
            count=_int(r.get("count")) or 0,
            user_ids=tuple(u for u in (_int(x.get("id")) for x in r.get("users") or []) if u is not None),
        )
        for r in raw.get("reactions") or []
    )
    edited = raw.get("timestampEdited")
    return MessageRecord(
        id=int(raw["id"]),
        channel_id=channel.channel_id,
        author_id=_int(author.get("id")) or 0,  # 0: the exporter lost the author
        timestamp=parse_timestamp(raw["timestamp"]),
        content=raw.get("content") or "",
        guild_id=channel.guild_id,
        parent_channel_id=channel.parent_channel_id,
        author_name=author.get("name"),
        author_is_bot=bool(author.get("isBot")),
        kind=kind,
        edited_at=parse_timestamp(edited) if edited else None,
        reference_id=_int(reference.get("messageId")),
        referenced_channel_id=_int(reference.get("channelId")) if kind == "thread_created" else None,
        mention_user_ids=tuple(
            u for u in (_int(m.get("id")) for m in raw.get("mentions") or []) if u is not None
        ),
        reactions=reactions,
        attachments=tuple(
            AttachmentRecord(a.get("fileName") or "", _int(a.get("fileSizeBytes")), a.get("url"))
            for a in raw.get("attachments") or []
        ),
        embed_urls=tuple(e["url"] for e in raw.get("embeds") or [] if e.get("url")),
        is_pinned=bool(raw.get("isPinned")),
        source="dce",
    )


def read_dce(stream: IO[bytes], result: DceReadResult) -> Iterator[MessageRecord]:
    """Yield the messages of one export file in file order, filling ``result`` as it goes."""
    parser = ijson.parse(stream)
    guild: dict[str, Any] = {}
    try:
        for prefix, event, value in parser:
            if prefix == "guild" and event == "start_map":
                guild = _build(parser, prefix, event, value)
            elif prefix == "channel" and event == "start_map":
                result.channel = _channel(guild, _build(parser, prefix, event, value))
            elif prefix == "messages.item" and event == "start_map":
                raw = _build(parser, prefix, event, value)
                if result.channel is None:
                    raise ValueError("messages come before the channel header")
                try:
                    record = message_record(raw, result.channel)
                except (KeyError, TypeError, ValueError) as exc:
                    result.skipped.append(f"message {raw.get('id', '?')}: unreadable ({exc})")
                    continue
                result.messages_read += 1
                yield record
            elif prefix == "messageCount" and event == "number":
                result.declared_count = int(value)
    except ijson.IncompleteJSONError:
        result.truncated_at = f"after message {result.messages_read} (the file is cut off)"
    except ijson.JSONError as exc:
        result.truncated_at = f"after message {result.messages_read} (invalid JSON: {exc})"


def read_dce_file(path: Path) -> tuple[DceReadResult, Iterator[MessageRecord]]:
    result = DceReadResult(path)

    def messages() -> Iterator[MessageRecord]:
        with path.open("rb") as stream:
            yield from read_dce(stream, result)

    return result, messages()


def dce_files(paths: list[Path]) -> list[Path]:
    """Expand directories into their JSON files (threads live in sub-folders), sorted."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.json")) if path.is_dir() else [path]
    return found
