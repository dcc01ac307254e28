"""What every connector shares: its HTTP client, scope checks and payload helpers."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar

import httpx

from core.errors import ConfigurationError
from core.pm.config import PMSettings
from core.pm.http import RetryPolicy, VendorClient
from core.pm.protocol import SyncPage
from core.pm.records import ChangeSet, ConnectionInfo, MalformedPayload

log = logging.getLogger(__name__)


def parse_time(value: Any, what: str = "timestamp") -> dt.datetime:
    """ISO 8601 (with Z, +hh:mm or Jira's +hhmm), or epoch seconds/milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"{what} is missing or not text: {value!r}")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and ":" not in text[-5:]:
        text = text[:-2] + ":" + text[-2:]  # Jira: +0100 → +01:00
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MalformedPayload(f"{what} is not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def optional_time(value: Any, what: str = "timestamp") -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        return parse_time(value, what)
    except MalformedPayload:
        log.debug("ignoring unreadable optional %s %r", what, value)
        return None


def require(mapping: Any, key: str, what: str) -> Any:
    if not isinstance(mapping, Mapping):
        raise MalformedPayload(f"{what} is not an object")
    value = mapping.get(key)
    if value is None or value == "":
        raise MalformedPayload(f"{what} has no {key!r}")
    return value


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class BaseConnector:
    tool: ClassVar[str]
    default_base_url: ClassVar[str]
    required_scope: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        connection: ConnectionInfo,
        token: str,
        settings: PMSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        self.connection = connection
        self.settings = settings
        check_scope(self.tool, connection.scope, connection.id)
        self.base_url = (connection.base_url or self.default_base_url).rstrip("/")
        self.client = VendorClient(
            self.tool,
            self.base_url,
            headers=self.auth_headers(token),
            policy=RetryPolicy.from_settings(settings),
            transport=transport,
            sleep=sleep,
        )

    def auth_headers(self, token: str) -> dict[str, str]:
        raise NotImplementedError

    def poll(self, cursor: Mapping[str, Any], *, full: bool) -> AsyncIterator[SyncPage]:
        raise NotImplementedError

    async def webhook_changes(self, payload: Any, event_type: str | None) -> ChangeSet:
        raise NotImplementedError

    async def aclose(self) -> None:
        await self.client.aclose()

    def item_changes(
        self, items: list[Any], convert: Callable[[Any], ChangeSet], what: str
    ) -> ChangeSet:
        """Convert each item; a malformed one is logged and skipped, never fatal to the page."""
        changes = ChangeSet()
        for item in items:
            try:
                changes.extend(convert(item))
            except MalformedPayload as exc:
                item_id = str(item.get("id", "?")) if isinstance(item, dict) else "?"
                log.warning(
                    "%s: skipping malformed %s %s on connection %s: %s",
                    self.tool,
                    what,
                    item_id,
                    self.connection.id,
                    exc,
                )
                changes.skipped.append((item_id, str(exc)))
        return changes


SCOPE_KEYS: dict[str, dict[str, str]] = {
    "github": {"repo": "owner/name of the repository", "project": "Projects v2 node id (optional)"},
    "jira": {"project": "project key, e.g. SAT", "time_zone": "JQL time zone (optional)"},
    "asana": {"project": "project gid"},
    "trello": {"board": "board id"},
    "monday": {"board": "board id", "webhook_mode": "board (URL token, default) or app (JWT)"},
}
REQUIRED_SCOPE = {
    "github": ("repo",),
    "jira": ("project",),
    "asana": ("project",),
    "trello": ("board",),
    "monday": ("board",),
}


def check_scope(tool: str, scope: Mapping[str, Any], connection_id: str) -> None:
    for key in REQUIRED_SCOPE.get(tool, ()):
        if not scope.get(key):
            raise ConfigurationError(
                f"connection {connection_id!r}: {tool} needs scope {key}= ({SCOPE_KEYS[tool][key]})"
            )
    if tool == "github" and "/" not in str(scope.get("repo", "")):
        raise ConfigurationError(f"connection {connection_id!r}: repo must be owner/name")
    if tool == "monday" and scope.get("webhook_mode", "board") not in ("board", "app"):
        raise ConfigurationError(f"connection {connection_id!r}: webhook_mode is board or app")
