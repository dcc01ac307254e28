"""Slow-channel replays of the training logs, and the first-pass structure features."""

from __future__ import annotations

import datetime as dt

import numpy as np

from core.links.augment import conversations, deinterleave
from core.links.structure import STRUCTURE_FEATURES, FirstPass, structure_grid
from core.links.text import analyse
from core.links.types import ChatMessage

START = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)


def stream(*authors: str) -> list[ChatMessage]:
    return [
        ChatMessage(f"m{n}", author, START + dt.timedelta(minutes=n), f"message {n}")
        for n, author in enumerate(authors)
    ]


def test_deinterleave_tells_each_conversation_in_one_piece() -> None:
    messages = stream("a", "b", "a", "c", "b", "c")
    # Two conversations interleaved: m0-m2-m4 and m1-m3-m5.
    gold = {"m2": ["m0"], "m4": ["m2"], "m3": ["m1"], "m5": ["m3"]}
    assert conversations(messages, gold) == [[0, 2, 4], [1, 3, 5]]
    replayed = deinterleave(messages, gold)
    assert [m.id for m in replayed] == ["m0", "m2", "m4", "m1", "m3", "m5"]
    assert sorted(m.content for m in replayed) == sorted(m.content for m in messages)
    times = [m.timestamp for m in replayed]
    assert times == sorted(times)
    # Inside a conversation the original gaps stay: m0 -> m2 was two minutes.
    assert times[1] - times[0] == dt.timedelta(minutes=2)


def test_structure_features_follow_the_first_pass_links() -> None:
    messages = stream("ana", "ben", "ana", "cai", "ben")
    analysed = analyse(messages)
    # First pass: m1 (ben) answered m0 (ana), m2 (ana) answered m1, m3 started; m4 is scored.
    parent = np.array([0, 0, 1, 3, 4])
    probabilities = np.zeros((5, 5), dtype=np.float32)
    probabilities[4, :3] = [0.1, 0.2, 0.7]  # m4: itself 0.1, m3 0.2, m2 0.7
    passed = FirstPass(parent=parent, probabilities=probabilities)
    values = structure_grid(analysed, passed, 4, 5, window=4)
    feature = {name: values[column, 0] for column, name in enumerate(STRUCTURE_FEATURES)}
    # Candidates of m4 by offset: m4 (self), m3, m2, m1, m0.
    assert np.allclose(feature["first_pass_probability"], [0.1, 0.2, 0.7, 0.0, 0.0])
    assert feature["first_pass_best"].tolist() == [0, 0, 1, 0, 0]
    # m2 (ana) answered m1, ben's previous post: the candidate answered the message's author.
    assert feature["candidate_answered_message_author"].tolist() == [0, 0, 1, 0, 0]
    assert feature["candidate_answered_previous_post"].tolist() == [0, 0, 1, 0, 0]
    assert feature["candidate_started_conversation"].tolist() == [0, 1, 0, 0, 1]
    # ben's previous post m1 answered m0.
    assert feature["previous_post_answered_candidate"].tolist() == [0, 0, 0, 0, 1]
    # Before m4, m1 was answered once (by m2) and m0 once (by m1).
    assert np.allclose(feature["log_answers_to_candidate_between"], [0, 0, 0, np.log(2), np.log(2)])
    assert feature["candidate_in_conversation_of_previous_post"].tolist() == [0, 0, 1, 1, 1]
