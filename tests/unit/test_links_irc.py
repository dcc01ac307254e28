"""Converting the IRC disentanglement data to ``frames links`` JSONL."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest

from core.errors import InputError
from core.links.irc import main as irc_main
from core.links.irc import read_split
from core.links.types import SYSTEM_AUTHOR
from tests.conftest import shared_data

LOG = """\
[23:58] <sam> is the 3.3 V rail stable?
=== lee [~lee@host] has joined #ubuntu
[23:59]  * lee waves
[00:01] <lee> sam: it sags under load
[00:02] <> odd empty nick line
"""
OLD_CLOCK_LOG = """\
[12:58] <ana> anyone here?
[01:03] <kai> ana: yes
"""


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_lines_become_messages_with_ids_authors_and_running_times(tmp_path: Path) -> None:
    write(tmp_path, "2008-07-03.train-c.raw.txt", LOG)
    write(tmp_path, "2008-07-03.train-c.annotation.txt", "0 0 -\n0 3 -\n1 1 -\n3 4 -\n")
    write(tmp_path, "2005-01-09_01.raw.txt", OLD_CLOCK_LOG)
    messages, gold = read_split(tmp_path)

    # Files follow each other in name order in one stream; ids are <stem>:<line from 0>.
    assert [m.id for m in messages][:3] == [
        "2005-01-09_01:0",
        "2005-01-09_01:1",
        "2008-07-03.train-c:0",
    ]
    old, log = messages[:2], messages[2:]
    assert [m.author for m in log] == ["sam", SYSTEM_AUTHOR, "lee", "lee", SYSTEM_AUTHOR]
    assert log[1].content == "=== lee [~lee@host] has joined #ubuntu"
    assert log[2].content == "* lee waves"
    assert log[4].content == "[00:02] <> odd empty nick line"
    day = dt.datetime(2008, 7, 3, tzinfo=dt.UTC)
    assert log[0].timestamp == day + dt.timedelta(hours=23, minutes=58)
    assert log[1].timestamp == log[0].timestamp  # untimed: the previous line's time
    assert log[3].timestamp == day + dt.timedelta(days=1, minutes=1)  # past midnight
    # A 12-hour clock goes from 12:58 to 01:03: five minutes, not back in time.
    assert old[1].timestamp - old[0].timestamp == dt.timedelta(minutes=5)

    assert gold == {
        "2008-07-03.train-c:0": ["2008-07-03.train-c:0"],
        "2008-07-03.train-c:1": ["2008-07-03.train-c:1"],
        "2008-07-03.train-c:3": ["2008-07-03.train-c:0"],
        "2008-07-03.train-c:4": ["2008-07-03.train-c:3"],
    }


def test_converter_writes_messages_and_gold_jsonl(tmp_path: Path) -> None:
    write(tmp_path / "split", "2008-07-03.train-c.raw.txt", LOG)
    write(tmp_path / "split", "2008-07-03.train-c.annotation.txt", "0 3 -\n")
    irc_main(
        [
            str(tmp_path / "split"),
            "--messages",
            str(tmp_path / "m.jsonl"),
            "--gold",
            str(tmp_path / "g.jsonl"),
        ]
    )
    lines = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert len(lines) == 5
    assert lines[3] == {
        "id": "2008-07-03.train-c:3",
        "author": "lee",
        "timestamp": "2008-07-04T00:01:00+00:00",
        "content": "sam: it sags under load",
        "reply_to": None,
        "mentions": [],
    }
    gold = [json.loads(line) for line in (tmp_path / "g.jsonl").read_text().splitlines()]
    assert gold == [
        {"id": "2008-07-03.train-c:3", "links_to": ["2008-07-03.train-c:0"], "confidence": 1.0}
    ]


def test_a_folder_without_logs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \*\.raw\.txt files"):
        read_split(tmp_path)
    write(tmp_path, "notes.raw.txt", "[10:00] <a> hi\n")
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        read_split(tmp_path)


def test_the_dev_split_converts_line_for_line() -> None:
    folder = shared_data("irc-disentanglement", "dev")
    messages, gold = read_split(folder)
    raw_lines = sum(
        len(path.read_text(encoding="utf-8", errors="replace").splitlines())
        for path in folder.glob("*.raw.txt")
    )
    assert len(messages) == raw_lines
    assert len({m.id for m in messages}) == len(messages)
    annotated = {m.split(":")[0] for m in gold}
    assert len(annotated) == len(list(folder.glob("*.annotation.txt")))
    # Only lines from 1000 on are annotated, and every link points back in time.
    position = {m.id: n for n, m in enumerate(messages)}
    assert all(int(message_id.split(":")[1]) >= 1000 for message_id in gold)
    assert all(
        position[target] <= position[message_id]
        for message_id, targets in gold.items()
        for target in targets
    )
    for stem in annotated:
        times = [m.timestamp for m in messages if m.id.startswith(stem + ":")]
        steps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert min(steps) >= -dt.timedelta(hours=1)  # runs forward, up to small log jitter
