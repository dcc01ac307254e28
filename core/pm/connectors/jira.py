"""Jira Cloud: REST v3 JQL search with changelog, comments, links and sub-tasks; webhooks.

Polling: JQL ``project = KEY AND updated >= "…" ORDER BY updated ASC`` on the enhanced search
endpoint (``/rest/api/3/search/jql``, ``nextPageToken``) or, where a site still serves it,
the classic ``/rest/api/3/search`` (``startAt``/``total``), with ``expand=changelog``;
issues whose embedded changelog is truncated are completed from ``/issue/{id}/changelog``.
Every change carries the changelog history id, so events are keyed ``history:{id}:{field}``
whether they come from a poll or from a ``jira:issue_updated`` webhook; comments are
``comment:{id}``. JQL compares dates in the API user's time zone (``scope.time_zone``,
default UTC) at minute precision, so the cursor is rewound by an overlap and the repeats are
absorbed by the idempotent writes.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import ConfigurationError
from core.pm.connectors.base import BaseConnector, as_dict, as_list, parse_time, require
from core.pm.http import VendorError
from core.pm.protocol import SyncPage
from core.pm.records import (
    ASSIGNED,
    BLOCKED_BY,
    CLOSED,
    COMMENTED,
    LINKED,
    REASSIGNED,
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

TOOL = "jira"
FIELDS = (
    "summary,status,assignee,reporter,creator,created,updated,resolution,resolutiondate,duedate,"
    "parent,subtasks,issuelinks,comment,description,issuetype,priority,labels"
)
CURSOR_OVERLAP = dt.timedelta(minutes=15)
BASIC_PREFIX = "basic:"


def jira_time(value: Any) -> dt.datetime | None:
    """Jira writes ISO 8601 with a +hhmm offset; anything else is treated as absent."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_time(value)
    except MalformedPayload:
        return None


def adf_text(value: Any) -> str | None:
    """Plain text of an Atlassian Document Format body (v3), or the v2 string as is."""
    if value is None or isinstance(value, str):
        return value
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text" and isinstance(node.get("text"), str):
                parts.append(node["text"])
            for child in as_list(node.get("content")):
                walk(child)
            if node.get("type") in ("paragraph", "heading", "listItem"):
                parts.append("\n")

    walk(value)
    return "".join(parts).strip() or None


def account(user: Any) -> Account | None:
    user = as_dict(user)
    key = user.get("accountId") or user.get("name") or user.get("key")
    if not isinstance(key, str) or not key:
        return None
    return Account(
        TOOL,
        key,
        username=user.get("name")
        if isinstance(user.get("name"), str) and user.get("name")
        else None,
        display_name=user.get("displayName") if isinstance(user.get("displayName"), str) else None,
        email=user.get("emailAddress") if isinstance(user.get("emailAddress"), str) else None,
        is_bot=user.get("accountType") == "app",
    )


