"""Managing connections: validated creation and updates, listing with secret availability."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import PMConnection
from core.db.models.pm import PM_TOOLS
from core.db.repositories.audit import AuditRepository
from core.db.repositories.pm import PMRepository
from core.errors import ConfigurationError, InputError, InputProblem, NotFoundError
from core.pm.connectors.base import check_scope
from core.pm.secrets import SecretResolver, check_reference

CONNECTION_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
MIN_POLL_SECONDS = 10


@dataclass(frozen=True)
class ConnectionRequest:
    tool: str
    team_id: str
    scope: dict[str, Any]
    connection_id: str | None = None
    base_url: str | None = None
    secret_ref: str | None = None
    webhook_secret_ref: str | None = None
    poll_interval_seconds: int = 900
    enabled: bool = True


def _problem(reason: str) -> InputError:
    return InputError([InputProblem("pm connect", None, None, reason)])


async def connect(session: AsyncSession, request: ConnectionRequest, *, actor: str) -> PMConnection:
    """Create or update a connection (idempotent); secrets are stored as references only."""
    tool = request.tool.lower()
    if tool not in PM_TOOLS:
        raise _problem(f"unknown tool {request.tool!r}; choose one of {', '.join(PM_TOOLS)}")
    connection_id = (request.connection_id or f"{tool}-{request.team_id}").lower()
    if not CONNECTION_ID.match(connection_id):
        raise _problem(
            f"connection id {connection_id!r} must be lower-case letters, digits, '.', '_' or '-'"
        )
    if request.poll_interval_seconds < MIN_POLL_SECONDS:
        raise _problem(f"--interval must be at least {MIN_POLL_SECONDS} seconds")
    if request.secret_ref:
        check_reference(request.secret_ref, "--token-ref")
    if request.webhook_secret_ref:
        check_reference(request.webhook_secret_ref, "--webhook-secret-ref")
    if tool == "jira" and not request.base_url:
        raise _problem("jira needs --base-url (https://your-site.atlassian.net)")
    if request.base_url and not re.match(r"^https?://[^\s/]+", request.base_url):
        raise _problem(f"--base-url {request.base_url!r} is not an http(s) URL")
    try:
        check_scope(tool, request.scope, connection_id)
    except ConfigurationError as exc:
        raise _problem(str(exc)) from None

    repo = PMRepository(session)
    team = await repo.team(request.team_id)
    if team is None:
        raise NotFoundError(
            f"no team {request.team_id!r}; see `frames org show`", team=request.team_id
        )
    existing = await repo.get_connection(connection_id)
    if existing is not None and existing.tool != tool:
        raise _problem(f"connection {connection_id!r} already exists for {existing.tool}")
    await repo.upsert_connection(
        {
            "id": connection_id,
            "tool": tool,
            "team_id": team.id,
            "university_id": team.university_id,
            "scope": request.scope,
            "base_url": request.base_url.rstrip("/") if request.base_url else None,
            "secret_ref": request.secret_ref,
            "webhook_secret_ref": request.webhook_secret_ref,
            "poll_interval_seconds": request.poll_interval_seconds,
            "enabled": request.enabled,
            "cursor": existing.cursor if existing is not None else {},
        }
    )
    await AuditRepository(session).record(
        actor,
        "pm.connect" if existing is None else "pm.update",
        target_type="pm_connection",
        target_id=connection_id,
        university_id=team.university_id,
        details={
            "tool": tool,
            "team": team.id,
            "scope": request.scope,
            "secret_ref": request.secret_ref,
            "webhook_secret_ref": request.webhook_secret_ref,
        },
    )
    connection = await repo.get_connection(connection_id)
    assert connection is not None
    await session.refresh(connection)
    return connection


def secret_status(resolver: SecretResolver, ref: str | None) -> str:
    """'NAME (set)' or 'NAME (missing)': whether a reference resolves, never its value."""
    if not ref:
        return "—"
    try:
        found = resolver.lookup(ref) is not None
    except ConfigurationError:
        found = False
    return f"{ref} ({'set' if found else 'missing'})"
