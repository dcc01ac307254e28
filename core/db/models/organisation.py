"""Universities, programs, projects, teams, people and their accounts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, CreatedAt, Json, Timestamp

CONSENT_MODES = ("opt-in", "opt-out", "metadata-only")
PERSON_ROLES = ("student", "faculty", "external", "researcher")
LIFECYCLES = ("incoming", "established", "outgoing")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class University(Base):
    __tablename__ = "universities"
    __table_args__ = (CheckConstraint(_in("consent_mode", CONSENT_MODES), name="consent_mode"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    time_zone: Mapped[str] = mapped_column(server_default="UTC")
    consent_mode: Mapped[str] = mapped_column(server_default="opt-in")
    metadata_: Mapped[Json] = mapped_column("metadata")
    created_at: Mapped[CreatedAt]


class AcademicTerm(Base):
    """A university's term with its dates; graduation terms refer to these by name."""

    __tablename__ = "academic_terms"
    __table_args__ = (
        UniqueConstraint("university_id", "name"),
        CheckConstraint("ends_on > starts_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    university_id: Mapped[str] = mapped_column(ForeignKey("universities.id", ondelete="CASCADE"))
    name: Mapped[str]
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    lead_university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="SET NULL")
    )
    metadata_: Mapped[Json] = mapped_column("metadata")
    created_at: Mapped[CreatedAt]


class Project(Base):
    """A mission or shared kit project inside a program."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    program_id: Mapped[str | None] = mapped_column(ForeignKey("programs.id", ondelete="SET NULL"))
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(server_default="active")
    metadata_: Mapped[Json] = mapped_column("metadata")
    created_at: Mapped[CreatedAt]


class Team(Base):
    """A module of the program; ``id`` is the TEAM_ID every command takes."""

    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    university_id: Mapped[str] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), index=True
    )
    program_id: Mapped[str | None] = mapped_column(ForeignKey("programs.id", ondelete="SET NULL"))
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    discipline: Mapped[str | None]
    metadata_: Mapped[Json] = mapped_column("metadata")
    created_at: Mapped[CreatedAt]


class Person(Base):
    """Students, faculty, external partners and researchers (``students``/``faculty`` are views)."""

    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint(_in("role", PERSON_ROLES), name="role"),
        CheckConstraint(f"lifecycle IS NULL OR {_in('lifecycle', LIFECYCLES)}", name="lifecycle"),
        Index("ix_people_email", "email", unique=True, postgresql_where=text("email IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(primary_key=True)
    university_id: Mapped[str] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE"), index=True
    )
    display_name: Mapped[str]
    role: Mapped[str] = mapped_column(server_default="student")
    email: Mapped[str | None]
    discipline: Mapped[str | None]
    # Set explicitly by a roster, or left NULL and derived from terms by core.lifecycle.
    lifecycle: Mapped[str | None]
    graduation_term: Mapped[str | None]
    joined_on: Mapped[dt.date | None] = mapped_column(Date)
    is_bot: Mapped[bool] = mapped_column(server_default=text("false"))
    excluded_from_analysis: Mapped[bool] = mapped_column(server_default=text("false"))
    metadata_: Mapped[Json] = mapped_column("metadata")
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[CreatedAt]


class TeamMembership(Base):
    __tablename__ = "team_memberships"
    __table_args__ = (UniqueConstraint("team_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    university_id: Mapped[str] = mapped_column(ForeignKey("universities.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(server_default="member")  # member, lead, advisor
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)


class Identity(Base):
    """One account of a person on one service; unlinked until matched (merge = set person_id)."""

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("provider", "external_id"),
        Index("ix_identities_provider_username", "provider", "username"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    provider: Mapped[str]  # discord, github, jira, asana, trello, monday, slack, email
    external_id: Mapped[str]
    username: Mapped[str | None]
    display_name: Mapped[str | None]
    email: Mapped[str | None]
    person_id: Mapped[str | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    link_source: Mapped[str | None]  # roster, email-match, manual
    linked_at: Mapped[Timestamp | None]
    is_bot: Mapped[bool] = mapped_column(server_default=text("false"))
    metadata_: Mapped[Json] = mapped_column("metadata")
    created_at: Mapped[CreatedAt]


class ChannelMapping(Base):
    """Which team (or program, for shared channels) a Discord channel belongs to."""

    __tablename__ = "channel_mappings"
    __table_args__ = (
        UniqueConstraint("channel_id"),
        CheckConstraint("(team_id IS NULL) <> (program_id IS NULL)", name="team_xor_program"),
        Index("ix_channel_mappings_guild_id", "guild_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    guild_id: Mapped[int]
    channel_id: Mapped[int]
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    program_id: Mapped[str | None] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    # NULL for program channels: each message then belongs to its author's university.
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    created_at: Mapped[CreatedAt]
