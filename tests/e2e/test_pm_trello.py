"""Trello end to end: captured webhook actions (Zulip's fixtures) through the panel, and the
board's action feed polled from a loopback server replaying those same actions.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.db.engine import Database
from core.pm.sync import sync_connection
from tests.conftest import shared_data
from tests.fakes.pm_payloads import TRELLO_SECOND_MEMBER, trello_member_action, trello_rest_views
from tests.fakes.pm_setup import (
    add_connection,
    dumps,
    fast_settings,
    fetch,
    pool_for,
    running_panel,
    seed_organisation,
    snapshot_tables,
    trello_headers,
)
from tests.fakes.vendor_servers import ReplayServer, load_json

SECRET = "trello-app-secret"
BOARD = "53582e2da0fac5676a714277"
CARD = "trello:53582e2da0fac5676a71427f"
NEW_CARD = "trello:53582e2da0fac5676a714280"
TOMASZ = "trello:53582e2da0fac5676a714276"
SECOND = f"trello:{TRELLO_SECOND_MEMBER['id']}"
HOOK = "/webhooks/trello/trello-welcome"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PM_TEST_TOKEN", "api-key:user-token")
    monkeypatch.setenv("PM_TEST_WEBHOOK_SECRET", SECRET)


def recorded(name: str) -> dict:
    return load_json(shared_data("trello", "zulip-webhook-fixtures", f"{name}.json"))


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_webhooks_store_exact_rows_including_handoff_and_list_move(
    db: Database, database_url: str, secrets: None
) -> None:
    await seed_organisation(db)
    await add_connection(
        db, "trello", {"board": BOARD}, base_url=None, connection_id="trello-welcome"
    )
    moved = recorded("changing_cards_list")
    deliveries = [
        moved,
        recorded("adding_comment_to_card"),
        trello_member_action(
            moved,
            "removeMemberFromCard",
            moved["action"]["memberCreator"],
            "572a340644ed9c7d8b6f9b01",
            "2016-05-04T17:41:00.000Z",
        ),
        trello_member_action(
            moved,
            "addMemberToCard",
            TRELLO_SECOND_MEMBER,
            "572a340644ed9c7d8b6f9b02",
            "2016-05-04T17:41:05.000Z",
        ),
    ]
    async with running_panel(db, fast_settings(), database_url) as panel:
        # Trello checks the callback with HEAD before it sends anything.
        async with panel.client.head(panel.url + HOOK) as head:
            assert head.status == 200
        for payload in deliveries:
            body = dumps(payload)
            assert await panel.post(HOOK, body, trello_headers(SECRET, body, panel.url + HOOK)) == (
                200,
                {"status": "queued"},
            )
        await panel.drained()

        assert await fetch(
            database_url, "SELECT id, title, status, url, created_at FROM pm_tasks ORDER BY id"
        ) == [
            (
                CARD,
                "This is a card.",
                "Intermediate",
                "https://trello.com/c/r33ylX2Z",
                utc("2014-04-23T21:18:37Z"),
            ),
            (
                NEW_CARD,
                "New card",
                "Basics",
                "https://trello.com/c/xPKXoSTQ",
                utc("2014-04-23T21:18:37Z"),
            ),
        ]
        events = await fetch(
            database_url,
            "SELECT task_id, event_type, actor, from_value, to_value, occurred_at, dedupe_key FROM pm_task_events"
            " ORDER BY occurred_at, event_type",
        )
        assert events == [
            (
                CARD,
                "status_changed",
                TOMASZ,
                "Basics",
                "Intermediate",
                utc("2016-05-04T17:40:22.254Z"),
                "action:572a340644ed9c7d8b6f9a30",
            ),
            (
                CARD,
                "unassigned",
                TOMASZ,
                TOMASZ,
                None,
                utc("2016-05-04T17:41:00Z"),
                "action:572a340644ed9c7d8b6f9b01",
            ),
            (
                CARD,
                "assigned",
                TOMASZ,
                None,
                SECOND,
                utc("2016-05-04T17:41:05Z"),
                "action:572a340644ed9c7d8b6f9b02",
            ),
            (
                CARD,
                "reassigned",
                TOMASZ,
                TOMASZ,
                SECOND,
                utc("2016-05-04T17:41:05Z"),
                f"reassigned:{TOMASZ}->{SECOND}:2016-05-04T17:41:05Z",
            ),
            (
                NEW_CARD,
                "commented",
                TOMASZ,
                None,
                None,
                utc("2016-05-13T11:40:42.612Z"),
                "action:5735bd3a54bf8d93c35149bb",
            ),
        ]
        assert await fetch(
            database_url,
            "SELECT interface_type, from_entity, to_entity FROM pm_interfaces ORDER BY 1",
        ) == [
            ("handoff", TOMASZ, SECOND),
            ("task_assignment", TOMASZ, SECOND),
        ]
        assert await fetch(
            database_url, "SELECT external_id, username, display_name FROM identities ORDER BY 1"
        ) == [
            ("53582e2da0fac5676a714276", "tomaszkolek", "TomaszKolek"),
            (TRELLO_SECOND_MEMBER["id"], "secondmember", "Second Member"),
        ]

        # Redelivery: acknowledged, nothing changes. Forged, missing, or signed for another
        # callback URL: 401, nothing stored.
        before = await snapshot_tables(database_url)
        body = dumps(deliveries[0])
        assert (await panel.post(HOOK, body, trello_headers(SECRET, body, panel.url + HOOK)))[
            1
        ] == {"status": "duplicate"}
        other = dumps(recorded("adding_comment_to_card") | {"model": {"id": BOARD}})
        for headers in (
            trello_headers("wrong-secret", other, panel.url + HOOK),
            {"Content-Type": "application/json"},
            trello_headers(SECRET, other, panel.url + "/webhooks/trello/another"),
        ):
            assert (await panel.post(HOOK, other, headers))[0] == 401
        await panel.drained()
        assert await snapshot_tables(database_url) == before


async def test_poll_and_webhook_for_the_same_action_store_one_event(
    db: Database, database_url: str, secrets: None
) -> None:
    await seed_organisation(db)
    actions = [
        recorded("adding_comment_to_card")["action"],
        recorded("changing_cards_list")["action"],
    ]  # newest first
    cards, lists, members = trello_rest_views(actions)
    pool = pool_for(fast_settings())
    async with ReplayServer() as server, running_panel(db, fast_settings(), database_url) as panel:
        server.add_json("GET", f"/boards/{BOARD}/actions", actions)
        server.add_json("GET", f"/boards/{BOARD}/lists", lists)
        server.add_json("GET", f"/boards/{BOARD}/members", members)
        server.add_json("GET", f"/boards/{BOARD}/cards/all", cards)
        await add_connection(
            db, "trello", {"board": BOARD}, base_url=server.base_url, connection_id="trello-welcome"
        )
        await sync_connection(db, pool, "trello-welcome")
        auth = server.requests[0].headers["Authorization"]
        assert auth == 'OAuth oauth_consumer_key="api-key", oauth_token="user-token"'
        body = dumps(recorded("adding_comment_to_card"))
        assert (await panel.post(HOOK, body, trello_headers(SECRET, body, panel.url + HOOK)))[
            0
        ] == 200
        await panel.drained()
        await sync_connection(db, pool, "trello-welcome")
        assert (
            server.requests_to(f"/boards/{BOARD}/actions")[-1].query["since"]
            == "5735bd3a54bf8d93c35149bb"
        )
    await pool.aclose()
    assert await fetch(
        database_url, "SELECT task_id, event_type, dedupe_key FROM pm_task_events ORDER BY 1"
    ) == [
        (CARD, "status_changed", "action:572a340644ed9c7d8b6f9a30"),
        (NEW_CARD, "commented", "action:5735bd3a54bf8d93c35149bb"),
    ]
    assert await fetch(database_url, "SELECT id, status FROM pm_tasks ORDER BY id") == [
        (CARD, "Intermediate"),
        (NEW_CARD, "Basics"),
    ]
