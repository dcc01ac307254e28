"""Writing messages: streams (a channel or a thread) and the message formatter."""

from __future__ import annotations

import random
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from core.simulate.dce_writer import (
    EMOJI,
    DceFile,
    FileRecord,
    Fragments,
    dumps,
    format_timestamp,
    list_json,
    mention,
    reactions_json,
    safe_file_name,
)
from core.simulate.organisation import Actor
from core.simulate.snowflakes import ATTACHMENT_BIT, snowflake


@dataclass
class ChannelResult:
    channel_index: int
    messages: int = 0
    threads: int = 0
    reactions: int = 0
    edits: int = 0
    explicit_replies: int = 0
    inferred: array[int] = field(default_factory=lambda: array("q"))  # reply, answered, ...
    deleted: array[int] = field(default_factory=lambda: array("q"))
    files: list[FileRecord] = field(default_factory=list)


class Stream:
    """A channel or a thread: its file, its id bits and its clock."""

    __slots__ = ("attachment_low", "channel_id", "file", "fragments", "guild_id", "low", "now")

    def __init__(
        self,
        file: DceFile,
        fragments: Fragments,
        low: int,
        channel_id: int,
        guild_id: int,
        now: int,
    ) -> None:
        self.file = file
        self.fragments = fragments
        self.low = low
        self.attachment_low = low | ATTACHMENT_BIT
        self.channel_id = channel_id
        self.guild_id = guild_id
        self.now = now

    def reference(self, message_id: int | None, channel_id: int | None = None) -> str:
        """The body of a ``reference`` object (DCE writes null for a thread's start)."""
        target = "null" if message_id is None else f'"{message_id}"'
        return (
            f'"messageId": {target},\n        "channelId": "{channel_id or self.channel_id}",\n'
            f'        "guildId": "{self.guild_id}"'
        )


class MessageWriter:
    """Formats one message at a time into its stream's file and keeps the ground truth.

    Beyond what the episode asks for, it decides the incidental things every message may
    get: an edit, reactions, and rarely a sibling that was posted and deleted.
    """

    def __init__(
        self,
        rng: random.Random,
        actors: list[Actor],
        result: ChannelResult,
        reactor: Callable[[], int],
    ) -> None:
        self.rng = rng
        self.actors = actors
        self.result = result
        self.reactor = reactor  # draws who reacts: the channel's usual posters
        self.written = 0  # messages written today (the day loop resets it)
        self.unreported = 0  # messages not yet passed to the progress callback

    def emit(
        self,
        stream: Stream,
        author: int,
        content: str,
        *,
        gap: int,
        kind: str = "Default",
        reply_to: int | None = None,
        inferred_to: int | None = None,
        mentions: tuple[int, ...] = (),
        pinned: bool = False,
        attachment: tuple[str, int] | None = None,
        embed: dict[str, object] | None = None,
        react: float = 0.1,
        reference: str | None = None,
    ) -> int:
        """Write one message; return its id. ``reference`` is a ready reference body."""
        rng = self.rng
        actor = self.actors[author]
        system = kind not in ("Default", "Reply")
        if not system and not actor.is_bot and rng.random() < 0.006:
            # Posted and deleted before the export: it takes an id but is not in the file.
            stream.now += rng.randint(2000, 60_000)
            self.result.deleted.append(snowflake(stream.now, stream.low))
        stream.now += max(1, gap)
        ms = stream.now
        message_id = snowflake(ms, stream.low)
        edited = "null"
        if not system and not actor.is_bot and rng.random() < 0.035:
            edited = f'"{format_timestamp(ms + rng.randint(20_000, 1_800_000))}"'
            self.result.edits += 1
        ref = reference or ""
        if reply_to is not None:
            kind = "Reply"
            ref = stream.reference(reply_to)
            self.result.explicit_replies += 1
        if inferred_to is not None:
            self.result.inferred.append(message_id)
            self.result.inferred.append(inferred_to)
        fragments = stream.fragments
        reactions = "[]"
        if react and rng.random() < react:
            reactions = self._reactions(fragments, author)
        attachments = "[]"
        if attachment is not None:
            file_name, size = attachment
            attachment_id = snowflake(ms, stream.attachment_low)
            url = (
                f"{fragments.media}{safe_file_name(file_name).rsplit('.', 1)[0]}-"
                f"{attachment_id % 0xFFFFF:05X}.{file_name.rsplit('.', 1)[-1]}"
            )
            attachments = list_json(
                [
                    {
                        "id": str(attachment_id),
                        "url": url,
                        "fileName": file_name,
                        "fileSizeBytes": size,
                    }
                ]
            )
        embeds = list_json([embed]) if embed is not None else "[]"
        mentioned = "[]"
        if mentions:
            mentioned = (
                "[\n        "
                + ",\n        ".join(mention(self.actors[m]) for m in mentions)
                + "\n      ]"
            )
        tail = f',\n      "reference": {{\n        {ref}\n      }}' if ref else ""
        stream.file.add(
            f'    {{\n      "id": "{message_id}",\n      "type": "{kind}",\n'
            f'      "timestamp": "{format_timestamp(ms)}",\n      "timestampEdited": {edited},\n'
            '      "callEndedTimestamp": null,\n'
            f'      "isPinned": {"true" if pinned else "false"},\n'
            f'      "content": {dumps(content)},\n      "author": {fragments.author(actor)},\n'
            f'      "attachments": {attachments},\n      "embeds": {embeds},\n'
            f'      "stickers": [],\n      "reactions": {reactions},\n'
            f'      "mentions": {mentioned}{tail}\n    }}'
        )
        self.written += 1
        self.unreported += 1
        return message_id

    def _reactions(self, fragments: Fragments, author: int) -> str:
        rng = self.rng
        reactions = []
        used: list[int] = []
        for _ in range(1 if rng.random() < 0.75 else 2):
            emoji = rng.randrange(len(EMOJI))
            if emoji in used:
                continue
            used.append(emoji)
            users: list[Actor] = []
            for _ in range(1 + int(rng.expovariate(0.9))):
                user = self.actors[self.reactor()]
                if user.index != author and user not in users:
                    users.append(user)
            if users:
                reactions.append((emoji, users))
        if not reactions:
            return "[]"
        self.result.reactions += sum(len(users) for _, users in reactions)
        return reactions_json(fragments, reactions)
