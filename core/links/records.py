"""Captured Discord messages (``MessageRecord``) as a chat stream for link inference.

Join, pin and thread notices become ``system`` lines (they never answer anything), the
reply feature becomes ``reply_to`` and user mentions become ``mentions``, all keyed by the
author's id as a string. ``author_names`` collects what people call each author: the
account name, any display names, and the first part of a handle such as ``talia_muller``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from core.capture.records import MessageRecord
from core.links.types import SYSTEM_AUTHOR, ChatMessage

_HANDLE_PARTS = re.compile(r"[._\-\s]+")


def chat_message(record: MessageRecord) -> ChatMessage:
    replied = record.reference_id is not None and record.kind == "reply"
    return ChatMessage(
        id=str(record.id),
        author=SYSTEM_AUTHOR if record.is_system else str(record.author_id),
        timestamp=record.timestamp,
        content=record.content,
        reply_to=str(record.reference_id) if replied else None,
        mentions=tuple(str(user) for user in record.mention_user_ids),
    )


def chat_stream(records: Iterable[MessageRecord]) -> list[ChatMessage]:
    """One channel's (or thread's) records as messages in time order."""
    ordered = sorted(records, key=lambda record: (record.timestamp, record.id))
    return [chat_message(record) for record in ordered]


def handle_aliases(handle: str) -> list[str]:
    """``talia_muller`` -> ``talia``: people address others by the first part of a handle."""
    first = _HANDLE_PARTS.split(handle.strip(), maxsplit=1)[0].rstrip("0123456789")
    return [first] if len(first) >= 3 and first.lower() != handle.strip().lower() else []


def author_names(
    records: Iterable[MessageRecord], display_names: Mapping[int, Sequence[str]] | None = None
) -> dict[str, list[str]]:
    """Names per author id: account names seen in ``records`` plus ``display_names``."""
    names: dict[str, list[str]] = {}
    for record in records:
        if record.author_name:
            known = names.setdefault(str(record.author_id), [])
            for name in (record.author_name, *handle_aliases(record.author_name)):
                if name not in known:
                    known.append(name)
    for author_id, extra in (display_names or {}).items():
        known = names.setdefault(str(author_id), [])
        known.extend(name for name in extra if name and name not in known)
    return names
