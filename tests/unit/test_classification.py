"""Message classification: the rules on hand-made messages, and the labelled sample."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.capture.classify import OpenQuestion, classify
from core.capture.evaluation import macro_f1, score_classes
from core.capture.records import AttachmentRecord, MessageRecord
from tests.classification_sample import EXAMPLE, classify_sample

T0 = dt.datetime(2026, 9, 1, 15, 0, tzinfo=dt.UTC)


def message(content: str, *, author: int = 1, minutes: int = 0, **fields: object) -> MessageRecord:
    return MessageRecord(
        id=1000 + minutes,
        channel_id=1,
        author_id=author,
        timestamp=T0 + dt.timedelta(minutes=minutes),
        content=content,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("handing over the EPS test procedure to @sam before I graduate", "handoff"),
        ("the rail is yours now, I'll walk you through it Friday", "handoff"),
        ("@everyone safety training on Tuesday, required for lab access", "announcement"),
        ("Reminder: design review moves to Friday", "announcement"),
        ("how do I flash the bootloader?", "question"),
        ("anyone know the torque spec for M2.5", "question"),
        ("is there a checklist?\n```c\nint x = 1;\n```", "question"),
        ("link budget notes: https://docs.google.com/document/d/abc", "documentation"),
        ("lol", "other"),
    ],
)
def test_rules(content: str, expected: str) -> None:
    assert classify(message(content)).message_type == expected


def test_attachment_of_a_document_is_codified() -> None:
    record = message("rev C drawings", attachments=(AttachmentRecord("harness_revC.pdf", 1200),))
    result = classify(record)
    assert result.message_type == "documentation" and result.signals.codified


def test_answers_by_reply_and_by_turn_taking() -> None:
    question = OpenQuestion(1, author_id=1, timestamp=T0)
    assert (
        classify(
            message("use the buck converter", author=2, reference_id=1),
            replied_type="question",
            replied_author=1,
        ).message_type
        == "answer"
    )
    first = message("use the buck converter", author=2, minutes=10)
    assert classify(first, open_question=question).message_type == "answer"
    answered = question.answered_by(first)
    follow_up = message("and check the inductor rating", author=2, minutes=12)
    assert classify(follow_up, open_question=answered).message_type == "answer"
    bystander = message("the coffee machine is fixed", author=3, minutes=13)
    assert classify(bystander, open_question=answered).message_type == "other"
    late = message("use the buck converter", author=2, minutes=60 * 7)
    assert classify(late, open_question=question).message_type == "other"


def test_labelled_sample_per_class_precision_and_recall(tmp_path: Path) -> None:
    if not EXAMPLE.exists():
        pytest.skip(f"shared test data not found at {EXAMPLE}")
    pairs = classify_sample(tmp_path)
    scores = {s.label: s for s in score_classes(pairs)}
    assert len(pairs) == 150
    assert macro_f1(scores.values()) >= 0.85
    for label in ("question", "answer", "announcement", "other"):
        assert scores[label].f1 >= 0.85, scores[label]
    for label in ("handoff", "documentation"):
        assert scores[label].recall >= 0.5, scores[label]
