"""GitHub end to end: the connector polls a loopback server replaying @octokit/fixtures
recordings, and the panel receives @octokit/webhooks-examples deliveries, both into real
PostgreSQL; the rows produced are checked exactly.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from core.db.engine import Database
from core.pm.sync import sync_connection
from tests.conftest import shared_data
from tests.fakes.pm_setup import (
    add_connection,
    counts,
    dumps,
    fast_settings,
    fetch,
    github_headers,
    pool_for,
    running_panel,
    seed_organisation,
    snapshot_tables,
)
from tests.fakes.vendor_servers import Fault, ReplayServer, load_json, octokit_recordings

TOKEN = "0000000000000000000000000000000000000001"  # the token the recording was made with
SECRET = "github-webhook-secret"
PAGINATE = "octokit-fixture-org/paginate-issues"
HELLO = "Codertocat/Hello-World"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PM_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("PM_TEST_WEBHOOK_SECRET", SECRET)


def example(event: str, name: str) -> dict:
    return load_json(shared_data("github", "webhooks-examples", event, f"{name}.json"))


async def paginate_server() -> ReplayServer:
    server = ReplayServer(vendor_origins=("https://api.github.com",))
    for recording in octokit_recordings(
        shared_data("github", "octokit-fixtures", "paginate-issues", "normalized-fixture.json")
    ):
        server.add(recording)
    return server


async def test_poll_follows_link_pagination_and_stores_exact_rows(
    db: Database, database_url: str, secrets: None
) -> None:
    await seed_organisation(db)
    settings = fast_settings(page_size=3)
    pool = pool_for(settings)
    async with await paginate_server() as server:
        await add_connection(
            db,
            "github",
            {"repo": PAGINATE, "comments": "false"},
            base_url=server.base_url,
            connection_id="gh-paginate",
        )
        report = await sync_connection(db, pool, "gh-paginate")

        # Five pages, walked through the recorded Link headers.
        issue_requests = [r for r in server.requests if r.method == "GET"]
        assert [r.path for r in issue_requests] == [f"/repos/{PAGINATE}/issues"] + [
            "/repositories/1000/issues"
        ] * 4
        assert [r.query.get("page") for r in issue_requests] == [None, "2", "3", "4", "5"]
        first = issue_requests[0]
        assert first.query == {
            "state": "all",
            "sort": "updated",
            "direction": "asc",
            "per_page": "3",
        }
        assert first.headers["Authorization"] == f"Bearer {TOKEN}"
        assert not server.unmatched
        assert report.pages == 5

        tasks = await fetch(
            database_url,
            "SELECT id, title, status, assigned_to, source, connection_id, team_id, university_id, project_id, url,"
            " created_at, completed_at, metadata->>'author', raw->>'number' FROM pm_tasks ORDER BY (raw->>'number')::int",
        )
        created = dt.datetime(2017, 10, 10, 16, tzinfo=dt.UTC)
        assert tasks == [
            (
                f"github:{PAGINATE}#{n}",
                f"Test issue {n}",
                "open",
                [],
                "github",
                "gh-paginate",
                "cpp-flight",
                "cpp",
                "cpp-sat",
                f"https://github.com/{PAGINATE}/issues/{n}",
                created,
                None,
                "github:octokit-fixture-user-a",
                str(n),
            )
            for n in range(1, 14)
        ]
        events = await fetch(
            database_url,
            "SELECT task_id, event_type, actor, occurred_at, dedupe_key FROM pm_task_events ORDER BY id",
        )
        assert sorted(events) == sorted(
            (
                f"github:{PAGINATE}#{n}",
                "created",
                "github:octokit-fixture-user-a",
                created,
                "created",
            )
            for n in range(1, 14)
        )
        assert await fetch(
            database_url, "SELECT provider, external_id, username, person_id FROM identities"
        ) == [("github", "octokit-fixture-user-a", "octokit-fixture-user-a", None)]
        cursor = await fetch(
            database_url,
            "SELECT cursor->>'issues_since', last_synced_at IS NOT NULL FROM pm_connections",
        )
        assert cursor == [("2017-10-10T16:00:00Z", True)]

        # The next poll asks only for what changed since the cursor and stores nothing twice.
        before = await snapshot_tables(database_url)
        server.requests.clear()
        await sync_connection(db, pool, "gh-paginate")
        assert server.requests[0].query["since"] == "2017-10-10T16:00:00Z"
        after = await snapshot_tables(database_url)
        assert after == before
    await pool.aclose()


async def test_rate_limit_then_server_errors_end_with_complete_data_and_no_duplicates(
    db: Database, database_url: str, secrets: None
) -> None:
    await seed_organisation(db)
    settings = fast_settings(page_size=3)
    pool = pool_for(settings)
    async with await paginate_server() as server:
        server.fail_first(
            "GET",
            "/repositories/1000/issues",
            [Fault(429, {"Retry-After": "2"}), Fault(500), Fault(502), Fault(503)],
            query={"page": "3"},
        )
        await add_connection(
            db,
            "github",
            {"repo": PAGINATE, "comments": "false"},
            base_url=server.base_url,
            connection_id="gh-paginate",
        )
        report = await sync_connection(db, pool, "gh-paginate")
        page_three = [r for r in server.requests if r.query.get("page") == "3"]
        assert len(page_three) == 5  # four faults, then the recording
        connector = await pool.get(*(await _connection(db, "gh-paginate")))
        assert connector.client.waited_seconds >= 2 * settings.delay_scale  # honoured Retry-After
    assert report.pages == 5
    numbers = await fetch(database_url, "SELECT (raw->>'number')::int FROM pm_tasks ORDER BY 1")
    assert numbers == [(n,) for n in range(1, 14)]
    assert (await counts(database_url))["pm_task_events"] == 13
    await pool.aclose()


async def _connection(db: Database, connection_id: str):
    from core.pm.sync import load_connection

    return await load_connection(db, connection_id)


# --- webhooks ---------------------------------------------------------------------------------
HOOK = "/webhooks/github/gh-hello"
ISSUE = f"github:{HELLO}#1"
PULL = f"github:{HELLO}#2"
T = "2019-05-15T15:20:"


def at(clock: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2019-05-15T15:{clock}+00:00")


def deliveries() -> list[tuple[str, str, dict]]:
    """Recorded deliveries in the order GitHub sent them, plus the reassignment's second half."""
    octocat = example("pull_request", "assigned.1")["pull_request"]["requested_reviewers"][0]
    from tests.fakes.pm_payloads import github_assignment_of

    return [
        ("issues", "d-opened", example("issues", "opened.1")),
        ("issues", "d-assigned", example("issues", "assigned.1")),
        ("issue_comment", "d-comment", example("issue_comment", "created.1")),
        ("issues", "d-unassigned", example("issues", "unassigned.1")),
        (
            "issues",
            "d-reassigned",
            github_assignment_of(octocat, example("issues", "unassigned.1")),
        ),
        ("pull_request", "d-pr-opened", example("pull_request", "opened.2")),
        ("pull_request_review", "d-review", example("pull_request_review", "submitted.2")),
        ("pull_request", "d-pr-closed", example("pull_request", "closed.1")),
    ]


