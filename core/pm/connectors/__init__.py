"""One connector per tool, all implementing :class:`core.pm.protocol.Connector`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import httpx

from core.errors import ConfigurationError
from core.pm.config import PMSettings
from core.pm.connectors.base import BaseConnector
from core.pm.records import ConnectionInfo

CONNECTORS = {
    "github": "core.pm.connectors.github:GitHubConnector",
    "jira": "core.pm.connectors.jira:JiraConnector",
    "asana": "core.pm.connectors.asana:AsanaConnector",
    "trello": "core.pm.connectors.trello:TrelloConnector",
    "monday": "core.pm.connectors.monday:MondayConnector",
}


def connector_class(tool: str) -> type[BaseConnector]:
    module_name, attribute = CONNECTORS[tool].split(":")
    cls: type[BaseConnector] = getattr(importlib.import_module(module_name), attribute)
    return cls


def build_connector(
    connection: ConnectionInfo,
    token: str,
    settings: PMSettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Callable[[float], Any] | None = None,
) -> BaseConnector:
    if connection.tool not in CONNECTORS:
        raise ConfigurationError(
            f"connection {connection.id!r}: unknown tool {connection.tool!r} "
            f"(known: {', '.join(sorted(CONNECTORS))})"
        )
    cls = connector_class(connection.tool)
    return cls(connection, token, settings, transport=transport, sleep=sleep)
