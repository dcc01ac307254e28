"""The FRAMES Discord bot: an ``AutoShardedBot`` that feeds the live capture pipeline.

``BotComponent`` owns the life cycle (pipeline, bot, command-sync lock) and is what
``frames bot`` and ``frames run`` start and stop; stopping closes the gateway first, then
drains the pipeline, so nothing accepted is lost.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import gc
import importlib
import logging
import pkgutil
from collections.abc import Callable
from typing import Any

import asyncpg
import discord
import yarl
from discord.ext import commands
from sqlalchemy.exc import SQLAlchemyError

import cogs
from core.capture.backfill import BackfillCoordinator
from core.capture.derive import LINK_MODE
from core.capture.pipeline import CapturePipeline
from core.db.engine import Database
from core.db.repositories.capture_live import CommandSyncLock
from core.errors import ConfigurationError
from core.links.model import shipped_model
from core.process import GC_THRESHOLD
from core.settings import Settings

log = logging.getLogger(__name__)

# What FRAMES needs in a guild: read channels and history, see reactions, answer commands.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    read_message_history=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    add_reactions=True,
    use_application_commands=True,
)


def frames_intents() -> discord.Intents:
    """Explicit intents; members and message content are privileged (enable them in the
    developer portal)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = True
    intents.members = True
    intents.guild_reactions = True
    intents.dm_messages = True
    intents.dm_reactions = True
    return intents


def point_discord_at(api_base: str, gateway_url: str) -> None:
    """Send discord.py's REST and gateway traffic to a Discord-compatible server.

    There is no supported option for this; it is the one sanctioned patch. ``Route.BASE`` is
    mutated (never replaced: the webhook module imported ``Route`` itself, and interaction
    responses go through it), and the default gateway is set because re-identifies and
    sharded connections use it.
    """
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def configure_endpoints(settings: Settings) -> None:
    if settings.discord_api_base and settings.discord_gateway_url:
        point_discord_at(settings.discord_api_base, settings.discord_gateway_url)
    elif settings.discord_api_base or settings.discord_gateway_url:
        raise ConfigurationError(
            "set both DISCORD_API_BASE and DISCORD_GATEWAY_URL (or neither, for discord.com)"
        )


