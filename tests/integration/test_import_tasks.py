"""``frames import tasks``: the simulator's pm/tasks.json through the connector ingest path.

Every expectation is computed from the file itself: a task's events, assignees, dependencies
and reassignments, and the roster's GitHub logins and e-mails for the people they name.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.commands.import_tasks import tasks_command
from core.db.engine import Database, open_database
from core.errors import InputError
from core.org.roster import parse_roster
from core.org.service import import_roster
from core.pm import task_file
from core.pm.task_file import import_task_file, read_task_elements
from core.simulate import SimulationConfig, simulate
from tests.conftest import settings_for, truncate_all

WINDOW = dt.timedelta(hours=1)
CONFIGS = {
    # The program the brief names: two universities, GitHub only.
    "github": SimulationConfig(seed=3, universities=2, weeks=8),
    # A third university (tamu) tracks its work in Jira, which reports reassignments itself.
    "github+jira": SimulationConfig(seed=3, universities=3, weeks=12),
}
PM_TABLES = (
    "pm_connections",
    "pm_tasks",
    "pm_task_events",
    "pm_task_dependencies",
    "pm_interfaces",
    "identities",
    "identity_suggestions",
)


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def program(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(f"program-{request.param.replace('+', '-')}")
    simulate(CONFIGS[request.param], out)
    return out


def file_tasks(program: Path) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = json.loads((program / "pm" / "tasks.json").read_text())
    return tasks


def ref(task: dict[str, Any], name: str) -> str:
    return f"{task['tool']}:{name.lower()}"


def moment(text_value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text_value.replace("Z", "+00:00"))


def roster_people(program: Path) -> dict[str, str]:
    """Tool account reference → person id, from roster.csv's GitHub logins and e-mails."""
    people: dict[str, str] = {}
    with (program / "roster.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["github_login"]:
                people[f"github:{row['github_login'].lower()}"] = row["person_id"]
            if row["email"]:
                people[f"github:{row['email'].lower()}"] = row["person_id"]
                people[f"jira:{row['email'].lower()}"] = row["person_id"]
    return people


async def load_roster(db: Database, program: Path) -> None:
    async with db.transaction() as session:
        roster = parse_roster(program / "roster.csv", program / "terms.csv")
        await import_roster(session, roster, actor="test", source="roster.csv")


async def rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    async with db.sessions() as session:
        return [tuple(r) for r in (await session.execute(text(sql))).all()]


async def table_contents(db: Database) -> dict[str, list[str]]:
    return {
        table: sorted(repr(r) for r in await rows(db, f"SELECT * FROM {table}"))
        for table in PM_TABLES
    }


def expected_dependencies(tasks: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for task in tasks:
        for other in task["depends_on"]:
            found.add((task["id"], other, "blocked_by"))
        for event in task["events"]:
            if event["type"] == "dependency_added":
                found.add((task["id"], event["subject"], "blocked_by"))
        if task["parent_id"]:
            found.add((task["id"], task["parent_id"], "subtask_of"))
    return found


def expected_event_types(tasks: list[dict[str, Any]]) -> Counter[str]:
    """What the connectors store: GitHub reports a reassignment as an unassignment and an
    assignment (ingest adds the paired ``reassigned``); Jira reports one ``reassigned``.
    ``dependency_added`` comes once per dependency, the parent link included."""
    counts: Counter[str] = Counter()
    for task in tasks:
        for event in task["events"]:
            kind = event["type"]
            if kind == "dependency_added":
                continue
            counts[kind] += 1
            if kind == "reassigned" and task["tool"] == "github":
                counts["assigned"] += 1
                counts["unassigned"] += 1
    counts["dependency_added"] = len(expected_dependencies(tasks))
    return counts


def file_handoffs(tasks: list[dict[str, Any]]) -> set[tuple[str, str, str, dt.datetime]]:
    return {
        (task["id"], ref(task, e["from"]), ref(task, e["to"]), moment(e["at"]))
        for task in tasks
        for e in task["events"]
        if e["type"] == "reassigned"
    }


async def test_tasks_import_exactly_and_reimport_changes_nothing(
    db: Database, program: Path
) -> None:
    tasks = file_tasks(program)
    people = roster_people(program)
    await load_roster(db, program)

    report = await import_task_file(
        db, program / "pm" / "tasks.json", actor="test", handoff_window=WINDOW, batch_size=25
    )

    assert report.skipped == []
    assert (report.tasks_read, report.tasks, report.new_tasks) == (len(tasks),) * 3
    stored_tasks = await rows(
        db,
        "SELECT id, source, connection_id, team_id, university_id, title, status, assigned_to,"
        " created_at, completed_at, due_at, parent_id FROM pm_tasks",
    )
    assert sorted(stored_tasks) == sorted(
        (
            t["id"],
            t["tool"],
            t["connection_id"],
            t["team_id"],
            t["university_id"],
            t["title"],
            t["status"],
            [ref(t, a) for a in t["assignees"]],
            moment(t["created_at"]),
            moment(t["closed_at"]) if t["closed_at"] else None,
            moment(t["due_at"]) if t["due_at"] else None,
            t["parent_id"],
        )
        for t in tasks
    )

    event_types = Counter(
        dict(await rows(db, "SELECT event_type, count(*) FROM pm_task_events GROUP BY 1"))
    )
    assert event_types == expected_event_types(tasks)
    assert report.events == sum(event_types.values())

    dependencies = set(
        await rows(db, "SELECT task_id, depends_on_task_id, kind FROM pm_task_dependencies")
    )
    assert dependencies == expected_dependencies(tasks)
    assert report.dependencies == len(dependencies)

    # Every reassignment in the file is a handoff event and a handoff interface between the
    # two people the roster names, and nothing else is.
    handoffs = file_handoffs(tasks)
    assert handoffs, "the simulated program should reassign some tasks"
    stored_handoffs = await rows(
        db,
        "SELECT task_id, from_value, to_value, occurred_at FROM pm_task_events"
        " WHERE event_type = 'reassigned'",
    )
    assert sorted(stored_handoffs) == sorted(handoffs)
    assert report.handoffs == len(handoffs)
    handoff_edges = await rows(
        db,
        "SELECT task_id, from_entity, to_entity, timestamp, from_person_id, to_person_id"
        " FROM pm_interfaces WHERE interface_type = 'handoff'",
    )
    assert sorted(handoff_edges) == sorted(
        (task_id, old, new, at, people[old], people[new]) for task_id, old, new, at in handoffs
    )
    interfaces = await rows(db, "SELECT count(*) FROM pm_interfaces")
    assert report.interfaces == interfaces[0][0] > len(handoffs)

    # Assignees are accounts of the tool, linked to the roster's people.
    accounts = {
        f"{provider}:{external_id}": person
        for provider, external_id, person in await rows(
            db,
            "SELECT provider, external_id, person_id FROM identities"
            " WHERE provider IN ('github', 'jira')",
        )
    }
    named = {ref(t, a) for t in tasks for a in t["assignees"]}
    assert named <= accounts.keys()
    assert {r: accounts[r] for r in named} == {r: people[r] for r in named}

    connections = await rows(
        db, "SELECT id, tool, university_id, enabled, secret_ref, team_id FROM pm_connections"
    )
    assert sorted(connections) == sorted(
        {(t["connection_id"], t["tool"], t["university_id"], False, None, None) for t in tasks}
    )

    before = await table_contents(db)
    again = await import_task_file(
        db, program / "pm" / "tasks.json", actor="test", handoff_window=WINDOW
    )
    assert await table_contents(db) == before
    assert (again.tasks, again.new_tasks) == (len(tasks), 0)
    assert (again.events, again.handoffs, again.interfaces, again.dependencies) == (0, 0, 0, 0)
    assert again.connections_created == [] and again.skipped == []


async def test_malformed_tasks_are_reported_and_skipped(
    db: Database, program: Path, tmp_path: Path
) -> None:
    tasks = file_tasks(program)
    await load_roster(db, program)
    broken = json.loads(json.dumps(tasks))
    broken[1]["events"][0]["at"] = "yesterday"
    del broken[4]["title"]
    broken[6]["team_id"] = "nowhere-eps"
    broken[8]["depends_on"] = [broken[8]["id"]]
    broken.append(dict(broken[0]))  # the same task twice
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(broken, indent=2))

    report = await import_task_file(db, path, actor="test", handoff_window=WINDOW, batch_size=5)

    assert [(s.index, s.task_id, s.field) for s in report.skipped] == [
        (1, tasks[1]["id"], "events[0].at"),
        (4, tasks[4]["id"], "title"),
        (6, tasks[6]["id"], "team_id"),
        (8, tasks[8]["id"], "depends_on[0]"),
        (len(tasks), tasks[0]["id"], "id"),
    ]
    assert "import the roster first" in report.skipped[2].reason
    bad = {tasks[i]["id"] for i in (1, 4, 6, 8)}
    stored = {task_id for (task_id,) in await rows(db, "SELECT id FROM pm_tasks")}
    assert stored == {t["id"] for t in tasks} - bad
    assert report.tasks_read == len(broken) and report.tasks == len(tasks) - len(bad)


async def test_broken_json_names_the_line_and_keeps_what_came_before(
    db: Database, program: Path, tmp_path: Path
) -> None:
    tasks = file_tasks(program)
    await load_roster(db, program)
    whole = json.dumps(tasks[:6], indent=2)
    cut = whole.index(tasks[5]["id"])  # in the middle of the sixth task
    path = tmp_path / "tasks.json"
    path.write_text(whole[:cut])

    with pytest.raises(InputError) as caught:
        await import_task_file(db, path, actor="test", handoff_window=WINDOW, batch_size=2)

    problem = caught.value.problems[0]
    assert problem.line == whole[:cut].count("\n") + 1  # the cut is inside the id's string
    assert "task 5" in problem.reason and "5 valid tasks before it were imported" in problem.reason
    stored = {task_id for (task_id,) in await rows(db, "SELECT id FROM pm_tasks")}
    assert stored == {t["id"] for t in tasks[:5]}


def test_reader_streams_across_any_block_boundary(
    program: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = file_tasks(program)[:12]
    tasks[3]["title"] = "Zoë's ✓ brownout test, Søren's rail"  # multi-byte characters
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(tasks, indent=2, ensure_ascii=False), encoding="utf-8")
    # Blocks of 7 bytes split tokens, strings and multi-byte characters everywhere.
    monkeypatch.setattr(task_file, "READ_BLOCK_BYTES", 7)
    with path.open("rb") as stream:
        elements = list(read_task_elements(stream, str(path)))
    assert elements == list(enumerate(tasks))


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the command as `frames import tasks` runs it; the lead registers it there."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            tasks_command.main(list(args), prog_name="frames import tasks", standalone_mode=False)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def test_command_reports_counts_and_skips(program: Path, cli_env: str, tmp_path: Path) -> None:
    tasks = file_tasks(program)

    async def seed() -> None:
        await truncate_all(cli_env)
        async with open_database(settings_for(cli_env)) as db:
            await load_roster(db, program)

    asyncio.run(seed())
    broken = json.loads(json.dumps(tasks))
    broken[2]["status"] = "finished"
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(broken))

    code, stdout, _ = invoke(str(path), "--json")
    assert code == 0
    report = json.loads(stdout)
    assert report["tasks_read"] == len(tasks) and report["new_tasks"] == len(tasks) - 1
    assert report["handoffs"] == len(file_handoffs(tasks[:2] + tasks[3:]))
    assert [s["message"] for s in report["skipped"]] == [
        f"task 2 ({tasks[2]['id']}): status: "
        "Input should be 'open', 'in_progress', 'done' or 'closed'"
    ]

    code, stdout, _ = invoke(str(path))
    assert code == 0
    assert f"Imported {len(tasks) - 1:,} of {len(tasks):,} tasks (0 new): 0 events" in stdout
    assert "0 handoffs" in stdout and f"task 2 ({tasks[2]['id']}): status" in stdout
    asyncio.run(truncate_all(cli_env))