async def test_webhooks_store_exact_rows_including_handoff_and_status_moves(
    db: Database, database_url: str, secrets: None
) -> None:
    await seed_organisation(db)
    await add_connection(db, "github", {"repo": HELLO}, base_url=None, connection_id="gh-hello")
    async with running_panel(db, fast_settings(), database_url) as panel:
        for event, delivery, payload in deliveries():
            body = dumps(payload)
            status, answer = await panel.post(
                HOOK, body, github_headers(SECRET, body, event, delivery)
            )
            assert (status, answer) == (200, {"status": "queued"}), delivery
        await panel.drained()

        tasks = await fetch(
            database_url,
            "SELECT id, title, status, assigned_to, completed_at, updated_at, metadata->>'kind',"
            " metadata->'labels', metadata->>'milestone' FROM pm_tasks ORDER BY id",
        )
        assert tasks == [
            (
                ISSUE,
                "Spelling error in the README file",
                "open",
                ["github:octocat"],
                None,
                at("20:25"),
                "issue",
                '["bug"]',
                "v1.0",
            ),
            (
                PULL,
                "Update the README with new information.",
                "closed",
                ["github:Codertocat"],
                at("21:18"),
                at("21:18"),
                "pull_request",
                '["bug"]',
                None,
            ),
        ]
        events = await fetch(
            database_url,
            "SELECT task_id, event_type, actor, subject, from_value, to_value, occurred_at, dedupe_key"
            " FROM pm_task_events ORDER BY task_id, occurred_at, event_type",
        )
        coder, octo = "github:Codertocat", "github:octocat"
        assert events == [
            (ISSUE, "assigned", coder, coder, None, coder, at("20:18"), f"assigned:{coder}:{T}18Z"),
            (ISSUE, "created", coder, None, None, None, at("20:18"), "created"),
            (ISSUE, "commented", coder, "492700400", None, None, at("20:21"), "comment:492700400"),
            (ISSUE, "assigned", coder, octo, None, octo, at("20:25"), f"assigned:{octo}:{T}25Z"),
            (
                ISSUE,
                "reassigned",
                coder,
                "assignee",
                coder,
                octo,
                at("20:25"),
                f"reassigned:{coder}->{octo}:{T}25Z",
            ),
            (
                ISSUE,
                "unassigned",
                coder,
                coder,
                coder,
                None,
                at("20:25"),
                f"unassigned:{coder}:{T}25Z",
            ),
            (PULL, "assigned", None, coder, None, coder, at("20:33"), f"assigned:{coder}:{T}33Z"),
            (PULL, "created", coder, None, None, None, at("20:33"), "created"),
            (
                PULL,
                "reviewed",
                coder,
                "237895671",
                None,
                "commented",
                at("20:38"),
                "review:237895671",
            ),
            (
                PULL,
                "closed",
                coder,
                None,
                None,
                "closed",
                at("21:18"),
                "closed:2019-05-15T15:21:18Z",
            ),
        ]
        interfaces = await fetch(
            database_url,
            "SELECT i.task_id, i.interface_type, i.from_entity, i.to_entity, i.timestamp, e.event_type,"
            " i.team_id, i.university_id FROM pm_interfaces i JOIN pm_task_events e ON e.id = i.event_id"
            " ORDER BY i.interface_type",
        )
        assert interfaces == [
            (ISSUE, "handoff", coder, octo, at("20:25"), "reassigned", "cpp-flight", "cpp"),
            (ISSUE, "task_assignment", coder, octo, at("20:25"), "assigned", "cpp-flight", "cpp"),
        ]
        assert await fetch(database_url, "SELECT external_id FROM identities ORDER BY 1") == [
            ("Codertocat",),
            ("octocat",),
        ]
        assert await fetch(
            database_url, "SELECT status, count(*) FROM pm_webhook_deliveries GROUP BY 1"
        ) == [("processed", 8)]

        # A redelivery with a valid signature is acknowledged and changes nothing.
        before = await snapshot_tables(database_url)
        _, delivery, payload = deliveries()[3]
        body = dumps(payload)
        assert await panel.post(HOOK, body, github_headers(SECRET, body, "issues", delivery)) == (
            200,
            {"status": "duplicate"},
        )
        await panel.drained()
        assert await snapshot_tables(database_url) == before


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(
            lambda body: github_headers("not-the-secret", body, "issues", "d-x"), id="forged"
        ),
        pytest.param(
            lambda body: {
                k: v
                for k, v in github_headers(SECRET, body, "issues", "d-x").items()
                if k != "X-Hub-Signature-256"
            },
            id="missing",
        ),
        pytest.param(
            lambda body: github_headers(SECRET, body + b" ", "issues", "d-x"), id="body-changed"
        ),
        pytest.param(
            lambda body: {
                **github_headers(SECRET, body, "issues", "d-x"),
                "X-Hub-Signature-256": "sha1=abc",
            },
            id="wrong-scheme",
        ),
    ],
)
async def test_bad_signatures_get_401_and_store_nothing(
    db: Database, database_url: str, secrets: None, headers, caplog: pytest.LogCaptureFixture
) -> None:
    await seed_organisation(db)
    await add_connection(db, "github", {"repo": HELLO}, base_url=None, connection_id="gh-hello")
    payload = dumps(example("issues", "opened.1"))
    async with running_panel(db, fast_settings(), database_url) as panel:
        with caplog.at_level(logging.WARNING):
            status, _ = await panel.post(HOOK, payload, headers(payload))
        assert status == 401
        await panel.drained()
    assert all(n == 0 for n in (await counts(database_url)).values())
    assert any(
        "github webhook refused on connection gh-hello (delivery d-x)" in r.getMessage()
        for r in caplog.records
    )


