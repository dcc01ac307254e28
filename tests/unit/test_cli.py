"""The command line: help everywhere, one-line errors, tracebacks only with --debug."""

from __future__ import annotations

import click
import pytest

from bot.cli import cli
from tests.cli import frames

EXPECTED = {"channels", "db", "demo", "org", "outcomes", "simulate"}


def walk(
    group: click.Group, ctx: click.Context, path: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += walk(command, ctx, (*path, name))
    return found


def test_top_level_help_lists_the_commands() -> None:
    result = frames("--help")
    assert result.exit_code == 0
    for name in EXPECTED:
        assert name in result.stdout


def test_every_command_has_help() -> None:
    commands = walk(cli, click.Context(cli))
    assert {c[0] for c in commands} >= EXPECTED
    for command in commands:
        result = frames(*command, "--help")
        assert result.exit_code == 0, (command, result.stderr)
        assert "Usage: frames " + " ".join(command) in result.stdout


def test_unknown_command_is_one_line_error() -> None:
    result = frames("nonsense")
    assert result.exit_code == 2
    assert "No such command" in result.stderr


@pytest.mark.parametrize("debug", [False, True])
def test_errors_are_one_line_unless_debug(monkeypatch: pytest.MonkeyPatch, debug: bool) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/frames")
    args = ("--debug",) if debug else ()
    if debug:
        with pytest.raises(Exception, match="PostgreSQL only"):
            frames(*args, "db", "current")
        return
    result = frames(*args, "db", "current")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "frames: error: DATABASE_URL scheme 'mysql' is not supported; use postgresql:// (PostgreSQL only)"
    )


def test_bad_channel_id_names_the_argument() -> None:
    result = frames("channels", "map", "abc", "123", "--team", "t")
    assert result.exit_code == 2
    assert "GUILD_ID" in result.stderr and "'abc' is not a Discord id" in result.stderr
