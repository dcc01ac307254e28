"""The ``frames`` command line: one entry point that owns the process life cycle."""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import version

import click

from core.errors import FramesError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# Subcommands are imported when used, so `frames --help` and quick commands don't pay
# for importing the ML and Discord stacks.
COMMANDS = {
    "bot": "bot.commands.bot:bot_group",
    "capture": "bot.commands.capture:capture_group",
    "channels": "bot.commands.channels:channels_group",
    "consent": "bot.commands.consent:consent_group",
    "db": "bot.commands.db:db_group",
    "demo": "bot.commands.demo:demo_command",
    "doctor": "bot.commands.doctor:doctor_command",
    "import": "bot.commands.importing:import_group",
    "links": "bot.commands.links:links_command",
    "org": "bot.commands.org:org_group",
    "outcomes": "bot.commands.org:outcomes_group",
    "nda": "bot.commands.nda:nda_group",
    "panel": "bot.commands.panel:panel_command",
    "pm": "bot.commands.pm:pm_group",
    "run": "bot.commands.run:run_command",
    "scheduler": "bot.commands.scheduler:scheduler_command",
    "simulate": "bot.commands.simulate:simulate_command",
    "sync-commands": "bot.commands.bot:sync_commands_command",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, attribute = COMMANDS[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module_name), attribute)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(version("frames"), prog_name="frames")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug: bool) -> None:
    """FRAMES: how knowledge moves through multi-university student engineering programs.

    Start with `frames demo`, which simulates a program and imports it into the embedded
    database. Settings come from the environment (DATABASE_URL, DISCORD_TOKEN, FRAMES_*).
    """


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: user errors print one line and exit 1; ``--debug`` shows tracebacks."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="frames", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except FramesError as exc:
        if debug:
            raise
        click.echo(f"frames: error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        click.echo(
            f"frames: unexpected error: {type(exc).__name__}: {detail} "
            "(run with --debug for details)",
            err=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
