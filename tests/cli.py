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


def frames(*args: str) -> CliResult:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return CliResult(code, out.getvalue(), err.getvalue())
