"""The JSONL formats of ``frames links``: chat messages in, links out (and gold links).

Input line: ``{"id", "author", "timestamp" (ISO-8601), "content", "reply_to", "mentions"}``.
Output (and gold) line: ``{"id", "links_to": [ids], "confidence"}``. A bad line is reported
with its line number and skipped; every other line is kept.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from core.errors import InputProblem
from core.links.types import ChatMessage, InferredLink


@dataclass
class ReadResult:
    """What a JSONL file held: the good records and a problem for each bad line."""

    messages: list[ChatMessage] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)


@dataclass
class LinkFile:
    links: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def _object(source: str, number: int, line: str) -> dict[str, Any] | InputProblem:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return InputProblem(source, number, None, f"not JSON ({exc.msg})")
    if not isinstance(value, dict):
        return InputProblem(source, number, None, "not a JSON object")
    return value


def _text(
    record: dict[str, Any], key: str, source: str, number: int, *, optional: bool = False
) -> str | InputProblem | None:
    value = record.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not value and key != "content"):
        wanted = "a string or null" if optional else "a non-empty string"
        return InputProblem(source, number, key, f"must be {wanted}, got {value!r:.60}")
    return value


def parse_message(record: dict[str, Any], source: str, number: int) -> ChatMessage | InputProblem:
    """One input record as a message, or the problem that keeps it out."""
    fields: dict[str, str | None] = {}
    for key, optional in (
        ("id", False),
        ("author", False),
        ("timestamp", False),
        ("content", False),
        ("reply_to", True),
    ):
        value = _text(record, key, source, number, optional=optional)
        if isinstance(value, InputProblem):
            return value
        fields[key] = value
    try:
        stamp = dt.datetime.fromisoformat(str(fields["timestamp"]).replace("Z", "+00:00"))
    except ValueError:
        reason = f"not an ISO-8601 time: {fields['timestamp']!r:.60}"
        return InputProblem(source, number, "timestamp", reason)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    mentions = record.get("mentions") or []
    if not isinstance(mentions, list) or not all(isinstance(item, str) for item in mentions):
        return InputProblem(source, number, "mentions", "must be a list of author ids")
    return ChatMessage(
        id=str(fields["id"]),
        author=str(fields["author"]),
        timestamp=stamp,
        content=str(fields["content"]),
        reply_to=fields["reply_to"],
        mentions=tuple(mentions),
    )


def read_messages(path: Path) -> ReadResult:
    """Messages in file order; duplicates of an earlier id are reported, not read twice."""
    result = ReadResult()
    seen: set[str] = set()
    source = str(path)
    for number, line in _lines(path):
        record = _object(source, number, line)
        message = (
            record if isinstance(record, InputProblem) else parse_message(record, source, number)
        )
        if isinstance(message, InputProblem):
            result.problems.append(message)
        elif message.id in seen:
            result.problems.append(
                InputProblem(source, number, "id", f"duplicate id {message.id!r}")
            )
        else:
            seen.add(message.id)
            result.messages.append(message)
    return result


def read_links(path: Path) -> LinkFile:
    """A file in the output format (predictions or gold): links per message id."""
    result = LinkFile()
    source = str(path)
    for number, line in _lines(path):
        record = _object(source, number, line)
        if isinstance(record, InputProblem):
            result.problems.append(record)
            continue
        message_id = record.get("id")
        targets = record.get("links_to")
        if not isinstance(message_id, str) or not message_id:
            result.problems.append(InputProblem(source, number, "id", "must be a non-empty string"))
        elif not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            reason = "must be a list of message ids"
            result.problems.append(InputProblem(source, number, "links_to", reason))
        elif message_id in result.links:
            reason = f"duplicate id {message_id!r}"
            result.problems.append(InputProblem(source, number, "id", reason))
        else:
            result.links[message_id] = tuple(targets)
    return result


def link_record(link: InferredLink, *, explain: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": link.message_id,
        "links_to": list(link.links_to),
        "confidence": round(link.confidence, 4),
    }
    if explain:
        record["features"] = {name: round(value, 4) for name, value in link.features.items()}
    return record


def write_jsonl(handle: IO[str], records: Iterable[dict[str, Any]]) -> int:
    count = 0
    for record in records:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def message_record(message: ChatMessage) -> dict[str, Any]:
    """A message in the input format (the IRC converter writes these)."""
    return {
        "id": message.id,
        "author": message.author,
        "timestamp": message.timestamp.isoformat(),
        "content": message.content,
        "reply_to": message.reply_to,
        "mentions": list(message.mentions),
    }
