"""One sync of one connection, and the pool that owns each connection's HTTP client."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from core.db.engine import Database
from core.db.models import PMConnection
from core.db.repositories.pm import PMRepository
from core.errors import NotFoundError
from core.pm.config import PMSettings
from core.pm.connectors import build_connector
from core.pm.connectors.base import BaseConnector
from core.pm.ingest import IngestReport, ingest
from core.pm.records import ConnectionInfo
from core.pm.secrets import SecretResolver

log = logging.getLogger(__name__)


def connection_info(connection: PMConnection, project_id: str | None) -> ConnectionInfo:
    return ConnectionInfo(
        id=connection.id,
        tool=connection.tool,
        scope=dict(connection.scope or {}),
        team_id=connection.team_id,
        university_id=connection.university_id,
        project_id=project_id,
        base_url=connection.base_url,
    )


async def load_connection(db: Database, connection_id: str) -> tuple[PMConnection, ConnectionInfo]:
    async with db.sessions() as session:
        repo = PMRepository(session)
        connection = await repo.get_connection(connection_id)
        if connection is None:
            raise NotFoundError(
                f"no project-tool connection {connection_id!r}; see `frames pm list`",
                connection=connection_id,
            )
        team = await repo.team(connection.team_id) if connection.team_id else None
        return connection, connection_info(connection, team.project_id if team else None)


class ConnectorPool:
    """One connector, hence one ``httpx.AsyncClient``, per connection, reused across syncs
    and webhook fetches; rebuilt when the connection's settings change; closed on shutdown."""

    def __init__(
        self,
        pm_settings: PMSettings,
        secrets: SecretResolver,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.pm_settings = pm_settings
        self.secrets = secrets
        self.transport = transport
        self._connectors: dict[str, tuple[tuple[Any, ...], BaseConnector]] = {}
        self._lock = asyncio.Lock()

    async def get(
        self, connection: PMConnection, info: ConnectionInfo, *, token_required: bool = True
    ) -> BaseConnector:
        """The connection's connector. Webhook processing passes ``token_required=False``:
        tools whose deliveries carry the whole change (GitHub, Jira, Trello) need no API
        token for them, and a fetch without one fails with the vendor's 401, logged."""
        secret = self.secrets.lookup(connection.secret_ref) if connection.secret_ref else None
        if secret is None and token_required:
            self.secrets.resolve(connection.secret_ref, f"connection {connection.id!r}")  # raises
        token = secret.get_secret_value() if secret is not None else ""
        fingerprint = (
            info.tool,
            info.base_url,
            repr(sorted(info.scope.items())),
            connection.secret_ref,
            bool(token),
        )
        async with self._lock:
            known = self._connectors.get(connection.id)
            if known is not None and known[0] == fingerprint:
                return known[1]
            connector = build_connector(info, token, self.pm_settings, transport=self.transport)
            self._connectors[connection.id] = (fingerprint, connector)
        if known is not None:
            await known[1].aclose()
        return connector

    async def aclose(self) -> None:
        async with self._lock:
            connectors = [c for _, c in self._connectors.values()]
            self._connectors.clear()
        for connector in connectors:
            await connector.aclose()


@dataclass
class SyncReport:
    connection_id: str
    pages: int = 0
    ingest: IngestReport = field(default_factory=IngestReport)
    cursor: dict[str, Any] = field(default_factory=dict)


async def sync_connection(
    db: Database,
    pool: ConnectorPool,
    connection_id: str,
    *,
    full: bool = False,
) -> SyncReport:
    """Poll one connection; each page is stored (with its cursor) in its own transaction."""
    connection, info = await load_connection(db, connection_id)
    connector = await pool.get(connection, info)
    window = dt.timedelta(seconds=pool.pm_settings.handoff_window_seconds)
    cursor: dict[str, Any] = {} if full else dict(connection.cursor or {})
    report = SyncReport(connection_id, cursor=cursor)
    log.info("%s: syncing connection %s%s", info.tool, connection_id, " (full)" if full else "")
    async for page in connector.poll(cursor, full=full):
        async with db.transaction() as session:
            stored = await ingest(session, info, page.changes, handoff_window=window)
            if page.cursor is not None:
                report.cursor = page.cursor
                await PMRepository(session).save_cursor(connection_id, page.cursor, None)
        report.pages += 1
        report.ingest.add(stored)
        for item_id, reason in page.changes.skipped:
            log.warning(
                "%s: connection %s skipped item %s: %s", info.tool, connection_id, item_id, reason
            )
    async with db.transaction() as session:
        await PMRepository(session).save_cursor(
            connection_id, report.cursor, dt.datetime.now(dt.UTC)
        )
    log.info(
        "%s: connection %s synced: %d pages, %d tasks, %d new events, %d new interfaces",
        info.tool,
        connection_id,
        report.pages,
        report.ingest.tasks,
        report.ingest.events,
        report.ingest.interfaces,
    )
    return report
