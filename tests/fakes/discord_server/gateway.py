"""The gateway half of the Discord test server: sessions, sequence numbers, replay on RESUME.

One ``GatewaySession`` per IDENTIFY; a session outlives its socket until the client closes
cleanly (1000/1001), so events dispatched while it was disconnected are replayed on RESUME
exactly like Discord does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

Json = dict[str, Any]

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT = 0, 1, 2, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11
_session_numbers = itertools.count(1)


class GatewayConnection:
    """One websocket; sends are serialised because zlib-stream state is shared."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._lock = asyncio.Lock()
        self.session: GatewaySession | None = None

    async def send(self, payload: Json) -> None:
        # orjson: the server shares the machine with the bot under test, and stdlib json was
        # a fifth of its CPU in the capture benchmark's flood.
        encoded = orjson.dumps(payload)
        async with self._lock:
            if self.ws.closed:
                return
            try:
                if self._zlib is not None:
                    data = self._zlib.compress(encoded) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(encoded.decode())
            except (ConnectionError, RuntimeError):
                log.debug("send on a closing gateway socket dropped; the session will replay it")

    async def close(self, code: int) -> None:
        async with self._lock:
            await self.ws.close(code=code)


@dataclass
class GatewaySession:
    session_id: str
    shard_id: int
    shard_count: int
    intents: int
    seq: int = 0
    # Every dispatch (seq, frame) of the session, for replay on RESUME.
    history: list[tuple[int, Json]] = field(default_factory=list)
    connection: GatewayConnection | None = None
    closed: bool = False

    @classmethod
    def create(cls, shard: list[int] | None, intents: int) -> GatewaySession:
        shard_id, shard_count = shard or [0, 1]
        return cls(f"session-{next(_session_numbers)}", shard_id, shard_count, intents)

    def owns_guild(self, guild_id: int | None) -> bool:
        if guild_id is None:  # DMs go to shard 0
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id

    async def dispatch(self, event: str, data: Json) -> None:
        self.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.history.append((self.seq, frame))
        if self.connection is not None:
            await self.connection.send(frame)

    async def replay_after(self, seq: int, connection: GatewayConnection) -> int:
        missed = [frame for s, frame in self.history if s > seq]
        for frame in missed:
            await connection.send(frame)
        return len(missed)


def hello(heartbeat_interval_ms: int) -> Json:
    return {"op": HELLO, "d": {"heartbeat_interval": heartbeat_interval_ms}, "s": None, "t": None}


def incoming(message: Any) -> Json | None:
    """A client frame as JSON, or None for close/error frames."""
    if message.type == WSMsgType.TEXT:
        parsed: Json = json.loads(message.data)
        return parsed
    if message.type == WSMsgType.BINARY:
        parsed = json.loads(message.data.decode())
        return parsed
    return None
