"""Real Discord snowflakes: the creation time lives in the top bits, which routes guilds to
shards (``(guild_id >> 22) % shard_count``) and orders history."""

from __future__ import annotations

import datetime as dt
import itertools

DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_at(moment: dt.datetime, increment: int = 0) -> int:
    ms = int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (increment & 0x3FFFFF)


def snowflake_time(snowflake: int) -> dt.datetime:
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def iso(moment: dt.datetime) -> str:
    """Discord's timestamp format; ``+00:00`` rather than ``Z`` (see the design notes)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


class Snowflakes:
    """Increasing ids from a clock that starts at ``start`` and advances 1 ms per id, so
    every id's embedded time is distinct and ordered like the ids themselves."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        start = start or dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
        self._ms = int(start.timestamp() * 1000) - DISCORD_EPOCH_MS
        self._increments = itertools.count()

    def next(self) -> int:
        self._ms += 1
        return (self._ms << 22) | (next(self._increments) & 0x3FFFFF)

    def for_shard(self, shard_id: int, shard_count: int) -> int:
        """A new id whose shard is ``shard_id`` out of ``shard_count`` (for guild ids)."""
        while True:
            candidate = self.next()
            if (candidate >> 22) % shard_count == shard_id:
                return candidate
