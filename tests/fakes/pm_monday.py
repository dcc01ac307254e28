"""A loopback monday.com API that answers by *executing* each query against monday's own
GraphQL schema (../shared/data/monday/schema.graphql, via graphql-core).

No captured monday payloads exist in a licensed public repository, so the board below is
constructed; but every answer is produced by the schema itself, so its shape is monday's,
and a query that does not validate against the schema fails the test.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from graphql import GraphQLSchema, build_schema, graphql

BOARD = "3001"
ANA, BEN = "501", "502"


def log_time(text: str) -> str:
    """monday's activity-log time: 100-ns units since the epoch, as text."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return str(int(moment.timestamp()) * 10_000_000)


def people(*ids: str) -> dict[str, Any]:
    return {"personsAndTeams": [{"id": int(i), "kind": "person"} for i in ids]}


def status(label: str) -> dict[str, Any]:
    return {"label": {"index": 0, "text": label, "is_done": label == "Done"}, "post_id": None}


def constructed_board() -> dict[str, Any]:
    """Two items, an update, a dependency, and three activity-log entries (newest first)."""
    users = [
        {"id": ANA, "name": "Ana Ruiz", "email": "ana@cpp.edu"},
        {"id": BEN, "name": "Ben Ortiz", "email": "bortiz@students.example.edu"},
    ]
    driver = {
        "id": "4001",
        "name": "Write ADCS driver",
        "state": "active",
        "created_at": "2026-01-10T09:00:00Z",
        "updated_at": "2026-01-12T10:00:00Z",
        "creator_id": ANA,
        "url": "https://cpp.monday.com/boards/3001/pulses/4001",
        "group": {"id": "topics", "title": "Sprint 1"},
        "parent_item": None,
        "subitems": [],
        "column_values": [
            {
                "__typename": "StatusValue",
                "id": "status",
                "type": "status",
                "text": "Stuck",
                "value": json.dumps({"index": 2}),
            },
            {
                "__typename": "PeopleValue",
                "id": "person",
                "type": "people",
                "text": "Ben Ortiz",
                "value": json.dumps(people(BEN)),
            },
        ],
        "updates": [
            {
                "id": "9001",
                "text_body": "Driver compiles; needs review",
                "creator_id": ANA,
                "created_at": "2026-01-11T15:00:00Z",
            }
        ],
        "subscribers": users,
    }
    integrate = {
        "id": "4002",
        "name": "Integrate ADCS with EPS",
        "state": "active",
        "created_at": "2026-01-10T09:30:00Z",
        "updated_at": "2026-01-10T09:30:00Z",
        "creator_id": BEN,
        "url": "https://cpp.monday.com/boards/3001/pulses/4002",
        "group": {"id": "topics", "title": "Sprint 1"},
        "parent_item": None,
        "subitems": [],
        "column_values": [
            {
                "__typename": "StatusValue",
                "id": "status",
                "type": "status",
                "text": "Working on it",
                "value": None,
            },
            {
                "__typename": "PeopleValue",
                "id": "person",
                "type": "people",
                "text": "",
                "value": None,
            },
            {
                "__typename": "DependencyValue",
                "id": "dependency",
                "type": "dependency",
                "text": "Write ADCS driver",
                "value": json.dumps({"linkedPulseIds": [{"linkedPulseId": 4001}]}),
            },
        ],
        "updates": [],
        "subscribers": users[1:],
    }
    logs = [
        {
            "id": "a3",
            "event": "update_column_value",
            "entity": "pulse",
            "user_id": ANA,
            "account_id": "77",
            "created_at": log_time("2026-01-12T10:00:00Z"),
            "data": json.dumps(
                {
                    "board_id": 3001,
                    "pulse_id": 4001,
                    "pulse_name": "Write ADCS driver",
                    "column_id": "person",
                    "column_type": "multiple-person",
                    "value": people(BEN),
                    "previous_value": people(ANA),
                }
            ),
        },
        {
            "id": "a2",
            "event": "update_column_value",
            "entity": "pulse",
            "user_id": ANA,
            "account_id": "77",
            "created_at": log_time("2026-01-11T16:00:00Z"),
            "data": json.dumps(
                {
                    "board_id": 3001,
                    "pulse_id": 4001,
                    "pulse_name": "Write ADCS driver",
                    "column_id": "status",
                    "column_type": "color",
                    "value": status("Stuck"),
                    "previous_value": status("Working on it"),
                }
            ),
        },
        {
            "id": "a1",
            "event": "create_pulse",
            "entity": "pulse",
            "user_id": ANA,
            "account_id": "77",
            "created_at": log_time("2026-01-10T09:00:00Z"),
            "data": json.dumps(
                {
                    "board_id": 3001,
                    "group_id": "topics",
                    "pulse_id": 4001,
                    "pulse_name": "Write ADCS driver",
                }
            ),
        },
    ]
    return {"items": [driver, integrate], "logs": logs}


def webhook_event(trigger: str = "2f9a1c3e-0000-4000-8000-000000000001") -> dict[str, Any]:
    """A board webhook delivery for the reassignment in log a3 (monday's documented fields)."""
    return {
        "event": {
            "app": "monday",
            "type": "update_column_value",
            "triggerTime": "2026-01-12T10:00:01.000Z",
            "subscriptionId": 73759690,
            "userId": int(ANA),
            "originalTriggerUuid": None,
            "boardId": int(BOARD),
            "groupId": "topics",
            "pulseId": 4001,
            "pulseName": "Write ADCS driver",
            "columnId": "person",
            "columnType": "multiple-person",
            "columnTitle": "Person",
            "value": people(BEN),
            "previousValue": people(ANA),
            "changedAt": 1768212000.1,
            "isTopGroup": True,
            "triggerUuid": trigger,
        }
    }


class MondayServer:
    def __init__(self, schema_path: Path, board: dict[str, Any]) -> None:
        self.schema: GraphQLSchema = build_schema(schema_path.read_text(encoding="utf-8"))
        self.board = board
        self.requests: list[dict[str, Any]] = []
        self.errors: list[str] = []
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._server = TestServer(app, host="127.0.0.1")

    async def __aenter__(self) -> MondayServer:
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._server.close()

    @property
    def base_url(self) -> str:
        return str(self._server.make_url("")).rstrip("/")

    def _root(self) -> dict[str, Any]:
        items, logs = self.board["items"], self.board["logs"]

        def activity_logs(
            info: Any, item_ids: list[str] | None = None, page: int = 1, limit: int = 25, **_: Any
        ) -> list[dict[str, Any]]:
            chosen = [
                e
                for e in logs
                if not item_ids or str(json.loads(e["data"])["pulse_id"]) in item_ids
            ]
            return chosen[(page - 1) * limit : page * limit]

        board = {
            "id": BOARD,
            "items_page": lambda info, limit=25, **_: {"cursor": None, "items": items[:limit]},
            "activity_logs": activity_logs,
        }
        return {
            "boards": lambda info, ids=None, **_: [board] if not ids or BOARD in ids else [],
            "items": lambda info, ids=None, **_: [i for i in items if not ids or i["id"] in ids],
        }

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), **body})
        result = await graphql(
            self.schema,
            body["query"],
            root_value=self._root(),
            variable_values=body.get("variables"),
        )
        if result.errors:
            self.errors.extend(str(e) for e in result.errors)
            return web.json_response({"errors": [{"message": str(e)} for e in result.errors]})
        return web.json_response({"data": result.data, "account_id": 77})