async def test_a_poll_and_a_webhook_for_the_same_change_store_one_event(
    db: Database, database_url: str, secrets: None
) -> None:
    """Both orders: the REST list serves the issue and comment exactly as the webhooks carry them."""
    assigned = example("issues", "assigned.1")
    commented = example("issue_comment", "created.1")
    comment = {**commented["comment"]}
    comment.setdefault("issue_url", commented["issue"]["url"])
    await seed_organisation(db)
    async with ReplayServer() as server, running_panel(db, fast_settings(), database_url) as panel:
        server.add_json("GET", f"/repos/{HELLO}/issues", [assigned["issue"]])
        server.add_json("GET", f"/repos/{HELLO}/issues/comments", [comment])
        pool = pool_for(fast_settings())
        expected = [
            ("assigned", f"assigned:github:Codertocat:{T}18Z", "github:Codertocat"),
            ("commented", "comment:492700400", "github:Codertocat"),
            ("created", "created", "github:Codertocat"),
        ]
        query = "SELECT event_type, dedupe_key, actor FROM pm_task_events ORDER BY event_type"

        # poll first, then the webhooks
        await add_connection(
            db, "github", {"repo": HELLO}, base_url=server.base_url, connection_id="gh-hello"
        )
        await sync_connection(db, pool, "gh-hello")
        for event, delivery, payload in (
            ("issues", "a1", assigned),
            ("issue_comment", "c1", commented),
        ):
            body = dumps(payload)
            assert (await panel.post(HOOK, body, github_headers(SECRET, body, event, delivery)))[
                0
            ] == 200
        await panel.drained()
        assert await fetch(database_url, query) == expected

        # webhooks first, then the poll
        await fetch(database_url, "TRUNCATE pm_tasks, pm_webhook_deliveries CASCADE")
        for event, delivery, payload in (
            ("issues", "a2", assigned),
            ("issue_comment", "c2", commented),
        ):
            body = dumps(payload)
            assert (await panel.post(HOOK, body, github_headers(SECRET, body, event, delivery)))[
                0
            ] == 200
        await panel.drained()
        await sync_connection(db, pool, "gh-hello", full=True)
        assert await fetch(database_url, query) == expected
        await pool.aclose()


