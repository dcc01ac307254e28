"""Per-class precision and recall of message classification against hand labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.capture.classify import MESSAGE_TYPES


@dataclass(frozen=True)
class ClassScore:
    label: str
    support: int
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def score_classes(pairs: Iterable[tuple[str, str]]) -> list[ClassScore]:
    """``pairs`` are (gold, predicted) labels; one score per message type."""
    pairs = list(pairs)
    scores = []
    for label in MESSAGE_TYPES:
        true_positive = sum(1 for gold, predicted in pairs if gold == predicted == label)
        predicted_n = sum(1 for _, predicted in pairs if predicted == label)
        gold_n = sum(1 for gold, _ in pairs if gold == label)
        scores.append(
            ClassScore(
                label,
                gold_n,
                true_positive / predicted_n if predicted_n else 0.0,
                true_positive / gold_n if gold_n else 0.0,
            )
        )
    return scores


def macro_f1(scores: Iterable[ClassScore]) -> float:
    present = [s for s in scores if s.support]
    return sum(s.f1 for s in present) / len(present) if present else 0.0


def render(scores: Iterable[ClassScore], accuracy: Mapping[str, float]) -> str:
    lines = [f"{'type':<14}{'support':>8}{'precision':>11}{'recall':>8}{'F1':>7}"]
    for s in scores:
        lines.append(f"{s.label:<14}{s.support:>8}{s.precision:>11.2f}{s.recall:>8.2f}{s.f1:>7.2f}")
    lines += [f"{name}: {value:.3f}" for name, value in accuracy.items()]
    return "\n".join(lines)
