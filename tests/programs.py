"""A simulated program's organisation (roster, channel mappings, outcomes) loaded for tests."""

from __future__ import annotations

from pathlib import Path

from core.db.engine import Database
from core.org.channels import map_channels, parse_channels_csv
from core.org.outcomes import import_outcomes, parse_outcomes_csv
from core.org.roster import parse_roster
from core.org.service import import_roster


async def load_organisation(db: Database, program: Path, *, outcomes: bool = True) -> None:
    async with db.transaction() as session:
        roster = parse_roster(program / "roster.csv", program / "terms.csv")
        await import_roster(session, roster, actor="test", source="roster.csv")
        await map_channels(
            session, parse_channels_csv(program / "channels.csv"), actor="test", source="c"
        )
        if outcomes:
            await import_outcomes(
                session, parse_outcomes_csv(program / "outcomes.csv"), actor="test", source="o"
            )
