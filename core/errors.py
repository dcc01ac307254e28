"""Domain errors with structured fields.

Every error a user can cause is a ``FramesError``: the CLI prints its message on one line
and exits non-zero, cogs render it as a short reply, the panel as a 4xx. The fields carry
the context that logs and tests need (file, line, column, ids) without parsing messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class FramesError(Exception):
    """Base class for errors caused by input, configuration or environment."""

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return self.message


class ConfigurationError(FramesError):
    """A setting is missing or invalid, or the environment cannot run FRAMES."""


class DatabaseError(FramesError):
    """The database is unreachable, misconfigured or lacks a required extension."""


class NotFoundError(FramesError):
    """A referenced entity (team, program, connection...) does not exist."""


@dataclass(frozen=True)
class InputProblem:
    """One problem in an input file: where it is and what is wrong."""

    source: str
    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.reason}"


@dataclass
class InputError(FramesError):
    """An input file or payload was refused; nothing from it was written."""

    problems: list[InputProblem] = field(default_factory=list)

    def __post_init__(self) -> None:
        first = str(self.problems[0]) if self.problems else "invalid input"
        more = len(self.problems) - 1
        message = first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
        super().__init__(message, problems=self.problems)
