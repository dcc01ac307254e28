"""Reply-link precision, recall and F1, counted the way Kummerfeld et al.'s script counts.

A link is an unordered pair of messages (a self-link is the pair of a message with itself),
pairs are counted once, and only messages present in the gold file are scored: predicted
links of other messages are ignored, and a gold message without a prediction counts as
predicting nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LinkScore:
    gold_links: int
    predicted_links: int
    matched: int
    messages_scored: int
    messages_without_prediction: int

    @property
    def precision(self) -> float:
        return self.matched / self.predicted_links if self.predicted_links else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.gold_links if self.gold_links else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(links: Mapping[str, Sequence[str]], scored: Mapping[str, object]) -> set[frozenset[str]]:
    return {
        frozenset((message_id, target))
        for message_id, targets in links.items()
        if message_id in scored
        for target in targets
    }


def score_links(
    gold: Mapping[str, Sequence[str]], predicted: Mapping[str, Sequence[str]]
) -> LinkScore:
    gold_pairs = _pairs(gold, gold)
    predicted_pairs = _pairs(predicted, gold)
    return LinkScore(
        gold_links=len(gold_pairs),
        predicted_links=len(predicted_pairs),
        matched=len(gold_pairs & predicted_pairs),
        messages_scored=len(gold),
        messages_without_prediction=sum(1 for message_id in gold if message_id not in predicted),
    )
