"""DiscordChatExporter JSON, written one message at a time.

The layout copies DCE's own (two-space indentation, the same keys in the same order, media
paths relative to the export file as ``--media`` exports write them), so importers of
real exports read these files unchanged. Messages are formatted from precomputed fragments
rather than through ``json.dumps(indent=...)``, which is pure Python and ten times slower.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from core.simulate.organisation import Actor, Channel

_FLUSH_EVERY = 256
_INVALID_FILE_CHARS = str.maketrans({ch: "_" for ch in '<>:"/\\|?*'})
_DAY_NAMES: dict[int, str] = {}


def safe_file_name(text: str) -> str:
    """Replace what DCE replaces: characters invalid in file names on any platform."""
    return "".join("_" if ord(ch) < 32 else ch for ch in text.translate(_INVALID_FILE_CHARS))


def channel_file_name(guild: str, category: str, channel: str, channel_id: int) -> str:
    return safe_file_name(f"{guild} - {category} - {channel} [{channel_id}].json")


def format_timestamp(ms: int) -> str:
    """``2026-08-24T15:03:07.123+00:00`` from epoch milliseconds, without datetime."""
    days, rest = divmod(ms, 86_400_000)
    date = _DAY_NAMES.get(days)
    if date is None:
        date = (dt.date(1970, 1, 1) + dt.timedelta(days=days)).isoformat()
        _DAY_NAMES[days] = date
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{date}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}+00:00"


def reindent(text: str, spaces: int) -> str:
    return text.replace("\n", "\n" + " " * spaces)


# The C string encoder that json.dumps(ensure_ascii=False) ends up calling, without the
# per-call encoder set-up, which costs more than the encoding for short chat messages.
dumps: Callable[[str], str] = json.encoder.encode_basestring


@dataclass(frozen=True)
class FileRecord:
    path: str  # relative to the output directory, with "/" separators
    sha256: str
    size: int
    messages: int


class DceFile:
    """One channel's or thread's export file, hashed as it is written."""

    def __init__(
        self, root: Path, rel_path: str, guild: dict[str, str], channel: dict[str, object]
    ):
        self.rel_path = rel_path
        path = root / rel_path
        self._fh: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._hash = hashlib.sha256()
        self._size = 0
        head = json.dumps(
            {"guild": guild, "channel": channel, "dateRange": {"after": None, "before": None}},
            indent=2,
            ensure_ascii=False,
        )
        self._parts: list[str] = [head[:-2], ',\n  "messages": [']
        self.count = 0

    def add(self, message: str) -> None:
        self._parts.append(",\n" if self.count else "\n")
        self._parts.append(message)
        self.count += 1
        if len(self._parts) >= _FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        data = "".join(self._parts).encode("utf-8")
        self._parts.clear()
        self._hash.update(data)
        self._size += len(data)
        self._fh.write(data)

    def close(self) -> FileRecord:
        closing = "\n  ]" if self.count else "]"
        self._parts.append(f'{closing},\n  "messageCount": {self.count}\n}}\n')
        self._flush()
        self._fh.close()
        return FileRecord(self.rel_path, self._hash.hexdigest(), self._size, self.count)


def _hash5(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:5].upper()


# Standard emoji (name, twemoji code point) and the consortium's custom one.
EMOJI = (
    ("👍", "1f44d"),
    ("🎉", "1f389"),
    ("🙏", "1f64f"),
    ("👀", "1f440"),
    ("🚀", "1f680"),
    ("✅", "2705"),
    ("😂", "1f602"),
    ("❤️", "2764"),
    ("🛰️", "1f6f0"),
    ("🔥", "1f525"),
    ("cubesat", ""),
)
CUSTOM_EMOJI_ID = "1011223344556677889"


class Fragments:
    """JSON pieces for one export file: authors, mentions, reaction users and emoji.

    Media paths name the export file (``<file>_Files/...``), so the pieces are per file.
    """

    def __init__(self, file_name: str) -> None:
        self.media = f"{file_name}_Files/"
        self._authors: dict[int, str] = {}
        self._reaction_users: dict[int, str] = {}
        self._emoji: dict[int, str] = {}

    def _avatar(self, actor: Actor) -> str:
        return dumps(f"{self.media}{actor.avatar_hash}-{_hash5(actor.avatar_hash)}.png")

    def _user(self, actor: Actor, indent: int) -> str:
        pad = " " * indent
        color = dumps(actor.color) if actor.color else "null"
        return (
            f'{{\n{pad}  "id": "{actor.user_id}",\n{pad}  "name": {dumps(actor.username)},\n'
            f'{pad}  "discriminator": "0000",\n{pad}  "nickname": {dumps(actor.nickname)},\n'
            f'{pad}  "color": {color},\n{pad}  "isBot": {"true" if actor.is_bot else "false"},\n'
            f'{pad}  "avatarUrl": {self._avatar(actor)}\n{pad}}}'
        )

    def author(self, actor: Actor) -> str:
        fragment = self._authors.get(actor.index)
        if fragment is None:
            fragment = self._authors[actor.index] = self._user(actor, 6)
        return fragment

    def reaction_user(self, actor: Actor) -> str:
        fragment = self._reaction_users.get(actor.index)
        if fragment is None:
            fragment = self._reaction_users[actor.index] = self._user(actor, 12)
        return fragment

    def emoji(self, number: int) -> str:
        fragment = self._emoji.get(number)
        if fragment is None:
            name, code = EMOJI[number]
            if code:
                emoji_id, url = "", f"{self.media}{code}-{_hash5(code)}.svg"
            else:
                emoji_id, url = CUSTOM_EMOJI_ID, f"{self.media}{CUSTOM_EMOJI_ID}-{_hash5(name)}.png"
            fragment = self._emoji[number] = (
                f'{{\n            "id": "{emoji_id}",\n            "name": {dumps(name)},\n'
                f'            "isAnimated": false,\n            "imageUrl": {dumps(url)}\n'
                "          }"
            )
        return fragment


_MENTIONS: dict[int, str] = {}


def mention(actor: Actor) -> str:
    """A ``mentions`` item: no media, so one fragment serves every file."""
    fragment = _MENTIONS.get(actor.user_id)
    if fragment is None:
        fragment = _MENTIONS[actor.user_id] = (
            f'{{\n          "id": "{actor.user_id}",\n          "name": {dumps(actor.username)},\n'
            f'          "discriminator": "0000",\n          "nickname": {dumps(actor.nickname)},\n'
            f'          "isBot": {"true" if actor.is_bot else "false"}\n        }}'
        )
    return fragment


def reactions_json(fragments: Fragments, reactions: list[tuple[int, list[Actor]]]) -> str:
    items = []
    for emoji_number, users in reactions:
        listed = ",\n            ".join(fragments.reaction_user(user) for user in users)
        items.append(
            f'{{\n          "emoji": {fragments.emoji(emoji_number)},\n'
            f'          "count": {len(users)},\n'
            f'          "users": [\n            {listed}\n          ]\n        }}'
        )
    return "[\n        " + ",\n        ".join(items) + "\n      ]"


def list_json(items: list[dict[str, object]]) -> str:
    """A small list of plain objects (attachments, embeds) at message-key depth."""
    return reindent(json.dumps(items, indent=2, ensure_ascii=False), 6)


def channel_header(
    channel: Channel,
    guild_icon: str,
    thread: tuple[int, str] | None = None,
) -> tuple[dict[str, str], dict[str, object]]:
    guild = {"id": str(channel.guild_id), "name": channel.guild_name, "iconUrl": guild_icon}
    if thread is None:
        info: dict[str, object] = {
            "id": str(channel.id),
            "type": "GuildTextChat",
            "categoryId": str(channel.category_id),
            "category": channel.category,
            "name": channel.name,
            "topic": channel.topic,
        }
    else:
        thread_id, name = thread
        info = {
            "id": str(thread_id),
            "type": "GuildPublicThread",
            "categoryId": str(channel.id),
            "category": channel.name,
            "name": name,
            "topic": None,
        }
    return guild, info
