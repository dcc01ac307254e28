"""``frames pm``: project-tool connections, manual syncs and identity-link decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from rich.table import Table

from bot.commands.runtime import actor, configure_logging, console, database, load_settings, run
from core.db.models import PMConnection
from core.db.models.pm import PM_TOOLS
from core.db.repositories.audit import AuditRepository
from core.db.repositories.pm import PMRepository
from core.errors import FramesError, NotFoundError
from core.pm.config import PMSettings
from core.pm.connections import ConnectionRequest, connect, secret_status
from core.pm.identities import (
    accept_suggestion,
    pending_suggestions,
    reject_suggestion,
    snooze_suggestion,
    undo_suggestion,
    unlink_account,
)
from core.pm.secrets import SecretResolver
from core.pm.sync import ConnectorPool, SyncReport, sync_connection


def _scope_pairs(values: tuple[str, ...]) -> dict[str, str]:
    scope: dict[str, str] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--scope")
        scope[key.strip()] = item.strip()
    return scope


@click.group("pm")
def pm_group() -> None:
    """Project-management tools: GitHub, Jira, Asana, Trello, Monday.com."""


@pm_group.command("connect")
@click.argument("tool", type=click.Choice(PM_TOOLS, case_sensitive=False))
@click.option("--team", "team_id", required=True, help="TEAM_ID whose work this tool holds.")
@click.option("--id", "connection_id", help="Connection id (default TOOL-TEAM).")
@click.option("--repo", help="GitHub: owner/name.")
@click.option(
    "--project", help="Jira project key, Asana project gid, or GitHub Projects v2 node id."
)
@click.option("--board", help="Trello or Monday.com board id.")
@click.option(
    "--scope",
    "scope_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="More scope settings (e.g. time_zone=Europe/Berlin, webhook_mode=app).",
)
@click.option(
    "--base-url", help="API base URL (Jira: https://SITE.atlassian.net; GitHub Enterprise)."
)
@click.option("--token-ref", help="Name of the env var / secrets-file key holding the API token.")
@click.option(
    "--webhook-secret-ref", help="Name of the env var / secrets-file key of the webhook secret."
)
@click.option("--interval", type=int, default=900, show_default=True, help="Seconds between polls.")
@click.option("--disabled", is_flag=True, help="Store the connection but do not poll it.")
def pm_connect(
    tool: str,
    team_id: str,
    connection_id: str | None,
    repo: str | None,
    project: str | None,
    board: str | None,
    scope_pairs: tuple[str, ...],
    base_url: str | None,
    token_ref: str | None,
    webhook_secret_ref: str | None,
    interval: int,
    disabled: bool,
) -> None:
    """Connect TOOL to a team (or update the connection). Secrets are given by reference:
    the database stores the variable's name, never its value."""
    scope: dict[str, Any] = _scope_pairs(scope_pairs)
    tool = tool.lower()
    if repo:
        scope["repo"] = repo
    if board:
        scope["board"] = board
    if project:
        scope["project"] = project
    settings = load_settings()
    configure_logging(settings)
    request = ConnectionRequest(
        tool=tool,
        team_id=team_id,
        scope=scope,
        connection_id=connection_id,
        base_url=base_url,
        secret_ref=token_ref,
        webhook_secret_ref=webhook_secret_ref,
        poll_interval_seconds=interval,
        enabled=not disabled,
    )

    async def go() -> PMConnection:
        async with database(settings) as db, db.transaction() as session:
            return await connect(session, request, actor=actor())

    connection = run(go())
    resolver = SecretResolver(settings.secrets_file)
    token = secret_status(resolver, connection.secret_ref)
    webhook = secret_status(resolver, connection.webhook_secret_ref)
    console.print(
        f"Connection [bold]{connection.id}[/bold]: {connection.tool} for team "
        f"{connection.team_id}, polled every {connection.poll_interval_seconds}s; "
        f"token {token}, webhook secret {webhook}."
    )
    console.print(f"Webhook URL path: /webhooks/{connection.tool}/{connection.id}")


@pm_group.command("list")
def pm_list() -> None:
    """List connections, their cursors and whether their secrets are set."""
    settings = load_settings()
    configure_logging(settings)

    async def go() -> tuple[list[PMConnection], dict[str, int]]:
        async with database(settings) as db, db.sessions() as session:
            repo = PMRepository(session)
            return await repo.connections(), await repo.delivery_counts()

    connections, deliveries = run(go())
    if not connections:
        raise FramesError("no project-tool connections yet; use `frames pm connect`")
    resolver = SecretResolver(settings.secrets_file)
    for c in connections:
        scope = ", ".join(f"{k}={v}" for k, v in sorted((c.scope or {}).items()))
        cursor = ", ".join(f"{k}={v}" for k, v in sorted((c.cursor or {}).items())) or "—"
        synced = c.last_synced_at.isoformat(timespec="seconds") if c.last_synced_at else "never"
        console.print(
            f"[bold]{c.id}[/bold]  {c.tool}  team {c.team_id or '—'}  every "
            f"{c.poll_interval_seconds}s  {'enabled' if c.enabled else 'disabled'}"
        )
        console.print(f"  scope: {scope}", soft_wrap=True)
        console.print(f"  last synced: {synced}; cursor: {cursor}", soft_wrap=True)
        console.print(
            f"  token: {secret_status(resolver, c.secret_ref)}; "
            f"webhook secret: {secret_status(resolver, c.webhook_secret_ref)}",
            soft_wrap=True,
        )
    if deliveries:
        console.print(
            "Webhook deliveries: " + ", ".join(f"{n} {s}" for s, n in sorted(deliveries.items()))
        )


