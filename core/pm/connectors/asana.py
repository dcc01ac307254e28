"""Asana: project tasks modified since the cursor, their stories (the change feed), webhooks.

Polling: ``GET /tasks?project={gid}&modified_since=…`` (``offset`` pagination), then each
task's ``/stories``. Stories have gids and cover assignment, completion, section moves and
comments, so events are keyed ``story:{gid}``. Asana's webhook events are deliberately thin
(which resource changed, rarely how), so a verified delivery makes the connector read the
named tasks and their stories exactly as a poll does: one normaliser, the same keys.
"""

from __future__ import annotations

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
    BLOCKED_BY,
    CLOSED,
    COMMENTED,
    REOPENED,
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

TOOL = "asana"
TASK_FIELDS = (
    "name,notes,completed,completed_at,created_at,modified_at,due_at,due_on,permalink_url,"
    "assignee.name,assignee.email,created_by.name,parent,dependencies,memberships.project,"
    "memberships.section.name"
)
STORY_FIELDS = (
    "resource_subtype,type,text,created_at,created_by.name,created_by.email,assignee.name,"
    "old_section.name,new_section.name"
)


def account(user: Any) -> Account | None:
    user = as_dict(user)
    gid = user.get("gid")
    if not isinstance(gid, str) or not gid:
        return None
    return Account(TOOL, gid, display_name=user.get("name"), email=user.get("email"))


