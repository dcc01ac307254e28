"""``infer_links`` on hand-made conversations, in both modes."""

from __future__ import annotations

import datetime as dt

import pytest

from core.links import ChatMessage, InferredLink, infer_links
from core.links.model import shipped_model

START = dt.datetime(2026, 9, 1, 18, 0, tzinfo=dt.UTC)
NAMES = {
    "u-sam": ["Sam Okafor", "sam_okafor"],
    "u-lee": ["Lee Wong"],
    "u-ana": ["Dr. Ana Ruiz"],
    "u-kai": ["Kai Mahoe"],
}


def conversation(*lines: tuple[str, str, float]) -> list[ChatMessage]:
    """(author, text, minutes since the start) per message."""
    return [
        ChatMessage(f"m{n}", author, START + dt.timedelta(minutes=minutes), text)
        for n, (author, text, minutes) in enumerate(lines)
    ]


def links_by_id(links: list[InferredLink]) -> dict[str, tuple[str, ...]]:
    return {link.message_id: link.links_to for link in links}


# Two threads interleaved: the EPS question and the radio question, each answered by name.
INTERLEAVED = conversation(
    ("u-sam", "the EPS board browns out when the radio transmits, any idea?", 0),
    ("u-ana", "has anyone booked the thermal chamber for friday?", 1),
    ("u-lee", "sam: try the 3.3 V rail, it sags under load", 2),
    ("u-kai", "@Ana I booked it for the morning", 3),
    ("u-sam", "thanks Lee, I'll scope the rail tonight", 4),
    ("u-ana", "great, thanks Kai", 5),
)


@pytest.mark.parametrize("mode", ["fast", "accurate"])
def test_names_in_text_link_interleaved_conversations(mode: str) -> None:
    links = infer_links(INTERLEAVED, mode=mode, author_names=NAMES)  # type: ignore[arg-type]
    found = links_by_id(links)
    assert [link.message_id for link in links] == [m.id for m in INTERLEAVED]
    assert found["m0"] == ("m0",)  # the first message starts a conversation
    assert "m0" in found["m2"]  # "sam: ..." answers sam's question
    assert "m1" in found["m3"]  # "@Ana ..." answers Dr. Ana Ruiz
    assert "m2" in found["m4"]  # "thanks Lee" closes Lee's answer
    assert "m3" in found["m5"]  # "thanks Kai"
    for link in links:
        assert 0.0 <= link.confidence <= 1.0
        assert all(target <= link.message_id for target in link.links_to)


def test_an_answer_that_just_follows_a_question_links_to_it() -> None:
    messages = conversation(
        ("u-ana", "ok, pushed the new flight software build", 0),
        ("u-sam", "how long does the rotator calibration take end to end?", 45),
        ("u-kai", "about 7 hours including setup", 80),
        ("u-lee", "where do we keep the latest flat-sat setup guide?", 240),
        ("u-max", "pinned in this channel", 260),
    )
    found = links_by_id(infer_links(messages, mode="fast", author_names=NAMES))
    assert found["m2"] == ("m1",)
    assert found["m4"] == ("m3",)


def test_explicit_replies_are_kept_and_explained() -> None:
    messages = conversation(("u-sam", "radio is up", 0), ("u-lee", "nice", 1))
    messages[1] = ChatMessage("m1", "u-lee", messages[1].timestamp, "nice", reply_to="m0")
    link = infer_links(messages, mode="fast")[1]
    assert link == InferredLink("m1", ("m0",), 1.0, {"explicit_reply": 1.0})


def test_inferred_links_carry_the_features_that_decided_them() -> None:
    link = infer_links(INTERLEAVED, mode="fast", author_names=NAMES)[2]
    model_features = set(shipped_model("fast").features)
    assert link.features
    assert set(link.features) <= model_features
    assert link.features["addresses_candidate_author"] == 1.0


def test_empty_and_single_message_streams() -> None:
    assert infer_links([], mode="fast") == []
    (only,) = infer_links(INTERLEAVED[:1], mode="fast")
    assert only.links_to == ("m0",)
    assert only.starts_conversation
    assert only.confidence == pytest.approx(1.0)


def test_long_streams_are_scored_in_blocks_without_changing_links() -> None:
    messages = [
        ChatMessage(
            f"m{n}",
            f"u{n % 7}",
            START + dt.timedelta(seconds=20 * n),
            f"u{(n - 1) % 7}: about the radio test number {n // 3}?" if n % 2 else "done",
        )
        for n in range(9000)
    ]
    whole = infer_links(messages, mode="fast")
    tail = infer_links(messages[5000:], mode="fast")
    assert len(whole) == len(messages)
    # Far from the start of either stream, the same window gives the same links.
    assert links_by_id(whole[6000:7000]) == links_by_id(tail[1000:2000])
