"""Small export files are parsed in one go: they must read exactly as when streamed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import core.imports.dce as dce
from core.imports.dce import dce_files, read_dce_file
from tests.conftest import shared_data


def _read(path: Path) -> tuple[object, ...]:
    result, messages = read_dce_file(path)
    records = list(messages)
    return (
        records,
        result.channel,
        result.messages_read,
        result.declared_count,
        result.truncated_at,
        result.skipped,
    )


def _variants(folder: Path) -> list[Path]:
    header = {"guild": {"id": "1", "name": "Gïld"}, "channel": {"id": "2", "type": "GuildTextChat"}}

    def message(n: int, **extra: object) -> dict[str, object]:
        stamp = f"2026-09-01T10:00:0{n}+00:00"
        return {"id": str(1000 + n), "timestamp": stamp, "content": f"m{n} – ü", **extra}

    deleted = {"id": "456226577798135808", "name": "Deleted User", "isBot": False}
    documents = {
        "wrong-count.json": {**header, "messages": [message(1, author=deleted)], "messageCount": 9},
        "unreadable.json": {
            **header,
            "messages": [message(1), {"id": "x", "content": "no time"}, "not a message"],
            "messageCount": 3,
        },
        "reactions.json": {
            **header,
            "messages": [
                message(
                    1,
                    reactions=[{"emoji": {"name": "👍"}, "count": 2, "users": [{"id": "7"}]}],
                    attachments=[{"fileName": "a.pdf", "fileSizeBytes": 10}],
                    mentions=[{"id": "8"}],
                )
            ],
        },
        "no-header.json": {"messages": [message(1)]},
    }
    paths = []
    for name, document in documents.items():
        path = folder / name
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    cut = folder / "cut.json"
    text = json.dumps({**header, "messages": [message(1), message(2)], "messageCount": 2})
    cut.write_text(text[: text.index('"m2') + 3], encoding="utf-8")
    return [*paths, cut]


def test_small_files_read_as_they_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [*dce_files([shared_data("discord-dce-example-guild")]), *_variants(tmp_path)]
    whole = [_read(path) for path in paths]
    monkeypatch.setattr(dce, "WHOLE_FILE_BYTES", 0)  # every file streams
    streamed = [_read(path) for path in paths]

    assert whole == streamed
    by_name = {path.name: read for path, read in zip(paths, whole, strict=True)}
    assert by_name["cut.json"][4] == "after message 1 (the file is cut off)"
    assert by_name["wrong-count.json"][3] == 9
    skipped = by_name["unreadable.json"][5]
    assert isinstance(skipped, list) and len(skipped) == 2  # both bad entries named
    assert by_name["no-header.json"][4] == "before any message (no channel header)"