def application_id_from_token(token: str) -> int:
    """A bot token's first part is its user id in base64 (the application id for bots)."""
    head = token.split(".", 1)[0]
    try:
        return int(base64.b64decode(head + "=" * (-len(head) % 4)).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ConfigurationError(
            "DISCORD_TOKEN does not look like a bot token; pass --client-id instead"
        ) from None


def invite_url(client_id: int) -> str:
    return discord.utils.oauth_url(
        client_id, permissions=INVITE_PERMISSIONS, scopes=("bot", "applications.commands")
    )


def extension_names() -> list[str]:
    """Every package under ``cogs/`` with a ``setup`` (found by walking, not listed)."""
    return sorted(
        f"{cogs.__name__}.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if module.ispkg and hasattr(importlib.import_module(f"cogs.{module.name}"), "setup")
    )


def _guarded(event: str, parser: Callable[[Any], None]) -> Callable[[Any], None]:
    def parse(data: Any) -> None:
        try:
            parser(data)
        except Exception:
            log.exception("gateway: malformed %s payload skipped", event)

    return parse


class FramesBot(commands.AutoShardedBot):
    def __init__(
        self,
        *,
        db: Database,
        pipeline: CapturePipeline,
        shard_count: int | None = None,
        shard_ids: list[int] | None = None,
        sync_commands: bool = True,
        **options: Any,
    ) -> None:
        if shard_ids is not None:
            options["shard_ids"] = shard_ids
        super().__init__(
            command_prefix=commands.when_mentioned,
            # FRAMES answers application (slash) commands only: no text help command, so
            # no message needs to be parsed for commands (see _message_objects_wanted).
            help_command=None,
            intents=frames_intents(),
            shard_count=shard_count,
            **options,
        )
        self.db = db
        self.pipeline = pipeline
        self.sync_commands = sync_commands
        self._sync_lock: CommandSyncLock | None = None
        self.backfill: BackfillCoordinator | None = None
        # Set by the capture cog: takes a guild MESSAGE_CREATE payload (see _message_create).
        self.message_payloads: Callable[[dict[str, Any]], bool] | None = None
        # discord.py's payload parsers are wrapped here and only here (the one place FRAMES
        # reaches into discord.py's internals):
        # - MESSAGE_CREATE may skip building a discord.Message (_message_create);
        # - an exception in a parser would end the connection; a malformed event must cost
        #   one event, not the capture;
        # - READY freezes checkpoints before any event of the new session is parsed.
        parsers = self._connection.parsers
        parsers["MESSAGE_CREATE"] = self._message_create(parsers["MESSAGE_CREATE"])
        for event, parser in list(parsers.items()):
            parsers[event] = _guarded(event, parser)
        parsers["READY"] = self._before(parsers["READY"], self._gateway_session_started)

    def _message_create(self, parser: Callable[[Any], None]) -> Callable[[Any], None]:
        """The capture hot path. Building a ``discord.Message`` (author, members, mentions,
        the message cache) costs more than the rest of capture together; when capture is the
        only reader, a guild message's payload goes straight to the cog. What is skipped then
        is discord.py's message cache and ``last_message_id``, which FRAMES never reads (edits,
        deletes and reactions are captured from raw events)."""

        def parse(data: Any) -> None:
            capture = self.message_payloads
            if (
                capture is None
                or "guild_id" not in data
                or self._message_objects_wanted()
                or not capture(data)
            ):
                parser(data)

        return parse

    def _message_objects_wanted(self) -> bool:
        """Whether anything besides capture reads ``discord.Message`` objects: prefix
        commands, a ``wait_for("message")``, or a second ``on_message`` listener."""
        return (
            bool(self.all_commands)
            or bool(self._listeners.get("message"))
            or len(self.extra_events.get("on_message", ())) > 1
        )

    @staticmethod
    def _before(parser: Callable[[Any], None], hook: Callable[[], None]) -> Callable[[Any], None]:
        def parse(data: Any) -> None:
            hook()
            parser(data)

        return parse

    def _gateway_session_started(self) -> None:
        # Synchronous, inside the READY parser: events of the new session are parsed after
        # it, so none of them can move a checkpoint past what the session may have missed.
        if self.backfill is not None:
            self.backfill.session_started()

    async def setup_hook(self) -> None:
        for name in extension_names():
            await self.load_extension(name)
        if self.sync_commands:
            lock = CommandSyncLock(self.db.engine)
            if await lock.acquire():
                self._sync_lock = lock
                synced = await self.tree.sync()
                log.info("synced %d application commands (lock held here)", len(synced))
            else:
                log.info("another process syncs application commands")

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("error in %s handler", event_method)

    async def close(self) -> None:
        await super().close()
        if self._sync_lock is not None:
            lock, self._sync_lock = self._sync_lock, None
            try:
                await lock.release()
            except (OSError, SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError):
                # The lock dies with its connection anyway (e.g. after a database restart).
                log.warning("command-sync lock release failed; it ends with its connection")


class BotComponent:
    """The bot as a ``frames run`` component: ``start`` returns once it is connecting."""

    name = "discord bot"

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        shard_count: int | None = None,
        shard_ids: list[int] | None = None,
        pipeline: CapturePipeline | None = None,
        backfill_sweep_seconds: float = 60.0,
        freeze_startup_objects: bool = True,
        **bot_options: Any,
    ) -> None:
        if settings.discord_token is None:
            raise ConfigurationError("DISCORD_TOKEN is not set; see `frames bot invite-url`")
        configure_endpoints(settings)
        self.token = settings.discord_token.get_secret_value()
        self.pipeline = pipeline or CapturePipeline(db)
        count = shard_count or settings.shard_count
        ids = shard_ids or settings.shard_ids
        if ids and count is None:
            raise ConfigurationError("--shard-ids needs --shard-count (FRAMES_SHARD_COUNT)")
        self.bot = FramesBot(
            db=db, pipeline=self.pipeline, shard_count=count, shard_ids=ids, **bot_options
        )
        from cogs.capture._history import DiscordHistory

        self.backfill = BackfillCoordinator(
            db, self.pipeline, DiscordHistory(self.bot), sweep_seconds=backfill_sweep_seconds
        )
        self.bot.backfill = self.backfill
        self.freeze_startup_objects = freeze_startup_objects
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.freeze_startup_objects:
            # What start-up loads (discord.py, SQLAlchemy, numpy, xgboost and the reply
            # model capture derives with: some 200,000 objects) lives as long as the
            # process. Frozen out of the cyclic garbage collector, it is no longer walked
            # by every full collection: under a message flood those walks took a third of
            # the bot's time and stopped the gateway reader for up to 0.4 s at a time.
            await asyncio.to_thread(shipped_model, LINK_MODE)
            gc.collect()
            gc.freeze()
            # A flood allocates thousands of short-lived objects per batch; the young
            # generation is collected as seldom as in imports (every 100,000 allocations
            # instead of 20,000 took the benchmark's flood from 13,300 to 14,000 msg/s).
            _, older, oldest = gc.get_threshold()
            gc.set_threshold(GC_THRESHOLD[0], older, oldest)
        # Until backfill has caught a stream up, live writes must not move its checkpoint.
        self.pipeline.hold_checkpoints()
        self.pipeline.start()
        self._task = asyncio.create_task(self.bot.start(self.token), name="discord-bot")
        self._task.add_done_callback(self._finished)

    @staticmethod
    def _finished(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("discord bot stopped", exc_info=task.exception())

    async def wait_until_ready(self) -> None:
        """Until every local shard is ready; raises if the bot failed first."""
        assert self._task is not None
        ready = asyncio.create_task(self.bot.wait_until_ready())
        done, _ = await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            self._task.result()  # raises the bot's failure
            raise RuntimeError("the discord bot stopped before it was ready")

    async def wait_closed(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Close the gateway (no new records), then drain the pipeline."""
        try:
            await self.bot.close()
            if self._task is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await self._task
            await self.backfill.stop()
        finally:
            await self.pipeline.stop()


async def sync_application_commands(settings: Settings, db: Database) -> int:
    """Log in over REST only, load the cogs and publish their commands (``frames
    sync-commands``); returns how many were synced."""
    if settings.discord_token is None:
        raise ConfigurationError("DISCORD_TOKEN is not set")
    configure_endpoints(settings)
    bot = FramesBot(db=db, pipeline=CapturePipeline(db), sync_commands=False)
    try:
        await bot.login(settings.discord_token.get_secret_value())  # runs setup_hook
        return len(await bot.tree.sync())
    finally:
        await bot.close()
