"""``frames doctor``: is everything the capture needs in place, and if not, what to fix.

Checks the database (reachable, pgvector, migrations at head), the Discord token (set, and
accepted by ``GET /users/@me``), the privileged intents the application has been granted
(``GET /applications/@me`` flags) and the channel mappings. Discord is asked over plain
HTTPS with httpx (short timeouts), against ``DISCORD_API_BASE`` when it is set. The token
is sent only in the Authorization header and never printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from core.db.engine import Database, open_database
from core.db.migrations import current_revision, head_revision
from core.db.repositories.channels import ChannelMappingRepository
from core.db.repositories.health import HealthRepository
from core.errors import FramesError
from core.settings import Settings

DISCORD_API = "https://discord.com/api/v10"
TIMEOUT_SECONDS = 5.0

# Application flags (https://discord.com/developers/docs/resources/application#application-object-application-flags):
# the plain bit once the app is verified and approved, the _LIMITED bit while it is in
# fewer than 100 servers and the intent is switched on in the Developer Portal.
GATEWAY_GUILD_MEMBERS = 1 << 14
GATEWAY_GUILD_MEMBERS_LIMITED = 1 << 15
GATEWAY_MESSAGE_CONTENT = 1 << 18
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19

PORTAL = "the Developer Portal (https://discord.com/developers/applications) → your app → Bot"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


async def diagnose(settings: Settings) -> list[Check]:
    """Every check, in order; one that cannot run says why instead of stopping the rest."""
    checks = await _database_checks(settings)
    checks += await _discord_checks(settings)
    return checks


# --- database -----------------------------------------------------------------------------
async def _database_checks(settings: Settings) -> list[Check]:
    try:
        async with open_database(settings) as db:
            return await _checks_on(db, settings)
    except (FramesError, OSError) as exc:
        return [
            Check(
                "database",
                False,
                str(exc),
                "set DATABASE_URL to a reachable PostgreSQL with pgvector "
                "(or unset it to use the embedded one)",
            )
        ]


async def _checks_on(db: Database, settings: Settings) -> list[Check]:
    async with db.sessions() as session:
        health = HealthRepository(session)
        version = await health.server_version()
        vector = await health.pgvector_version()
    checks = [Check("database", True, f"PostgreSQL {version} at {db.url.redacted}")]
    current, head = await current_revision(db), head_revision(settings)
    if current == head:
        checks.append(Check("migrations", True, f"at head ({head})"))
    else:
        checks.append(
            Check(
                "migrations",
                False,
                f"the schema is at {current or 'no revision'}, FRAMES needs {head}",
                "run `frames db upgrade`",
            )
        )
    if vector is not None:
        checks.append(Check("pgvector", True, f"extension vector {vector} installed"))
    else:
        checks.append(
            Check(
                "pgvector",
                False,
                "the server offers pgvector but this database has not created it",
                "run `frames db upgrade` (it creates the extension)",
            )
        )
    if current == head:
        checks += await _mapping_checks(db)
    return checks


async def _mapping_checks(db: Database) -> list[Check]:
    async with db.sessions() as session:
        channels = ChannelMappingRepository(session)
        mappings = await channels.all()
        issues = await HealthRepository(session).mapping_issues()
        guilds = sorted({m.guild_id for m in mappings})
        seen_guilds = await channels.seen_guilds(guilds)
        recorded = await channels.recorded_ids([m.channel_id for m in mappings])
    if not mappings:
        return [
            Check(
                "channel mappings",
                False,
                "no channels are mapped, so the bot captures nothing",
                "map channels: `frames channels map GUILD_ID CHANNEL_ID --team TEAM_ID`, "
                "a category with `--category CATEGORY_ID`, or `frames channels import FILE`",
            )
        ]
    teams = {m.team_id for m in mappings if m.team_id}
    checks = [
        Check(
            "channel mappings",
            True,
            f"{len(mappings)} channels mapped in {len(guilds)} guilds ({len(teams)} teams)",
        )
    ]
    if issues:
        reasons = {
            "team-missing": "team no longer exists",
            "program-missing": "program no longer exists",
            "university-changed": "team's university changed since mapping",
        }
        listed = "; ".join(f"{i.channel_id}: {reasons[i.reason]}" for i in issues)
        checks.append(
            Check(
                "mapped teams",
                False,
                f"{len(issues)} mappings are stale ({listed})",
                "map them again with `frames channels map` (or `frames channels unmap`)",
            )
        )
    unseen = [g for g in guilds if g not in seen_guilds]
    if unseen:
        checks.append(
            Check(
                "mapped guilds",
                False,
                f"the bot has not seen guild{'s' if len(unseen) > 1 else ''} "
                + ", ".join(str(g) for g in unseen),
                "invite the bot (`frames bot invite-url`) and run `frames bot`",
            )
        )
    missing = [
        m.channel_id for m in mappings if m.guild_id in seen_guilds and m.channel_id not in recorded
    ]
    if missing:
        checks.append(
            Check(
                "mapped channels",
                False,
                "not among the channels the bot sees in their guild: "
                + ", ".join(str(c) for c in missing),
                "check the channel still exists and the bot may view it and read its history, "
                "or `frames channels unmap CHANNEL_ID`",
            )
        )
    return checks


# --- Discord ------------------------------------------------------------------------------
async def _discord_checks(settings: Settings) -> list[Check]:
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        return [
            Check(
                "DISCORD_TOKEN",
                False,
                "not set",
                f"copy the bot token from {PORTAL} → Reset Token, and set DISCORD_TOKEN",
            )
        ]
    token = settings.discord_token.get_secret_value().strip()
    base = (settings.discord_api_base or DISCORD_API).rstrip("/")
    checks = [Check("DISCORD_TOKEN", True, "set")]
    headers = {"Authorization": f"Bot {token}", "User-Agent": "DiscordBot (frames doctor, 1)"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=TIMEOUT_SECONDS) as http:
        me = await _get(http, "/users/@me", base)
        if isinstance(me, Check):
            return [*checks, me]
        if not me.get("bot"):
            return [
                *checks,
                Check(
                    "Discord token",
                    False,
                    "the token is not a bot's token",
                    f"use the token from {PORTAL}, not a user token",
                ),
            ]
        checks.append(
            Check("Discord token", True, f"accepted: bot {me.get('username')} ({me.get('id')})")
        )
        application = await _get(http, "/applications/@me", base)
        if isinstance(application, Check):
            return [*checks, application]
    flags = int(application.get("flags") or 0)
    checks.append(
        _intent(
            "message content intent",
            flags,
            GATEWAY_MESSAGE_CONTENT | GATEWAY_MESSAGE_CONTENT_LIMITED,
            "MESSAGE CONTENT INTENT",
            "without it messages arrive with empty content",
        )
    )
    checks.append(
        _intent(
            "server members intent",
            flags,
            GATEWAY_GUILD_MEMBERS | GATEWAY_GUILD_MEMBERS_LIMITED,
            "SERVER MEMBERS INTENT",
            "without it joins, leaves and role changes are not seen",
        )
    )
    return checks


def _intent(name: str, flags: int, bits: int, portal_name: str, why: str) -> Check:
    if flags & bits:
        return Check(name, True, "enabled")
    return Check(name, False, f"not enabled ({why})", f"switch on {portal_name} in {PORTAL}")


async def _get(http: httpx.AsyncClient, path: str, base: str) -> dict[str, Any] | Check:
    name = "Discord token" if path == "/users/@me" else "Discord application"
    try:
        response = await http.get(path)
    except httpx.HTTPError as exc:
        return Check(
            name,
            False,
            f"cannot reach Discord at {base}: {type(exc).__name__} {exc}".rstrip(),
            "check the network (or DISCORD_API_BASE)",
        )
    if response.status_code == 401:
        return Check(
            name,
            False,
            "Discord refused the token (401 Unauthorized)",
            f"reset the token in {PORTAL} and update DISCORD_TOKEN",
        )
    if response.status_code != 200:
        return Check(
            name,
            False,
            f"GET {path} answered {response.status_code}",
            "try again later; see https://discordstatus.com",
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return Check(name, False, f"GET {path} did not answer a JSON object", None)
    return body
