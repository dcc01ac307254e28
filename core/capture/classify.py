"""Message classification: one ``message_type`` per message, plus the signals behind it.

Deterministic rules over the text and its immediate context, documented with their
thresholds in docs/interfaces.md. Order matters: the first rule that fires wins.

1. system messages (joins, thread created, pins) → ``other``
2. hand-over language ("handing over", "take over", "before I graduate") → ``handoff``
3. broadcast language (@everyone, "reminder", "deadline", "is due") → ``announcement``
4. a question mark outside code, or an interrogative opening in a short message → ``question``
5. a reply to a question by someone else; or, within ``ANSWER_WINDOW`` of an open
   question, the first other person to speak (and their follow-ups within
   ``CONTINUATION_WINDOW``) or anyone who mentions the asker → ``answer``
6. a design-document link, or a pinned/long structured message → ``documentation``
7. anything else → ``other``
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from core.capture.records import MessageRecord
from core.db.models.capture import MESSAGE_TYPES

__all__ = ["MESSAGE_TYPES", "Classification", "OpenQuestion", "Signals", "classify", "signals_of"]

ANSWER_WINDOW = dt.timedelta(hours=6)  # student teams answer hours later, not minutes
CONTINUATION_WINDOW = dt.timedelta(minutes=5)
LONG_MESSAGE = 280  # characters; a pinned or structured message this long documents something
SHORT_QUESTION = 400  # interrogative openings only count as questions in messages this short

_URL = re.compile(r"https?://[^\s<>()\"']+", re.IGNORECASE)
_DOC_HOST = re.compile(
    r"(docs\.google\.com|drive\.google\.com|notion\.(so|site)|atlassian\.net/wiki|confluence|"
    r"readthedocs|gitbook|overleaf\.com|sharepoint\.com|onedrive|dropbox\.com/paper|hackmd\.io|"
    r"github\.com/[^/\s]+/[^/\s]+/(wiki|blob)|gitlab\.com/.+/(wikis|blob)|/wiki/)",
    re.IGNORECASE,
)
_DOC_FILE = re.compile(
    r"\.(pdf|docx?|md|rst|xlsx?|pptx?|odt|step|stp|sldprt|kicad_\w+)\b", re.IGNORECASE
)
_HANDOFF = re.compile(
    r"\b(hand(ing|ed)?[ -]?(it |this |these |everything )?over|hand-?off|taking over|take over|"
    r"took over|pass(ing)? (it|this|the \w+) (on|over|to)|before i (graduate|leave)|"
    r"transition(ing)? (it|this|the \w+) to|you('ll| will) own|new owner|knowledge transfer|"
    r"i'?m graduating|after i graduate|hand(ing|ed)? (the|my|it|this) [\w -]{0,40}\bto\b|"
    r"(is|are) yours now|now owns?|last weeks? for me|walk ?through|walk you through)\b"
)
# Broadcast language: an opening word (matched at the start only), or a phrase anywhere.
# Split in two, with the word boundary tested once before the phrases, the search is
# about four times faster than one alternation tried at every position.
_ANNOUNCE_OPENING = re.compile(
    r"\s*(reminder|announcement|heads up|psa|important|update|welcome)\b"
)
_ANNOUNCE = re.compile(
    r"@everyone|@here|\b(?:deadline\b|all[- ]hands\b|meeting (?:is|at|on|tomorrow|today)\b|"
    r"please (?:all|everyone)\b|(?:is|are) (?:due|closed|cancelled|canceled)\b|milestone:|"
    r"moves? to (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|next week)\b)"
)
_INTERROGATIVE = re.compile(
    r"^\s*(how|what|why|when|where|who|which|does|do|did|is|are|was|were|can|could|should|"
    r"would|will|has|have|anyone|any ?one|any idea|is there|know how)\b"
)
_CODE_SPAN = re.compile(r"```.*?(```|$)", re.DOTALL)
_STEPS = re.compile(r"^\s*(\d+[.)]|[-*•])\s+\S", re.MULTILINE)


@dataclass(slots=True)  # one per message: not frozen, see MessageRecord
class Signals:
    has_code_block: bool
    links: tuple[str, ...]
    doc_links: tuple[str, ...]
    has_attachment: bool
    has_doc_attachment: bool
    is_pinned: bool
    is_question: bool
    is_broadcast: bool

    @property
    def codified(self) -> bool:
        """Knowledge written down where others can find it (DOMAIN.md's codified type)."""
        return (
            bool(self.doc_links)
            or self.has_doc_attachment
            or (self.is_pinned and self.has_code_block)
        )

    def as_metadata(self) -> dict[str, object]:
        return {
            "code_block": self.has_code_block,
            "links": list(self.links),
            "doc_links": list(self.doc_links),
            "attachment": self.has_attachment,
            "pinned": self.is_pinned,
            "codified": self.codified,
        }


@dataclass(slots=True)  # one per message: not frozen, see MessageRecord
class Classification:
    message_type: str
    rule: str
    signals: Signals


def signals_of(record: MessageRecord, lower: str | None = None) -> Signals:
    """``lower`` is the lower-cased content, when the caller has it already."""
    content = record.content
    lower = content.lower() if lower is None else lower
    links = (tuple(_URL.findall(content)) if "http" in lower else ()) + record.embed_urls
    doc_links = tuple(link for link in links if _DOC_HOST.search(link) or _DOC_FILE.search(link))
    prose = (
        _CODE_SPAN.sub("", content) if "```" in content else content
    )  # '?' in code is not asking
    is_question = "?" in prose or (
        len(content) <= SHORT_QUESTION and bool(_INTERROGATIVE.match(lower))
    )
    return Signals(
        has_code_block="```" in content,
        links=links,
        doc_links=doc_links,
        has_attachment=bool(record.attachments),
        has_doc_attachment=any(_DOC_FILE.search(a.file_name) for a in record.attachments),
        is_pinned=record.is_pinned,
        is_question=is_question,
        is_broadcast=bool(_ANNOUNCE_OPENING.match(lower) or _ANNOUNCE.search(lower)),
    )


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    """The most recent open question in a channel, and who has answered it so far."""

    message_id: int
    author_id: int
    timestamp: dt.datetime
    answerer_id: int | None = None
    last_answer_at: dt.datetime | None = None

    def answered_by(self, record: MessageRecord) -> OpenQuestion:
        return OpenQuestion(
            self.message_id, self.author_id, self.timestamp, record.author_id, record.timestamp
        )

    def is_answered_by(self, record: MessageRecord) -> bool:
        """Turn-taking: the first other person to speak answers; their next messages within
        ``CONTINUATION_WINDOW`` continue the answer; anyone addressing the asker answers too."""
        if record.author_id == self.author_id or record.reference_id is not None:
            return False
        if record.timestamp - self.timestamp > ANSWER_WINDOW:
            return False
        if self.author_id in record.mention_user_ids or self.answerer_id is None:
            return True
        return (
            record.author_id == self.answerer_id
            and self.last_answer_at is not None
            and record.timestamp - self.last_answer_at <= CONTINUATION_WINDOW
        )


def classify(
    record: MessageRecord,
    *,
    replied_type: str | None = None,
    replied_author: int | None = None,
    open_question: OpenQuestion | None = None,
) -> Classification:
    """Classify one message given what it replies to and the channel's open question."""
    content = record.content
    lower = content.lower()
    signals = signals_of(record, lower)
    if record.is_system:
        return Classification("other", "system message", signals)
    if _HANDOFF.search(lower):
        return Classification("handoff", "hand-over language", signals)
    if signals.is_broadcast and not signals.is_question:
        return Classification("announcement", "broadcast language", signals)
    if signals.is_question:
        return Classification("question", "question form", signals)
    # An answer that links a document is still an answer (its codified signal is kept).
    if replied_type == "question" and replied_author not in (None, record.author_id):
        return Classification("answer", "reply to a question", signals)
    if open_question is not None and open_question.is_answered_by(record):
        return Classification("answer", "follows an open question", signals)
    if signals.doc_links or signals.has_doc_attachment:
        return Classification("documentation", "design-document link", signals)
    if len(content) >= LONG_MESSAGE and (
        signals.is_pinned or signals.has_code_block or len(_STEPS.findall(content)) >= 3
    ):
        return Classification("documentation", "long structured or pinned message", signals)
    return Classification("other", "no rule fired", signals)
