"""The polling scheduler on real PostgreSQL: one leader cluster-wide (advisory lock), jobs
built from pm_connections, and failures or malformed payloads never stopping it.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from core.db.engine import Database
from core.pm.scheduler import PMScheduler
from tests.conftest import shared_data
from tests.fakes.pm_setup import add_connection, fast_settings, fetch, pool_for, seed_organisation
from tests.fakes.vendor_servers import ReplayServer, load_json

LOCK = 0x7E57  # a key of our own, so a scheduler elsewhere in the suite cannot interfere


async def wait_for(condition, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_only_one_scheduler_leads_and_a_standby_takes_over(db: Database) -> None:
    settings = fast_settings()
    first = PMScheduler(db, pool_for(settings), settings, lock_key=LOCK)
    second = PMScheduler(db, pool_for(settings), settings, lock_key=LOCK)
    await first.start()
    await asyncio.wait_for(first.is_leader.wait(), 5)
    await second.start()
    await asyncio.sleep(settings.lock_retry_seconds * 3)
    assert first.is_leader.is_set() and not second.is_leader.is_set()

    await first.stop()  # the leader goes away: its session lock is released
    await asyncio.wait_for(second.is_leader.wait(), 5)
    await second.stop()


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PM_TEST_TOKEN", "token")


async def test_jobs_come_from_connections_and_bad_payloads_never_stop_the_scheduler(
    db: Database, database_url: str, token: None, caplog: pytest.LogCaptureFixture
) -> None:
    """One connection serves a page with a malformed issue, another answers garbage; both
    keep being polled, the good issue is stored, and the log names tool, item and reason."""
    await seed_organisation(db)
    issue = load_json(shared_data("github", "webhooks-examples", "issues", "opened.1.json"))[
        "issue"
    ]
    broken = {k: v for k, v in issue.items() if k != "number"} | {"id": 999}
    settings = fast_settings()
    async with ReplayServer() as good, ReplayServer() as bad:
        good.add_json("GET", "/repos/Codertocat/Hello-World/issues", [broken, issue])
        good.add_json("GET", "/repos/Codertocat/Hello-World/issues/comments", [])
        bad.add_json(
            "GET", "/repos/Codertocat/Hello-World/issues", {"message": "this is not a list"}
        )
        await add_connection(
            db,
            "github",
            {"repo": "Codertocat/Hello-World"},
            base_url=good.base_url,
            connection_id="gh-good",
            interval=1,
        )
        await add_connection(
            db,
            "github",
            {"repo": "Codertocat/Hello-World"},
            base_url=bad.base_url,
            connection_id="gh-bad",
            interval=1,
        )
        scheduler = PMScheduler(db, pool_for(settings), settings, lock_key=LOCK)
        with caplog.at_level(logging.WARNING):
            await scheduler.start()
            try:
                await asyncio.wait_for(scheduler.is_leader.wait(), 5)
                assert {job.id for job in scheduler.jobs()} >= {"gh-good", "gh-bad"}
                for job in scheduler.jobs():
                    if job.id.startswith("gh-"):
                        assert job.max_instances == 1 and job.coalesce is True

                async def polled_twice() -> bool:
                    return (
                        scheduler.runs.get("gh-good", 0) >= 2
                        and scheduler.failures.get("gh-bad", 0) >= 2
                    )

                await wait_for(polled_twice)
            finally:
                await scheduler.stop()
                await scheduler.pool.aclose()
    assert await fetch(database_url, "SELECT id FROM pm_tasks") == [
        ("github:Codertocat/Hello-World#1",)
    ]
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "github: skipping malformed issue 999 on connection gh-good: issue has no 'number'" in m
        for m in messages
    )
    assert any("scheduled sync of connection gh-bad failed" in m for m in messages)
