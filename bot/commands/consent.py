"""``frames consent``: each university's consent mode, and consent decisions from a file."""

from __future__ import annotations

from pathlib import Path

import click

from bot.commands.runtime import actor, configure_logging, console, database, load_settings, run
from core.errors import FramesError, InputError
from core.org.consent import (
    ConsentImportReport,
    check_consent_mode,
    import_consents,
    read_consent_csv,
    set_consent_mode,
)


@click.group("consent")
def consent_group() -> None:
    """Consent at the door: modes per university, consent decisions per person."""


@consent_group.command("mode")
@click.argument("university_id")
@click.argument("mode", metavar="MODE")
def consent_mode(university_id: str, mode: str) -> None:
    """Set UNIVERSITY_ID's consent MODE: opt-in, opt-out or metadata-only.

    opt-in (the default) keeps content only for people who consented; opt-out keeps it
    unless the person withdrew; metadata-only keeps no content for anyone. The mode applies
    to what is captured from now on (a running bot picks it up within 5 seconds).
    """
    check_consent_mode(mode)
    settings = load_settings()
    configure_logging(settings)

    async def go() -> str:
        async with database(settings) as db, db.transaction() as session:
            return await set_consent_mode(session, university_id, mode, actor=actor())

    previous = run(go())
    if previous == mode:
        console.print(
            f"University {university_id}: consent mode is already {mode}.", soft_wrap=True
        )
    else:
        console.print(
            f"University {university_id}: consent mode {previous} → {mode} "
            "(applies to what is captured from now on).",
            soft_wrap=True,
        )


@consent_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def consent_import(file: Path) -> None:
    """Import consent decisions from a CSV (idempotent; a bad row refuses the whole file).

    Columns: status (granted or withdrawn), and the person by person_id, discord_user_id or
    email; optional recorded_at (ISO date or date-time; blank = now) and scope (default
    research). See docs/organisation.md.
    """
    settings = load_settings()
    configure_logging(settings)

    async def go() -> ConsentImportReport:
        records, problems = read_consent_csv(file)
        async with database(settings) as db, db.transaction() as session:
            return await import_consents(
                session, records, actor=actor(), source=file.name, problems=problems
            )

    try:
        report = run(go())
    except InputError as exc:
        # Every bad row, each on its own line, so the file can be fixed in one pass.
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = len(exc.problems)
        raise FramesError(
            f"{count} problem{'s' if count != 1 else ''} in {file.name}; nothing was imported"
        ) from None
    unchanged = report.rows - report.recorded
    console.print(
        f"Recorded {report.recorded} consent decisions from {file.name}"
        + (f" ({unchanged} rows added nothing new)." if unchanged else "."),
        soft_wrap=True,
    )