async def test_malformed_deliveries_are_logged_with_tool_delivery_and_reason(
    db: Database, database_url: str, secrets: None, caplog: pytest.LogCaptureFixture
) -> None:
    await seed_organisation(db)
    await add_connection(db, "github", {"repo": HELLO}, base_url=None, connection_id="gh-hello")
    broken = example("issues", "opened.1")
    del broken["issue"]["number"]
    async with running_panel(db, fast_settings(), database_url) as panel:
        with caplog.at_level(logging.WARNING):
            body = dumps(broken)
            assert (await panel.post(HOOK, body, github_headers(SECRET, body, "issues", "d-bad")))[
                0
            ] == 200
            not_json = b"{not json"
            assert (
                await panel.post(
                    HOOK, not_json, github_headers(SECRET, not_json, "issues", "d-garbage")
                )
            )[0] == 400
            good = dumps(example("issues", "opened.1"))
            assert (await panel.post(HOOK, good, github_headers(SECRET, good, "issues", "d-good")))[
                0
            ] == 200
            await panel.drained()
    assert await fetch(
        database_url, "SELECT delivery_id, status, error FROM pm_webhook_deliveries ORDER BY id"
    ) == [
        ("d-bad", "failed", "malformed: issue has no 'number'"),
        ("d-good", "processed", None),
    ]
    assert await fetch(database_url, "SELECT id FROM pm_tasks") == [(ISSUE,)]
    messages = [r.getMessage() for r in caplog.records]
    assert (
        "github delivery d-bad on connection gh-hello is malformed: issue has no 'number'"
        in messages
    )
    assert (
        "github webhook on connection gh-hello (delivery d-garbage) is malformed: body is not JSON"
        in messages
    )


