"""monday.com: GraphQL items, updates and board activity logs; webhooks.

Polling reads the board's items (``items_page`` then ``next_items_page`` by cursor) for the
current state, and the board's ``activity_logs`` since the cursor for the changes; each log
entry has an id, so events are keyed ``activity:{id}``. Updates (comments) are
``update:{id}``. A webhook names the item that changed; the connector reads that item and its
recent activity exactly as a poll does, so both doors produce the same keys.

Status is the first ``status`` column (or ``scope.status_column``); assignees are the first
``people`` column (or ``scope.people_column``); ``dependency`` columns and sub-items become
dependencies.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from core.pm.connectors.base import BaseConnector, as_dict, as_list, optional_time, require
from core.pm.http import VendorError
from core.pm.protocol import SyncPage
from core.pm.records import (
    ASSIGNED,
    BLOCKED_BY,
    COMMENTED,
    CREATED,
    STATUS_CHANGED,
    SUBTASK_OF,
    UNASSIGNED,
    Account,
    ChangeSet,
    Dependency,
    MalformedPayload,
    TaskEvent,
    TaskSnapshot,
)

log = logging.getLogger(__name__)

TOOL = "monday"
API_VERSION = "2024-10"
ITEM_FIELDS = """
  id name state created_at updated_at creator_id url
  group { id title }
  parent_item { id }
  subitems { id }
  column_values { id type text value }
  updates(limit: 100) { id text_body creator_id created_at }
  subscribers { id name email }
"""
ITEMS_QUERY = f"""
query($board: [ID!], $limit: Int!) {{
  boards(ids: $board) {{ items_page(limit: $limit) {{ cursor items {{ {ITEM_FIELDS} }} }} }}
}}"""
NEXT_ITEMS_QUERY = f"""
query($cursor: String!, $limit: Int!) {{
  next_items_page(cursor: $cursor, limit: $limit) {{ cursor items {{ {ITEM_FIELDS} }} }}
}}"""
ITEM_QUERY = f"""
query($ids: [ID!]) {{ items(ids: $ids) {{ {ITEM_FIELDS} }} }}"""
LOGS_QUERY = """
query($board: [ID!], $from: ISO8601DateTime, $page: Int!, $limit: Int!, $items: [ID!]) {
  boards(ids: $board) {
    activity_logs(from: $from, page: $page, limit: $limit, item_ids: $items) {
      id event data entity user_id created_at
    }
  }
}"""
WEBHOOK_LOOKBACK = dt.timedelta(minutes=10)


def log_time(value: Any) -> dt.datetime:
    """Activity-log times are 17-digit strings in units of 100 ns since the epoch."""
    try:
        return dt.datetime.fromtimestamp(int(str(value)) / 10_000_000, dt.UTC)
    except (TypeError, ValueError):
        raise MalformedPayload(f"activity log time {value!r} is not a number") from None


def people_ids(value: Any) -> list[str]:
    """``{"personsAndTeams": [{"id": 1, "kind": "person"}]}`` (as JSON text or object)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [
        str(entry["id"])
        for entry in as_list(as_dict(value).get("personsAndTeams"))
        if isinstance(entry, dict)
        and entry.get("kind", "person") == "person"
        and entry.get("id") is not None
    ]


def status_label(value: Any) -> str | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value or None
    label = as_dict(value).get("label")
    if isinstance(label, dict):
        text = label.get("text")
        return text if isinstance(text, str) else None
    return label if isinstance(label, str) else None


