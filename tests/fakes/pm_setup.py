"""Shared set-up for the project-tool tests: an organisation, connections, a running panel."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import update

from core.db.engine import Database
from core.db.models import PMConnection
from core.db.repositories.organisation import OrganisationRepository
from core.pm.config import PMSettings
from core.pm.connections import ConnectionRequest, connect
from core.pm.secrets import SecretResolver
from core.pm.sync import ConnectorPool
from core.settings import Settings
from tests.sql import rows as fetch
from web_panel.app import create_app

UNIVERSITY = "cpp"
TEAM = "cpp-flight"


def fast_settings(**overrides: Any) -> PMSettings:
    """Real retry logic, with every wait scaled down a thousandfold."""
    values: dict[str, Any] = {
        "delay_scale": 0.001,
        "webhook_sweep_seconds": 0.2,
        "lock_retry_seconds": 0.2,
    }
    values.update(overrides)
    return PMSettings(**values)


async def seed_organisation(db: Database, people: list[dict[str, Any]] | None = None) -> None:
    async with db.transaction() as session:
        repo = OrganisationRepository(session)
        await repo.upsert_universities([{"id": UNIVERSITY, "name": "Cal Poly Pomona"}])
        await repo.upsert_projects(
            [{"id": "cpp-sat", "name": "Bronco Sat", "university_id": UNIVERSITY}]
        )
        await repo.upsert_teams(
            [
                {
                    "id": TEAM,
                    "name": "Flight software",
                    "university_id": UNIVERSITY,
                    "project_id": "cpp-sat",
                }
            ]
        )
        if people:
            await repo.upsert_people([{"university_id": UNIVERSITY, **p} for p in people])


async def add_connection(
    db: Database,
    tool: str,
    scope: dict[str, Any],
    *,
    base_url: str | None,
    connection_id: str,
    token_ref: str = "PM_TEST_TOKEN",
    webhook_ref: str | None = "PM_TEST_WEBHOOK_SECRET",
    interval: int = 900,
) -> None:
    async with db.transaction() as session:
        await connect(
            session,
            ConnectionRequest(
                tool=tool,
                team_id=TEAM,
                scope=scope,
                connection_id=connection_id,
                base_url=base_url,
                secret_ref=token_ref,
                webhook_secret_ref=webhook_ref,
                poll_interval_seconds=max(interval, 10),
            ),
            actor="test",
        )
        if interval < 10:
            # Below what `frames pm connect` allows, so scheduler tests run in seconds.
            await session.execute(
                update(PMConnection)
                .where(PMConnection.id == connection_id)
                .values(poll_interval_seconds=interval)
            )


def pool_for(settings: PMSettings) -> ConnectorPool:
    return ConnectorPool(settings, SecretResolver(None))


@dataclass
class Panel:
    url: str
    client: aiohttp.ClientSession
    app: web.Application
    database_url: str

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        async with self.client.post(self.url + path, data=body, headers=headers) as response:
            try:
                answer = await response.json()
            except (aiohttp.ContentTypeError, ValueError):
                answer = await response.text()
            return response.status, answer

    async def drained(self, within: float = 10.0) -> None:
        """Wait until the processor has handled every queued delivery."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            pending = await fetch(
                self.database_url,
                "SELECT count(*) FROM pm_webhook_deliveries WHERE status = 'pending'",
            )
            if pending[0][0] == 0:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{pending[0][0]} deliveries still pending after {within}s")
            await asyncio.sleep(0.05)


@asynccontextmanager
async def running_panel(
    db: Database, pm_settings: PMSettings, database_url: str
) -> AsyncIterator[Panel]:
    """The real panel app on a loopback port, and a client session to talk to it."""
    settings = Settings(DATABASE_URL=database_url)  # type: ignore[call-arg]
    app = create_app(settings, db, pm_settings=pm_settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as client:
            yield Panel(str(server.make_url("")).rstrip("/"), client, app, database_url)
    finally:
        await server.close()


async def counts(url: str) -> dict[str, int]:
    tables = (
        "pm_tasks",
        "pm_task_events",
        "pm_interfaces",
        "pm_task_dependencies",
        "pm_webhook_deliveries",
        "identities",
        "identity_suggestions",
    )
    connection = await asyncpg.connect(url)
    try:
        return {t: await connection.fetchval(f"SELECT count(*) FROM {t}") for t in tables}
    finally:
        await connection.close()


async def snapshot_tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every PM row (as text), to prove a redelivery changed nothing at all."""
    tables = (
        "pm_tasks",
        "pm_task_events",
        "pm_interfaces",
        "pm_task_dependencies",
        "identities",
        "identity_suggestions",
        "pm_webhook_deliveries",
    )
    connection = await asyncpg.connect(url)
    try:
        return {
            t: sorted(tuple(r) for r in await connection.fetch(f"SELECT t::text FROM {t} t"))
            for t in tables
        }
    finally:
        await connection.close()


# --- signing as the vendors do (independently of core.pm.signatures) -----------------------
def dumps(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def github_headers(secret: str, body: bytes, event: str, delivery: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={digest}",
    }


def jira_headers(secret: str, body: bytes, identifier: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": identifier,
        "X-Hub-Signature": f"sha256={digest}",
    }


def trello_headers(secret: str, body: bytes, callback_url: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body + callback_url.encode(), hashlib.sha1).digest()
    return {
        "Content-Type": "application/json",
        "X-Trello-Webhook": base64.b64encode(digest).decode(),
    }


def asana_headers(hook_secret: str, body: bytes) -> dict[str, str]:
    digest = hmac.new(hook_secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hook-Signature": digest}
