"""The demo's import sequence over a simulated program directory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.db.engine import Database
from core.db.repositories.stats import StatsRepository, UniversityCounts
from core.imports.discord_import import ProgressCallback, import_discord
from core.org.channels import map_channels, parse_channels_csv
from core.org.outcomes import import_outcomes, parse_outcomes_csv
from core.org.roster import parse_roster
from core.org.service import import_roster
from core.pm.task_file import import_task_file


@dataclass
class DemoReport:
    universities: list[UniversityCounts] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


DEMO_STEPS = ("roster and terms", "channel mappings", "outcomes")


async def run_demo_imports(
    db: Database,
    program_dir: Path,
    *,
    actor: str,
    on_step: Callable[[str], None] = lambda step: None,
    on_messages: ProgressCallback | None = None,
    handoff_window: dt.timedelta = dt.timedelta(hours=1),
) -> DemoReport:
    """Import a simulated program; ``on_step`` is told each of ``DEMO_STEPS`` as it finishes,
    and ``on_messages`` follows the message import (files done, messages read)."""
    report = DemoReport()
    roster = parse_roster(program_dir / "roster.csv", program_dir / "terms.csv")
    channels = parse_channels_csv(program_dir / "channels.csv")
    outcomes = parse_outcomes_csv(program_dir / "outcomes.csv")
    async with db.transaction() as session:
        result = await import_roster(session, roster, actor=actor, source="roster.csv")
    on_step(DEMO_STEPS[0])
    async with db.transaction() as session:
        mapped = await map_channels(session, channels, actor=actor, source="channels.csv")
    on_step(DEMO_STEPS[1])
    async with db.transaction() as session:
        imported = await import_outcomes(session, outcomes, actor=actor, source="outcomes.csv")
    on_step(DEMO_STEPS[2])
    report.notes.append(
        f"{result.people} people in {result.teams} teams; {mapped} channels mapped; "
        f"{imported} outcomes; {result.consent_changes} consent changes recorded."
    )
    messages = await import_discord(
        db, [program_dir / "discord"], actor=actor, progress=on_messages
    )
    rate = messages.messages_read / messages.seconds if messages.seconds else 0.0
    report.notes.append(
        f"{messages.messages_read:,} messages from {messages.files} channel and thread exports: "
        f"{messages.messages_written:,} new or changed, {messages.interfaces_written:,} new or "
        f"changed interfaces, content withheld by consent for {messages.content_withheld:,} "
        f"({messages.seconds:.1f} s, {rate:,.0f} messages/s)."
    )
    tasks = await import_task_file(
        db, program_dir / "pm" / "tasks.json", actor=actor, handoff_window=handoff_window
    )
    report.notes.append(
        f"{tasks.tasks:,} project-tool tasks with {tasks.events:,} new events, "
        f"{tasks.handoffs:,} handoffs and {tasks.interfaces:,} new task interfaces."
    )
    async with db.sessions() as session:
        report.universities = await StatsRepository(session).per_university()
    return report
