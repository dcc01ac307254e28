"""Strict CSV reading: every problem names its file, line and column.

Files are read whole before anything is written, so a refused file leaves the database
unchanged. Lines are numbered as an editor shows them (the header is line 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import InputError, InputProblem

_SNOWFLAKE = re.compile(r"^[0-9]{1,20}$")


@dataclass
class CsvRow:
    """One data row, with helpers that parse a cell or record why it cannot be parsed."""

    source: str
    line: int
    cells: dict[str, str]
    problems: list[InputProblem] = field(default_factory=list)

    def problem(self, column: str | None, reason: str) -> None:
        self.problems.append(InputProblem(self.source, self.line, column, reason))

    def text(self, column: str, *, required: bool = False) -> str | None:
        value = (self.cells.get(column) or "").strip()
        if not value:
            if required:
                self.problem(column, "a value is required")
            return None
        return value

    def choice(
        self, column: str, allowed: tuple[str, ...], *, required: bool = False
    ) -> str | None:
        value = self.text(column, required=required)
        if value is None:
            return None
        if value.lower() not in allowed:
            self.problem(column, f"{value!r} is not one of {', '.join(allowed)}")
            return None
        return value.lower()

    def date(self, column: str, *, required: bool = False) -> dt.date | None:
        value = self.text(column, required=required)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.problem(column, f"{value!r} is not a date (expected YYYY-MM-DD)")
            return None

    def snowflake(self, column: str, *, required: bool = False) -> int | None:
        value = self.text(column, required=required)
        if value is None:
            return None
        if not _SNOWFLAKE.match(value) or int(value) >= 2**63:
            self.problem(column, f"{value!r} is not a Discord id (a number of up to 19 digits)")
            return None
        return int(value)

    def time_zone(self, column: str) -> str | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(column, f"{value!r} is not an IANA time zone (e.g. America/Los_Angeles)")
            return None
        return value

    def email(self, column: str) -> str | None:
        value = self.text(column)
        if value is None:
            return None
        if "@" not in value or value.startswith("@") or value.endswith("@") or " " in value:
            self.problem(column, f"{value!r} is not an email address")
            return None
        return value.lower()


def read_csv(
    path: Path, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Iterator[CsvRow]:
    """Yield rows of a UTF-8 CSV file, refusing it at once if its header is wrong."""
    source = path.name
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError([InputProblem(str(path), None, None, exc.strerror or str(exc))]) from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = [name.strip() for name in (reader.fieldnames or [])]
        except UnicodeDecodeError:
            raise InputError(
                [InputProblem(source, 1, None, "the file is not UTF-8 text")]
            ) from None
        reader.fieldnames = header
        problems = [
            InputProblem(source, 1, column, "the column is missing from the header")
            for column in required
            if column not in header
        ]
        known = set(required) | set(optional)
        problems += [
            InputProblem(
                source, 1, column, f"unknown column; expected {', '.join(required + optional)}"
            )
            for column in header
            if column and column not in known
        ]
        duplicates = {column for column in header if header.count(column) > 1}
        problems += [
            InputProblem(source, 1, column, "the column appears twice")
            for column in sorted(duplicates)
        ]
        if problems:
            raise InputError(problems)
        try:
            for record in reader:
                line = reader.line_num
                if None in record:
                    row = CsvRow(source, line, {})
                    row.problem(None, f"{len(header)} columns expected, found more")
                    yield row
                    continue
                if not any((value or "").strip() for value in record.values()):
                    continue  # blank lines are harmless
                yield CsvRow(source, line, {key: value or "" for key, value in record.items()})
        except UnicodeDecodeError:
            raise InputError(
                [InputProblem(source, reader.line_num + 1, None, "the file is not UTF-8 text")]
            ) from None
        except csv.Error as exc:
            raise InputError([InputProblem(source, reader.line_num, None, str(exc))]) from None
