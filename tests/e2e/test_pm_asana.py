"""Asana end to end: the examples of Asana's OpenAPI spec replayed by a loopback server, and
webhooks through the panel (the X-Hook-Secret handshake, then X-Hook-Signature).
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.db.engine import Database
from core.pm.sync import sync_connection
from tests.conftest import shared_data
from tests.fakes.pm_payloads import asana_story
from tests.fakes.pm_setup import (
    add_connection,
    asana_headers,
    counts,
    dumps,
    fast_settings,
    fetch,
    pool_for,
    running_panel,
    seed_organisation,
    snapshot_tables,
)
from tests.fakes.vendor_servers import Fault, ReplayServer, load_json

GREG, OTHER = "asana:12345", "asana:1111"
TASK = "asana:12345"
HOOK = "/webhooks/asana/asana-stuff"
HOOK_SECRET = "secret-from-asana-handshake"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PM_TEST_TOKEN", "asana-personal-access-token")
    monkeypatch.setenv("PM_TEST_WEBHOOK_SECRET", "key-that-encrypts-the-hook-secret")


def examples() -> dict:
    return load_json(shared_data("asana", "asana_examples_assembled_from_oas.json"))


def serve(server: ReplayServer) -> None:
    spec = examples()
    stories = [
        spec["StoryResponse"],
        asana_story(
            spec["StoryResponse"],
            "12346",
            "unassigned",
            spec["UserCompact"],
            "2012-02-23T10:00:00.000Z",
        ),
        asana_story(
            spec["StoryResponse"],
            "12347",
            "assigned",
            spec["TaskResponse"]["created_by"],
            "2012-02-23T10:00:30.000Z",
        ),
    ]
    server.add_json(
        "GET",
        "/tasks",
        {"data": [spec["TaskResponse"]], "next_page": None},
        query={"project": "12345"},
    )
    server.add_json("GET", "/tasks/12345", {"data": spec["TaskResponse"]})
    server.add_json("GET", "/tasks/12345/stories", {"data": stories, "next_page": None})


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


EXPECTED_EVENTS = [
    ("created", OTHER, None, None, utc("2012-02-22T02:06:58.147Z"), "created"),
    ("commented", GREG, None, None, utc("2012-02-22T02:06:58.147Z"), "story:12345"),
    ("unassigned", GREG, GREG, None, utc("2012-02-23T10:00:00Z"), "story:12346"),
    ("assigned", GREG, None, OTHER, utc("2012-02-23T10:00:30Z"), "story:12347"),
    (
        "reassigned",
        GREG,
        GREG,
        OTHER,
        utc("2012-02-23T10:00:30Z"),
        f"reassigned:{GREG}->{OTHER}:2012-02-23T10:00:30Z",
    ),
]
EVENTS_QUERY = "SELECT event_type, actor, from_value, to_value, occurred_at, dedupe_key FROM pm_task_events ORDER BY occurred_at, id"


async def test_poll_with_backoff_stores_exact_rows(
    db: Database, database_url: str, secrets: None
) -> None:
    await seed_organisation(db)
    pool = pool_for(fast_settings())
    async with ReplayServer() as server:
        serve(server)
        server.fail_first(
            "GET", "/tasks/12345/stories", [Fault(429), Fault(500)]
        )  # no Retry-After: backoff
        await add_connection(
            db, "asana", {"project": "12345"}, base_url=server.base_url, connection_id="asana-stuff"
        )
        await sync_connection(db, pool, "asana-stuff")
        assert len(server.requests_to("/tasks/12345/stories")) == 3
        assert server.requests[0].headers["Authorization"] == "Bearer asana-personal-access-token"
    await pool.aclose()
    assert await fetch(
        database_url,
        "SELECT id, title, status, assigned_to, created_at, updated_at, due_at, completed_at, url, description,"
        " metadata->>'creator' FROM pm_tasks",
    ) == [
        (
            TASK,
            "Buy catnip",
            "Next Actions",
            [GREG],
            utc("2012-02-22T02:06:58.147Z"),
            utc("2012-02-22T02:06:58.147Z"),
            utc("2019-09-15T02:06:58.147Z"),
            None,
            "https://app.asana.com/1/12345/task/123456789",
            "Mittens really likes the stuff from Humboldt.",
            OTHER,
        ),
    ]
    assert await fetch(database_url, EVENTS_QUERY) == EXPECTED_EVENTS
    assert await fetch(
        database_url, "SELECT interface_type, from_entity, to_entity FROM pm_interfaces ORDER BY 1"
    ) == [
        (
            "collaboration",
            OTHER,
            GREG,
        ),  # the task still lists Greg as assignee (the recorded example)
        ("handoff", GREG, OTHER),
        ("task_assignment", GREG, OTHER),
    ]
    # The example task is its own parent and its own dependency: refused, nothing stored.
    assert (await counts(database_url))["pm_task_dependencies"] == 0


async def test_handshake_then_signed_events_fetch_the_task_and_match_the_poll(
    db: Database, database_url: str, secrets: None
) -> None:
    await seed_organisation(db)
    pool = pool_for(fast_settings())
    async with ReplayServer() as server, running_panel(db, fast_settings(), database_url) as panel:
        serve(server)
        await add_connection(
            db, "asana", {"project": "12345"}, base_url=server.base_url, connection_id="asana-stuff"
        )

        # Handshake: echo the secret; it is stored encrypted, never in plain text.
        async with panel.client.post(
            panel.url + HOOK, headers={"X-Hook-Secret": HOOK_SECRET}
        ) as answer:
            assert answer.status == 200 and answer.headers["X-Hook-Secret"] == HOOK_SECRET
        stored = await fetch(database_url, "SELECT encrypted_secret FROM pm_webhook_secrets")
        assert len(stored) == 1 and HOOK_SECRET not in stored[0][0]
        # A second handshake cannot re-arm the connection.
        async with panel.client.post(
            panel.url + HOOK, headers={"X-Hook-Secret": "attacker"}
        ) as answer:
            assert answer.status == 401

        body = dumps({"events": [examples()["EventResponse"]]})
        assert await panel.post(HOOK, body, asana_headers(HOOK_SECRET, body)) == (
            200,
            {"status": "queued"},
        )
        await panel.drained()
        assert await fetch(database_url, EVENTS_QUERY) == EXPECTED_EVENTS

        before = await snapshot_tables(database_url)
        assert (await panel.post(HOOK, body, asana_headers(HOOK_SECRET, body)))[1] == {
            "status": "duplicate"
        }
        for headers in (asana_headers("attacker", body), {"Content-Type": "application/json"}):
            assert (await panel.post(HOOK, body, headers))[0] == 401
        await panel.drained()
        assert await snapshot_tables(database_url) == before

        # The poll reads the same stories: nothing new.
        await sync_connection(db, pool, "asana-stuff")
        assert await fetch(database_url, EVENTS_QUERY) == EXPECTED_EVENTS
    await pool.aclose()
