"""The one protocol every project-tool connector implements.

A connector is bound to one connection and owns that connection's HTTP client. It never
touches the database: ``poll`` yields pages of normalised changes with the cursor to save
once a page is stored, and ``webhook_changes`` turns one verified delivery into the same
kind of change set (fetching from the API where the vendor's payload is only a pointer).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from core.pm.records import ChangeSet, ConnectionInfo


@dataclass
class SyncPage:
    changes: ChangeSet
    # The cursor to persist after this page is stored; None leaves it unchanged. Pages come
    # oldest-first, so a crash mid-sync resumes from the last stored page.
    cursor: dict[str, Any] | None


@dataclass(frozen=True)
class DeliveryInfo:
    """How a verified delivery is identified: the vendor's id (or a body hash) and its type."""

    delivery_id: str
    event_type: str | None


class Connector(Protocol):
    tool: str
    connection: ConnectionInfo

    def poll(self, cursor: Mapping[str, Any], *, full: bool) -> AsyncIterator[SyncPage]:
        """Pages of changes since ``cursor`` (everything when ``full``), oldest first."""
        ...

    async def webhook_changes(self, payload: Any, event_type: str | None) -> ChangeSet:
        """The changes one verified delivery reports; raises MalformedPayload if unusable."""
        ...

    async def aclose(self) -> None: ...
