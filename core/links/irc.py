"""IRC disentanglement data (Kummerfeld et al., ACL 2019) as chat streams and gold links.

A split folder holds ``<stem>.raw.txt`` logs and ``<stem>.annotation.txt`` links ("A B -":
message B answers message A, lines counted from 0, A == B starts a conversation; only
lines from 1000 on are annotated). Files are read in name order and follow each other in
one stream. Message ids are ``<stem>:<line>``; each line's time comes from its ``[hh:mm]``
and the date that starts the file name, which dates the file's first line; later lines
run forward across midnight (a line without a time, such as ``=== x has joined``, takes
the time of the line before it). Lines that are not chat come with author
``system`` and their raw text; ``* nick waves`` actions belong to ``nick``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError, InputProblem
from core.links.types import SYSTEM_AUTHOR, ChatMessage

RAW_SUFFIX = ".raw.txt"
ANNOTATION_SUFFIX = ".annotation.txt"
FIRST_ANNOTATED_LINE = 1000
_CLOCK_SLACK_MINUTES = 60  # logs sometimes step back a little; more than this is a wrap

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_TIMED = re.compile(r"^\[(\d{2}):(\d{2})\] ?(.*)$")
_CHAT = re.compile(r"^<([^>\s]*)>\s?(.*)$")
_ACTION = re.compile(r"^\s*\*\s+(\S+)(.*)$")


@dataclass(frozen=True)
class IrcFile:
    stem: str
    raw_path: Path
    annotation_path: Path | None


def file_stem(path: Path) -> str:
    name = path.name
    for suffix in (RAW_SUFFIX, ANNOTATION_SUFFIX):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def split_files(folder: Path) -> list[IrcFile]:
    """The logs of one split (``train`` or ``dev``) in stream order (by name)."""
    if not folder.is_dir():
        raise InputError([InputProblem(str(folder), None, None, "not a folder of IRC logs")])
    files = []
    for raw in sorted(folder.glob(f"*{RAW_SUFFIX}")):
        stem = file_stem(raw)
        annotation = raw.with_name(stem + ANNOTATION_SUFFIX)
        files.append(IrcFile(stem, raw, annotation if annotation.exists() else None))
    if not files:
        raise InputError([InputProblem(str(folder), None, None, f"no *{RAW_SUFFIX} files")])
    return files


def _file_date(stem: str, path: Path) -> dt.date:
    match = _DATE.match(stem)
    if match is None:
        reason = "file name does not start with a YYYY-MM-DD date"
        raise InputError([InputProblem(str(path), None, None, reason)])
    year, month, day = (int(part) for part in match.groups())
    return dt.date(year, month, day)


def read_log(irc_file: IrcFile) -> list[ChatMessage]:
    """One log as messages; every line becomes exactly one message (ids are line numbers)."""
    day = _file_date(irc_file.stem, irc_file.raw_path)
    lines = irc_file.raw_path.read_text(encoding="utf-8", errors="replace").splitlines()
    minutes: list[int | None] = []
    parsed: list[tuple[str, str]] = []
    for line in lines:
        timed = _TIMED.match(line)
        body = timed.group(3) if timed else line
        minutes.append(int(timed.group(1)) * 60 + int(timed.group(2)) if timed else None)
        chat = _CHAT.match(body)
        action = _ACTION.match(body) if chat is None else None
        if chat is not None and chat.group(1):
            parsed.append((chat.group(1), chat.group(2)))
        elif action is not None and timed is not None:
            parsed.append((action.group(1), body.strip()))
        else:
            parsed.append((SYSTEM_AUTHOR, line))
    stamps = _line_times(day, minutes)
    return [
        ChatMessage(id=f"{irc_file.stem}:{number}", author=author, timestamp=stamp, content=text)
        for number, ((author, text), stamp) in enumerate(zip(parsed, stamps, strict=True))
    ]


def _line_times(day: dt.date, minutes: list[int | None]) -> list[dt.datetime]:
    """Times from ``[hh:mm]`` on the file's date, kept running forward across midnight.

    Some logs use a 24-hour clock (23:59 -> 00:00), older ones a 12-hour clock (12:58 ->
    01:03): when the clock goes back by more than an hour, the smallest multiple of 12
    hours that keeps it running forward is added. Untimed lines take the previous time.
    """
    first = next((value for value in minutes if value is not None), 0)
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    stamps = []
    previous, shift = first, 0
    for value in minutes:
        current = previous - shift if value is None else value
        while current + shift < previous - _CLOCK_SLACK_MINUTES:
            shift += 12 * 60
        stamps.append(start + dt.timedelta(minutes=current + shift))
        previous = current + shift
    return stamps


def read_gold(irc_file: IrcFile) -> dict[str, list[str]]:
    """Gold antecedents per annotated message: each link is stored on its later message."""
    if irc_file.annotation_path is None:
        return {}
    gold: dict[int, set[int]] = {}
    problems = []
    text = irc_file.annotation_path.read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        parts = [part for part in line.split() if part != "-"]
        if not parts:
            continue
        try:
            a, b = int(parts[0]), int(parts[1])
        except (ValueError, IndexError):
            problems.append(InputProblem(str(irc_file.annotation_path), number, None, line))
            continue
        gold.setdefault(max(a, b), set()).add(min(a, b))
    if problems:
        raise InputError(problems)
    return {
        f"{irc_file.stem}:{later}": [f"{irc_file.stem}:{earlier}" for earlier in sorted(targets)]
        for later, targets in sorted(gold.items())
    }


def read_split(folder: Path) -> tuple[list[ChatMessage], dict[str, list[str]]]:
    """All logs of a split as one stream, and the gold links of its annotated messages."""
    messages: list[ChatMessage] = []
    gold: dict[str, list[str]] = {}
    for irc_file in split_files(folder):
        messages.extend(read_log(irc_file))
        gold.update(read_gold(irc_file))
    return messages, gold


def split_streams(
    folder: Path,
) -> Iterator[tuple[IrcFile, list[ChatMessage], dict[str, list[str]]]]:
    """Per file, for training: its messages and gold links."""
    for irc_file in split_files(folder):
        yield irc_file, read_log(irc_file), read_gold(irc_file)


def gold_lines(gold: dict[str, list[str]]) -> Iterable[dict[str, object]]:
    """Gold links in the output format of ``frames links``."""
    for message_id, targets in gold.items():
        yield {"id": message_id, "links_to": targets, "confidence": 1.0}


def main(argv: list[str] | None = None) -> None:
    """``python -m core.links.irc SPLIT --messages M.jsonl --gold G.jsonl``."""
    import argparse

    from core.links.jsonl import message_record, write_jsonl

    parser = argparse.ArgumentParser(
        prog="python -m core.links.irc",
        description="Convert an irc-disentanglement split to `frames links` JSONL files.",
    )
    parser.add_argument("split", type=Path, help="a split folder, e.g. .../irc-disentanglement/dev")
    parser.add_argument("--messages", type=Path, required=True, help="messages JSONL to write")
    parser.add_argument("--gold", type=Path, help="gold links JSONL to write")
    args = parser.parse_args(argv)
    messages, gold = read_split(args.split)
    with args.messages.open("w", encoding="utf-8") as handle:
        write_jsonl(handle, (message_record(message) for message in messages))
    if args.gold is not None:
        with args.gold.open("w", encoding="utf-8") as handle:
            write_jsonl(handle, gold_lines(gold))


if __name__ == "__main__":
    main()
