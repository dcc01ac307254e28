"""monday.com end to end: a loopback API that executes the connector's GraphQL against
monday's own schema, and board webhooks (challenge, then the URL token) through the panel.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.db.engine import Database
from core.pm.sync import sync_connection
from tests.conftest import shared_data
from tests.fakes.pm_monday import MondayServer, constructed_board, webhook_event
from tests.fakes.pm_setup import (
    add_connection,
    dumps,
    fast_settings,
    fetch,
    pool_for,
    running_panel,
    seed_organisation,
    snapshot_tables,
)

TOKEN = "url-token-7c1f0e3b9d"
ANA, BEN = "monday:501", "monday:502"
DRIVER, INTEGRATE = "monday:4001", "monday:4002"
PEOPLE = [
    {"id": "cpp-s001", "display_name": "Ana Ruiz", "role": "student", "email": "ANA@cpp.edu"},
    {"id": "cpp-s002", "display_name": "Ben Ortíz", "role": "student"},
]


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PM_TEST_TOKEN", "monday-api-token")
    monkeypatch.setenv("PM_TEST_WEBHOOK_SECRET", TOKEN)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def server() -> MondayServer:
    return MondayServer(shared_data("monday", "schema.graphql"), constructed_board())


EVENTS = [
    (DRIVER, "created", ANA, None, None, "created"),
    (DRIVER, "commented", ANA, None, None, "update:9001"),
    (DRIVER, "status_changed", ANA, "Working on it", "Stuck", "activity:a2"),
    (DRIVER, "assigned", ANA, None, BEN, "activity:a3:+502"),
    (DRIVER, "reassigned", ANA, ANA, BEN, f"reassigned:{ANA}->{BEN}:2026-01-12T10:00:00Z"),
    (DRIVER, "unassigned", ANA, ANA, None, "activity:a3:-501"),
    (INTEGRATE, "created", BEN, None, None, "created"),
    (INTEGRATE, "dependency_added", None, None, "blocked_by", f"dependency:blocked_by:{DRIVER}"),
]
EVENTS_QUERY = (
    "SELECT task_id, event_type, actor, from_value, to_value, dedupe_key FROM pm_task_events"
    " ORDER BY task_id, occurred_at, event_type"
)


async def test_poll_stores_exact_rows_and_links_identities(
    db: Database, database_url: str, secrets: None
) -> None:
    await seed_organisation(db, PEOPLE)
    pool = pool_for(fast_settings())
    async with server() as monday:
        await add_connection(
            db, "monday", {"board": "3001"}, base_url=monday.base_url, connection_id="monday-board"
        )
        await sync_connection(db, pool, "monday-board")
        assert not monday.errors  # every query validated and ran against monday's schema
        assert monday.requests[0]["headers"]["Authorization"] == "monday-api-token"
        assert monday.requests[0]["headers"]["API-Version"]
    await pool.aclose()

    assert await fetch(
        database_url,
        "SELECT id, title, status, assigned_to, created_at, updated_at, metadata->>'group' FROM pm_tasks ORDER BY id",
    ) == [
        (
            DRIVER,
            "Write ADCS driver",
            "Stuck",
            [BEN],
            utc("2026-01-10T09:00:00Z"),
            utc("2026-01-12T10:00:00Z"),
            "Sprint 1",
        ),
        (
            INTEGRATE,
            "Integrate ADCS with EPS",
            "Working on it",
            [],
            utc("2026-01-10T09:30:00Z"),
            utc("2026-01-10T09:30:00Z"),
            "Sprint 1",
        ),
    ]
    assert await fetch(database_url, EVENTS_QUERY) == EVENTS
    assert await fetch(
        database_url, "SELECT task_id, depends_on_task_id, kind FROM pm_task_dependencies"
    ) == [(INTEGRATE, DRIVER, "blocked_by")]
    assert await fetch(
        database_url,
        "SELECT interface_type, from_entity, to_entity, from_person_id, to_person_id FROM pm_interfaces ORDER BY 1",
    ) == [
        ("comment", ANA, BEN, "cpp-s001", None),
        ("handoff", ANA, BEN, "cpp-s001", None),
        ("task_assignment", ANA, BEN, "cpp-s001", None),
    ]
    # Ana's e-mail matches exactly: linked. Ben's name is close to a person's: a suggestion.
    assert await fetch(
        database_url, "SELECT external_id, person_id, link_source FROM identities ORDER BY 1"
    ) == [
        ("501", "cpp-s001", "email-match"),
        ("502", None, None),
    ]
    assert await fetch(
        database_url,
        "SELECT i.external_id, s.person_id, s.reason, s.score, s.status FROM identity_suggestions s"
        " JOIN identities i ON i.id = s.identity_id",
    ) == [("502", "cpp-s002", "similar-name", 0.99, "pending")]
    cursor = await fetch(database_url, "SELECT cursor->>'logs_since' FROM pm_connections")
    assert cursor == [("2026-01-12T10:00:00Z",)]


async def test_challenge_token_and_webhook_match_the_poll(
    db: Database, database_url: str, secrets: None
) -> None:
    await seed_organisation(db)
    pool = pool_for(fast_settings())
    hook = "/webhooks/monday/monday-board"
    async with server() as monday, running_panel(db, fast_settings(), database_url) as panel:
        await add_connection(
            db, "monday", {"board": "3001"}, base_url=monday.base_url, connection_id="monday-board"
        )
        challenge = dumps({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
        headers = {"Content-Type": "application/json"}
        assert await panel.post(f"{hook}?token={TOKEN}", challenge, headers) == (
            200,
            {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"},
        )
        body = dumps(webhook_event())
        for url in (hook, f"{hook}?token=guess", f"{hook}?token={TOKEN}x"):
            assert (await panel.post(url, challenge, headers))[0] == 401
            assert (await panel.post(url, body, headers))[0] == 401
        await panel.drained()
        assert await fetch(database_url, "SELECT count(*) FROM pm_webhook_deliveries") == [(0,)]

        assert await panel.post(f"{hook}?token={TOKEN}", body, headers) == (
            200,
            {"status": "queued"},
        )
        await panel.drained()
        assert not monday.errors
        driver_events = [e for e in EVENTS if e[0] == DRIVER]
        assert await fetch(database_url, EVENTS_QUERY) == driver_events

        before = await snapshot_tables(database_url)
        assert (await panel.post(f"{hook}?token={TOKEN}", body, headers))[1] == {
            "status": "duplicate"
        }
        await panel.drained()
        assert await snapshot_tables(database_url) == before

        await sync_connection(db, pool, "monday-board")
        assert await fetch(database_url, EVENTS_QUERY) == EVENTS
    await pool.aclose()
