"""What the bot sees but does not store as messages: guild channels and unmapped channels.

Guild channels (with their category) are recorded from GUILD_CREATE and channel events, so
a whole category can be mapped at once and unmapped channels have names. Messages in
unmapped channels are only counted, per channel, with the times of the first and last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.capture.records import MessageRecord


@dataclass(frozen=True, slots=True)
class GuildChannelRecord:
    """A guild channel or category as the gateway describes it."""

    channel_id: int
    guild_id: int
    parent_id: int | None  # the category, for a channel in one
    kind: str  # text, voice, category, forum, news, stage_voice, media
    name: str


@dataclass(frozen=True, slots=True)
class UnmappedSighting:
    """Messages seen (not stored) in one unmapped channel during one batch."""

    channel_id: int
    guild_id: int | None
    messages: int
    first_at: dt.datetime
    last_at: dt.datetime


def unmapped_sightings(
    records: Iterable[MessageRecord], skipped: Mapping[int, int]
) -> list[UnmappedSighting]:
    """Per channel in ``skipped`` (derive's unmapped channels; threads count under their
    parent): new messages and the times seen. A full edit (``edited_at`` set) is the same
    message again: it moves the last time but is not counted."""
    if not skipped:
        return []
    found: dict[int, UnmappedSighting] = {}
    for record in records:
        key = record.parent_channel_id or record.channel_id
        if key not in skipped:
            continue
        new = 1 if record.edited_at is None else 0
        at = record.edited_at or record.timestamp
        seen = found.get(key)
        if seen is None:
            found[key] = UnmappedSighting(key, record.guild_id, new, at, at)
        else:
            found[key] = UnmappedSighting(
                key,
                seen.guild_id or record.guild_id,
                seen.messages + new,
                min(seen.first_at, at),
                max(seen.last_at, at),
            )
    return [found[key] for key in sorted(found)]
