"""The public records of reply-link inference: what goes in and what comes out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

SYSTEM_AUTHOR = "system"  # author of non-chat lines (joins, topic changes, pins)


@dataclass(slots=True)  # one per message: not frozen (a frozen init is 3× slower)
class ChatMessage:
    """One message of a chat stream, in the shape every source can produce."""

    id: str
    author: str
    timestamp: dt.datetime
    content: str
    reply_to: str | None = None  # explicit reference (Discord's reply feature)
    mentions: tuple[str, ...] = ()  # author ids mentioned with the platform's mention syntax


@dataclass(slots=True)  # one per message: not frozen (a frozen init is 3× slower)
class InferredLink:
    """Which earlier message(s) a message answers; only itself means it starts a conversation.

    ``features`` holds the values that decided the strongest link (for an explicit reply,
    ``{"explicit_reply": 1.0}``), so a reviewer can see why the link was drawn.
    """

    message_id: str
    links_to: tuple[str, ...]
    confidence: float
    features: dict[str, float] = field(default_factory=dict)

    @property
    def starts_conversation(self) -> bool:
        return self.links_to == (self.message_id,)
