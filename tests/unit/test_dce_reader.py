"""The DiscordChatExporter reader on the real example export, and on broken variants."""

from __future__ import annotations

import io
import json
from pathlib import Path

from core.imports.dce import DceReadResult, dce_files, read_dce, read_dce_file
from tests.conftest import shared_data


def test_reads_the_real_example_export_including_its_thread() -> None:
    files = dce_files([shared_data("discord-dce-example-guild")])
    assert len(files) == 2
    by_type = {}
    for path in files:
        result, messages = read_dce_file(path)
        records = list(messages)
        assert result.truncated_at is None and not result.count_mismatch
        assert result.channel is not None
        by_type[result.channel.channel_type] = (result, records)

    result, general = by_type["GuildTextChat"]
    assert len(general) == 35 and result.channel and result.channel.guild_id == 748545324524575035
    assert general[0].content.startswith("Welcome to the **DiscordChatExporter")
    reply = next(m for m in general if m.id == 1060926346089476176)
    assert reply.reference_id == 1060926317920538735 and reply.reactions[0].count == 1
    thread_created = next(m for m in general if m.kind == "thread_created")
    assert thread_created.referenced_channel_id == 1060927310439657577
    mention = next(m for m in general if m.id == 1060927310439657532)
    assert mention.mention_user_ids == (896568767994532880,)
    edited = next(m for m in general if m.id == 1060926487911485582)
    assert edited.edited_at is not None
    assert sum(1 for m in general if m.kind == "member_join") == 3

    thread_result, thread = by_type["GuildPublicThread"]
    assert thread_result.channel and thread_result.channel.parent_channel_id == 1012224565567721552
    assert len(thread) == 5 and all(m.parent_channel_id == 1012224565567721552 for m in thread)


def _export(messages: list[dict[str, object]], count: int) -> bytes:
    return json.dumps(
        {
            "guild": {"id": "1", "name": "G"},
            "channel": {"id": "2", "type": "GuildTextChat", "name": "c"},
            "messages": messages,
            "messageCount": count,
        }
    ).encode()


def _message(n: int, **extra: object) -> dict[str, object]:
    return {
        "id": str(1000 + n),
        "timestamp": f"2026-09-01T10:00:0{n}+00:00",
        "content": f"m{n}",
        **extra,
    }


def test_truncated_file_yields_complete_messages_and_says_where_it_stopped() -> None:
    data = _export([_message(1), _message(2), _message(3)], 3)
    cut = data[: data.index(b'"m3"') + 2]
    result = DceReadResult(Path("cut.json"))
    records = list(read_dce(io.BytesIO(cut), result))
    assert [r.id for r in records] == [1001, 1002]
    assert result.truncated_at == "after message 2 (the file is cut off)"


def test_wrong_message_count_and_older_exporter_fields() -> None:
    deleted_author = {"id": "456226577798135808", "name": "Deleted User", "isBot": False}
    data = _export([_message(1, author=deleted_author), _message(2)], 35)
    result = DceReadResult(Path("old.json"))
    records = list(read_dce(io.BytesIO(data), result))
    assert len(records) == 2 and result.count_mismatch and result.declared_count == 35
    assert records[0].author_name == "Deleted User" and records[1].author_id == 0
    assert records[1].reactions == () and records[1].edited_at is None


def test_unreadable_message_is_skipped_with_reason() -> None:
    data = _export([_message(1), {"id": "x", "content": "no timestamp"}], 2)
    result = DceReadResult(Path("bad.json"))
    assert [r.id for r in read_dce(io.BytesIO(data), result)] == [1001]
    assert result.skipped and result.skipped[0].startswith("message x: unreadable")


def test_simulator_files_load_with_the_same_reader(tmp_path: Path) -> None:
    from core.simulate import SimulationConfig, simulate

    simulate(SimulationConfig(seed=1, universities=2, weeks=2), tmp_path)
    files = dce_files([tmp_path / "discord"])
    threads = 0
    for path in files:
        result, messages = read_dce_file(path)
        records = list(messages)
        assert result.channel is not None and result.truncated_at is None
        assert result.declared_count == len(records) and not result.skipped
        threads += result.channel.is_thread
    assert files and threads > 0
