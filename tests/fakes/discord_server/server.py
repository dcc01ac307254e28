"""A Discord-compatible server on 127.0.0.1 for the real discord.py client.

It holds the truth (guilds, channels, threads, members, messages), speaks the gateway and
the REST routes FRAMES uses, lets a test script what users do, injects faults, and records
every request. Anything it does not know answers a loud 404 and is listed in
``unknown_requests`` so tests can assert the bot never strayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord_server import payloads as p
from tests.fakes.discord_server.gateway import (
    HEARTBEAT,
    HEARTBEAT_ACK,
    IDENTIFY,
    INVALID_SESSION,
    RECONNECT,
    REQUEST_MEMBERS,
    RESUME,
    GatewayConnection,
    GatewaySession,
    hello,
    incoming,
)
from tests.fakes.discord_server.snowflakes import Snowflakes, iso, snowflake_time

log = logging.getLogger(__name__)

Json = dict[str, Any]
API = "/api/v10"


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class RestFault:
    method: str
    path: re.Pattern[str]
    status: int
    remaining: int
    retry_after: float


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Json] = field(default_factory=dict)
    channels: dict[int, Json] = field(default_factory=dict)
    threads: dict[int, Json] = field(default_factory=dict)
    members: dict[int, Json] = field(default_factory=dict)

    def payload(self) -> Json:
        return {
            "id": str(self.id),
            "name": self.name,
            "owner_id": str(self.owner_id),
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "roles": list(self.roles.values()),
            "channels": list(self.channels.values()),
            "threads": [t for t in self.threads.values() if not t["thread_metadata"]["archived"]],
            "members": list(self.members.values()),
            "features": [],
            "emojis": [],
            "stickers": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "preferred_locale": "en-US",
            "joined_at": iso(snowflake_time(self.id)),
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "system_channel_flags": 0,
            "afk_timeout": 300,
        }


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py compares the content type exactly; aiohttp's json_response adds a charset.
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class DiscordTestServer:
    def __init__(
        self,
        *,
        token: str = "test-token",
        heartbeat_interval_ms: int = 41_250,
        history_page_delay: float = 0.0,
    ) -> None:
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.history_page_delay = history_page_delay
        self.ids = Snowflakes()
        self.application_id = self.ids.next()
        self.bot_user = p.user(self.application_id, "frames-bot", bot=True)
        # Application flags: message content and server members intents switched on (the
        # _LIMITED bits an unverified app in under 100 servers gets); `frames doctor` reads them.
        self.application_flags = (1 << 19) | (1 << 15)
        self.guilds: dict[int, Guild] = {}
        self.users: dict[int, Json] = {self.application_id: self.bot_user}
        self.channel_guild: dict[int, int | None] = {}  # channel or thread → guild (None: DM)
        self.dm_channels: dict[int, int] = {}  # user → DM channel
        self.messages: dict[int, dict[int, Json]] = {}  # channel → id → message
        self.commands: dict[int | None, list[Json]] = {}  # guild (None: global) → commands
        self.interactions: dict[int, Json] = {}
        self.interaction_responses: list[tuple[str, Json]] = []  # (route, body)
        self.sessions: list[GatewaySession] = []
        self.connections: list[GatewayConnection] = []
        self.requests: list[RecordedRequest] = []
        self.gateway_frames: list[tuple[int | None, Json]] = []  # (shard, frame from client)
        self.unknown_requests: list[str] = []
        self._faults: list[RestFault] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- life cycle -------------------------------------------------------------------------
    async def start(self) -> DiscordTestServer:
        app = web.Application(middlewares=[self._record_and_fault])
        app.router.add_get("/", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for connection in list(self.connections):
            with contextlib.suppress(Exception):
                await connection.close(1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordTestServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    # --- the world --------------------------------------------------------------------------
    def add_user(self, name: str, *, bot: bool = False) -> int:
        user_id = self.ids.next()
        self.users[user_id] = p.user(user_id, name, bot=bot)
        return user_id

    def add_guild(self, name: str, *, shard_id: int = 0, shard_count: int = 1) -> Guild:
        guild_id = self.ids.for_shard(shard_id, shard_count)
        guild = Guild(guild_id, name, owner_id=self.application_id)
        guild.roles[guild_id] = p.role(guild_id, "@everyone")
        self.guilds[guild_id] = guild
        self._add_member(guild, self.application_id)
        return guild

    def add_channel(
        self, guild: Guild, name: str, *, kind: int = p.TEXT, category: int | None = None
    ) -> int:
        channel_id = self.ids.next()
        guild.channels[channel_id] = p.channel(
            channel_id, guild.id, name, kind=kind, parent_id=category, position=len(guild.channels)
        )
        self.channel_guild[channel_id] = guild.id
        self.messages[channel_id] = {}
        return channel_id

    def add_member(self, guild: Guild, user_id: int, roles: list[int] = ()) -> None:  # type: ignore[assignment]
        self._add_member(guild, user_id, roles)

    def _add_member(self, guild: Guild, user_id: int, roles: list[int] = ()) -> Json:  # type: ignore[assignment]
        member = p.member(
            self.users[user_id], roles=list(roles), joined_at=snowflake_time(guild.id)
        )
        guild.members[user_id] = member
        return member

    def seed_messages(self, channel_id: int, author_id: int, count: int) -> list[int]:
        """Messages that exist before the bot connects (history only, nothing dispatched)."""
        return [
            self._store_message(channel_id, author_id, f"seeded message {n}")["id_int"]
            for n in range(count)
        ]

    def channel_history(self, channel_id: int) -> list[Json]:
        """The truth, oldest first."""
        return [self.messages[channel_id][i] for i in sorted(self.messages.get(channel_id, {}))]

    def _store_message(
        self,
        channel_id: int,
        author_id: int,
        content: str,
        *,
        reference: int | None = None,
        mentions: list[int] = (),  # type: ignore[assignment]
        kind: int = 0,
        message_id: int | None = None,
    ) -> Json:
        guild_id = self.channel_guild[channel_id]
        guild = self.guilds.get(guild_id) if guild_id else None
        message_id = message_id or self.ids.next()
        if mentions:
            content = " ".join(f"<@{u}>" for u in mentions) + " " + content
        message = p.message(
            message_id,
            channel_id,
            self.users[author_id],
            content,
            guild_id=guild_id,
            author_member=guild.members.get(author_id) if guild else None,
            kind=kind,
            reference=(
                {
                    "message_id": str(reference),
                    "channel_id": str(channel_id),
                    **({"guild_id": str(guild_id)} if guild_id else {}),
                }
                if reference
                else None
            ),
            mentions=[self.users[u] for u in mentions],
        )
        self.messages.setdefault(channel_id, {})[message_id] = message
        return {**message, "id_int": message_id}

    # --- scripted users ---------------------------------------------------------------------
    async def say(
        self,
        channel_id: int,
        author_id: int,
        content: str,
        *,
        reply_to: int | None = None,
        mentions: list[int] = (),  # type: ignore[assignment]
        **fields: Any,
    ) -> int:
        """``fields`` are further payload fields (role mentions, attachments, the member),
        stored with the message and sent with it."""
        stored = self._store_message(
            channel_id,
            author_id,
            content,
            reference=reply_to,
            mentions=mentions,
            kind=19 if reply_to else 0,
        )
        message_id = int(stored.pop("id_int"))
        self.messages[channel_id][message_id].update(fields)
        stored.update(copy.deepcopy(fields))
        await self.dispatch("MESSAGE_CREATE", stored, self.channel_guild[channel_id])
        return message_id

    async def edit(self, channel_id: int, message_id: int, content: str) -> None:
        message = self.messages[channel_id][message_id]
        message["content"] = content
        message["edited_timestamp"] = iso(dt.datetime.now(dt.UTC))
        await self.dispatch("MESSAGE_UPDATE", dict(message), self.channel_guild[channel_id])

    async def delete(self, channel_id: int, message_id: int) -> None:
        self.messages[channel_id].pop(message_id, None)
        guild_id = self.channel_guild[channel_id]
        payload: Json = {"id": str(message_id), "channel_id": str(channel_id)}
        if guild_id:
            payload["guild_id"] = str(guild_id)
        await self.dispatch("MESSAGE_DELETE", payload, guild_id)

    async def bulk_delete(self, channel_id: int, message_ids: list[int]) -> None:
        for message_id in message_ids:
            self.messages[channel_id].pop(message_id, None)
        guild_id = self.channel_guild[channel_id]
        payload = {
            "ids": [str(m) for m in message_ids],
            "channel_id": str(channel_id),
            "guild_id": str(guild_id),
        }
        await self.dispatch("MESSAGE_DELETE_BULK", payload, guild_id)

    async def react(
        self, channel_id: int, message_id: int, user_id: int, emoji: str, *, remove: bool = False
    ) -> None:
        guild_id = self.channel_guild[channel_id]
        payload: Json = {
            "user_id": str(user_id),
            "message_id": str(message_id),
            "channel_id": str(channel_id),
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        if guild_id:
            payload["guild_id"] = str(guild_id)
            if not remove:
                payload["member"] = self.guilds[guild_id].members[user_id]
        event = "MESSAGE_REACTION_REMOVE" if remove else "MESSAGE_REACTION_ADD"
        await self.dispatch(event, payload, guild_id)

    async def create_thread(
        self, channel_id: int, owner_id: int, name: str, *, starter_message_id: int | None = None
    ) -> int:
        guild_id = self.channel_guild[channel_id]
        assert guild_id is not None
        thread_id = starter_message_id or self.ids.next()
        thread = p.thread(thread_id, guild_id, channel_id, owner_id, name)
        self.guilds[guild_id].threads[thread_id] = thread
        self.channel_guild[thread_id] = guild_id
        self.messages.setdefault(thread_id, {})
        await self.dispatch("THREAD_CREATE", thread, guild_id)
        return thread_id

    async def create_forum_post(
        self, forum_id: int, owner_id: int, title: str, content: str
    ) -> tuple[int, int]:
        """A forum post is a thread whose first message has the thread's id."""
        thread_id = await self.create_thread(forum_id, owner_id, title)
        stored = self._store_message(thread_id, owner_id, content, message_id=thread_id)
        stored.pop("id_int")
        await self.dispatch("MESSAGE_CREATE", stored, self.channel_guild[thread_id])
        return thread_id, thread_id

    async def archive_thread(self, thread_id: int) -> None:
        guild_id = self.channel_guild[thread_id]
        assert guild_id is not None
        thread = self.guilds[guild_id].threads[thread_id]
        thread["thread_metadata"]["archived"] = True
        thread.pop("newly_created", None)
        await self.dispatch("THREAD_UPDATE", thread, guild_id)

    def remove_channel(self, channel_id: int) -> None:
        """A channel or thread deleted while nobody watched (no event): look-ups now 404."""
        guild_id = self.channel_guild.pop(channel_id, None)
        self.messages.pop(channel_id, None)
        if guild_id is not None:
            guild = self.guilds[guild_id]
            guild.channels.pop(channel_id, None)
            guild.threads.pop(channel_id, None)

    async def send_dm(self, user_id: int, content: str) -> int:
        channel_id = self.dm_channels.get(user_id)
        if channel_id is None:
            channel_id = self.dm_channels[user_id] = self.ids.next()
            self.channel_guild[channel_id] = None
            self.messages[channel_id] = {}
        stored = self._store_message(channel_id, user_id, content)
        message_id = stored.pop("id_int")
        await self.dispatch("MESSAGE_CREATE", stored, None)
        return int(message_id)

    async def join(self, guild: Guild, user_id: int) -> None:
        member = self._add_member(guild, user_id)
        await self.dispatch("GUILD_MEMBER_ADD", {**member, "guild_id": str(guild.id)}, guild.id)

    async def leave(self, guild: Guild, user_id: int) -> None:
        guild.members.pop(user_id, None)
        payload = {"guild_id": str(guild.id), "user": self.users[user_id]}
        await self.dispatch("GUILD_MEMBER_REMOVE", payload, guild.id)

    async def set_roles(self, guild: Guild, user_id: int, role_ids: list[int]) -> None:
        for role_id in role_ids:
            guild.roles.setdefault(role_id, p.role(role_id, f"role-{role_id}"))
        member = guild.members[user_id]
        member["roles"] = [str(r) for r in role_ids]
        await self.dispatch("GUILD_MEMBER_UPDATE", {**member, "guild_id": str(guild.id)}, guild.id)

    async def add_role(self, guild: Guild, name: str) -> int:
        role_id = self.ids.next()
        guild.roles[role_id] = p.role(role_id, name, position=len(guild.roles))
        payload = {"guild_id": str(guild.id), "role": guild.roles[role_id]}
        await self.dispatch("GUILD_ROLE_CREATE", payload, guild.id)
        return role_id

    async def run_slash_command(
        self,
        guild: Guild,
        channel_id: int,
        user_id: int,
        name: str,
        options: dict[str, object] | None = None,
    ) -> int:
        interaction_id = self.ids.next()
        known = {
            c["name"]: c for c in self.commands.get(None, []) + self.commands.get(guild.id, [])
        }
        command_id = known[name]["id"] if name in known else str(self.ids.next())
        payload = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": 2,
            "token": f"interaction-token-{interaction_id}",
            "version": 1,
            "attachment_size_limit": 10_485_760,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": guild.channels.get(channel_id) or guild.threads.get(channel_id),
            "member": {**guild.members[user_id], "permissions": "2248473465835073"},
            "app_permissions": "2248473465835073",
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "data": {
                "id": command_id,
                "name": name,
                "type": 1,
                "guild_id": str(guild.id),
                "options": [
                    {"name": k, "type": 3 if isinstance(v, str) else 4, "value": v}
                    for k, v in (options or {}).items()
                ],
            },
        }
        self.interactions[interaction_id] = payload
        await self.dispatch("INTERACTION_CREATE", payload, guild.id)
        return interaction_id

    async def dispatch(self, event: str, data: Json, guild_id: int | None) -> None:
        """Send an event to every live session whose shard owns ``guild_id``."""
        for session in self.sessions:
            if not session.closed and session.owns_guild(guild_id):
                await session.dispatch(event, data)

    # --- faults -----------------------------------------------------------------------------
    def fail_rest(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        times: int = 1,
        retry_after: float = 0.05,
    ) -> None:
        """The next ``times`` matching requests answer ``status`` (429 carries retry_after)."""
        self._faults.append(
            RestFault(method.upper(), re.compile(path_pattern), status, times, retry_after)
        )

    def _live(self, shard_id: int | None) -> list[GatewaySession]:
        return [
            s
            for s in self.sessions
            if s.connection is not None and not s.closed and shard_id in (None, s.shard_id)
        ]

    async def drop_connections(self, shard_id: int | None = None, code: int = 4000) -> None:
        """Close sockets without ending their sessions; the client resumes."""
        for session in self._live(shard_id):
            connection, session.connection = session.connection, None
            assert connection is not None
            await connection.close(code)

    async def send_reconnect(self, shard_id: int | None = None) -> None:
        for session in self._live(shard_id):
            assert session.connection is not None
            await session.connection.send({"op": RECONNECT, "d": None})

    async def invalidate_sessions(
        self, shard_id: int | None = None, resumable: bool = False
    ) -> None:
        for session in self._live(shard_id):
            connection = session.connection
            assert connection is not None
            if not resumable:
                session.closed = True
            await connection.send({"op": INVALID_SESSION, "d": resumable})

    # --- gateway ----------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return await self._rest(request)
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        connection = GatewayConnection(ws, request.query.get("compress"))
        self.connections.append(connection)
        await connection.send(hello(self.heartbeat_interval_ms))
        try:
            async for message in ws:
                frame = incoming(message)
                if frame is None:
                    break
                session = connection.session
                self.gateway_frames.append((session.shard_id if session else None, frame))
                await self._on_frame(connection, frame)
        finally:
            self.connections.remove(connection)
            session = connection.session
            if session is not None and session.connection is connection:
                session.connection = None
                # A clean close ends the session, as on Discord; anything else may resume.
                if ws.close_code in (1000, 1001):
                    session.closed = True
        return ws

    async def _on_frame(self, connection: GatewayConnection, frame: Json) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            await connection.send({"op": HEARTBEAT_ACK, "d": None})
        elif op == IDENTIFY:
            await self._identify(connection, data)
        elif op == RESUME:
            await self._resume(connection, data)
        elif op == REQUEST_MEMBERS:
            guild = self.guilds[int(data["guild_id"])]
            chunk = {
                "guild_id": str(guild.id),
                "members": list(guild.members.values()),
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if data.get("nonce"):
                chunk["nonce"] = data["nonce"]
            if connection.session is not None:
                await connection.session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
        else:
            log.debug("gateway op %s ignored", op)

    async def _identify(self, connection: GatewayConnection, data: Json) -> None:
        if data.get("token") != self.token:
            await connection.close(4004)
            return
        session = GatewaySession.create(data.get("shard"), int(data.get("intents", 0)))
        if not 0 <= session.shard_id < session.shard_count:
            await connection.close(4010)
            return
        session.connection = connection
        connection.session = session
        guilds = [g for g in self.guilds.values() if session.owns_guild(g.id)]
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url,
            "shard": [session.shard_id, session.shard_count],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "session_type": "normal",
            "auth": {},
            "user_settings": {},
        }
        # Registered before READY is sent, so events scripted from now on reach the session.
        self.sessions.append(session)
        await session.dispatch("READY", ready)
        for guild in guilds:
            await session.dispatch("GUILD_CREATE", guild.payload())

    async def _resume(self, connection: GatewayConnection, data: Json) -> None:
        session = next(
            (s for s in self.sessions if s.session_id == data.get("session_id") and not s.closed),
            None,
        )
        if session is None or data.get("token") != self.token:
            await connection.send({"op": INVALID_SESSION, "d": False})
            return
        if session.connection is not None and session.connection is not connection:
            await session.connection.close(4000)
        connection.session = session
        await session.replay_after(int(data.get("seq") or 0), connection)
        session.connection = connection
        await session.dispatch("RESUMED", {})

    # --- REST -------------------------------------------------------------------------------
    @web.middleware
    async def _record_and_fault(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if request.path == "/" and request.headers.get("Upgrade", "").lower() == "websocket":
            return await handler(request)
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
        recorded = RecordedRequest(request.method, request.path, dict(request.query), body)
        self.requests.append(recorded)
        for fault in self._faults:
            if (
                fault.remaining > 0
                and fault.method == request.method
                and fault.path.search(request.path)
            ):
                fault.remaining -= 1
                recorded.status = fault.status
                if fault.status == 429:
                    # discord.py retries a 429 only when it came through a proxy (Via).
                    return _json(
                        {
                            "message": "You are being rate limited.",
                            "retry_after": fault.retry_after,
                            "global": False,
                        },
                        429,
                        {"Via": "1.1 google", "Retry-After": str(fault.retry_after)},
                    )
                return _json(p.error("injected server error"), fault.status)
        response = await handler(request)
        recorded.status = response.status
        return response

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if not path.startswith(API):
            return self._unknown(request)
        route = path[len(API) :]
        needs_auth = not route.startswith(("/interactions/", "/webhooks/"))
        if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            return _json(p.error("401: Unauthorized", 0), 401)
        body = self.requests[-1].body if self.requests else None
        for method, pattern, handler in self._routes():
            match = pattern.fullmatch(route)
            if match and method == request.method:
                return await handler(request, body, *map(_id_or_text, match.groups()))
        return self._unknown(request)

    def _unknown(self, request: web.Request) -> web.Response:
        line = f"{request.method} {request.path_qs}"
        self.unknown_requests.append(line)
        log.error("Discord test server: no route for %s", line)
        return _json(p.error(f"404: no route for {line} in the Discord test server", 10000), 404)

    def _routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Awaitable[web.Response]]]]:
        r = re.compile
        return [
            ("GET", r(r"/users/@me"), self._me),
            ("GET", r(r"/oauth2/applications/@me"), self._application),
            ("GET", r(r"/applications/@me"), self._application),
            ("GET", r(r"/gateway/bot"), self._gateway_bot),
            ("GET", r(r"/gateway"), self._gateway_bot),
            ("PUT", r(r"/applications/(\d+)/commands"), self._sync_commands),
            ("PUT", r(r"/applications/(\d+)/guilds/(\d+)/commands"), self._sync_commands),
            ("GET", r(r"/applications/(\d+)/commands"), self._list_commands),
            ("GET", r(r"/channels/(\d+)"), self._channel),
            ("GET", r(r"/channels/(\d+)/messages"), self._history),
            ("GET", r(r"/channels/(\d+)/messages/(\d+)"), self._message),
            ("POST", r(r"/channels/(\d+)/messages"), self._bot_says),
            ("GET", r(r"/guilds/(\d+)/channels"), self._guild_channels),
            ("GET", r(r"/guilds/(\d+)/threads/active"), self._active_threads),
            ("GET", r(r"/channels/(\d+)/threads/archived/public"), self._archived_threads),
            ("POST", r(r"/interactions/(\d+)/([^/]+)/callback"), self._callback),
            ("GET", r(r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)"), self._webhook_get),
            ("PATCH", r(r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)"), self._webhook_edit),
            ("DELETE", r(r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)"), self._no_content),
            ("POST", r(r"/webhooks/(\d+)/([^/]+)"), self._followup),
        ]

    async def _me(self, request: web.Request, body: Any) -> web.Response:
        return _json(self.bot_user)

    async def _application(self, request: web.Request, body: Any) -> web.Response:
        return _json(
            {
                "id": str(self.application_id),
                "name": "FRAMES test application",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.bot_user,
                "verify_key": "0" * 64,
                "flags": self.application_flags,
                "interactions_endpoint_url": None,
                "team": None,
            }
        )

    async def _gateway_bot(self, request: web.Request, body: Any) -> web.Response:
        return _json(
            {
                "url": self.gateway_url.rstrip("/"),
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _sync_commands(
        self, request: web.Request, body: Any, app_id: int, guild_id: int | None = None
    ) -> web.Response:
        stored = [
            {
                **command,
                "id": str(self.ids.next()),
                "application_id": str(app_id),
                "version": str(self.ids.next()),
                **({"guild_id": str(guild_id)} if guild_id else {}),
            }
            for command in body or []
        ]
        self.commands[guild_id] = stored
        return _json(stored)

    async def _list_commands(self, request: web.Request, body: Any, app_id: int) -> web.Response:
        return _json(self.commands.get(None, []))

    def _channel_payload(self, channel_id: int) -> Json | None:
        if channel_id not in self.channel_guild:
            return None
        guild_id = self.channel_guild[channel_id]
        if guild_id is None:
            user_id = next(u for u, c in self.dm_channels.items() if c == channel_id)
            return p.dm_channel(channel_id, self.users[user_id])
        guild = self.guilds[guild_id]
        return guild.channels.get(channel_id) or guild.threads.get(channel_id)

    async def _channel(self, request: web.Request, body: Any, channel_id: int) -> web.Response:
        payload = self._channel_payload(channel_id)
        if payload is None:
            return _json(p.error("Unknown Channel", 10003), 404)
        return _json(payload)

    async def _history(self, request: web.Request, body: Any, channel_id: int) -> web.Response:
        """Discord's order: newest first; with ``after``, the ``limit`` oldest after it."""
        if channel_id not in self.messages:
            return _json(p.error("Unknown Channel", 10003), 404)
        if self.history_page_delay:
            await asyncio.sleep(self.history_page_delay)
        limit = max(1, min(100, int(request.query.get("limit", 50))))
        ids = sorted(self.messages[channel_id])
        if "after" in request.query:
            after = int(request.query["after"])
            page = [i for i in ids if i > after][:limit]
        elif "before" in request.query:
            before = int(request.query["before"])
            page = [i for i in ids if i < before][-limit:]
        elif "around" in request.query:
            around = int(request.query["around"])
            older = [i for i in ids if i < around][-(limit // 2) :]
            newer = [i for i in ids if i >= around][: limit - len(older)]
            page = older + newer
        else:
            page = ids[-limit:]
        return _json([self.messages[channel_id][i] for i in reversed(page)])

    async def _message(
        self, request: web.Request, body: Any, channel_id: int, message_id: int
    ) -> web.Response:
        message = self.messages.get(channel_id, {}).get(message_id)
        if message is None:
            return _json(p.error("Unknown Message", 10008), 404)
        return _json(message)

    async def _bot_says(self, request: web.Request, body: Any, channel_id: int) -> web.Response:
        if channel_id not in self.channel_guild:
            return _json(p.error("Unknown Channel", 10003), 404)
        stored = self._store_message(channel_id, self.application_id, str(body.get("content", "")))
        stored.pop("id_int")
        await self.dispatch("MESSAGE_CREATE", stored, self.channel_guild[channel_id])
        return _json(stored)

    async def _guild_channels(self, request: web.Request, body: Any, guild_id: int) -> web.Response:
        guild = self.guilds.get(guild_id)
        if guild is None:
            return _json(p.error("Unknown Guild", 10004), 404)
        return _json(list(guild.channels.values()))

    async def _active_threads(self, request: web.Request, body: Any, guild_id: int) -> web.Response:
        guild = self.guilds.get(guild_id)
        if guild is None:
            return _json(p.error("Unknown Guild", 10004), 404)
        active = [t for t in guild.threads.values() if not t["thread_metadata"]["archived"]]
        return _json({"threads": active, "members": []})

    async def _archived_threads(
        self, request: web.Request, body: Any, channel_id: int
    ) -> web.Response:
        guild_id = self.channel_guild.get(channel_id)
        if guild_id is None:
            return _json(p.error("Unknown Channel", 10003), 404)
        archived = [
            t
            for t in self.guilds[guild_id].threads.values()
            if t["thread_metadata"]["archived"] and int(t["parent_id"]) == channel_id
        ]
        return _json({"threads": archived, "members": [], "has_more": False})

    async def _callback(
        self, request: web.Request, body: Any, interaction_id: int, token: str
    ) -> web.Response:
        interaction = self.interactions.get(interaction_id)
        if interaction is None or interaction["token"] != token:
            return _json(p.error("Unknown interaction", 10062), 404)
        self.interaction_responses.append(("callback", body))
        message = None
        if body.get("type") == 4:
            stored = self._store_message(
                int(interaction["channel_id"]),
                self.application_id,
                str(body.get("data", {}).get("content", "")),
            )
            stored.pop("id_int")
            stored["type"] = 20
            stored["interaction_metadata"] = {
                "id": str(interaction_id),
                "type": 2,
                "user": interaction["member"]["user"],
            }
            interaction["original"] = stored
            message = stored
        return _json(
            {
                "interaction": {
                    "id": str(interaction_id),
                    "type": 2,
                    "response_message_id": message["id"] if message else None,
                    "response_message_loading": body.get("type") == 5,
                    "response_message_ephemeral": bool(body.get("data", {}).get("flags", 0) & 64),
                },
                **({"resource": {"type": 4, "message": message}} if message else {}),
            }
        )

    def _interaction_by_token(self, token: str) -> Json | None:
        return next((i for i in self.interactions.values() if i["token"] == token), None)

    async def _webhook_get(
        self, request: web.Request, body: Any, app_id: int, token: str, message: str
    ) -> web.Response:
        interaction = self._interaction_by_token(token)
        if interaction is None or "original" not in interaction:
            return _json(p.error("Unknown Message", 10008), 404)
        return _json(interaction["original"])

    async def _webhook_edit(
        self, request: web.Request, body: Any, app_id: int, token: str, message: str
    ) -> web.Response:
        interaction = self._interaction_by_token(token)
        if interaction is None:
            return _json(p.error("Unknown Webhook", 10015), 404)
        self.interaction_responses.append((f"edit {message}", body))
        original = interaction.get("original") or self._store_message(
            int(interaction["channel_id"]), self.application_id, ""
        )
        original.pop("id_int", None)
        original["content"] = str(body.get("content", original["content"]))
        interaction["original"] = original
        return _json(original)

    async def _followup(
        self, request: web.Request, body: Any, app_id: int, token: str
    ) -> web.Response:
        interaction = self._interaction_by_token(token)
        if interaction is None:
            return _json(p.error("Unknown Webhook", 10015), 404)
        self.interaction_responses.append(("followup", body))
        stored = self._store_message(
            int(interaction["channel_id"]), self.application_id, str(body.get("content", ""))
        )
        stored.pop("id_int")
        return _json(stored)

    async def _no_content(self, request: web.Request, body: Any, *args: object) -> web.Response:
        return web.Response(status=204)


def _id_or_text(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value
