"""The CSV files: roster, terms and channel mappings."""

from __future__ import annotations

import csv
import io

from core.simulate.behaviour import TEAM
from core.simulate.organisation import PROGRAM_ID, PROGRAM_NAME, Organisation

ROSTER_COLUMNS = (
    "university_id",
    "university_name",
    "time_zone",
    "consent_mode",
    "program_id",
    "program_name",
    "project_id",
    "project_name",
    "team_id",
    "team_name",
    "discipline",
    "person_id",
    "display_name",
    "role",
    "email",
    "graduation_term",
    "joined_on",
    "discord_user_id",
    "discord_username",
    "github_login",
    "consent",
)
TERMS_COLUMNS = ("university_id", "term", "starts_on", "ends_on")
CHANNELS_COLUMNS = ("guild_id", "channel_id", "team_id", "program_id")


def csv_text(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def roster_rows(org: Organisation) -> list[dict[str, str]]:
    teams = org.teams_by_id
    rows = []
    for person in org.people:
        university = org.university(person.university_id or "")
        team = teams.get(person.team_id)
        rows.append(
            {
                "university_id": university.id,
                "university_name": university.seed.name,
                "time_zone": university.seed.time_zone,
                "consent_mode": university.seed.consent_mode,
                "program_id": PROGRAM_ID,
                "program_name": PROGRAM_NAME,
                "project_id": team.project_id if team else "",
                "project_name": team.project_name if team else "",
                "team_id": team.id if team else "",
                "team_name": team.name if team else "",
                "discipline": person.discipline,
                "person_id": person.person_id,
                "display_name": person.nickname,
                "role": person.role,
                "email": person.email,
                "graduation_term": person.graduation_term,
                "joined_on": person.joined_on.isoformat() if person.joined_on else "",
                "discord_user_id": str(person.user_id),
                "discord_username": person.username,
                "github_login": person.github_login,
                "consent": person.consent,
            }
        )
    return rows


def terms_rows(org: Organisation) -> list[dict[str, str]]:
    return [
        {
            "university_id": term.university_id,
            "term": term.name,
            "starts_on": term.starts_on.isoformat(),
            "ends_on": term.ends_on.isoformat(),
        }
        for university in org.universities
        for term in university.terms
    ]


def channel_rows(org: Organisation) -> list[dict[str, str]]:
    return [
        {
            "guild_id": str(channel.guild_id),
            "channel_id": str(channel.id),
            "team_id": channel.team_id or "" if channel.kind == TEAM else "",
            "program_id": "" if channel.kind == TEAM else PROGRAM_ID,
        }
        for channel in org.channels
    ]