@pm_group.command("sync")
@click.argument("connection_id", metavar="CONNECTION")
@click.option("--full", is_flag=True, help="Ignore the cursor and read everything again.")
def pm_sync(connection_id: str, full: bool) -> None:
    """Run one sync of CONNECTION now (idempotent: nothing is stored twice)."""
    settings = load_settings()
    configure_logging(settings)
    pm_settings = PMSettings()

    async def go() -> SyncReport:
        async with database(settings) as db:
            pool = ConnectorPool(pm_settings, SecretResolver(settings.secrets_file))
            try:
                report = await sync_connection(db, pool, connection_id, full=full)
            finally:
                await pool.aclose()
            async with db.transaction() as session:
                await AuditRepository(session).record(
                    actor(),
                    "pm.sync",
                    target_type="pm_connection",
                    target_id=connection_id,
                    details={"full": full, "pages": report.pages, "events": report.ingest.events},
                )
            return report

    report = run(go())
    stored = report.ingest
    console.print(
        f"Synced {connection_id}: {report.pages} pages, {stored.tasks} tasks, "
        f"{stored.events} new events, {stored.interfaces} new interfaces, "
        f"{stored.dependencies} new dependencies, "
        f"{stored.linked} accounts linked, {stored.suggested} link suggestions."
    )
    if stored.skipped:
        console.print(
            f"[yellow]Skipped {len(stored.skipped)} malformed items[/yellow] (see the log)."
        )


@pm_group.command("rearm")
@click.argument("connection_id", metavar="CONNECTION")
def pm_rearm(connection_id: str) -> None:
    """Forget CONNECTION's handshake secret (Asana) so the next handshake is accepted."""
    settings = load_settings()
    configure_logging(settings)

    async def go() -> bool:
        async with database(settings) as db, db.transaction() as session:
            repo = PMRepository(session)
            if await repo.get_connection(connection_id) is None:
                raise NotFoundError(f"no project-tool connection {connection_id!r}")
            cleared = await repo.clear_webhook_secret(connection_id)
            await AuditRepository(session).record(
                actor(), "pm.rearm", target_type="pm_connection", target_id=connection_id
            )
            return cleared

    cleared = run(go())
    console.print(
        f"{connection_id}: "
        f"{'handshake secret forgotten' if cleared else 'no handshake secret was armed'}; "
        "the next handshake will be accepted."
    )


# --- identity links ---------------------------------------------------------------------------
@pm_group.group("identities")
def identities_group() -> None:
    """Link tool accounts to people: review suggestions, undo links."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@identities_group.command("suggestions")
def identities_suggestions() -> None:
    """List pending link suggestions (snoozed ones return when due)."""
    settings = load_settings()
    configure_logging(settings)

    async def go() -> list[tuple[Any, Any, Any]]:
        async with database(settings) as db, db.sessions() as session:
            return await pending_suggestions(session, _now())

    rows = run(go())
    if not rows:
        console.print("No pending suggestions.")
        return
    table = Table()
    for column in ("id", "account", "name", "person", "person name", "reason", "score"):
        table.add_column(column)
    for suggestion, identity, person in rows:
        table.add_row(
            str(suggestion.id),
            f"{identity.provider}:{identity.username or identity.external_id}",
            identity.display_name or "",
            person.id,
            person.display_name,
            suggestion.reason,
            f"{suggestion.score:.2f}",
        )
    console.print(table)


def _decide(action: str, suggestion_id: int, days: int | None = None) -> None:
    settings = load_settings()
    configure_logging(settings)
    who = actor()

    async def go() -> None:
        async with database(settings) as db, db.transaction() as session:
            now = _now()
            if action == "accept":
                await accept_suggestion(session, suggestion_id, who, now)
            elif action == "reject":
                await reject_suggestion(session, suggestion_id, who, now)
            elif action == "snooze":
                await snooze_suggestion(
                    session, suggestion_id, now + dt.timedelta(days=days or 7), who, now
                )
            else:
                await undo_suggestion(session, suggestion_id, who, now)

    run(go())
    console.print(f"Suggestion {suggestion_id}: {action} done.")


@identities_group.command("accept")
@click.argument("suggestion_id", type=int)
def identities_accept(suggestion_id: int) -> None:
    """Accept a suggestion: link the account to the person."""
    _decide("accept", suggestion_id)


@identities_group.command("reject")
@click.argument("suggestion_id", type=int)
def identities_reject(suggestion_id: int) -> None:
    """Reject a suggestion; it is never proposed again."""
    _decide("reject", suggestion_id)


@identities_group.command("snooze")
@click.argument("suggestion_id", type=int)
@click.option("--days", type=click.IntRange(1, 365), default=7, show_default=True)
def identities_snooze(suggestion_id: int, days: int) -> None:
    """Hide a suggestion for a while."""
    _decide("snooze", suggestion_id, days)


@identities_group.command("undo")
@click.argument("suggestion_id", type=int)
def identities_undo(suggestion_id: int) -> None:
    """Undo a decision (an accepted link is removed again)."""
    _decide("undo", suggestion_id)


@identities_group.command("unlink")
@click.argument("identity_id", type=int)
def identities_unlink(identity_id: int) -> None:
    """Remove any link of an account (an e-mail match included; it is not re-made)."""
    settings = load_settings()
    configure_logging(settings)

    async def go() -> None:
        async with database(settings) as db, db.transaction() as session:
            await unlink_account(session, identity_id, actor(), _now())

    run(go())
    console.print(f"Account {identity_id} unlinked.")