class JiraConnector(BaseConnector):
    tool = TOOL
    default_base_url = "https://your-site.atlassian.net"

    def auth_headers(self, token: str) -> dict[str, str]:
        """``email:api-token`` → Basic auth; anything else is an OAuth 2.0 bearer token."""
        headers = {"Accept": "application/json"}
        if ":" in token and not token.startswith("Bearer "):
            headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
        else:
            headers["Authorization"] = "Bearer " + token.removeprefix("Bearer ")
        return headers

    @property
    def project(self) -> str:
        return str(self.connection.scope["project"])

    @property
    def time_zone(self) -> ZoneInfo:
        name = str(self.connection.scope.get("time_zone") or "UTC")
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(
                f"connection {self.connection.id!r}: unknown time_zone {name!r}"
            ) from None

    # --- identifiers --------------------------------------------------------------------
    def task_id(self, issue: Mapping[str, Any]) -> str:
        """``jira:{site}/{issue id}``: the id survives moves between projects, the key does not."""
        issue_id = require(issue, "id", "issue")
        site = (
            urllib.parse.urlsplit(str(issue.get("self") or "")).netloc
            or urllib.parse.urlsplit(self.base_url).netloc
        )
        return f"jira:{site}/{issue_id}"

    def browse_url(self, issue: Mapping[str, Any]) -> str | None:
        parts = urllib.parse.urlsplit(str(issue.get("self") or ""))
        key = issue.get("key")
        return f"{parts.scheme}://{parts.netloc}/browse/{key}" if parts.netloc and key else None

    # --- normalisation ------------------------------------------------------------------
    def issue_changes(self, issue: Any, *, partial: bool = False) -> ChangeSet:
        task_id = self.task_id(issue)
        fields = as_dict(issue.get("fields"))
        changes = ChangeSet()
        people = [fields.get("assignee"), fields.get("reporter"), fields.get("creator")]
        changes.accounts.extend(a for a in (account(p) for p in people) if a is not None)
        assignee = account(fields.get("assignee"))
        status = as_dict(fields.get("status"))
        category = as_dict(status.get("statusCategory")).get("key")
        creator = account(fields.get("creator")) or account(fields.get("reporter"))
        closed = (
            category == "done"
            if category
            else (fields.get("resolution") is not None if "resolution" in fields else None)
        )
        changes.tasks.append(
            TaskSnapshot(
                id=task_id,
                title=fields.get("summary") or issue.get("key"),
                status=status.get("name") if isinstance(status.get("name"), str) else None,
                updated_at=jira_time(fields.get("updated")),
                created_at=jira_time(fields.get("created")),
                description=adf_text(fields.get("description")),
                assignees=(assignee.ref,) if assignee else (() if "assignee" in fields else None),
                completed_at=jira_time(fields.get("resolutiondate")),
                due_at=jira_time(f"{fields['duedate']}T00:00:00+00:00")
                if isinstance(fields.get("duedate"), str)
                else None,
                url=self.browse_url(issue),
                closed=closed,
                metadata={
                    "key": issue.get("key"),
                    "issue_type": as_dict(fields.get("issuetype")).get("name"),
                    "priority": as_dict(fields.get("priority")).get("name"),
                    "labels": sorted(str(x) for x in as_list(fields.get("labels"))),
                    "creator": creator.ref if creator else None,
                    "author": creator.ref if creator else None,
                },
                raw=issue,
                partial=partial,
            )
        )
        comments = fields.get("comment")
        for comment in as_list(comments) or as_list(as_dict(comments).get("comments")):
            changes.extend(self.comment_changes(task_id, comment))
        changes.dependencies.extend(self.dependencies(task_id, issue))
        changelog = as_dict(issue.get("changelog"))
        for history in as_list(changelog.get("histories")):
            changes.extend(self.history_changes(task_id, history))
        return changes

    def comment_changes(self, task_id: str, comment: Any) -> ChangeSet:
        comment_id = require(comment, "id", "comment")
        author = account(as_dict(comment).get("author"))
        created = jira_time(comment.get("created"))
        if created is None:
            raise MalformedPayload(f"comment {comment_id} has no readable created time")
        return ChangeSet(
            events=[
                TaskEvent(
                    task_id,
                    COMMENTED,
                    created,
                    f"comment:{comment_id}",
                    actor=author.ref if author else None,
                    subject=str(comment_id),
                    raw=comment,
                )
            ],
            accounts=[author] if author else [],
        )

    def history_changes(
        self, task_id: str, history: Any, occurred: dt.datetime | None = None
    ) -> ChangeSet:
        history_id = require(history, "id", "changelog history")
        author = account(as_dict(history).get("author"))
        when = occurred or jira_time(history.get("created"))
        if when is None:
            raise MalformedPayload(f"changelog {history_id} has no readable created time")
        actor = author.ref if author else None
        changes = ChangeSet(accounts=[author] if author else [])
        seen: dict[str, int] = {}
        for item in as_list(history.get("items")):
            item = as_dict(item)
            field = str(item.get("fieldId") or item.get("field") or "")
            if field not in ("assignee", "status", "resolution"):
                continue
            seen[field] = seen.get(field, 0) + 1
            key = f"history:{history_id}:{field}" + (f":{seen[field]}" if seen[field] > 1 else "")
            if field == "assignee":
                before = f"{TOOL}:{item['from']}" if item.get("from") else None
                after = f"{TOOL}:{item['to']}" if item.get("to") else None
                for ref, name in ((before, item.get("fromString")), (after, item.get("toString"))):
                    if ref:
                        changes.accounts.append(
                            Account(TOOL, ref.split(":", 1)[1], display_name=name)
                        )
                if before and after:
                    kind = REASSIGNED
                elif after:
                    kind = ASSIGNED
                elif before:
                    kind = UNASSIGNED
                else:
                    continue
                changes.events.append(
                    TaskEvent(
                        task_id,
                        kind,
                        when,
                        key,
                        actor=actor,
                        subject=after or before if kind != REASSIGNED else "assignee",
                        from_value=before,
                        to_value=after,
                        raw=history,
                    )
                )
            elif field == "status":
                changes.events.append(
                    TaskEvent(
                        task_id,
                        STATUS_CHANGED,
                        when,
                        key,
                        actor=actor,
                        subject="status",
                        from_value=item.get("fromString"),
                        to_value=item.get("toString"),
                        raw=history,
                    )
                )
            else:  # resolution set = done; cleared = reopened
                kind = CLOSED if item.get("to") or item.get("toString") else REOPENED
                changes.events.append(
                    TaskEvent(
                        task_id,
                        kind,
                        when,
                        key,
                        actor=actor,
                        subject="resolution",
                        from_value=item.get("fromString"),
                        to_value=item.get("toString"),
                        raw=history,
                    )
                )
        return changes

    def dependencies(self, task_id: str, issue: Mapping[str, Any]) -> list[Dependency]:
        fields = as_dict(issue.get("fields"))
        found: list[Dependency] = []
        for link in as_list(fields.get("issuelinks")):
            link = as_dict(link)
            kind_text = " ".join(
                str(as_dict(link.get("type")).get(k, "")) for k in ("name", "inward", "outward")
            ).lower()
            blocking = "block" in kind_text or "depend" in kind_text
            if link.get("outwardIssue"):
                other = self.task_id(as_dict(link["outwardIssue"]))
                # outward: "this blocks other" → other is blocked by this
                found.append(
                    Dependency(other, task_id, BLOCKED_BY)
                    if blocking
                    else Dependency(task_id, other, LINKED)
                )
            if link.get("inwardIssue"):
                other = self.task_id(as_dict(link["inwardIssue"]))
                found.append(Dependency(task_id, other, BLOCKED_BY if blocking else LINKED))
        for sub in as_list(fields.get("subtasks")):
            found.append(Dependency(self.task_id(as_dict(sub)), task_id, SUBTASK_OF))
        for sub in as_list(fields.get("sub-tasks")):  # older payloads: link-shaped entries
            outward = as_dict(as_dict(sub).get("outwardIssue"))
            if outward:
                found.append(Dependency(self.task_id(outward), task_id, SUBTASK_OF))
        parent = as_dict(fields.get("parent"))
        if parent.get("id"):
            found.append(Dependency(task_id, self.task_id(parent), SUBTASK_OF))
        return found

    # --- polling ------------------------------------------------------------------------
    def jql(self, since: str | None) -> str:
        clause = f'project = "{self.project}"'
        if since:
            moment = dt.datetime.fromisoformat(since) - CURSOR_OVERLAP
            local = moment.astimezone(self.time_zone).strftime("%Y/%m/%d %H:%M")
            clause += f' AND updated >= "{local}"'
        return clause + " ORDER BY updated ASC"

    @property
    def search_path(self) -> str:
        return str(self.connection.scope.get("search_path") or "/rest/api/3/search/jql")

    async def poll(self, cursor: Mapping[str, Any], *, full: bool) -> AsyncIterator[SyncPage]:
        state = {} if full else dict(cursor)
        params: dict[str, Any] = {
            "jql": self.jql(state.get("updated_since")),
            "fields": FIELDS,
            "expand": "changelog",
            "maxResults": self.settings.page_size,
        }
        while True:
            body = await self.client.get_json(self.search_path, params=params)
            if not isinstance(body, dict) or not isinstance(body.get("issues"), list):
                raise VendorError(f"jira: {self.search_path} did not return issues", tool=TOOL)
            issues = body["issues"]
            for issue in issues:
                await self._complete_changelog(issue)
            changes = self.item_changes(issues, self.issue_changes, "issue")
            newest = max(
                (t.updated_at for t in changes.tasks if t.updated_at is not None), default=None
            )
            if newest is not None and (
                not state.get("updated_since") or newest.isoformat() > state["updated_since"]
            ):
                state["updated_since"] = newest.isoformat()
            yield SyncPage(changes, dict(state))
            if body.get("nextPageToken"):
                params = {**params, "nextPageToken": body["nextPageToken"]}
                continue
            start, total = body.get("startAt"), body.get("total")
            if body.get("isLast") is False or (
                isinstance(start, int)
                and isinstance(total, int)
                and start + len(issues) < total
                and issues
            ):
                params = {**params, "startAt": (start or 0) + len(issues)}
                continue
            break

    async def _complete_changelog(self, issue: Any) -> None:
        changelog = as_dict(as_dict(issue).get("changelog"))
        histories = as_list(changelog.get("histories"))
        total = changelog.get("total")
        if (
            not changelog
            or not isinstance(total, int)
            or total <= len(histories)
            or not issue.get("id")
        ):
            return
        known = {h.get("id") for h in histories if isinstance(h, dict)}
        start = 0
        while True:
            page = await self.client.get_json(
                f"/rest/api/3/issue/{issue['id']}/changelog",
                params={"startAt": start, "maxResults": 100},
            )
            values = as_list(as_dict(page).get("values"))
            histories.extend(v for v in values if isinstance(v, dict) and v.get("id") not in known)
            start += len(values)
            if (
                not values
                or as_dict(page).get("isLast", True)
                or start >= int(as_dict(page).get("total", 0))
            ):
                break
        changelog["histories"] = histories

    # --- webhooks -----------------------------------------------------------------------
    async def webhook_changes(self, payload: Any, event_type: str | None) -> ChangeSet:
        if not isinstance(payload, dict):
            raise MalformedPayload("payload is not a JSON object")
        issue = as_dict(payload.get("issue"))
        if not issue:
            return ChangeSet()  # project, sprint, worklog… events: nothing task-shaped
        project = as_dict(as_dict(issue.get("fields")).get("project")).get("key")
        if project and str(project).upper() != self.project.upper():
            log.info(
                "jira: ignoring %s for project %s on connection %s",
                event_type,
                project,
                self.connection.id,
            )
            return ChangeSet()
        partial = "updated" not in as_dict(issue.get("fields"))  # comment events carry a stub issue
        changes = self.issue_changes(issue, partial=partial)
        task_id = changes.tasks[0].id
        if event_type == "jira:issue_deleted":
            changes.tasks[0].metadata["deleted"] = True
        user = account(payload.get("user"))
        if user:
            changes.accounts.append(user)
        changelog = as_dict(payload.get("changelog"))
        if changelog.get("id"):
            when = None
            if isinstance(payload.get("timestamp"), int | float):
                when = dt.datetime.fromtimestamp(payload["timestamp"] / 1000, dt.UTC)
            history = {
                "id": changelog["id"],
                "items": changelog.get("items"),
                "author": payload.get("user"),
                "created": None,
            }
            changes.extend(
                self.history_changes(task_id, history, occurred=when or changes.tasks[0].updated_at)
            )
        comment = payload.get("comment")
        if isinstance(comment, dict) and event_type in (
            "comment_created",
            "jira:issue_updated",
            "jira:issue_created",
        ):
            changes.extend(self.comment_changes(task_id, comment))
        return changes
