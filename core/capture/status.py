"""``frames capture status``: where the capture of each mapped channel and thread stands.

A stream's checkpoint is its last stored message id (``capture_checkpoints``); its time
comes from the snowflake itself. The lag is how long ago that message was sent: for a busy
channel it says how far capture is behind, for a quiet one simply when it last spoke.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.repositories.capture_live import LiveCaptureRepository, StreamState
from core.simulate.snowflakes import snowflake_ms


def snowflake_time(snowflake: int) -> dt.datetime:
    """When a Discord id was created (its top 42 bits are ms since the Discord epoch)."""
    return dt.datetime.fromtimestamp(snowflake_ms(snowflake) / 1000, dt.UTC)


def human_duration(delta: dt.timedelta) -> str:
    """``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``; two units at most, rounded down."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


@dataclass(frozen=True)
class StreamStatus:
    state: StreamState
    checkpoint_at: dt.datetime | None
    lag: dt.timedelta | None

    @property
    def kind(self) -> str:
        return "thread" if self.state.parent_id is not None else "channel"

    def as_dict(self) -> dict[str, object]:
        s = self.state
        return {
            "stream_id": str(s.stream_id),
            "kind": self.kind,
            "parent_id": str(s.parent_id) if s.parent_id is not None else None,
            "guild_id": str(s.guild_id) if s.guild_id is not None else None,
            "name": s.name,
            "team_id": s.team_id,
            "program_id": s.program_id,
            "checkpoint": str(s.last_message_id) if s.last_message_id is not None else None,
            "checkpoint_at": self.checkpoint_at.isoformat() if self.checkpoint_at else None,
            "lag_seconds": round(self.lag.total_seconds(), 1) if self.lag is not None else None,
            "lag": human_duration(self.lag) if self.lag is not None else None,
            "messages": s.messages,
            "deleted": s.deleted,
        }


@dataclass(frozen=True)
class CaptureStatus:
    at: dt.datetime
    streams: list[StreamStatus]
    unmapped_channels: int  # unmapped channels with messages seen
    unmapped_messages: int  # messages seen there, not stored

    def as_dict(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "streams": [s.as_dict() for s in self.streams],
            "unmapped": {"channels": self.unmapped_channels, "messages": self.unmapped_messages},
        }


async def capture_status(session: AsyncSession, *, now: dt.datetime | None = None) -> CaptureStatus:
    now = now or dt.datetime.now(dt.UTC)
    live = LiveCaptureRepository(session)
    streams = []
    for state in await live.stream_states():
        at = snowflake_time(state.last_message_id) if state.last_message_id else None
        streams.append(StreamStatus(state, at, now - at if at else None))
    unmapped = [c for c in await live.unmapped_channels() if c.messages]
    return CaptureStatus(now, streams, len(unmapped), sum(c.messages for c in unmapped))
