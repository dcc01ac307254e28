"""Conversation structure from a first pass, as features for the accurate model's second pass.

The fast model links every message once. Those links say who has been answering whom:
a candidate that answered the message's author, a candidate the author's previous message
answered, a candidate already answered by others, a conversation the author was in. The
accurate model reads them, with the first pass's own probabilities, as one more family of
features ("structure"). At training time the first pass comes from models that never saw
the log they link (two folds), so the features are as noisy as they will be in use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from core.links.text import AnalysedStream

STRUCTURE_FEATURES = (
    "first_pass_probability",
    "first_pass_share",
    "first_pass_best",
    "candidate_answered_message_author",
    "candidate_started_conversation",
    "previous_post_answered_candidate",
    "candidate_answered_previous_post",
    "log_answers_to_candidate_between",
    "candidate_in_conversation_of_previous_post",
    "candidate_answered_whom_previous_post_answered",
)


@dataclass
class FirstPass:
    """The first pass over a whole stream: each message's best antecedent, and the scores."""

    parent: np.ndarray  # int64 (n,): position of the best antecedent (itself for a start)
    probabilities: np.ndarray  # float32 (n, first-pass window + 1)

    @property
    def roots(self) -> np.ndarray:
        """The first message of each message's conversation (following parents back)."""
        root = self.parent.copy()
        while True:
            jumped = root[root]
            if np.array_equal(jumped, root):
                return root
            root = jumped


def collect_first_pass(
    n: int, blocks: Iterator[tuple[int, int, np.ndarray]], window: int
) -> FirstPass:
    """Gather a first-pass model's ``(start, stop, probabilities)`` blocks over ``n`` messages."""
    parent = np.arange(n, dtype=np.int64)
    probabilities = np.zeros((n, window + 1), dtype=np.float32)
    for start, stop, block in blocks:
        best = np.argmax(block, axis=1)
        parent[start:stop] = np.arange(start, stop) - best
        probabilities[start:stop, : block.shape[1]] = block
    return FirstPass(parent=parent, probabilities=probabilities)


def structure_grid(
    stream: AnalysedStream, passed: FirstPass, start: int, stop: int, window: int
) -> np.ndarray:
    """Structure features of messages ``start..stop``, ``(features, rows, window + 1)``."""
    n = len(passed.parent)
    rows, width = stop - start, window + 1
    current = np.arange(start, stop, dtype=np.int64)[:, None]
    offset = np.arange(width, dtype=np.int64)[None, :]
    candidate = np.maximum(current - offset, 0)
    parent, author = passed.parent, stream.author
    roots = passed.roots
    previous_post = stream.previous_post[current]
    has_previous = previous_post >= 0
    previous = np.maximum(previous_post, 0)
    not_self = offset > 0

    values = np.zeros((len(STRUCTURE_FEATURES), rows, width), dtype=np.float32)
    first_width = min(passed.probabilities.shape[1], width)
    probability = values[0]
    probability[:, :first_width] = passed.probabilities[start:stop, :first_width]
    values[1] = probability / np.maximum(probability.sum(axis=1, keepdims=True), 1e-6)
    values[2] = np.argmax(probability, axis=1)[:, None] == offset
    candidate_parent = parent[candidate]
    answered_someone = candidate_parent != candidate
    values[3] = (author[candidate_parent] == author[current]) & answered_someone & not_self
    values[4] = ~answered_someone & not_self
    values[5] = (parent[previous] == candidate) & has_previous & not_self
    values[6] = (candidate_parent == previous) & has_previous & answered_someone & not_self
    # Answers to the candidate between it and the message, from sorted (parent, position).
    keys = np.sort(parent * np.int64(n + 1) + np.arange(n, dtype=np.int64))
    base = candidate * np.int64(n + 1)
    answers = np.searchsorted(keys, base + current) - np.searchsorted(keys, base + candidate + 1)
    values[7] = np.log1p(np.maximum(answers, 0)) * not_self
    values[8] = (roots[candidate] == roots[previous]) & has_previous & not_self
    previous_answered = parent[previous]
    values[9] = (
        (author[previous_answered] == author[candidate_parent])
        & (previous_answered != previous)
        & answered_someone
        & has_previous
        & not_self
    )
    return values
