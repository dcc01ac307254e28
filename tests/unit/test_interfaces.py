"""Interface derivation on hand-made conversations: each type, role mentions, the score."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from core.capture.derive import (
    INTERFACE_COLUMNS,
    AuthorContext,
    CaptureContext,
    ChannelContext,
    ChannelStreams,
)
from core.capture.records import MessageRecord, ReactionRecord
from core.capture.scoring import score_parts

CHANNEL, THREAD = 10, 11
ADA, BOB, CYD, DEV = 1, 2, 3, 4
T0 = dt.datetime(2026, 9, 1, 15, 0, tzinfo=dt.UTC)
CONTEXT = CaptureContext({CHANNEL: ChannelContext(CHANNEL, 99, "team", None, "uni")}, {}, {})
AT = {name: INTERFACE_COLUMNS.index(name) for name in INTERFACE_COLUMNS}


def say(
    message_id: int, author: int, content: str, minutes: int = 0, **fields: object
) -> MessageRecord:
    return MessageRecord(
        id=message_id,
        channel_id=fields.pop("channel", CHANNEL),
        author_id=author,  # type: ignore[arg-type]
        timestamp=T0 + dt.timedelta(minutes=minutes),
        content=content,
        author_name=fields.pop("name", None),
        **fields,  # type: ignore[arg-type]
    )


def edges(records: list[MessageRecord], *, infer: bool = False) -> list[tuple[object, ...]]:
    batch = ChannelStreams(infer_replies=infer).derive(records, CONTEXT)
    return [
        (
            row[AT["interaction_type"]],
            row[AT["from_user_id"]],
            row[AT["to_user_id"]],
            row[AT["source_message_id"]],
        )
        for row in batch.interfaces
    ]


def test_reply_mention_and_no_self_edges() -> None:
    found = edges(
        [
            say(1, ADA, "how do I size the rail?"),
            say(2, BOB, "use the buck converter", 5, reference_id=1, kind="reply"),
            say(3, CYD, "@bob thanks, @cyd noted", 6, mention_user_ids=(BOB, CYD)),
            say(4, ADA, "replying to myself", 7, reference_id=1, kind="reply"),
        ]
    )
    assert found == [("reply", BOB, ADA, 2), ("mention", CYD, BOB, 3)]


def test_role_mention_expands_to_the_role_members_at_that_time() -> None:
    batch = ChannelStreams(infer_replies=False).derive(
        [
            say(
                1,
                ADA,
                "@eps-team review please",
                mention_role_ids=(77,),
                role_member_ids=(BOB, CYD, DEV, ADA),
            )
        ],
        CONTEXT,
    )
    rows = {(r[AT["to_user_id"]], r[AT["weight"]]) for r in batch.interfaces}
    assert rows == {(BOB, 0.25), (CYD, 0.25), (DEV, 0.25)}  # 0.5 / √4, never to the author


def test_thread_co_participation_weighted_by_proximity() -> None:
    thread = dict(channel=THREAD, parent_channel_id=CHANNEL)
    batch = ChannelStreams(infer_replies=False).derive(
        [
            say(1, ADA, "thread start", 0, **thread),
            say(2, BOB, "second", 1, **thread),
            say(3, CYD, "third", 2, **thread),
        ],
        CONTEXT,
    )
    thread_edges = [
        (r[AT["from_user_id"]], r[AT["to_user_id"]], r[AT["weight"]])
        for r in batch.interfaces
        if r[AT["interaction_type"]] == "thread"
    ]
    assert thread_edges == [(BOB, ADA, 1.0), (CYD, BOB, 1.0), (CYD, ADA, 0.5)]
    assert batch.threads == {THREAD: (None, CHANNEL)}


def test_dm_reaches_the_other_people_in_the_conversation() -> None:
    dm_channel = 20
    consented = CaptureContext(
        {dm_channel: ChannelContext(dm_channel, None, None, None, "uni")},
        {
            ADA: AuthorContext("p-ada", "uni", "granted"),
            BOB: AuthorContext("p-bob", "uni", "granted"),
        },
        {},
    )
    dm = dict(channel=dm_channel, is_dm=True)
    batch = ChannelStreams(infer_replies=False).derive(
        [
            say(1, ADA, "can we talk about the handoff?", 0, dm_recipient_ids=(BOB,), **dm),
            say(2, BOB, "sure", 1, **dm),  # an export names no recipients: Ada wrote here
            say(3, CYD, "me too?", 2, dm_recipient_ids=(ADA,), **dm),  # no consent: not kept
        ],
        consented,
    )
    dm_edges = [
        (r[AT["from_user_id"]], r[AT["to_user_id"]], r[AT["weight"]], r[AT["message_ids"]])
        for r in batch.interfaces
        if r[AT["interaction_type"]] == "dm"
    ]
    assert dm_edges == [(ADA, BOB, 1.0, [1]), (BOB, ADA, 1.0, [2])]
    assert [m[0] for m in batch.messages] == [1, 2]
    assert batch.dms_without_consent == 1


def test_reactions_one_edge_per_person_and_acknowledgement() -> None:
    reactions = (ReactionRecord("🙏", 1, (ADA,)), ReactionRecord("👍", 2, (ADA, CYD)))
    batch = ChannelStreams(infer_replies=False).derive(
        [
            say(1, ADA, "how do I flash it?"),
            say(2, BOB, "use the SWD header", 3, reference_id=1, kind="reply", reactions=reactions),
        ],
        CONTEXT,
    )
    kinds = sorted((r[AT["interaction_type"]], r[AT["from_user_id"]]) for r in batch.interfaces)
    assert kinds == [("reaction", ADA), ("reaction", CYD), ("reply", BOB)]
    assert len(batch.reactions) == 3  # every emoji is kept in discord_reactions
    reply = next(r for r in batch.interfaces if r[AT["interaction_type"]] == "reply")
    assert json.loads(str(reply[AT["features"]]))["kts_acknowledged"] == 0.1  # Ada reacted


def test_inferred_reply_by_name_without_the_reply_feature() -> None:
    found = edges(
        [
            say(1, ADA, "what torque for the M2.5 standoffs?", 0, name="ada"),
            say(2, CYD, "lunch anyone?", 1, name="cyd"),
            say(3, BOB, "ada: 0.9 N·m, don't go higher", 2, name="bob"),
        ],
        infer=True,
    )
    assert ("inferred_reply", BOB, ADA, 3) in found


@pytest.mark.parametrize(
    ("kind", "message_type", "options", "expected"),
    [
        ("reply", "answer", {}, 0.8),
        ("reply", "answer", {"latency_hours": 24.0}, 0.8 * 0.75),
        ("mention", "handoff", {"codified": True}, 0.95 * 0.9 + 0.1),
        ("thread", "question", {}, 0.3 * 0.6),
        ("inferred_reply", "answer", {"confidence": 0.5, "acknowledged": True}, 0.8 * 0.5 + 0.1),
        ("reaction", "documentation", {"codified": True}, 0.9 * 0.3 + 0.1),
    ],
)
def test_knowledge_transfer_score_parts(
    kind: str, message_type: str, options: dict[str, object], expected: float
) -> None:
    parts = score_parts(kind, message_type, **options)  # type: ignore[arg-type]
    assert parts.score == pytest.approx(expected, abs=1e-4)
    assert set(parts.as_features()) == {
        "kts_type",
        "kts_interaction",
        "kts_latency",
        "kts_codified",
        "kts_acknowledged",
    }
