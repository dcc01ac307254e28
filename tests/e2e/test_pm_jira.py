"""Jira Cloud end to end: JQL search replaying the examples of Jira's v3 OpenAPI spec, and
captured ``jira:issue_updated`` deliveries (Zulip's fixtures) through the panel.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from core.db.engine import Database
from core.pm.signatures import encode_hs256, query_string_hash
from core.pm.sync import sync_connection
from tests.conftest import shared_data
from tests.fakes.pm_payloads import jira_reassignment
from tests.fakes.pm_setup import (
    add_connection,
    counts,
    dumps,
    fast_settings,
    fetch,
    jira_headers,
    pool_for,
    running_panel,
    seed_organisation,
    snapshot_tables,
)
from tests.fakes.vendor_servers import Fault, ReplayServer, load_json

SECRET = "jira-webhook-secret"
SITE = "your-domain.atlassian.net"
MIA = "jira:5b10a2844c20165700ede21g"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PM_TEST_TOKEN", "mia@example.com:api-token")
    monkeypatch.setenv("PM_TEST_WEBHOOK_SECRET", SECRET)


def spec_examples() -> dict:
    return load_json(shared_data("jira", "jira_selected_examples_from_openapi.json"))


def status_delivery() -> dict:
    return load_json(shared_data("jira", "zulip-webhook-fixtures", "issue_updated__status.json"))


async def test_jql_search_stores_exact_rows(db: Database, database_url: str, secrets: None) -> None:
    await seed_organisation(db)
    settings = fast_settings()
    pool = pool_for(settings)
    async with ReplayServer() as server:
        server.add_json(
            "GET", "/rest/api/3/search", spec_examples()["GET /rest/api/3/search -> 200"]
        )
        server.fail_first(
            "GET", "/rest/api/3/search", [Fault(429, {"Retry-After": "1"}), Fault(503)]
        )
        await add_connection(
            db,
            "jira",
            {"project": "ED", "search_path": "/rest/api/3/search"},
            base_url=server.base_url,
            connection_id="jira-ed",
        )
        await sync_connection(db, pool, "jira-ed")
        searches = server.requests_to("/rest/api/3/search")
        assert len(searches) == 3  # 429, 503, then the recording
        assert searches[-1].query["jql"] == 'project = "ED" ORDER BY updated ASC'
        assert searches[-1].query["expand"] == "changelog"
        assert searches[-1].headers["Authorization"].startswith("Basic ")
    await pool.aclose()

    issue, pr2, ed2, pr3 = (f"jira:{SITE}/{n}" for n in ("10002", "10004L", "10003", "10004"))
    tasks = await fetch(
        database_url,
        "SELECT id, title, status, assigned_to, url, description, metadata->>'key'"
        " FROM pm_tasks ORDER BY id",
    )
    assert tasks == [
        (
            issue,
            "ED-1",
            "unknown",
            [],
            f"https://{SITE}/browse/ED-1",
            "Main order flow broken",
            "ED-1",
        ),
        (ed2, ed2, "unknown", [], None, None, None),  # known only as ED-1's sub-task
        (pr2, pr2, "unknown", [], None, None, None),  # known only through its link to ED-1
    ]
    assert await fetch(
        database_url,
        "SELECT task_id, depends_on_task_id, kind FROM pm_task_dependencies ORDER BY 1, 2",
    ) == [
        (issue, pr3, "blocked_by"),  # inward "depends on" PR-3
        (ed2, issue, "subtask_of"),
        (pr2, issue, "blocked_by"),  # outward "is depended by" PR-2
    ]
    events = await fetch(
        database_url,
        "SELECT task_id, event_type, actor, subject, dedupe_key FROM pm_task_events ORDER BY 1, 2, 5",
    )
    assert events == [
        (issue, "commented", MIA, "10000", "comment:10000"),
        (issue, "dependency_added", None, pr3, f"dependency:blocked_by:{pr3}"),
        (ed2, "dependency_added", None, issue, f"dependency:subtask_of:{issue}"),
        (pr2, "dependency_added", None, issue, f"dependency:blocked_by:{issue}"),
    ]
    assert await fetch(
        database_url, "SELECT occurred_at FROM pm_task_events WHERE event_type = 'commented'"
    ) == [(dt.datetime(2021, 1, 17, 12, 34, tzinfo=dt.UTC),)]
    assert await fetch(
        database_url, "SELECT provider, external_id, display_name FROM identities"
    ) == [("jira", "5b10a2844c20165700ede21g", "Mia Krystof")]


async def test_webhooks_store_status_move_and_handoff_exactly(
    db: Database, database_url: str, secrets: None
) -> None:
    await seed_organisation(db)
    await add_connection(
        db,
        "jira",
        {"project": "ABC"},
        base_url="https://zulipp.atlassian.net",
        connection_id="jira-abc",
    )
    mia = spec_examples()["GET /rest/api/3/issue/{issueIdOrKey}/comment -> 200"]["comments"][0][
        "author"
    ]
    status = status_delivery()
    handoff = jira_reassignment(status, mia)
    async with running_panel(db, fast_settings(), database_url) as panel:
        for identifier, payload in (("d-status", status), ("d-handoff", handoff)):
            body = dumps(payload)
            assert await panel.post(
                "/webhooks/jira/jira-abc", body, jira_headers(SECRET, body, identifier)
            ) == (
                200,
                {"status": "queued"},
            )
        await panel.drained()

        james = "jira:99:b8d8a054-2e12-4839-bd5f-5f2b7c5f5e3a"
        task = "jira:zulipp.atlassian.net/10000"
        assert await fetch(
            database_url,
            "SELECT id, title, status, assigned_to, created_at, updated_at, url FROM pm_tasks",
        ) == [
            (
                task,
                "Fix That",
                "In Progress",
                [james],
                dt.datetime(2017, 1, 30, 17, 30, 41, 962000, tzinfo=dt.UTC),
                dt.datetime(2017, 1, 30, 17, 32, 14, 716000, tzinfo=dt.UTC),
                "https://zulipp.atlassian.net/browse/TEST-1",
            ),
        ]
        events = await fetch(
            database_url,
            "SELECT event_type, actor, from_value, to_value, occurred_at, dedupe_key FROM pm_task_events ORDER BY occurred_at",
        )
        assert events == [
            (
                "created",
                james,
                None,
                None,
                dt.datetime(2017, 1, 30, 17, 30, 41, 962000, tzinfo=dt.UTC),
                "created",
            ),
            (
                "status_changed",
                james,
                "To Do",
                "In Progress",
                dt.datetime(2017, 1, 30, 17, 32, 14, 721000, tzinfo=dt.UTC),
                "history:10000:status",
            ),
            (
                "reassigned",
                james,
                MIA,
                james,
                dt.datetime(2017, 1, 30, 17, 32, 15, 721000, tzinfo=dt.UTC),
                "history:10001:assignee",
            ),
        ]
        assert await fetch(
            database_url, "SELECT interface_type, from_entity, to_entity FROM pm_interfaces"
        ) == [("handoff", MIA, james)]

        # Redelivery changes nothing; forged, missing and JWT-without-the-secret get 401.
        before = await snapshot_tables(database_url)
        body = dumps(status)
        assert (
            await panel.post(
                "/webhooks/jira/jira-abc", body, jira_headers(SECRET, body, "d-status")
            )
        )[1] == {"status": "duplicate"}
        for headers in (
            jira_headers("wrong", body, "d-new"),
            {"Content-Type": "application/json"},
            {
                "Authorization": "JWT "
                + encode_hs256({"iss": "x", "exp": time.time() + 60}, "wrong")
            },
        ):
            assert (await panel.post("/webhooks/jira/jira-abc", body, headers))[0] == 401
        await panel.drained()
        assert await snapshot_tables(database_url) == before

        # A Connect app's JWT (HS256, qsh bound to this request) is accepted.
        path = "/webhooks/jira/jira-abc"
        claims = {
            "iss": "app",
            "iat": int(time.time()),
            "exp": int(time.time()) + 120,
            "qsh": query_string_hash("POST", path, {}),
        }
        changed = {**status, "timestamp": status["timestamp"] + 5}
        jwt_body = dumps(changed)
        headers = {
            "Content-Type": "application/json",
            "Authorization": "JWT " + encode_hs256(claims, SECRET),
            "X-Atlassian-Webhook-Identifier": "d-jwt",
        }
        assert (await panel.post(path, jwt_body, headers)) == (200, {"status": "queued"})
        await panel.drained()
        # same changelog id as the first delivery: the change is already stored
        assert (await counts(database_url))["pm_task_events"] == 3
