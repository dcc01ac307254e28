"""``frames doctor``: check the database, the Discord token and intents, and the mappings."""

from __future__ import annotations

import sys

import click
from rich.text import Text

from bot.commands.runtime import configure_logging, console, load_settings, run
from core.capture.doctor import diagnose


@click.command("doctor")
def doctor_command() -> None:
    """Check what the capture needs and say what to fix; exits 1 if any check fails.

    The database (reachable, pgvector, migrations at head), DISCORD_TOKEN (set and accepted
    by Discord; never printed), the privileged intents (message content, server members)
    and the channel mappings.
    """
    settings = load_settings()
    configure_logging(settings)
    checks = run(diagnose(settings))
    for check in checks:
        mark = ("✓", "green") if check.ok else ("✗", "red")
        console.print(Text.assemble(mark, f" {check.name}: {check.detail}"), soft_wrap=True)
        if not check.ok and check.fix:
            console.print(Text(f"    fix: {check.fix}"), soft_wrap=True)
    failed = sum(not check.ok for check in checks)
    if failed:
        console.print(f"{failed} of {len(checks)} checks failed.")
        sys.exit(1)
    console.print(f"All {len(checks)} checks passed.")
