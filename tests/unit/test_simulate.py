"""The program simulator: determinism, file formats, ground truth and planted failures."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.commands.simulate import simulate_command
from core.errors import ConfigurationError, FramesError
from core.simulate import (
    DIMENSIONS,
    SimulationConfig,
    planned_messages,
    planted_failures,
    simulate,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_GUILD = REPO.parent / "shared" / "data" / "discord-dce-example-guild"
ROSTER_HEADER = (
    "university_id,university_name,time_zone,consent_mode,program_id,program_name,project_id,"
    "project_name,team_id,team_name,discipline,person_id,display_name,role,email,"
    "graduation_term,joined_on,discord_user_id,discord_username,github_login,consent"
)
MESSAGE_TYPES = {"Default", "Reply", "ThreadCreated", "GuildMemberJoin", "ChannelPinnedMessage"}
MEDIUM = SimulationConfig(seed=7, universities=4, weeks=12)


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _exports(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    return [
        (p, json.loads(p.read_text(encoding="utf-8")))
        for p in sorted((root / "discord").rglob("*.json"))
    ]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("medium")
    simulate(MEDIUM, out)
    return out


# -- determinism ---------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes_in_any_folder_and_hash_seed(tmp_path: Path) -> None:
    config = SimulationConfig(seed=11, universities=2, weeks=3)
    simulate(config, tmp_path / "first")
    # A second interpreter with another str hash seed, writing to another folder.
    script = (
        "import datetime, sys; from pathlib import Path; from core.simulate import *; "
        "simulate(SimulationConfig(seed=11, universities=2, weeks=3), Path(sys.argv[1]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "elsewhere" / "second")],
        check=True,
        env=env,
        cwd=tmp_path,
    )
    first, second = _files(tmp_path / "first"), _files(tmp_path / "elsewhere" / "second")
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    assert simulate(config, tmp_path / "first").messages == planned_messages(config)
    assert _files(tmp_path / "first") == first  # re-running into the same folder


def test_other_seed_gives_other_program(tmp_path: Path) -> None:
    simulate(SimulationConfig(seed=1, universities=2, weeks=2, messages=300), tmp_path / "a")
    simulate(SimulationConfig(seed=2, universities=2, weeks=2, messages=300), tmp_path / "b")
    assert (tmp_path / "a" / "roster.csv").read_bytes() != (
        tmp_path / "b" / "roster.csv"
    ).read_bytes()


# -- DiscordChatExporter format ------------------------------------------------------------


@pytest.mark.skipif(
    not EXAMPLE_GUILD.is_dir(), reason=f"real DCE example not found at {EXAMPLE_GUILD}"
)
def test_exports_have_the_keys_of_real_dce_files(medium: Path) -> None:
    real_channel = json.loads(next(EXAMPLE_GUILD.glob("*.json")).read_text(encoding="utf-8"))
    real_thread = json.loads(next((EXAMPLE_GUILD / "_threads").glob("*.json")).read_text("utf-8"))
    real_messages = real_channel["messages"] + real_thread["messages"]
    plain_keys = next(list(m) for m in real_messages if "reference" not in m)
    reply_keys = next(list(m) for m in real_messages if m["type"] == "Reply")
    real_reference_keys = next(list(m["reference"]) for m in real_messages if "reference" in m)
    real_reaction = next(r for m in real_messages for r in m["reactions"])
    real_attachment = next(a for m in real_messages for a in m["attachments"])
    real_mention = next(x for m in real_messages for x in m["mentions"])

    exports = _exports(medium)
    channel = next(data for path, data in exports if "_threads" not in path.parts)
    thread = next(data for path, data in exports if "_threads" in path.parts)
    for ours, real in ((channel, real_channel), (thread, real_thread)):
        assert list(ours) == list(real)  # guild, channel, dateRange, messages, messageCount
        assert list(ours["guild"]) == list(real["guild"])
        assert list(ours["channel"]) == list(real["channel"])
        assert ours["channel"]["type"] == real["channel"]["type"]
        assert ours["dateRange"] == real["dateRange"]
    seen: set[str] = set()
    for _, data in exports:
        for message in data["messages"]:
            expected = reply_keys if "reference" in message else plain_keys
            assert list(message) == expected
            assert list(message["author"]) == list(real_messages[0]["author"])
            if "reference" in message:
                assert list(message["reference"]) == real_reference_keys
            for reaction in message["reactions"]:
                assert list(reaction)[:2] == list(real_reaction)
                assert list(reaction["emoji"]) == list(real_reaction["emoji"])
                assert reaction["count"] == len(reaction["users"])
                assert all(list(u) == list(message["author"]) for u in reaction["users"])
                seen.add("reactions")
            for attachment in message["attachments"]:
                assert list(attachment) == list(real_attachment)
                seen.add("attachments")
            for mention in message["mentions"]:
                assert list(mention) == list(real_mention)
                assert f"@{mention['nickname']}" in message["content"]
                seen.add("mentions")
            datetime.fromisoformat(message["timestamp"])
    assert seen == {"reactions", "attachments", "mentions"}


def test_export_invariants_and_ground_truth(medium: Path) -> None:
    manifest = json.loads((medium / "manifest.json").read_text(encoding="utf-8"))
    where: dict[str, tuple[str, int]] = {}  # message id -> (file, position)
    messages: dict[str, dict[str, Any]] = {}
    threads: dict[str, str] = {}  # thread id -> parent channel id
    created: dict[str, str] = {}  # thread id announced by ThreadCreated -> channel
    types: Counter[str] = Counter()
    for path, data in _exports(medium):
        assert data["messageCount"] == len(data["messages"])
        name = path.relative_to(medium).as_posix()
        assert name.endswith(f" [{data['channel']['id']}].json")
        if data["channel"]["type"] == "GuildPublicThread":
            threads[data["channel"]["id"]] = data["channel"]["categoryId"]
        previous = 0
        for position, message in enumerate(data["messages"]):
            message_id = message["id"]
            assert int(message_id) > previous, f"ids must increase within {name}"
            previous = int(message_id)
            assert message_id not in where, "message ids must be unique overall"
            where[message_id] = (name, position)
            messages[message_id] = message
            types[message["type"]] += 1
            if message["timestampEdited"]:
                assert message["timestampEdited"] > message["timestamp"]
            if message["type"] == "ThreadCreated":
                created[message["reference"]["channelId"]] = data["channel"]["id"]
            if message["type"] == "Reply":
                target = message["reference"]["messageId"]
                assert where[target][0] == name and where[target][1] < position
    assert set(types) == MESSAGE_TYPES
    assert created == threads  # every thread is announced in its parent channel, and exists
    for reply, answered in manifest["inferred_replies"].items():
        assert "reference" not in messages[reply]
        assert where[answered][0] == where[reply][0], "inferred reply in another channel"
        assert where[answered][1] < where[reply][1], "inferred reply before its question"
    assert not set(manifest["deleted_messages"]) & set(messages)
    counts = manifest["counts"]
    assert counts["messages"] == len(messages) == planned_messages(MEDIUM)
    assert counts["threads"] == len(threads)
    assert manifest["explicit_replies"] == types["Reply"]
    assert counts["edits"] == sum(1 for m in messages.values() if m["timestampEdited"])
    assert counts["deleted"] == len(manifest["deleted_messages"]) > 0
    assert sum(1 for m in messages.values() if m["isPinned"]) > 0
    assert any(m["author"]["isBot"] for m in messages.values())
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    on_disk = {
        name: hashlib.sha256(data).hexdigest()
        for name, data in _files(medium).items()
        if name != "manifest.json"
    }
    assert listed == on_disk and list(listed) == sorted(listed)


def test_messages_option_gives_exactly_that_many(tmp_path: Path) -> None:
    for total in (1, 2_345):
        config = SimulationConfig(seed=3, universities=3, weeks=5, messages=total)
        out = tmp_path / str(total)
        summary = simulate(config, out)
        written = sum(data["messageCount"] for _, data in _exports(out))
        assert written == summary.messages == planned_messages(config) == total


def test_progress_reports_every_message(tmp_path: Path) -> None:
    reported: list[int] = []
    summary = simulate(
        SimulationConfig(seed=5, universities=2, weeks=4), tmp_path, progress=reported.append
    )
    assert sum(reported) == summary.messages


# -- organisation tables, tasks and outcomes -----------------------------------------------


def test_roster_terms_and_channels_agree(medium: Path) -> None:
    assert (medium / "roster.csv").read_text(encoding="utf-8").splitlines()[0] == ROSTER_HEADER
    roster = _csv(medium / "roster.csv")
    terms = {(t["university_id"], t["term"]) for t in _csv(medium / "terms.csv")}
    channels = _csv(medium / "channels.csv")
    mapped_teams = {c["team_id"] for c in channels if c["team_id"]}
    assert all(bool(c["team_id"]) != bool(c["program_id"]) for c in channels)
    assert {p["team_id"] for p in roster if p["team_id"]} == mapped_teams
    for person in roster:
        assert person["role"] in {"student", "faculty", "external", "researcher"}
        assert person["consent"] in {"granted", "withdrawn", ""}
        assert person["email"] == person["email"].lower()
        if person["role"] == "student":
            assert (person["university_id"], person["graduation_term"]) in terms
        else:
            assert person["graduation_term"] == ""
    assert len({p["person_id"] for p in roster}) == len(roster)
    assert len({p["discord_user_id"] for p in roster}) == len(roster)
    assert {p["consent_mode"] for p in roster} == {"opt-in", "opt-out", "metadata-only"}
    assert any(not p["display_name"].isascii() for p in roster)


def test_planted_failures_cover_every_dimension_with_distinct_teams(medium: Path) -> None:
    planted = json.loads((medium / "manifest.json").read_text("utf-8"))["planted_failures"]
    assert planted == planted_failures(MEDIUM)
    assert sorted(p["dimension"] for p in planted) == sorted(DIMENSIONS)
    assert len({p["team_id"] for p in planted}) == len(DIMENSIONS)
    outcomes = _csv(medium / "outcomes.csv")
    failing = {o["team_id"] for o in outcomes if o["outcome_type"] == "failure_event"}
    assert {p["team_id"] for p in planted} <= failing


def test_tasks_are_namespaced_and_hand_over_work(medium: Path) -> None:
    tasks = json.loads((medium / "pm" / "tasks.json").read_text(encoding="utf-8"))
    ids = {task["id"] for task in tasks}
    assert len(ids) == len(tasks)
    event_types = Counter(e["type"] for task in tasks for e in task["events"])
    assert {"created", "assigned", "reassigned", "closed", "reopened", "dependency_added"} <= set(
        event_types
    )
    for task in tasks:
        assert task["id"].startswith(("github:", "jira:")) and task["tool"] in task["id"]
        assert task["status"] in {"open", "in_progress", "done", "closed"}
        assert set(task["depends_on"]) <= ids
        assert (task["closed_at"] is None) == (task["status"] not in ("done", "closed"))
        times = [e["at"] for e in task["events"]]
        assert times == sorted(times) and times[0] == task["created_at"]


# -- the planted failures are visible to reasonable measures -------------------------------


def _team_measures(out: Path) -> dict[str, dict[str, float]]:
    """Simple per-team measures of the six dimensions (see docs/simulator.md)."""
    roster = _csv(out / "roster.csv")
    team_of = {p["discord_user_id"]: p["team_id"] for p in roster}
    role = {p["discord_user_id"]: p["role"] for p in roster}
    channel_team = {c["channel_id"]: c["team_id"] for c in _csv(out / "channels.csv")}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    tasks = json.loads((out / "pm" / "tasks.json").read_text(encoding="utf-8"))
    messages: dict[str, dict[str, Any]] = {}
    for _, data in _exports(out):
        channel = data["channel"]
        parent = channel["categoryId"] if channel["type"] == "GuildPublicThread" else channel["id"]
        for m in data["messages"]:
            messages[m["id"]] = {
                "author": m["author"]["id"],
                "content": m["content"],
                "channel": parent,
                "at": datetime.fromisoformat(m["timestamp"]).timestamp(),
                "type": m["type"],
                "mentions": [x["id"] for x in m["mentions"]],
            }
    replies = list(_explicit_replies(out).items()) + list(manifest["inferred_replies"].items())
    teams = sorted({p["team_id"] for p in roster if p["team_id"]})

    def team(user: str) -> str:
        return team_of.get(user, "")

    answered_by: defaultdict[str, list[int]] = defaultdict(
        lambda: [0, 0]
    )  # team -> [by own students, all] for its questions
    first_answer: dict[str, float] = {}
    ties: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])  # team -> [internal, external]
    for reply, question in replies:
        asker, answerer = messages[question]["author"], messages[reply]["author"]
        if asker == answerer:
            continue
        if "?" in messages[question]["content"] and team(asker):
            answered_by[team(asker)][1] += 1
            answered_by[team(asker)][0] += (
                team(answerer) == team(asker) and role.get(answerer) == "student"
            )
            delay = messages[reply]["at"] - messages[question]["at"]
            first_answer[question] = min(first_answer.get(question, delay), delay)
    edges = [(messages[r]["author"], messages[q]["author"]) for r, q in replies]
    edges += [(m["author"], x) for m in messages.values() for x in m["mentions"]]
    for a, b in edges:
        if a != b and a in team_of and b in team_of:
            for t in {team(a), team(b)} - {""}:
                ties[t][team(a) != team(b)] += 1
    waits: defaultdict[str, list[float]] = defaultdict(list)
    cross: Counter[str] = Counter()
    weekly: defaultdict[str, Counter[int]] = defaultdict(Counter)
    start = min(m["at"] for m in messages.values())
    for message_id, m in messages.items():
        t = team(m["author"])
        if not t:
            continue
        if "?" in m["content"] and m["type"] in ("Default", "Reply"):
            waits[t].append(first_answer.get(message_id, float("inf")))
        if channel_team.get(m["channel"]) != t or any(team(x) != t for x in m["mentions"]):
            cross[t] += 1
        weekly[t][int((m["at"] - start) // (7 * 86400))] += 1
    by_team = defaultdict(list)
    for task in tasks:
        by_team[task["team_id"]].append(task)
    weeks = manifest["config"]["weeks"]
    third = max(1, weeks // 3)
    result: dict[str, dict[str, float]] = {d: {} for d in DIMENSIONS}
    for t in teams:
        own, total = answered_by[t]
        if total:
            result["actor_autonomy"][t] = own / total
        internal, external = ties[t]
        if internal + external:
            result["partitioned_knowledge"][t] = (external - internal) / (external + internal)
        team_tasks = by_team[t]
        churn = sum(
            1
            for task in team_tasks
            for e in task["events"]
            if e["type"] in ("reopened", "reassigned", "unassigned")
            or (e["type"] == "status_changed" and e["to"] == "open")
        )
        churn += sum(1 for task in team_tasks if not task["assignees"])
        result["emergent_outputs"][t] = churn / len(team_tasks)
        if waits[t]:
            result["temporal_misalignment"][t] = statistics.median(waits[t])
        own_ids = {task["id"] for task in team_tasks}
        done_cross = sum(
            1
            for task in team_tasks
            if task["status"] in ("done", "closed") and set(task["depends_on"]) - own_ids
        )
        result["integration_cost"][t] = cross[t] / (done_cross + 1)
        early = sum(weekly[t][w] for w in range(third))
        late = sum(weekly[t][w] for w in range(weeks - third, weeks))
        if early:
            result["coupling_degradation"][t] = late / early
    return result


def _explicit_replies(out: Path) -> dict[str, str]:
    return {
        m["id"]: m["reference"]["messageId"]
        for _, data in _exports(out)
        for m in data["messages"]
        if m["type"] == "Reply"
    }


LOWER_IS_WORSE = {"actor_autonomy", "partitioned_knowledge", "coupling_degradation"}


def test_each_planted_team_is_in_the_worst_quartile_of_its_dimension(medium: Path) -> None:
    measures = _team_measures(medium)
    planted = json.loads((medium / "manifest.json").read_text("utf-8"))["planted_failures"]
    for failure in planted:
        dimension, team_id = failure["dimension"], failure["team_id"]
        values = measures[dimension]
        worst_first = sorted(
            values, key=values.__getitem__, reverse=dimension not in LOWER_IS_WORSE
        )
        quartile = max(1, len(worst_first) // 4)
        assert team_id in worst_first[:quartile], (dimension, team_id, values[team_id])
    assert measures["partitioned_knowledge"][planted[1]["team_id"]] == -1.0


# -- configuration and CLI -----------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        SimulationConfig(universities=0),
        SimulationConfig(universities=27),
        SimulationConfig(weeks=0),
        SimulationConfig(messages=-1),
        SimulationConfig(seed="1"),  # type: ignore[arg-type]
    ],
)
def test_bad_config_is_refused(config: SimulationConfig, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        simulate(config, tmp_path)
    assert not any(tmp_path.iterdir())


def test_cli_help() -> None:
    result = CliRunner().invoke(simulate_command, ["--help"])
    assert result.exit_code == 0
    for option in ("--seed", "--universities", "--weeks", "--messages", "--out", "--force"):
        assert option in result.output


def test_cli_refuses_bad_universities_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(simulate_command, ["--universities", "0", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigurationError)
    assert "universities" in str(result.exception) and "\n" not in str(result.exception)


def test_cli_through_the_root_prints_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = pytest.importorskip("bot.cli")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["simulate", "--universities", "0", "--out", str(tmp_path)])
    assert exit_info.value.code != 0
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "universities" in error


def test_cli_writes_and_guards_a_non_empty_folder(tmp_path: Path) -> None:
    args = ["--universities", "2", "--weeks", "2", "--messages", "200", "--out", str(tmp_path)]
    runner = CliRunner()
    first = runner.invoke(simulate_command, args)
    assert first.exit_code == 0, first.output
    assert "200" in first.output and (tmp_path / "manifest.json").is_file()
    again = runner.invoke(simulate_command, args)
    assert isinstance(again.exception, FramesError) and "--force" in str(again.exception)
    (tmp_path / "notes.txt").write_text("keep me")
    forced = runner.invoke(simulate_command, [*args, "--force", "--seed", "2"])
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    listed = {entry["path"] for entry in manifest["files"]} | {"manifest.json", "notes.txt"}
    assert listed == set(_files(tmp_path))  # nothing left over from the first run