# --- Projects v2 (GraphQL) ------------------------------------------------------------------
PROJECT = "PVT_kwDOAWcTxs07Gw"


def project_item(edited: dict, status: str) -> dict:
    """The GraphQL node for the item in the recorded ``projects_v2_item.edited`` delivery.
    No GraphQL recording exists, so the node is built from the delivery's own ids, times and
    creator, in the shape of GitHub's ProjectV2Item schema; only the status name is chosen."""
    item = edited["projects_v2_item"]
    login = {"login": item["creator"]["login"]}
    return {
        "id": item["node_id"],
        "updatedAt": item["updated_at"],
        "fieldValueByName": {"name": status, "updatedAt": item["updated_at"], "creator": login},
        "content": {
            "__typename": "DraftIssue",
            "id": item["content_node_id"],
            "title": "Draft from the project board",
            "body": "",
            "createdAt": item["created_at"],
            "updatedAt": item["updated_at"],
            "creator": login,
            "assignees": {"nodes": []},
        },
    }


async def test_projects_v2_status_by_webhook_then_poll_is_one_event(
    db: Database, database_url: str, secrets: None
) -> None:
    edited = example("projects_v2_item", "edited.1")
    node = project_item(edited, "In Progress")
    issue_item = {
        "id": "PVTI_issue1",
        "updatedAt": "2019-05-15T15:30:00Z",
        "fieldValueByName": {
            "name": "Todo",
            "updatedAt": "2019-05-15T15:30:00Z",
            "creator": {"login": "Codertocat"},
        },
        "content": {
            "__typename": "Issue",
            "number": 1,
            "repository": {"nameWithOwner": HELLO},
            "parent": {"number": 7, "repository": {"nameWithOwner": HELLO}},
        },
    }
    await seed_organisation(db)
    pool = pool_for(fast_settings())
    async with ReplayServer() as server, running_panel(db, fast_settings(), database_url) as panel:
        server.add_json(
            "POST",
            "/graphql",
            {"data": {"node": node}},
            match_json=lambda b: "item" in b["variables"],
        )
        server.add_json(
            "POST",
            "/graphql",
            {
                "data": {
                    "node": {
                        "items": {
                            "pageInfo": {"hasNextPage": False, "endCursor": None},
                            "nodes": [node, issue_item],
                        }
                    }
                }
            },
            match_json=lambda b: "project" in b["variables"],
        )
        server.add_json("GET", f"/repos/{HELLO}/issues", [])
        server.add_json("GET", f"/repos/{HELLO}/issues/comments", [])
        await add_connection(
            db,
            "github",
            {"repo": HELLO, "project": PROJECT},
            base_url=server.base_url,
            connection_id="gh-hello",
        )
        body = dumps(edited)
        assert (
            await panel.post(HOOK, body, github_headers(SECRET, body, "projects_v2_item", "d-item"))
        )[0] == 200
        await panel.drained()
        await sync_connection(db, pool, "gh-hello")
        graphql = [r for r in server.requests if r.path == "/graphql"]
        assert graphql[0].json["variables"] == {"item": node["id"], "field": "Status"}
        assert graphql[1].json["variables"]["project"] == PROJECT
    await pool.aclose()
    draft = f"github:{PROJECT}/draft/DI_lADOAWcTxs07G84AIjOy"
    assert await fetch(
        database_url, "SELECT id, status, metadata->>'project_status' FROM pm_tasks ORDER BY id"
    ) == [
        (f"github:{HELLO}#1", "unknown", "Todo"),  # known so far only through the project
        (draft, "draft", None),
    ]
    assert await fetch(
        database_url,
        "SELECT task_id, event_type, actor, to_value, dedupe_key FROM pm_task_events ORDER BY id",
    ) == [
        (draft, "created", "github:wolfy1339", None, "created"),
        (
            draft,
            "status_changed",
            "github:wolfy1339",
            "In Progress",
            f"project-status:{node['id']}:In Progress:2022-06-08T20:34:26Z",
        ),
        (
            f"github:{HELLO}#1",
            "status_changed",
            "github:Codertocat",
            "Todo",
            "project-status:PVTI_issue1:Todo:2019-05-15T15:30:00Z",
        ),
        (
            f"github:{HELLO}#1",
            "dependency_added",
            None,
            "subtask_of",
            f"dependency:subtask_of:github:{HELLO}#7",
        ),
    ]


