"""GitHub: Issues and pull requests over REST, Projects v2 status over GraphQL, webhooks.

Polling: ``GET /repos/{repo}/issues?state=all&sort=updated&direction=asc&since=…`` (pull
requests included), then ``/issues/comments`` the same way, each paginated by ``Link``
headers; the cursor is the newest ``updated_at`` of each feed. The REST issue list carries
no per-change ids, so assignment and open/closed events come from comparing each issue with
the stored one; their keys (assignee + the issue's ``updated_at``) are the keys the
``issues.assigned``/``unassigned``/``closed``/``reopened`` webhooks produce, so one change
stored both ways is one event. Projects v2: the item's single-select status field over
GraphQL (``scope.project`` = the project's node id, ``scope.status_field`` = its name).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from core.pm.connectors.base import (
    BaseConnector,
    as_dict,
    as_list,
    optional_time,
    parse_time,
    require,
)
from core.pm.http import VendorError, parse_link_header
from core.pm.protocol import SyncPage
from core.pm.records import (
    ASSIGNED,
    CLOSED,
    COMMENTED,
    REOPENED,
    REVIEWED,
    STATUS_CHANGED,
    SUBTASK_OF,
    UNASSIGNED,
    Account,
    ChangeSet,
    Dependency,
    MalformedPayload,
    TaskEvent,
    TaskSnapshot,
    iso,
)

log = logging.getLogger(__name__)

TOOL = "github"

PROJECT_ITEMS_QUERY = """
query($project: ID!, $after: String, $field: String!) {
  node(id: $project) {
    ... on ProjectV2 {
      items(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { ...Item }
      }
    }
  }
}
fragment Item on ProjectV2Item {
  id
  updatedAt
  fieldValueByName(name: $field) {
    ... on ProjectV2ItemFieldSingleSelectValue { name updatedAt creator { login } }
  }
  content {
    __typename
    ... on Issue {
      number repository { nameWithOwner }
      parent { number repository { nameWithOwner } }
    }
    ... on PullRequest { number repository { nameWithOwner } }
    ... on DraftIssue { id title body createdAt updatedAt creator { login }
                        assignees(first: 20) { nodes { login } } }
  }
}
"""
PROJECT_ITEM_QUERY = """
query($item: ID!, $field: String!) { node(id: $item) { ...Item } }
""" + PROJECT_ITEMS_QUERY[PROJECT_ITEMS_QUERY.index("fragment Item") :]


def account(user: Any) -> Account | None:
    user = as_dict(user)
    login = user.get("login")
    if not isinstance(login, str) or not login:
        return None
    return Account(
        TOOL,
        login,
        username=login,
        display_name=user.get("name") if isinstance(user.get("name"), str) else None,
        email=user.get("email") if isinstance(user.get("email"), str) else None,
        is_bot=user.get("type") == "Bot",
    )


def ref(user: Any) -> str | None:
    found = account(user)
    return found.ref if found is not None else None


class GitHubConnector(BaseConnector):
    tool = TOOL
    default_base_url = "https://api.github.com"

    def auth_headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    @property
    def repo(self) -> str:
        return str(self.connection.scope["repo"])

    def task_id(self, number: Any, repo: str | None = None) -> str:
        return f"github:{repo or self.repo}#{number}"

    # --- normalisation ------------------------------------------------------------------
    def issue_snapshot(self, issue: Any) -> tuple[TaskSnapshot, list[Account]]:
        number = require(issue, "number", "issue")
        updated_at = parse_time(require(issue, "updated_at", "issue"), "issue.updated_at")
        state = issue.get("state") or "open"
        users = [issue.get("user"), issue.get("closed_by"), *as_list(issue.get("assignees"))]
        if issue.get("assignee") and not as_list(issue.get("assignees")):
            users.append(issue.get("assignee"))
        accounts = [a for a in (account(u) for u in users) if a is not None]
        assignees = [
            r
            for r in (ref(u) for u in as_list(issue.get("assignees")) or [issue.get("assignee")])
            if r
        ]
        author = ref(issue.get("user"))
        kind = "pull_request" if "pull_request" in issue or "merged_at" in issue else "issue"
        metadata: dict[str, Any] = {
            "kind": kind,
            "number": number,
            "labels": sorted(
                str(label.get("name"))
                for label in as_list(issue.get("labels"))
                if isinstance(label, dict)
            ),
            "milestone": as_dict(issue.get("milestone")).get("title"),
            "author": author,
            "creator": author,
        }
        if issue.get("state_reason"):
            metadata["state_reason"] = issue["state_reason"]
        if kind == "pull_request" and issue.get("merged_at"):
            metadata["merged_at"] = issue["merged_at"]
        snapshot = TaskSnapshot(
            id=self.task_id(number),
            title=str(issue.get("title") or f"#{number}"),
            status=str(state),
            updated_at=updated_at,
            created_at=optional_time(issue.get("created_at")),
            description=issue.get("body") if isinstance(issue.get("body"), str) else None,
            assignees=tuple(dict.fromkeys(assignees)),
            completed_at=optional_time(issue.get("closed_at")) if state == "closed" else None,
            url=issue.get("html_url"),
            closed=state == "closed",
            metadata=metadata,
            raw=issue,
        )
        return snapshot, accounts

    def issue_changes(self, issue: Any) -> ChangeSet:
        snapshot, accounts = self.issue_snapshot(issue)
        return ChangeSet(tasks=[snapshot], accounts=accounts, derive_from_snapshots=True)

    def comment_changes(self, comment: Any, prefix: str = "comment") -> ChangeSet:
        comment_id = require(comment, "id", "comment")
        issue_url = str(comment.get("issue_url") or comment.get("pull_request_url") or "")
        number = issue_url.rstrip("/").rsplit("/", 1)[-1]
        if not number.isdigit():
            raise MalformedPayload("comment has no issue_url ending in an issue number")
        author = account(comment.get("user"))
        event = TaskEvent(
            self.task_id(number),
            COMMENTED,
            parse_time(require(comment, "created_at", "comment"), "comment.created_at"),
            f"{prefix}:{comment_id}",
            actor=author.ref if author else None,
            subject=str(comment_id),
            raw=comment,
        )
        return ChangeSet(events=[event], accounts=[author] if author else [])

    # --- polling ------------------------------------------------------------------------
    async def _pages(self, path: str, params: dict[str, Any]) -> AsyncIterator[list[Any]]:
        url: str | None = path
        query: dict[str, Any] | None = params
        while url:
            response = await self.client.request("GET", url, params=query)
            items = response.json()
            if not isinstance(items, list):
                raise VendorError(f"github: {path} did not return a list", tool=TOOL, url=url)
            yield items
            url = parse_link_header(response.headers.get("link")).get("next")
            query = None  # the next link carries every parameter

    async def poll(self, cursor: Mapping[str, Any], *, full: bool) -> AsyncIterator[SyncPage]:
        state = {} if full else dict(cursor)
        feeds: list[tuple[str, str, Callable[[Any], ChangeSet], str]] = [
            ("issues_since", f"/repos/{self.repo}/issues", self.issue_changes, "issue")
        ]
        if str(self.connection.scope.get("comments", "true")).lower() != "false":
            feeds.append(
                (
                    "comments_since",
                    f"/repos/{self.repo}/issues/comments",
                    self.comment_changes,
                    "comment",
                )
            )
        for feed, path, convert, what in feeds:
            params: dict[str, Any] = {
                "sort": "updated",
                "direction": "asc",
                "per_page": self.settings.page_size,
            }
            if feed == "issues_since":
                params["state"] = "all"
            if state.get(feed):
                params["since"] = state[feed]
            async for items in self._pages(path, params):
                changes = self.item_changes(items, convert, what)
                changes.derive_from_snapshots = True
                newest = max(
                    (
                        str(i["updated_at"])
                        for i in items
                        if isinstance(i, dict) and isinstance(i.get("updated_at"), str)
                    ),
                    default=None,
                )
                if newest and (not state.get(feed) or newest > state[feed]):
                    state[feed] = newest
                yield SyncPage(changes, dict(state))
        if self.connection.scope.get("project"):
            async for page in self._poll_project(state):
                yield page

    async def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = await self.client.post_json("/graphql", {"query": query, "variables": variables})
        if not isinstance(body, dict):
            raise VendorError("github: GraphQL answer is not an object", tool=TOOL)
        if body.get("errors"):
            first = as_dict(as_list(body["errors"])[0]).get("message", "error")
            raise VendorError(f"github: GraphQL error: {first}", tool=TOOL)
        return as_dict(body.get("data"))

    @property
    def status_field(self) -> str:
        return str(self.connection.scope.get("status_field") or "Status")

    async def _poll_project(self, state: dict[str, Any]) -> AsyncIterator[SyncPage]:
        after: str | None = None
        while True:
            data = await self._graphql(
                PROJECT_ITEMS_QUERY,
                {
                    "project": self.connection.scope["project"],
                    "after": after,
                    "field": self.status_field,
                },
            )
            items = as_dict(as_dict(data.get("node")).get("items"))
            nodes = as_list(items.get("nodes"))
            yield SyncPage(
                self.item_changes(nodes, self.project_item_changes, "project item"), dict(state)
            )
            page = as_dict(items.get("pageInfo"))
            if not page.get("hasNextPage"):
                break
            after = page.get("endCursor")

    def project_item_changes(self, item: Any) -> ChangeSet:
        item_id = require(item, "id", "project item")
        content = as_dict(item.get("content"))
        kind = content.get("__typename")
        changes = ChangeSet()
        if kind in ("Issue", "PullRequest"):
            repo = as_dict(content.get("repository")).get("nameWithOwner")
            if not isinstance(repo, str) or repo.lower() != self.repo.lower():
                return changes  # an item of another repository: its own connection records it
            task_id = self.task_id(require(content, "number", "project item content"))
            parent = as_dict(content.get("parent"))
            if parent.get("number"):
                parent_repo = as_dict(parent.get("repository")).get("nameWithOwner") or self.repo
                changes.dependencies.append(
                    Dependency(
                        task_id, self.task_id(parent["number"], str(parent_repo)), SUBTASK_OF
                    )
                )
        elif kind == "DraftIssue":
            task_id = (
                f"github:{self.connection.scope['project']}/draft/{require(content, 'id', 'draft')}"
            )
            creator = account(content.get("creator"))
            assignees = [
                a
                for a in (
                    account(u) for u in as_list(as_dict(content.get("assignees")).get("nodes"))
                )
                if a
            ]
            changes.accounts.extend([a for a in [creator, *assignees] if a])
            changes.tasks.append(
                TaskSnapshot(
                    id=task_id,
                    title=str(content.get("title") or item_id),
                    status="draft",
                    updated_at=optional_time(content.get("updatedAt")),
                    created_at=optional_time(content.get("createdAt")),
                    description=content.get("body"),
                    assignees=tuple(a.ref for a in assignees),
                    closed=False,
                    metadata={"kind": "draft_issue", "creator": creator.ref if creator else None},
                    raw=item,
                )
            )
            changes.derive_from_snapshots = True
        else:
            return changes
        value = as_dict(item.get("fieldValueByName"))
        status = value.get("name")
        if isinstance(status, str):
            moment = parse_time(
                value.get("updatedAt") or require(item, "updatedAt", "project item")
            )
            editor = account(value.get("creator"))
            if editor:
                changes.accounts.append(editor)
            if kind != "DraftIssue":
                changes.tasks.append(
                    TaskSnapshot(
                        task_id,
                        None,
                        None,
                        None,
                        partial=True,
                        metadata={"project_status": status, "project_item": item_id},
                    )
                )
            changes.events.append(
                TaskEvent(
                    task_id,
                    STATUS_CHANGED,
                    moment,
                    f"project-status:{item_id}:{status}:{iso(moment)}",
                    actor=editor.ref if editor else None,
                    subject=self.status_field,
                    to_value=status,
                    raw=item,
                )
            )
        return changes

    # --- webhooks -----------------------------------------------------------------------
    async def webhook_changes(self, payload: Any, event_type: str | None) -> ChangeSet:
        if not isinstance(payload, dict):
            raise MalformedPayload("payload is not a JSON object")
        if event_type in (None, "ping"):
            return ChangeSet()
        if event_type == "projects_v2_item":
            return await self._project_item_webhook(payload)
        repo = as_dict(payload.get("repository")).get("full_name")
        if not isinstance(repo, str):
            raise MalformedPayload(f"{event_type} delivery has no repository.full_name")
        if repo.lower() != self.repo.lower():
            log.info(
                "github: ignoring %s for %s on connection %s (scoped to %s)",
                event_type,
                repo,
                self.connection.id,
                self.repo,
            )
            return ChangeSet()
        action = payload.get("action")
        sender = account(payload.get("sender"))
        actor = sender.ref if sender else None
        if event_type in ("issues", "pull_request"):
            item = payload.get("issue" if event_type == "issues" else "pull_request")
            if action == "transferred":
                return ChangeSet()  # the new issue lives in another repository
            changes = self.issue_changes(item)
            snapshot = changes.tasks[0]
            if action == "deleted":
                snapshot.metadata["deleted"] = True
            assert snapshot.updated_at is not None
            if action in ("assigned", "unassigned"):
                assignee = account(payload.get("assignee"))
                if assignee is None:
                    raise MalformedPayload(f"{event_type}.{action} has no assignee.login")
                changes.accounts.append(assignee)
                kind = ASSIGNED if action == "assigned" else UNASSIGNED
                # The delivery's issue should already show the change; make sure it does.
                current = [r for r in snapshot.assignees or () if r != assignee.ref]
                if kind == ASSIGNED:
                    current.append(assignee.ref)
                snapshot.assignees = tuple(current)
                changes.events.append(
                    TaskEvent(
                        snapshot.id,
                        kind,
                        snapshot.updated_at,
                        f"{action}:{assignee.ref}:{iso(snapshot.updated_at)}",
                        actor=actor,
                        subject=assignee.ref,
                        to_value=assignee.ref if kind == ASSIGNED else None,
                        from_value=assignee.ref if kind == UNASSIGNED else None,
                        raw=payload,
                    )
                )
            elif action == "closed":
                when = snapshot.completed_at or snapshot.updated_at
                changes.events.append(
                    TaskEvent(
                        snapshot.id,
                        CLOSED,
                        when,
                        f"closed:{iso(when)}",
                        actor=actor,
                        to_value=snapshot.status,
                        raw=payload,
                    )
                )
            elif action == "reopened":
                changes.events.append(
                    TaskEvent(
                        snapshot.id,
                        REOPENED,
                        snapshot.updated_at,
                        f"reopened:{iso(snapshot.updated_at)}",
                        actor=actor,
                        to_value=snapshot.status,
                        raw=payload,
                    )
                )
        elif event_type == "issue_comment":
            changes = self.issue_changes(payload.get("issue"))
            if action == "created":
                comment = dict(as_dict(payload.get("comment")))
                comment.setdefault("issue_url", as_dict(payload.get("issue")).get("url", ""))
                changes.extend(self.comment_changes(comment))
        elif event_type == "pull_request_review_comment":
            changes = self.issue_changes(payload.get("pull_request"))
            if action == "created":
                comment = dict(as_dict(payload.get("comment")))
                comment["issue_url"] = f"/{changes.tasks[0].metadata['number']}"
                changes.extend(self.comment_changes(comment, prefix="review-comment"))
        elif event_type == "pull_request_review":
            changes = self.issue_changes(payload.get("pull_request"))
            review = as_dict(payload.get("review"))
            if action == "submitted":
                reviewer = account(review.get("user"))
                if reviewer:
                    changes.accounts.append(reviewer)
                snapshot = changes.tasks[0]
                changes.events.append(
                    TaskEvent(
                        snapshot.id,
                        REVIEWED,
                        parse_time(
                            require(review, "submitted_at", "review"), "review.submitted_at"
                        ),
                        f"review:{require(review, 'id', 'review')}",
                        actor=reviewer.ref if reviewer else None,
                        subject=str(review["id"]),
                        to_value=review.get("state"),
                        raw=review,
                    )
                )
        else:
            return ChangeSet()
        if sender:
            changes.accounts.append(sender)
        return changes

    async def _project_item_webhook(self, payload: dict[str, Any]) -> ChangeSet:
        item = as_dict(payload.get("projects_v2_item"))
        project = self.connection.scope.get("project")
        if not project or item.get("project_node_id") != project:
            return ChangeSet()
        if payload.get("action") in ("deleted", "archived"):
            return ChangeSet()
        # The delivery names the item and field but not the value: read the item itself.
        data = await self._graphql(
            PROJECT_ITEM_QUERY,
            {"item": require(item, "node_id", "projects_v2_item"), "field": self.status_field},
        )
        node = data.get("node")
        if not isinstance(node, dict):
            raise MalformedPayload(f"project item {item.get('node_id')} not found")
        return self.project_item_changes(node)
