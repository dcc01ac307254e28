"""Trello: board actions (the change feed, with ids), cards, lists and members; webhooks.

Polling: ``GET /1/boards/{board}/actions?since={newest action id}`` (newest first, paged
back with ``before``), then the board's cards, lists and members for the current state.
Every change is a Trello action with an id, and a webhook delivers that same action, so
events are keyed ``action:{id}`` whichever way they arrive. Status is the card's list.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from core.pm.connectors.base import (
    BaseConnector,
    as_dict,
    as_list,
    optional_time,
    parse_time,
    require,
)
from core.pm.http import VendorError
from core.pm.protocol import SyncPage
from core.pm.records import (
    ASSIGNED,
    CLOSED,
    COMMENTED,
    CREATED,
    REOPENED,
    STATUS_CHANGED,
    UNASSIGNED,
    Account,
    ChangeSet,
    MalformedPayload,
    TaskEvent,
    TaskSnapshot,
)

log = logging.getLogger(__name__)

TOOL = "trello"
ACTION_TYPES = ",".join(
    (
        "createCard",
        "updateCard",
        "commentCard",
        "addMemberToCard",
        "removeMemberFromCard",
        "deleteCard",
        "moveCardToBoard",
    )
)
CARD_FIELDS = "name,desc,idList,idMembers,closed,due,dateLastActivity,shortUrl,idShort,idBoard"


def object_id_time(object_id: str) -> dt.datetime | None:
    """Trello ids are MongoDB ObjectIds: the first 8 hex digits are the creation time."""
    try:
        return dt.datetime.fromtimestamp(int(object_id[:8], 16), dt.UTC)
    except (ValueError, TypeError):
        return None


def account(member: Any) -> Account | None:
    member = as_dict(member)
    member_id = member.get("id")
    if not isinstance(member_id, str) or not member_id:
        return None
    return Account(
        TOOL, member_id, username=member.get("username"), display_name=member.get("fullName")
    )


class TrelloConnector(BaseConnector):
    tool = TOOL
    default_base_url = "https://api.trello.com/1"

    def auth_headers(self, token: str) -> dict[str, str]:
        """The secret is ``API_KEY:TOKEN``; sent as an OAuth header so it never sits in a URL."""
        key, _, user_token = token.partition(":")
        return {"Authorization": f'OAuth oauth_consumer_key="{key}", oauth_token="{user_token}"'}

    @property
    def board(self) -> str:
        return str(self.connection.scope["board"])

    @staticmethod
    def task_id(card_id: str) -> str:
        return f"trello:{card_id}"

    # --- normalisation ------------------------------------------------------------------
    def card_snapshot(self, card: Any, lists: Mapping[str, str]) -> ChangeSet:
        card_id = require(card, "id", "card")
        members = [f"{TOOL}:{m}" for m in as_list(card.get("idMembers")) if isinstance(m, str)]
        closed = card.get("closed")
        return ChangeSet(
            tasks=[
                TaskSnapshot(
                    id=self.task_id(card_id),
                    title=card.get("name"),
                    status=lists.get(str(card.get("idList"))),
                    updated_at=optional_time(card.get("dateLastActivity")),
                    created_at=object_id_time(card_id),
                    description=card.get("desc") or None,
                    assignees=tuple(members) if "idMembers" in card else None,
                    due_at=optional_time(card.get("due")),
                    url=card.get("shortUrl") or card.get("url"),
                    closed=closed if isinstance(closed, bool) else None,
                    metadata={"list_id": card.get("idList"), "short_id": card.get("idShort")},
                    raw=card,
                    partial="idMembers" not in card,
                )
            ]
        )

    def action_changes(self, action: Any) -> ChangeSet:
        action_id = require(action, "id", "action")
        kind = require(action, "type", "action")
        data = as_dict(action.get("data"))
        card = as_dict(data.get("card"))
        if not card.get("id"):
            return ChangeSet()  # a board- or list-level action
        when = parse_time(require(action, "date", "action"), "action.date")
        creator = account(action.get("memberCreator")) or (
            Account(TOOL, action["idMemberCreator"])
            if isinstance(action.get("idMemberCreator"), str)
            else None
        )
        actor = creator.ref if creator else None
        task_id = self.task_id(card["id"])
        key = f"action:{action_id}"
        changes = ChangeSet(accounts=[creator] if creator else [])
        list_name = as_dict(data.get("listAfter") or data.get("list")).get("name")
        changes.tasks.append(
            TaskSnapshot(
                task_id,
                card.get("name"),
                list_name if isinstance(list_name, str) else None,
                None,
                url=f"https://trello.com/c/{card['shortLink']}" if card.get("shortLink") else None,
                metadata={"short_id": card.get("idShort")} if card.get("idShort") else {},
                created_at=object_id_time(str(card["id"])),
                partial=True,
            )
        )
        event: TaskEvent | None = None
        if kind == "createCard":
            event = TaskEvent(task_id, CREATED, when, "created", actor=actor, raw=action)
        elif kind == "commentCard":
            event = TaskEvent(
                task_id, COMMENTED, when, key, actor=actor, subject=action_id, raw=action
            )
        elif kind in ("addMemberToCard", "removeMemberFromCard"):
            member = account(action.get("member")) or (
                Account(TOOL, data["idMember"]) if isinstance(data.get("idMember"), str) else None
            )
            if member is None:
                raise MalformedPayload(f"{kind} {action_id} names no member")
            changes.accounts.append(member)
            assigned = kind == "addMemberToCard"
            event = TaskEvent(
                task_id,
                ASSIGNED if assigned else UNASSIGNED,
                when,
                key,
                actor=actor,
                subject=member.ref,
                to_value=member.ref if assigned else None,
                from_value=None if assigned else member.ref,
                raw=action,
            )
        elif kind == "updateCard":
            old = as_dict(data.get("old"))
            if data.get("listAfter") and data.get("listBefore"):
                event = TaskEvent(
                    task_id,
                    STATUS_CHANGED,
                    when,
                    key,
                    actor=actor,
                    subject="list",
                    from_value=as_dict(data["listBefore"]).get("name"),
                    to_value=as_dict(data["listAfter"]).get("name"),
                    raw=action,
                )
            elif "closed" in old:
                event = TaskEvent(
                    task_id,
                    CLOSED if card.get("closed") else REOPENED,
                    when,
                    key,
                    actor=actor,
                    raw=action,
                )
        if event is not None:
            changes.events.append(event)
        return changes

    # --- polling ------------------------------------------------------------------------
    async def poll(self, cursor: Mapping[str, Any], *, full: bool) -> AsyncIterator[SyncPage]:
        state = {} if full else dict(cursor)
        newest_first: list[Any] = []
        params: dict[str, Any] = {
            "filter": ACTION_TYPES,
            "limit": 1000,
            "memberCreator_fields": "fullName,username",
        }
        if state.get("action_since"):
            params["since"] = state["action_since"]
        while True:
            batch = await self.client.get_json(f"/boards/{self.board}/actions", params=params)
            if not isinstance(batch, list):
                raise VendorError(
                    f"trello: actions of board {self.board} are not a list", tool=TOOL
                )
            newest_first.extend(batch)
            if len(batch) < params["limit"] or not batch:
                break
            params = {**params, "before": as_dict(batch[-1]).get("id")}
        lists = await self.client.get_json(
            f"/boards/{self.board}/lists", params={"filter": "all", "fields": "name"}
        )
        list_names = {
            str(item.get("id")): str(item.get("name"))
            for item in as_list(lists)
            if isinstance(item, dict)
        }
        members = await self.client.get_json(
            f"/boards/{self.board}/members", params={"fields": "fullName,username"}
        )
        cards = await self.client.get_json(
            f"/boards/{self.board}/cards/all", params={"fields": CARD_FIELDS}
        )
        if not isinstance(cards, list):
            raise VendorError(f"trello: cards of board {self.board} are not a list", tool=TOOL)

        changes = self.item_changes(list(reversed(newest_first)), self.action_changes, "action")
        changes.extend(
            self.item_changes(cards, lambda card: self.card_snapshot(card, list_names), "card")
        )
        changes.accounts.extend(a for a in (account(m) for m in as_list(members)) if a)
        if newest_first and isinstance(as_dict(newest_first[0]).get("id"), str):
            state["action_since"] = newest_first[0]["id"]
        yield SyncPage(changes, dict(state))

    # --- webhooks -----------------------------------------------------------------------
    async def webhook_changes(self, payload: Any, event_type: str | None) -> ChangeSet:
        if not isinstance(payload, dict):
            raise MalformedPayload("payload is not a JSON object")
        action = payload.get("action")
        if not isinstance(action, dict):
            raise MalformedPayload("delivery has no action object")
        board = as_dict(as_dict(action.get("data")).get("board")).get("id") or as_dict(
            payload.get("model")
        ).get("id")
        if board and board != self.board:
            log.info(
                "trello: ignoring an action of board %s on connection %s", board, self.connection.id
            )
            return ChangeSet()
        return self.action_changes(action)
