"""Discord JSON objects with every key discord.py 2.7 indexes (see the design notes, §4),
shaped like the recorded payloads in ../shared/data/discord-gateway-discord4j."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.fakes.discord_server.snowflakes import iso, snowflake_time

Json = dict[str, Any]

TEXT, DM, CATEGORY, PUBLIC_THREAD, FORUM = 0, 1, 4, 11, 15


def user(user_id: int, name: str, *, bot: bool = False) -> Json:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def member(user_payload: Json | None, *, roles: list[int] = (), joined_at: dt.datetime) -> Json:  # type: ignore[assignment]
    payload: Json = {
        "roles": [str(r) for r in roles],
        "flags": 0,
        "joined_at": iso(joined_at),
        "nick": None,
        "pending": False,
        "deaf": False,
        "mute": False,
        "premium_since": None,
    }
    if user_payload is not None:
        payload["user"] = user_payload
    return payload


def role(role_id: int, name: str, *, position: int = 0) -> Json:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": "1071698660929",
        "position": position,
        "color": 0,
        "colors": {"primary_color": 0},
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def channel(
    channel_id: int,
    guild_id: int,
    name: str,
    *,
    kind: int = TEXT,
    parent_id: int | None = None,
    position: int = 0,
) -> Json:
    return {
        "id": str(channel_id),
        "guild_id": str(guild_id),
        "type": kind,
        "name": name,
        "position": position,
        "parent_id": str(parent_id) if parent_id else None,
        "permission_overwrites": [],
        "nsfw": False,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
        "available_tags": [],
    }


def thread(
    thread_id: int,
    guild_id: int,
    parent_id: int,
    owner_id: int,
    name: str,
    *,
    archived: bool = False,
    newly_created: bool = True,
) -> Json:
    payload: Json = {
        "id": str(thread_id),
        "guild_id": str(guild_id),
        "parent_id": str(parent_id),
        "owner_id": str(owner_id),
        "name": name,
        "type": PUBLIC_THREAD,
        "message_count": 0,
        "member_count": 1,
        "rate_limit_per_user": 0,
        "flags": 0,
        "applied_tags": [],
        "thread_metadata": {
            "archived": archived,
            "auto_archive_duration": 1440,
            "archive_timestamp": iso(snowflake_time(thread_id)),
            "locked": False,
        },
    }
    if newly_created:
        payload["newly_created"] = True
    return payload


def dm_channel(channel_id: int, recipient: Json) -> Json:
    return {"id": str(channel_id), "type": DM, "recipients": [recipient], "last_message_id": None}


def message(
    message_id: int,
    channel_id: int,
    author: Json,
    content: str,
    *,
    guild_id: int | None,
    author_member: Json | None = None,
    kind: int = 0,
    reference: Json | None = None,
    mentions: list[Json] = (),  # type: ignore[assignment]
    edited_at: dt.datetime | None = None,
) -> Json:
    payload: Json = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "type": kind,
        "content": content,
        "author": author,
        "timestamp": iso(snowflake_time(message_id)),
        "edited_timestamp": iso(edited_at) if edited_at else None,
        "tts": False,
        "pinned": False,
        "mention_everyone": False,
        "mentions": list(mentions),
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "flags": 0,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        if author_member is not None:
            payload["member"] = {k: v for k, v in author_member.items() if k != "user"}
    if reference is not None:
        payload["message_reference"] = reference
    return payload


def error(message_text: str, code: int = 0) -> Json:
    return {"message": message_text, "code": code, "errors": {}}
