"""``frames links``: JSONL in and out, bad lines, and scoring the way the paper counts."""

from __future__ import annotations

import json
from pathlib import Path

from core.links.evaluate import score_links
from core.links.jsonl import read_links, read_messages
from tests.cli import frames

GOOD = [
    {"id": "a", "author": "sam", "timestamp": "2026-09-01T18:00:00Z", "content": "radio dead?"},
    {
        "id": "b",
        "author": "lee",
        "timestamp": "2026-09-01T18:01:00+00:00",
        "content": "sam: check the 3.3 V rail",
        "reply_to": None,
        "mentions": [],
    },
    {
        "id": "c",
        "author": "sam",
        "timestamp": "2026-09-01T18:02:00",
        "content": "that was it",
        "reply_to": "b",
        "mentions": ["lee"],
    },
]


def write_lines(path: Path, lines: list[object]) -> Path:
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
        encoding="utf-8",
    )
    return path


def test_score_counts_unordered_pairs_self_links_and_only_gold_messages() -> None:
    gold = {"b": ["a"], "c": ["b", "a"], "d": ["d"]}
    predicted = {
        "b": ["a"],  # right
        "c": ["b"],  # one of two
        "d": ["c"],  # wrong: d starts a conversation
        "x": ["x"],  # not in gold: ignored
    }
    score = score_links(gold, predicted)
    assert (score.gold_links, score.predicted_links, score.matched) == (4, 3, 2)
    assert score.precision == 2 / 3
    assert score.recall == 2 / 4
    assert score.messages_without_prediction == 0
    # A pair is unordered: a later message claiming an earlier one is the same link.
    assert score_links({"b": ["a"]}, {"b": ["a"], "a": ["b"]}).matched == 1
    missing = score_links({"b": ["a"], "c": ["c"]}, {"b": ["a"]})
    assert (missing.recall, missing.messages_without_prediction) == (0.5, 1)


def test_bad_lines_are_reported_with_their_line_number_and_the_rest_read(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "messages.jsonl",
        [
            GOOD[0],
            "{not json",
            {**GOOD[1], "timestamp": "yesterday"},
            {**GOOD[1], "author": ""},
            [1, 2],
            {**GOOD[1], "mentions": "lee"},
            GOOD[1],
            GOOD[0],
            GOOD[2],
        ],
    )
    result = read_messages(path)
    assert [message.id for message in result.messages] == ["a", "b", "c"]
    problems = {problem.line: problem for problem in result.problems}
    assert sorted(problems) == [2, 3, 4, 5, 6, 8]
    assert problems[3].column == "timestamp"
    assert problems[4].column == "author"
    assert problems[6].column == "mentions"
    assert "duplicate id" in problems[8].reason
    naive = result.messages[2].timestamp
    assert naive.utcoffset() is not None  # a time without a zone is read as UTC


def test_links_command_writes_one_line_per_message(tmp_path: Path) -> None:
    messages = write_lines(tmp_path / "messages.jsonl", [GOOD[0], "oops", *GOOD[1:]])
    output = tmp_path / "links.jsonl"
    result = frames("links", "--input", str(messages), "--output", str(output), "--fast")
    assert result.exit_code == 0, result.stderr
    assert "line 2" in result.stderr
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["a", "b", "c"]
    assert all(set(line) == {"id", "links_to", "confidence"} for line in lines)
    assert lines[0]["links_to"] == ["a"]
    assert lines[1]["links_to"] == ["a"]
    assert lines[2] == {"id": "c", "links_to": ["b"], "confidence": 1.0}


def test_explain_adds_the_deciding_features(tmp_path: Path) -> None:
    messages = write_lines(tmp_path / "messages.jsonl", GOOD)
    output = tmp_path / "links.jsonl"
    result = frames(
        "links", "--input", str(messages), "--output", str(output), "--fast", "--explain"
    )
    assert result.exit_code == 0, result.stderr
    second = json.loads(output.read_text().splitlines()[1])
    assert second["features"]["addresses_candidate_author"] == 1.0


def test_evaluate_prints_precision_recall_and_f1(tmp_path: Path) -> None:
    messages = write_lines(tmp_path / "messages.jsonl", GOOD)
    gold = write_lines(
        tmp_path / "gold.jsonl",
        [
            {"id": "b", "links_to": ["a"], "confidence": 1.0},
            {"id": "c", "links_to": ["b"], "confidence": 1.0},
        ],
    )
    result = frames("links", "--evaluate", str(gold), "--input", str(messages), "--fast", "--json")
    assert result.exit_code == 0, result.stderr
    score = json.loads(result.stdout)
    assert score["f1"] == 100.0
    assert (score["gold_links"], score["matched"]) == (2, 2)

    predictions = write_lines(
        tmp_path / "predictions.jsonl",
        [
            {"id": "b", "links_to": ["b"], "confidence": 0.5},
            {"id": "c", "links_to": ["b"], "confidence": 1.0},
        ],
    )
    result = frames("links", "--evaluate", str(gold), "--predictions", str(predictions))
    assert result.exit_code == 0, result.stderr
    assert "50.0" in result.stdout  # precision and recall: 1 of 2
    assert read_links(predictions).links == {"b": ("b",), "c": ("b",)}


def test_usage_errors_say_what_is_missing(tmp_path: Path) -> None:
    messages = write_lines(tmp_path / "messages.jsonl", GOOD)
    result = frames("links", "--input", str(messages))
    assert result.exit_code != 0
    assert "--output" in result.stderr
    result = frames("links")
    assert result.exit_code != 0
    empty = write_lines(tmp_path / "empty.jsonl", ["{}"])
    result = frames("links", "--input", str(empty), "--output", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 1
    assert "no readable messages" in result.stderr


def test_names_file_maps_author_ids_to_the_names_people_write(tmp_path: Path) -> None:
    lines = [
        {"id": "q", "author": "u-1", "timestamp": "2026-09-01T18:00:00Z", "content": "radio?"},
        {"id": "x", "author": "u-3", "timestamp": "2026-09-01T18:00:30Z", "content": "lunch?"},
        {"id": "a", "author": "u-2", "timestamp": "2026-09-01T18:01:00Z", "content": "sam: no"},
    ]
    messages = write_lines(tmp_path / "messages.jsonl", lines)
    names = tmp_path / "names.json"
    names.write_text(json.dumps({"u-1": ["Sam Okafor"], "u-3": ["Kai"]}), encoding="utf-8")
    output = tmp_path / "links.jsonl"
    args = ["links", "--input", str(messages), "--output", str(output), "--fast"]
    result = frames(*args, "--names", str(names), "--explain")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(output.read_text().splitlines()[2])
    assert answer["links_to"] == ["q"]
    assert answer["features"]["addresses_candidate_author"] == 1.0

    names.write_text('["not", "a", "mapping"]', encoding="utf-8")
    result = frames(*args, "--names", str(names))
    assert result.exit_code == 1
    assert "author ids to lists of names" in result.stderr
