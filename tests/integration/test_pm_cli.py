"""``frames pm``, ``frames panel``/``run`` as users run them, against real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.db.engine import open_database
from core.db.repositories.organisation import OrganisationRepository
from tests.cli import frames
from tests.conftest import REPO_ROOT, settings_for, shared_data, truncate_all
from tests.fakes.pm_setup import fetch
from tests.fakes.threaded import ServerThread
from tests.fakes.vendor_servers import ReplayServer, octokit_recordings

SECRET_VALUE = "ghp_s3cr3t-value-never-shown"


@pytest.fixture
def org(cli_env: str) -> str:
    async def seed() -> None:
        await truncate_all(cli_env)
        async with open_database(settings_for(cli_env)) as db, db.transaction() as session:
            repo = OrganisationRepository(session)
            await repo.upsert_universities([{"id": "cpp", "name": "Cal Poly Pomona"}])
            await repo.upsert_teams(
                [{"id": "cpp-flight", "name": "Flight", "university_id": "cpp"}]
            )
            await repo.upsert_people(
                [
                    {
                        "id": "cpp-s001",
                        "university_id": "cpp",
                        "display_name": "Ana Ruiz",
                        "role": "student",
                    }
                ]
            )

    asyncio.run(seed())
    return cli_env


def rows(url: str, query: str) -> list[tuple]:
    return asyncio.run(fetch(url, query))


def test_connect_list_and_sync_keep_secrets_out_of_output_and_database(
    org: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(
        f"# per-tool credentials\nGH_TOKEN='{SECRET_VALUE}'\n", encoding="utf-8"
    )
    monkeypatch.setenv("FRAMES_SECRETS_FILE", str(secrets_file))
    monkeypatch.setenv("FRAMES_PM_PAGE_SIZE", "3")
    server = ReplayServer(vendor_origins=("https://api.github.com",))
    for recording in octokit_recordings(
        shared_data("github", "octokit-fixtures", "paginate-issues", "normalized-fixture.json")
    ):
        server.add(recording)
    with ServerThread(server, server.start, server.close):
        result = frames(
            "pm",
            "connect",
            "github",
            "--team",
            "cpp-flight",
            "--repo",
            "octokit-fixture-org/paginate-issues",
            "--scope",
            "comments=false",
            "--base-url",
            server.base_url,
            "--token-ref",
            "GH_TOKEN",
            "--webhook-secret-ref",
            "GH_HOOK",
            "--interval",
            "300",
        )
        assert result.exit_code == 0, result.stderr
        assert "github-cpp-flight" in result.stdout and "GH_TOKEN (set)" in result.stdout
        assert "GH_HOOK (missing)" in result.stdout
        assert "/webhooks/github/github-cpp-flight" in result.stdout

        listing = frames("pm", "list")
        assert listing.exit_code == 0, listing.stderr
        assert "github-cpp-flight" in listing.stdout and "never" in listing.stdout

        synced = frames("pm", "sync", "github-cpp-flight")
        assert synced.exit_code == 0, synced.stderr
        assert "5 pages, 13 tasks, 13 new events" in synced.stdout
        assert server.requests[0].headers["Authorization"] == f"Bearer {SECRET_VALUE}"
        again = frames("pm", "sync", "github-cpp-flight", "--full")
        assert again.exit_code == 0 and "0 new events" in again.stdout

    for output in (result, listing, synced, again):
        assert SECRET_VALUE not in output.stdout + output.stderr
    stored = rows(
        org, "SELECT t::text FROM pm_connections t UNION ALL SELECT a::text FROM audit_logs a"
    )
    assert stored and not any(SECRET_VALUE in text for (text,) in stored)
    assert rows(org, "SELECT action FROM audit_logs ORDER BY id") == [
        ("pm.connect",),
        ("pm.sync",),
        ("pm.sync",),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("github", "--team", "cpp-flight", "--repo", "a/b", "--token-ref", "ghp_abc-123!"),
            "--token-ref must name an environment variable",
        ),
        (("github", "--team", "nope", "--repo", "a/b"), "no team 'nope'"),
        (("github", "--team", "cpp-flight"), "github needs scope repo="),
        (("jira", "--team", "cpp-flight", "--project", "SAT"), "jira needs --base-url"),
        (
            ("github", "--team", "cpp-flight", "--repo", "a/b", "--interval", "1"),
            "--interval must be at least",
        ),
    ],
)
def test_connect_refuses_bad_input_with_one_clear_line(
    org: str, args: tuple[str, ...], message: str
) -> None:
    result = frames("pm", "connect", *args)
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert rows(org, "SELECT count(*) FROM pm_connections") == [(0,)]


def test_sync_of_an_unknown_connection_is_a_clear_error(org: str) -> None:
    result = frames("pm", "sync", "nope")
    assert result.exit_code == 1
    assert "no project-tool connection 'nope'" in result.stderr


def test_identity_suggestions_accept_undo_reject_snooze_and_unlink(org: str) -> None:
    async def seed() -> None:
        async with open_database(settings_for(org)) as db, db.transaction() as session:
            await OrganisationRepository(session).link_identities(
                [
                    {
                        "provider": "github",
                        "external_id": "anar",
                        "username": "anar",
                        "display_name": "Ana Ruiz",
                    }
                ]
            )
            import datetime as dt

            from core.pm.identities import record_accounts
            from core.pm.records import Account

            await record_accounts(
                session,
                [Account("github", "anar", "anar", "Ana Ruiz")],
                "cpp",
                dt.datetime.now(dt.UTC),
            )

    asyncio.run(seed())
    listed = frames("pm", "identities", "suggestions")
    assert listed.exit_code == 0 and "similar-name" in listed.stdout and "cpp-s001" in listed.stdout
    (suggestion,) = rows(org, "SELECT id FROM identity_suggestions")
    sid = str(suggestion[0])
    link = "SELECT person_id, link_source FROM identities WHERE external_id = 'anar'"

    assert frames("pm", "identities", "accept", sid).exit_code == 0
    assert rows(org, link) == [("cpp-s001", "suggestion")]
    assert frames("pm", "identities", "reject", sid).exit_code == 1  # undo first
    assert frames("pm", "identities", "undo", sid).exit_code == 0
    assert rows(org, link) == [(None, None)]
    assert frames("pm", "identities", "snooze", sid, "--days", "3").exit_code == 0
    assert "No pending suggestions." in frames("pm", "identities", "suggestions").stdout
    assert frames("pm", "identities", "undo", sid).exit_code == 0
    assert frames("pm", "identities", "reject", sid).exit_code == 0
    assert rows(org, "SELECT status FROM identity_suggestions") == [("rejected",)]

    (identity,) = rows(org, "SELECT id FROM identities WHERE external_id = 'anar'")
    assert frames("pm", "identities", "unlink", str(identity[0])).exit_code == 0
    actions = [a for (a,) in rows(org, "SELECT action FROM audit_logs ORDER BY id")]
    assert actions == [
        "identities.suggestion.accepted",
        "identities.suggestion.undo",
        "identities.suggestion.snoozed",
        "identities.suggestion.undo",
        "identities.suggestion.rejected",
        "identities.unlink",
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("scheduler", ["false", "true"])
def test_frames_run_serves_healthz_and_stops_on_sigint(org: str, scheduler: str) -> None:
    port = free_port()
    env = {**os.environ, "FRAMES_RUN_SCHEDULER": scheduler, "FRAMES_PM_LOCK_RETRY_SECONDS": "0.5"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/healthz", timeout=2
                ) as response:
                    assert response.status == 200
                    assert b'"status": "ok"' in response.read()
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.communicate()[1]) from None
                time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    expected = "scheduler, panel" if scheduler == "true" else "Running panel;"
    assert expected in out
