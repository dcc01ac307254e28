"""``frames bot``: run the Discord bot (capture), print its invite link, sync its commands."""

from __future__ import annotations

import click

from bot.commands.runtime import configure_logging, console, database, load_settings, run
from core.errors import ConfigurationError


def _shard_ids(value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a list like 0,1", param_hint="--shard-ids"
        ) from None


@click.group("bot", invoke_without_command=True)
@click.option(
    "--shard-count",
    type=click.IntRange(1),
    default=None,
    help="Total shards (default FRAMES_SHARD_COUNT, or Discord's recommendation).",
)
@click.option(
    "--shard-ids", default=None, help="Shards this process runs, e.g. 0,1 (needs --shard-count)."
)
@click.pass_context
def bot_group(ctx: click.Context, shard_count: int | None, shard_ids: str | None) -> None:
    """Run the Discord bot until SIGINT/SIGTERM; stopping drains the capture pipeline."""
    if ctx.invoked_subcommand is not None:
        return
    ids = _shard_ids(shard_ids)
    if ids and shard_count is None:
        raise click.UsageError("--shard-ids needs --shard-count")
    if ids and shard_count and any(not 0 <= i < shard_count for i in ids):
        raise click.BadParameter(f"shard ids must be below {shard_count}", param_hint="--shard-ids")
    settings = load_settings()
    configure_logging(settings)

    async def go() -> None:
        from bot.discord_bot import BotComponent
        from bot.scheduling import run_components

        async with database(settings) as db:
            component = BotComponent(settings, db, shard_count=shard_count, shard_ids=ids)
            console.print("Discord bot starting (Ctrl-C to stop).")
            await run_components([component])

    run(go())


@bot_group.command("invite-url")
@click.option(
    "--client-id", type=int, default=None, help="Application id (default: read from DISCORD_TOKEN)."
)
def invite_url_command(client_id: int | None) -> None:
    """Print the link that adds the bot to a server with the permissions FRAMES needs."""
    from bot.discord_bot import application_id_from_token, invite_url

    if client_id is None:
        settings = load_settings()
        if settings.discord_token is None:
            raise ConfigurationError("DISCORD_TOKEN is not set; pass --client-id")
        client_id = application_id_from_token(settings.discord_token.get_secret_value())
    console.print(invite_url(client_id), soft_wrap=True)


@click.command("sync-commands")
def sync_commands_command() -> None:
    """Publish the bot's application (slash) commands to Discord, once, from this process."""
    settings = load_settings()
    configure_logging(settings)

    async def go() -> int:
        from bot.discord_bot import sync_application_commands

        async with database(settings) as db:
            return await sync_application_commands(settings, db)

    console.print(f"Synced {run(go())} application commands.")