class AsanaConnector(BaseConnector):
    tool = TOOL
    default_base_url = "https://app.asana.com/api/1.0"

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    @property
    def project(self) -> str:
        return str(self.connection.scope["project"])

    @staticmethod
    def task_id(gid: str) -> str:
        return f"asana:{gid}"

    # --- normalisation ------------------------------------------------------------------
    def task_changes(self, task: Any) -> ChangeSet:
        gid = require(task, "gid", "task")
        task_id = self.task_id(gid)
        assignee = account(task.get("assignee"))
        creator = account(task.get("created_by"))
        section = None
        for membership in as_list(task.get("memberships")):
            membership = as_dict(membership)
            if as_dict(membership.get("project")).get("gid") in (self.project, None):
                section = as_dict(membership.get("section")).get("name") or section
        completed = task.get("completed")
        status = section or ("completed" if completed else "open")
        due = optional_time(task.get("due_at")) or optional_time(
            f"{task['due_on']}T00:00:00+00:00" if isinstance(task.get("due_on"), str) else None
        )
        changes = ChangeSet(accounts=[a for a in (assignee, creator) if a])
        changes.tasks.append(
            TaskSnapshot(
                id=task_id,
                title=task.get("name"),
                status=status,
                updated_at=optional_time(task.get("modified_at")),
                created_at=optional_time(task.get("created_at")),
                description=task.get("notes") or None,
                assignees=(assignee.ref,) if assignee else (() if "assignee" in task else None),
                completed_at=optional_time(task.get("completed_at")) if completed else None,
                due_at=due,
                url=task.get("permalink_url"),
                closed=completed if isinstance(completed, bool) else None,
                metadata={
                    "section": section,
                    "creator": creator.ref if creator else None,
                    "author": creator.ref if creator else None,
                },
                raw=task,
            )
        )
        parent = as_dict(task.get("parent")).get("gid")
        if isinstance(parent, str) and parent:
            changes.dependencies.append(Dependency(task_id, self.task_id(parent), SUBTASK_OF))
        for dependency in as_list(task.get("dependencies")):
            other = as_dict(dependency).get("gid")
            if isinstance(other, str) and other:
                changes.dependencies.append(Dependency(task_id, self.task_id(other), BLOCKED_BY))
        return changes

    def story_changes(self, task_id: str, story: Any) -> ChangeSet:
        gid = require(story, "gid", "story")
        subtype = story.get("resource_subtype")
        when = parse_time(require(story, "created_at", "story"), "story.created_at")
        author = account(story.get("created_by"))
        actor = author.ref if author else None
        key = f"story:{gid}"
        changes = ChangeSet(accounts=[author] if author else [])
        if subtype == "comment_added":
            changes.events.append(
                TaskEvent(task_id, COMMENTED, when, key, actor=actor, subject=gid, raw=story)
            )
        elif subtype in ("assigned", "unassigned"):
            assignee = account(story.get("assignee"))
            if assignee is None:
                raise MalformedPayload(f"{subtype} story {gid} has no assignee")
            changes.accounts.append(assignee)
            assigned = subtype == "assigned"
            changes.events.append(
                TaskEvent(
                    task_id,
                    ASSIGNED if assigned else UNASSIGNED,
                    when,
                    key,
                    actor=actor,
                    subject=assignee.ref,
                    to_value=assignee.ref if assigned else None,
                    from_value=None if assigned else assignee.ref,
                    raw=story,
                )
            )
        elif subtype in ("marked_complete", "marked_incomplete"):
            kind = CLOSED if subtype == "marked_complete" else REOPENED
            changes.events.append(TaskEvent(task_id, kind, when, key, actor=actor, raw=story))
        elif subtype == "section_changed":
            changes.events.append(
                TaskEvent(
                    task_id,
                    STATUS_CHANGED,
                    when,
                    key,
                    actor=actor,
                    subject="section",
                    from_value=as_dict(story.get("old_section")).get("name"),
                    to_value=as_dict(story.get("new_section")).get("name"),
                    raw=story,
                )
            )
        return changes

    # --- reading ------------------------------------------------------------------------
    async def _paged(self, path: str, params: dict[str, Any]) -> AsyncIterator[list[Any]]:
        query = {**params, "limit": self.settings.page_size}
        while True:
            body = await self.client.get_json(path, params=query)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise VendorError(f"asana: {path} did not return a data list", tool=TOOL)
            yield body["data"]
            offset = as_dict(body.get("next_page")).get("offset")
            if not offset:
                return
            query = {**query, "offset": offset}

    async def task_with_stories(self, gid: str) -> ChangeSet:
        body = await self.client.get_json(f"/tasks/{gid}", params={"opt_fields": TASK_FIELDS})
        task = as_dict(body).get("data")
        changes = self.item_changes([task], self.task_changes, "task")
        changes.extend(await self._stories(gid))
        return changes

    async def _stories(self, gid: str) -> ChangeSet:
        changes = ChangeSet()
        async for stories in self._paged(f"/tasks/{gid}/stories", {"opt_fields": STORY_FIELDS}):
            changes.extend(
                self.item_changes(
                    stories, lambda s: self.story_changes(self.task_id(gid), s), "story"
                )
            )
        return changes

    async def poll(self, cursor: Mapping[str, Any], *, full: bool) -> AsyncIterator[SyncPage]:
        state = {} if full else dict(cursor)
        params: dict[str, Any] = {"project": self.project, "opt_fields": TASK_FIELDS}
        if state.get("modified_since"):
            params["modified_since"] = state["modified_since"]
        async for tasks in self._paged("/tasks", params):
            changes = self.item_changes(tasks, self.task_changes, "task")
            for task in tasks:
                if isinstance(task, dict) and isinstance(task.get("gid"), str):
                    changes.extend(await self._stories(task["gid"]))
            newest = max(
                (
                    str(t["modified_at"])
                    for t in tasks
                    if isinstance(t, dict) and t.get("modified_at")
                ),
                default=None,
            )
            if newest and (not state.get("modified_since") or newest > state["modified_since"]):
                state["modified_since"] = newest
            yield SyncPage(changes, dict(state))

    # --- webhooks -----------------------------------------------------------------------
    async def webhook_changes(self, payload: Any, event_type: str | None) -> ChangeSet:
        if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
            raise MalformedPayload("delivery has no events list")
        gids: list[str] = []
        for event in payload["events"]:
            event = as_dict(event)
            resource, parent = as_dict(event.get("resource")), as_dict(event.get("parent"))
            if resource.get("resource_type") == "task":
                gid = resource.get("gid")
            elif parent.get("resource_type") == "task":
                gid = parent.get("gid")  # a story (comment, assignment…) on a task
            else:
                continue
            if (
                isinstance(gid, str)
                and gid
                and gid not in gids
                and event.get("action") != "deleted"
            ):
                gids.append(gid)
        changes = ChangeSet()
        for gid in gids:
            changes.extend(await self.task_with_stories(gid))
        return changes