class MondayConnector(BaseConnector):
    tool = TOOL
    default_base_url = "https://api.monday.com/v2"

    def auth_headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": token,
            "API-Version": API_VERSION,
            "Content-Type": "application/json",
        }

    @property
    def board(self) -> str:
        return str(self.connection.scope["board"])

    @staticmethod
    def task_id(item_id: Any) -> str:
        return f"monday:{item_id}"

    async def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = await self.client.post_json("", {"query": query, "variables": variables})
        if not isinstance(body, dict):
            raise VendorError("monday: GraphQL answer is not an object", tool=TOOL)
        if body.get("errors") or body.get("error_message"):
            first = (
                as_dict(as_list(body.get("errors"))[0]).get("message")
                if body.get("errors")
                else body["error_message"]
            )
            raise VendorError(f"monday: GraphQL error: {first}", tool=TOOL)
        return as_dict(body.get("data"))

    # --- normalisation ------------------------------------------------------------------
    def _column(
        self, item: Mapping[str, Any], kind: str, scope_key: str
    ) -> Mapping[str, Any] | None:
        wanted = self.connection.scope.get(scope_key)
        for column in as_list(item.get("column_values")):
            column = as_dict(column)
            if (wanted and column.get("id") == wanted) or (
                not wanted and column.get("type") == kind
            ):
                return column
        return None

    def board_item_changes(self, item: Any) -> ChangeSet:
        item_id = require(item, "id", "item")
        task_id = self.task_id(item_id)
        status_column = self._column(item, "status", "status_column")
        people_column = self._column(item, "people", "people_column")
        people = people_ids(people_column.get("value")) if people_column else []
        creator = str(item["creator_id"]) if item.get("creator_id") else None
        state = item.get("state")
        changes = ChangeSet(
            accounts=[
                Account(TOOL, str(u["id"]), display_name=u.get("name"), email=u.get("email"))
                for u in as_list(item.get("subscribers"))
                if isinstance(u, dict) and u.get("id") is not None
            ]
        )
        changes.tasks.append(
            TaskSnapshot(
                id=task_id,
                title=item.get("name"),
                status=(status_column.get("text") or None)
                if status_column
                else as_dict(item.get("group")).get("title"),
                updated_at=optional_time(item.get("updated_at")),
                created_at=optional_time(item.get("created_at")),
                assignees=tuple(f"{TOOL}:{p}" for p in people)
                if people_column is not None
                else None,
                url=item.get("url"),
                closed=state in ("archived", "deleted") if isinstance(state, str) else None,
                metadata={
                    "group": as_dict(item.get("group")).get("title"),
                    "state": state,
                    "creator": f"{TOOL}:{creator}" if creator else None,
                    "author": f"{TOOL}:{creator}" if creator else None,
                },
                raw=item,
            )
        )
        for update in as_list(item.get("updates")):
            update = as_dict(update)
            if not update.get("id") or not update.get("created_at"):
                continue
            author = update.get("creator_id")
            changes.events.append(
                TaskEvent(
                    task_id,
                    COMMENTED,
                    optional_time(update["created_at"]) or dt.datetime.now(dt.UTC),
                    f"update:{update['id']}",
                    actor=f"{TOOL}:{author}" if author else None,
                    subject=str(update["id"]),
                    raw=update,
                )
            )
        parent = as_dict(item.get("parent_item")).get("id")
        if parent:
            changes.dependencies.append(Dependency(task_id, self.task_id(parent), SUBTASK_OF))
        for sub in as_list(item.get("subitems")):
            if as_dict(sub).get("id"):
                changes.dependencies.append(
                    Dependency(self.task_id(sub["id"]), task_id, SUBTASK_OF)
                )
        for column in as_list(item.get("column_values")):
            column = as_dict(column)
            if column.get("type") != "dependency" or not column.get("value"):
                continue
            try:
                value = (
                    json.loads(column["value"])
                    if isinstance(column["value"], str)
                    else column["value"]
                )
            except ValueError:
                continue
            for linked in as_list(as_dict(value).get("linkedPulseIds")):
                other = as_dict(linked).get("linkedPulseId")
                if other:
                    changes.dependencies.append(
                        Dependency(task_id, self.task_id(other), BLOCKED_BY)
                    )
        return changes

    def log_changes(self, entry: Any) -> ChangeSet:
        log_id = require(entry, "id", "activity log")
        when = log_time(require(entry, "created_at", "activity log"))
        try:
            data = json.loads(entry.get("data") or "{}")
        except ValueError:
            raise MalformedPayload(f"activity log {log_id} data is not JSON") from None
        data = as_dict(data)
        pulse = data.get("pulse_id") or data.get("item_id")
        if not pulse:
            return ChangeSet()
        task_id = self.task_id(pulse)
        actor = f"{TOOL}:{entry['user_id']}" if entry.get("user_id") else None
        event = str(entry.get("event") or "")
        key = f"activity:{log_id}"
        changes = ChangeSet(
            tasks=[TaskSnapshot(task_id, data.get("pulse_name"), None, None, partial=True)]
        )
        if event == "create_pulse":
            changes.events.append(
                TaskEvent(task_id, CREATED, when, "created", actor=actor, raw=entry)
            )
        elif event == "update_column_value":
            column_type = data.get("column_type")
            if column_type in ("color", "status"):
                changes.events.append(
                    TaskEvent(
                        task_id,
                        STATUS_CHANGED,
                        when,
                        key,
                        actor=actor,
                        subject=str(data.get("column_id")),
                        from_value=status_label(data.get("previous_value")),
                        to_value=status_label(data.get("value")),
                        raw=entry,
                    )
                )
            elif column_type in ("multiple-person", "people"):
                before = set(people_ids(data.get("previous_value")))
                after = set(people_ids(data.get("value")))
                for person in sorted(after - before):
                    ref = f"{TOOL}:{person}"
                    changes.events.append(
                        TaskEvent(
                            task_id,
                            ASSIGNED,
                            when,
                            f"{key}:+{person}",
                            actor=actor,
                            subject=ref,
                            to_value=ref,
                            raw=entry,
                        )
                    )
                for person in sorted(before - after):
                    ref = f"{TOOL}:{person}"
                    changes.events.append(
                        TaskEvent(
                            task_id,
                            UNASSIGNED,
                            when,
                            f"{key}:-{person}",
                            actor=actor,
                            subject=ref,
                            from_value=ref,
                            raw=entry,
                        )
                    )
        return changes

    # --- polling ------------------------------------------------------------------------
    async def _logs(self, since: str | None, items: list[str] | None = None) -> list[Any]:
        entries: list[Any] = []
        page = 1
        limit = self.settings.page_size
        while True:
            data = await self._graphql(
                LOGS_QUERY,
                {
                    "board": [self.board],
                    "from": since,
                    "page": page,
                    "limit": limit,
                    "items": items,
                },
            )
            batch = as_list(as_dict((as_list(data.get("boards")) or [{}])[0]).get("activity_logs"))
            entries.extend(batch)
            if len(batch) < limit:
                return entries
            page += 1

    async def poll(self, cursor: Mapping[str, Any], *, full: bool) -> AsyncIterator[SyncPage]:
        state = {} if full else dict(cursor)
        limit = self.settings.page_size
        data = await self._graphql(ITEMS_QUERY, {"board": [self.board], "limit": limit})
        page = as_dict(as_dict((as_list(data.get("boards")) or [{}])[0]).get("items_page"))
        while True:
            items = as_list(page.get("items"))
            yield SyncPage(self.item_changes(items, self.board_item_changes, "item"), None)
            if not page.get("cursor"):
                break
            data = await self._graphql(NEXT_ITEMS_QUERY, {"cursor": page["cursor"], "limit": limit})
            page = as_dict(data.get("next_items_page"))
        entries = await self._logs(state.get("logs_since"))
        # Logs come newest first; store oldest first so the cursor only moves forward.
        ordered = sorted(entries, key=lambda e: str(as_dict(e).get("created_at")))
        changes = self.item_changes(ordered, self.log_changes, "activity log")
        if ordered:
            newest = log_time(as_dict(ordered[-1]).get("created_at"))
            state["logs_since"] = newest.isoformat().replace("+00:00", "Z")
        yield SyncPage(changes, dict(state))

    # --- webhooks -----------------------------------------------------------------------
    async def webhook_changes(self, payload: Any, event_type: str | None) -> ChangeSet:
        event = as_dict(as_dict(payload).get("event"))
        if not event:
            raise MalformedPayload("delivery has no event object")
        board = event.get("boardId")
        if board is not None and str(board) != self.board:
            log.info(
                "monday: ignoring an event of board %s on connection %s", board, self.connection.id
            )
            return ChangeSet()
        pulse = event.get("pulseId") or event.get("itemId")
        if not pulse:
            return ChangeSet()
        # The delivery names the item; read it and its recent activity as a poll would.
        data = await self._graphql(ITEM_QUERY, {"ids": [str(pulse)]})
        changes = self.item_changes(as_list(data.get("items")), self.board_item_changes, "item")
        changed_at = optional_time(event.get("triggerTime")) or dt.datetime.now(dt.UTC)
        since = (changed_at - WEBHOOK_LOOKBACK).isoformat().replace("+00:00", "Z")
        entries = await self._logs(since, [str(pulse)])
        changes.extend(self.item_changes(entries, self.log_changes, "activity log"))
        return changes