async def test_a_burst_of_deliveries_is_queued_not_lost(
    db: Database, database_url: str, secrets: None
) -> None:
    """200 deliveries at once (the recorded comment, each with its own comment id and
    delivery id): every one is acknowledged, stored in the queue, and processed."""
    import asyncio
    import copy

    await seed_organisation(db)
    await add_connection(db, "github", {"repo": HELLO}, base_url=None, connection_id="gh-hello")
    recorded = example("issue_comment", "created.1")
    bodies = []
    for n in range(200):
        payload = copy.deepcopy(recorded)
        payload["comment"]["id"] = recorded["comment"]["id"] + n
        bodies.append((f"burst-{n}", dumps(payload)))
    async with running_panel(db, fast_settings(webhook_batch_size=25), database_url) as panel:
        answers = await asyncio.gather(
            *(
                panel.post(HOOK, body, github_headers(SECRET, body, "issue_comment", d))
                for d, body in bodies
            )
        )
        assert all(answer == (200, {"status": "queued"}) for answer in answers)
        await panel.drained(within=60)
    assert await fetch(
        database_url, "SELECT status, count(*) FROM pm_webhook_deliveries GROUP BY 1"
    ) == [("processed", 200)]
    assert await fetch(
        database_url, "SELECT count(*) FROM pm_task_events WHERE event_type = 'commented'"
    ) == [(200,)]


async def test_webhooks_need_no_api_token_when_the_delivery_carries_the_change(
    db: Database, database_url: str, secrets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PM_TEST_TOKEN")
    await seed_organisation(db)
    await add_connection(db, "github", {"repo": HELLO}, base_url=None, connection_id="gh-hello")
    async with running_panel(db, fast_settings(), database_url) as panel:
        body = dumps(example("issues", "opened.1"))
        assert (await panel.post(HOOK, body, github_headers(SECRET, body, "issues", "d1")))[
            0
        ] == 200
        await panel.drained()
    assert await fetch(database_url, "SELECT status FROM pm_webhook_deliveries") == [("processed",)]
    assert await fetch(database_url, "SELECT id FROM pm_tasks") == [(ISSUE,)]
