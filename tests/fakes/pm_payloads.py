"""Payload variants derived from recorded ones, where the recordings lack a scenario.

The public recordings show assignments and unassignments but no reassignment from one
person to another, so the handoff tests complete one: each function below copies a
recorded payload and changes only the fields it names. Everything else stays as recorded.
"""

from __future__ import annotations

import copy
from typing import Any


def github_assignment_of(user: dict[str, Any], unassigned: dict[str, Any]) -> dict[str, Any]:
    """``issues/unassigned.1`` turned into the assignment that completes a reassignment:
    ``action`` = assigned, ``assignee`` = ``user``, ``issue.assignees`` = [user]."""
    payload = copy.deepcopy(unassigned)
    payload["action"] = "assigned"
    payload["assignee"] = copy.deepcopy(user)
    payload["issue"]["assignee"] = copy.deepcopy(user)
    payload["issue"]["assignees"] = [copy.deepcopy(user)]
    return payload


def jira_reassignment(recorded: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """Zulip's ``issue_updated__status`` delivery with its changelog item replaced by an
    assignee change from ``previous`` (a recorded Jira user) to the delivery's own user,
    and ``fields.assignee`` set to that user; ids, times and the issue are as recorded."""
    payload = copy.deepcopy(recorded)
    user = payload["user"]
    payload["issue"]["fields"]["assignee"] = copy.deepcopy(user)
    payload["changelog"]["items"] = [
        {
            "field": "assignee",
            "fieldtype": "jira",
            "fieldId": "assignee",
            "from": previous["accountId"],
            "fromString": previous["displayName"],
            "to": user["accountId"],
            "toString": user["displayName"],
        }
    ]
    payload["changelog"]["id"] = str(int(payload["changelog"]["id"]) + 1)
    payload["timestamp"] = payload["timestamp"] + 1000
    return payload


# A second Trello member for the handoff: the recordings only ever show TomaszKolek.
# Invented for the test; shaped like the recorded ``memberCreator`` object.
TRELLO_SECOND_MEMBER = {
    "id": "53582e2da0fac5676a7142aa",
    "avatarHash": None,
    "fullName": "Second Member",
    "initials": "S",
    "username": "secondmember",
}


def trello_member_action(
    recorded: dict[str, Any], kind: str, member: dict[str, Any], action_id: str, date: str
) -> dict[str, Any]:
    """Zulip's ``changing_cards_list`` delivery turned into ``addMemberToCard`` or
    ``removeMemberFromCard`` on the same card by the same member: ``action.type``,
    ``action.id``, ``action.date``, ``action.member`` and ``data.idMember`` replaced; the
    list move (``listBefore``/``listAfter``/``old``) removed."""
    payload = copy.deepcopy(recorded)
    action = payload["action"]
    action.update({"id": action_id, "type": kind, "date": date, "member": copy.deepcopy(member)})
    for key in ("listBefore", "listAfter", "old"):
        action["data"].pop(key, None)
    action["data"]["idMember"] = member["id"]
    return payload


def trello_rest_views(actions: list[dict[str, Any]]) -> tuple[list[dict], list[dict], list[dict]]:
    """Cards, lists and members as the board's REST endpoints would list them, assembled
    from the recorded actions' own ``data.card``, ``data.list*`` and ``memberCreator``
    objects (Trello's spec has no response examples); cards carry no member list."""
    cards: dict[str, dict[str, Any]] = {}
    lists: dict[str, dict[str, Any]] = {}
    members: dict[str, dict[str, Any]] = {}
    for action in sorted(actions, key=lambda a: a["date"]):
        data = action["data"]
        for key in ("list", "listBefore", "listAfter"):
            if key in data:
                lists[data[key]["id"]] = {"id": data[key]["id"], "name": data[key]["name"]}
        card = dict(data["card"])
        current = (data.get("listAfter") or data.get("list") or {}).get("id")
        if current:
            card["idList"] = current
        cards[card["id"]] = card
        members[action["memberCreator"]["id"]] = action["memberCreator"]
    return list(cards.values()), list(lists.values()), list(members.values())


def asana_story(
    recorded: dict[str, Any], gid: str, subtype: str, assignee: dict[str, Any], created_at: str
) -> dict[str, Any]:
    """Asana's ``StoryResponse`` example as an ``assigned``/``unassigned`` system story:
    ``gid``, ``resource_subtype``, ``type`` (system), ``assignee``, ``created_at`` and
    ``text`` replaced."""
    story = copy.deepcopy(recorded)
    name = assignee.get("name") or assignee["gid"]
    story.update(
        {
            "gid": gid,
            "resource_subtype": subtype,
            "type": "system",
            "assignee": copy.deepcopy(assignee),
            "created_at": created_at,
            "text": f"{'assigned to' if subtype == 'assigned' else 'unassigned from'} {name}",
        }
    )
    return story
