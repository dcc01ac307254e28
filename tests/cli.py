"""Running ``frames`` in-process, the way a user runs it (exit code, stdout, stderr)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from bot.cli import main


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def table_cells(output: str) -> list[list[str]]:
    """The rows of a rich table (header first), cell text stripped."""
    lines = [line.replace("┃", "│") for line in output.splitlines()]
    return [[c.strip() for c in line.split("│")[1:-1]] for line in lines if "│" in line]


def frames(*args: str) -> CliResult:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return CliResult(code, out.getvalue(), err.getvalue())
