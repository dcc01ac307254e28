"""``frames import slack``: a standard Slack workspace export (a zip) into capture records.

The export holds ``users.json``, ``channels.json`` (and ``groups.json`` for private
channels when exported), and one folder per channel with a JSON file per day. Slack ids
are strings; FRAMES stores 64-bit ids, so each Slack id maps to a number in a namespace of
its own (bit 62 set, above every Discord snowflake until about 2050): users and channels
reversibly (base 36), messages by a hash of channel and timestamp. Thread replies become a
thread under their channel and a reply to the thread's first message, as on Discord.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Any

from core.capture.records import AttachmentRecord, MessageRecord, ReactionRecord
from core.db.engine import Database
from core.db.repositories.capture import AuthorDetails
from core.errors import InputError, InputProblem
from core.imports.discord_import import map_unmapped
from core.imports.runner import (
    BATCH_SIZE,
    ImportReport,
    ImportSource,
    ProgressCallback,
    run_import,
)
from core.org.channels import ChannelMappingRecord

SLACK_NAMESPACE = 1 << 62
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]*))?>")
_CHANNEL_LINK = re.compile(r"<#C[A-Z0-9]+\|([^>]*)>")
_SYSTEM_SUBTYPES = {
    "channel_join": "member_join",
    "channel_leave": "member_leave",
    "channel_topic": "system",
    "channel_purpose": "system",
    "channel_name": "system",
    "pinned_item": "pin",
}


def slack_number(slack_id: str) -> int:
    """A Slack user, bot, team or channel id as a FRAMES id (reversible for ids ≤ 11 chars)."""
    if slack_id.isalnum() and len(slack_id) <= 11:
        return SLACK_NAMESPACE | int(slack_id, 36)
    digest = hashlib.blake2b(slack_id.encode(), digest_size=8).digest()
    return SLACK_NAMESPACE | (int.from_bytes(digest, "big") >> 2)


def slack_message_id(channel_id: str, ts: str) -> int:
    digest = hashlib.blake2b(f"{channel_id}:{ts}".encode(), digest_size=8).digest()
    return SLACK_NAMESPACE | (int.from_bytes(digest, "big") >> 2)


def _timestamp(ts: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(ts), tz=dt.UTC)


@dataclass
class SlackUser:
    id: str
    name: str | None
    display_name: str | None
    email: str | None
    is_bot: bool


@dataclass
class SlackChannel:
    id: str
    name: str


@dataclass
class SlackExport:
    """An opened export: its users and channels, and its day files per channel."""

    path: Path
    archive: zipfile.ZipFile
    workspace: int
    users: dict[str, SlackUser] = field(default_factory=dict)
    channels: list[SlackChannel] = field(default_factory=list)

    def day_files(self, channel: SlackChannel) -> list[str]:
        prefix = f"{channel.name}/"
        return sorted(
            name
            for name in self.archive.namelist()
            if name.startswith(prefix) and name.endswith(".json")
        )


def _load_json(archive: zipfile.ZipFile, name: str, source: str) -> Any:
    try:
        return json.loads(archive.read(name))
    except KeyError:
        raise InputError(
            [InputProblem(source, None, None, f"{name} is missing from the export")]
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            [InputProblem(source, None, None, f"{name} is not valid JSON: {exc}")]
        ) from None


def open_slack_export(path: Path) -> SlackExport:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(
            [InputProblem(str(path), None, None, f"not a Slack export zip: {exc}")]
        ) from None
    # Some exports wrap everything in one top-level folder; read names relative to it.
    names = archive.namelist()
    roots = {PurePosixPath(n).parts[0] for n in names if "/" in n}
    if "users.json" not in names and len(roots) == 1 and f"{next(iter(roots))}/users.json" in names:
        root = next(iter(roots))
        archive = _Rooted(archive, root)  # type: ignore[assignment]
    users_raw = _load_json(archive, "users.json", path.name)
    channels_raw = _load_json(archive, "channels.json", path.name)
    private = (
        _load_json(archive, "groups.json", path.name) if "groups.json" in archive.namelist() else []
    )
    if not isinstance(users_raw, list) or not isinstance(channels_raw, list):
        raise InputError(
            [InputProblem(path.name, None, None, "users.json and channels.json must be lists")]
        )
    team = next(
        (u.get("team_id") for u in users_raw if isinstance(u, dict) and u.get("team_id")), None
    )
    export = SlackExport(path, archive, slack_number(team or path.stem))
    for raw in users_raw:
        if not isinstance(raw, dict) or not raw.get("id"):
            continue
        profile = raw.get("profile") or {}
        export.users[raw["id"]] = SlackUser(
            id=raw["id"],
            name=raw.get("name"),
            display_name=profile.get("display_name") or raw.get("real_name") or raw.get("name"),
            email=(profile.get("email") or "").lower() or None,
            is_bot=bool(raw.get("is_bot")) or raw["id"] == "USLACKBOT",
        )
    for raw in [*channels_raw, *(private if isinstance(private, list) else [])]:
        if isinstance(raw, dict) and raw.get("id") and raw.get("name"):
            export.channels.append(SlackChannel(raw["id"], raw["name"]))
    return export


class _Rooted:
    """A zip archive seen from inside its single top-level folder."""

    def __init__(self, archive: zipfile.ZipFile, root: str) -> None:
        self._archive, self._root = archive, root.rstrip("/") + "/"

    def namelist(self) -> list[str]:
        return [
            n.removeprefix(self._root) for n in self._archive.namelist() if n.startswith(self._root)
        ]

    def read(self, name: str) -> bytes:
        return self._archive.read(self._root + name)


def _render(text: str, users: dict[str, SlackUser]) -> tuple[str, tuple[int, ...]]:
    """Slack markup to plain text (``<@U1>`` → ``@name``), and the mentioned users."""
    mentioned: list[int] = []

    def mention(match: re.Match[str]) -> str:
        mentioned.append(slack_number(match.group(1)))
        user = users.get(match.group(1))
        return "@" + (match.group(2) or (user.display_name if user else None) or match.group(1))

    text = _MENTION.sub(mention, text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _CHANNEL_LINK.sub(lambda m: "#" + m.group(1), text)
    return text, tuple(dict.fromkeys(mentioned))


def slack_record(raw: dict[str, Any], channel: SlackChannel, export: SlackExport) -> MessageRecord:
    ts = raw["ts"]
    user_id = raw.get("user") or raw.get("bot_id") or ""
    user = export.users.get(user_id)
    content, mentions = _render(raw.get("text") or "", export.users)
    channel_number = slack_number(channel.id)
    thread_ts = str(raw.get("thread_ts") or ts)
    in_thread = thread_ts != ts  # a thread's first message stays in its channel
    edited = (raw.get("edited") or {}).get("ts")
    subtype = raw.get("subtype")
    return MessageRecord(
        id=slack_message_id(channel.id, ts),
        # A thread is a channel of its own under its parent, as on Discord.
        channel_id=slack_message_id(channel.id, thread_ts) if in_thread else channel_number,
        parent_channel_id=channel_number if in_thread else None,
        author_id=slack_number(user_id) if user_id else 0,
        timestamp=_timestamp(ts),
        content=content,
        guild_id=export.workspace,
        author_name=(user.name if user else raw.get("username")),
        author_display_name=user.display_name if user else None,
        author_is_bot=bool(user.is_bot if user else raw.get("bot_id")) or subtype == "bot_message",
        kind=_SYSTEM_SUBTYPES.get(subtype or "", "reply" if in_thread else "default"),
        edited_at=_timestamp(edited) if edited else None,
        reference_id=slack_message_id(channel.id, thread_ts) if in_thread else None,
        mention_user_ids=mentions,
        reactions=tuple(
            ReactionRecord(
                emoji=r.get("name") or "?",
                count=int(r.get("count") or len(r.get("users") or [])),
                user_ids=tuple(slack_number(u) for u in r.get("users") or []),
            )
            for r in raw.get("reactions") or []
        ),
        attachments=tuple(
            AttachmentRecord(
                f.get("name") or f.get("title") or "", f.get("size"), f.get("permalink")
            )
            for f in raw.get("files") or []
            if isinstance(f, dict)
        ),
        is_pinned=bool(raw.get("pinned_to")),
        source="slack",
    )


def _records(export: SlackExport, report: ImportReport) -> Iterator[MessageRecord]:
    for channel in export.channels:
        for name in export.day_files(channel):
            try:
                day = json.loads(export.archive.read(name))
            except (ValueError, UnicodeDecodeError) as exc:
                report.bad_files[name] = f"not valid JSON ({exc})"
                continue
            if not isinstance(day, list):
                report.bad_files[name] = "not a list of messages"
                continue
            messages = [m for m in day if isinstance(m, dict) and m.get("ts")]
            report.skip("not a message", len(day) - len(messages))
            for raw in sorted(messages, key=lambda m: float(m["ts"])):
                try:
                    yield slack_record(raw, channel, export)
                except (TypeError, ValueError) as exc:
                    report.skip(f"unreadable message ({exc})")
            report.files += 1


def _authors(export: SlackExport) -> dict[int, AuthorDetails]:
    return {
        slack_number(user.id): AuthorDetails(
            user.name,
            user.is_bot,
            user.email,
            {"slack_id": user.id, "display_name": user.display_name or ""},
        )
        for user in export.users.values()
    }


async def import_slack(
    db: Database,
    path: Path,
    *,
    actor: str,
    map_unmapped_team: str | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    export = open_slack_export(path)
    report = ImportReport(dry_run=dry_run)
    report.channel_names = {str(slack_number(c.id)): f"#{c.name}" for c in export.channels}
    planned = {}
    if map_unmapped_team is not None:
        channels = {
            slack_number(c.id): ChannelMappingRecord(export.workspace, slack_number(c.id), None)
            for c in export.channels
        }
        planned = await map_unmapped(
            db, channels, map_unmapped_team, actor=actor, dry_run=dry_run, report=report
        )
    authors = _authors(export)
    stream = _records(export, report)

    def authors_of(batch: list[MessageRecord]) -> dict[int, AuthorDetails]:
        found = {r.author_id: authors.get(r.author_id) for r in batch if r.author_id}
        return {
            author_id: details or AuthorDetails(None, True) for author_id, details in found.items()
        }

    source = ImportSource(
        provider="slack",
        audit_action="import.slack",
        target=str(path),
        next_batch=lambda: list(islice(stream, BATCH_SIZE)),
        authors_of=authors_of,
        planned_channels=planned,
    )
    return await run_import(db, source, report, actor=actor, progress=progress)
