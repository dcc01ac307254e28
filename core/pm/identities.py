"""Tool accounts → people: exact e-mail matches link at once; likely matches are suggested.

A likely match is the same username on another service whose account is already linked,
or a display name close to a person's name. Faculty accept, reject or snooze suggestions,
and can undo any decision or link later; every decision is audit-logged.
"""

from __future__ import annotations

import datetime as dt
import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Identity, IdentitySuggestion, Person
from core.db.repositories.audit import AuditRepository
from core.db.repositories.pm import AccountRow, PMRepository
from core.errors import InputError, InputProblem, NotFoundError
from core.pm.records import Account, entity

SAME_USERNAME_SCORE = 0.9
NAME_SIMILARITY_THRESHOLD = 0.85


def normalise_name(name: str) -> str:
    """Case-, accent- and order-insensitive form: 'Núñez, José' ~ 'jose nunez'."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    tokens = "".join(c if c.isalnum() else " " for c in plain).split()
    return " ".join(sorted(tokens))


def name_similarity(a: str, b: str) -> float:
    left, right = normalise_name(a), normalise_name(b)
    if not left or not right:
        return 0.0
    return difflib.SequenceMatcher(None, left, right).ratio()


def merge_accounts(accounts: Iterable[Account]) -> list[Account]:
    """One account per (tool, id), keeping the richest fields seen in the batch."""
    merged: dict[tuple[str, str], Account] = {}
    for account in accounts:
        key = (account.tool, account.external_id)
        seen = merged.get(key)
        if seen is None:
            merged[key] = account
            continue
        merged[key] = Account(
            account.tool,
            account.external_id,
            seen.username or account.username,
            seen.display_name or account.display_name,
            seen.email or account.email,
            seen.is_bot or account.is_bot,
        )
    return list(merged.values())


@dataclass
class AccountOutcome:
    accounts: dict[str, AccountRow]  # entity ref → row
    linked: int
    suggested: int


async def record_accounts(
    session: AsyncSession, accounts: Iterable[Account], university_id: str | None, now: dt.datetime
) -> AccountOutcome:
    repo = PMRepository(session)
    merged = merge_accounts(accounts)
    if not merged:
        return AccountOutcome({}, 0, 0)
    rows = [
        {
            "provider": a.tool,
            "external_id": a.external_id,
            "username": a.username,
            "display_name": a.display_name,
            "email": a.email.lower() if a.email else None,
            "university_id": university_id,
            "is_bot": a.is_bot,
        }
        for a in sorted(merged, key=lambda a: (a.tool, a.external_id))
    ]
    stored = await repo.upsert_accounts(rows)
    linked = 0
    candidates = [
        a
        for a in stored
        if a.person_id is None and a.email and not a.metadata.get("auto_link_blocked")
    ]
    people = await repo.people_by_email(a.email for a in candidates if a.email)
    by_ref: dict[str, AccountRow] = {}
    for account in stored:
        person = (
            people.get(account.email.lower()) if account in candidates and account.email else None
        )
        if person is not None:
            await repo.link_account(account.id, person.id, "email-match", now)
            await repo.refresh_interface_people(
                entity(account.provider, account.external_id), person.id
            )
            account = AccountRow(**{**account.__dict__, "person_id": person.id})
            linked += 1
        by_ref[entity(account.provider, account.external_id)] = account
    unlinked = [a for a in by_ref.values() if a.person_id is None]
    suggested = await suggest_links(repo, unlinked, university_id) if unlinked else 0
    return AccountOutcome(by_ref, linked, suggested)


async def suggest_links(
    repo: PMRepository, accounts: list[AccountRow], university_id: str | None
) -> int:
    suggestions: list[dict[str, Any]] = []
    usernames = [a.username for a in accounts if a.username]
    same_username = await repo.linked_usernames(usernames)
    for account in accounts:
        if not account.username:
            continue
        for username, provider, person_id in same_username:
            if username == account.username.lower() and provider != account.provider:
                suggestions.append(
                    {
                        "identity_id": account.id,
                        "person_id": person_id,
                        "university_id": university_id,
                        "reason": f"same-username:{provider}",
                        "score": SAME_USERNAME_SCORE,
                        "evidence": {"username": account.username, "provider": provider},
                    }
                )
    named = [a for a in accounts if a.display_name]
    if named:
        people = await repo.people_named(university_id)
        for account in named:
            for person in people:
                score = name_similarity(account.display_name or "", person.display_name)
                if score >= NAME_SIMILARITY_THRESHOLD:
                    suggestions.append(
                        {
                            "identity_id": account.id,
                            "person_id": person.id,
                            "university_id": university_id or person.university_id,
                            "reason": "similar-name",
                            "score": round(min(score, 0.99), 3),
                            "evidence": {
                                "account_name": account.display_name,
                                "person_name": person.display_name,
                            },
                        }
                    )
    return await repo.add_suggestions(suggestions)


# --- faculty decisions ---------------------------------------------------------------------
async def _suggestion(repo: PMRepository, suggestion_id: int) -> IdentitySuggestion:
    suggestion = await repo.get_suggestion(suggestion_id)
    if suggestion is None:
        raise NotFoundError(f"no identity suggestion {suggestion_id}")
    return suggestion


async def _decide(
    session: AsyncSession, suggestion: IdentitySuggestion, status: str, actor: str, now: dt.datetime
) -> None:
    previous = suggestion.status
    suggestion.status = status
    suggestion.decided_by = actor
    suggestion.decided_at = now
    await session.flush()
    await AuditRepository(session).record(
        actor,
        f"identities.suggestion.{status if status != 'pending' else 'undo'}",
        target_type="identity_suggestion",
        target_id=str(suggestion.id),
        university_id=suggestion.university_id,
        details={
            "from": previous,
            "identity_id": suggestion.identity_id,
            "person_id": suggestion.person_id,
        },
    )


async def accept_suggestion(
    session: AsyncSession, suggestion_id: int, actor: str, now: dt.datetime
) -> Identity:
    repo = PMRepository(session)
    suggestion = await _suggestion(repo, suggestion_id)
    if suggestion.status == "accepted":
        identity = await repo.get_identity(suggestion.identity_id)
        assert identity is not None
        return identity
    identity = await repo.link_account(
        suggestion.identity_id, suggestion.person_id, "suggestion", now
    )
    if identity is None:
        raise NotFoundError(f"the account of suggestion {suggestion_id} no longer exists")
    await repo.refresh_interface_people(
        entity(identity.provider, identity.external_id), suggestion.person_id
    )
    await _decide(session, suggestion, "accepted", actor, now)
    return identity


async def reject_suggestion(
    session: AsyncSession, suggestion_id: int, actor: str, now: dt.datetime
) -> None:
    repo = PMRepository(session)
    suggestion = await _suggestion(repo, suggestion_id)
    if suggestion.status == "accepted":
        raise InputError(
            [InputProblem("suggestion", None, None, f"{suggestion_id} was accepted; undo it first")]
        )
    await _decide(session, suggestion, "rejected", actor, now)


async def snooze_suggestion(
    session: AsyncSession, suggestion_id: int, until: dt.datetime, actor: str, now: dt.datetime
) -> None:
    repo = PMRepository(session)
    suggestion = await _suggestion(repo, suggestion_id)
    if suggestion.status == "accepted":
        raise InputError(
            [InputProblem("suggestion", None, None, f"{suggestion_id} was accepted; undo it first")]
        )
    suggestion.snoozed_until = until
    await _decide(session, suggestion, "snoozed", actor, now)


async def undo_suggestion(
    session: AsyncSession, suggestion_id: int, actor: str, now: dt.datetime
) -> None:
    """Back to pending; an accepted link is removed again."""
    repo = PMRepository(session)
    suggestion = await _suggestion(repo, suggestion_id)
    if suggestion.status == "accepted":
        identity = await repo.get_identity(suggestion.identity_id)
        if identity is not None and identity.person_id == suggestion.person_id:
            await repo.link_account(identity.id, None, None, now)
            await repo.refresh_interface_people(
                entity(identity.provider, identity.external_id), None
            )
    suggestion.snoozed_until = None
    await _decide(session, suggestion, "pending", actor, now)


async def unlink_account(
    session: AsyncSession, identity_id: int, actor: str, now: dt.datetime
) -> Identity:
    """Undo any link (an e-mail match included); it will not be re-made automatically."""
    repo = PMRepository(session)
    identity = await repo.get_identity(identity_id)
    if identity is None:
        raise NotFoundError(f"no identity {identity_id}")
    previous = identity.person_id
    identity = await repo.link_account(identity_id, None, None, now)
    assert identity is not None
    await repo.refresh_interface_people(entity(identity.provider, identity.external_id), None)
    await AuditRepository(session).record(
        actor,
        "identities.unlink",
        target_type="identity",
        target_id=str(identity_id),
        university_id=identity.university_id,
        details={"person_id": previous, "provider": identity.provider},
    )
    return identity


async def pending_suggestions(
    session: AsyncSession, now: dt.datetime
) -> list[tuple[IdentitySuggestion, Identity, Person]]:
    return await PMRepository(session).suggestions(statuses=("pending",), now=now)
