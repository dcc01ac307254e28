"""The knowledge-transfer score of an interface, in [0, 1], with its parts kept.

score = clip(type_value × interaction_factor × latency_factor + codified_bonus + acknowledged_bonus)

- ``type_value``: what the source message carries (DOMAIN.md: handoffs and documentation
  transfer the most; questions the least, since knowledge flows toward the asker only once
  answered);
- ``interaction_factor``: how directly the two people interacted (a reply is direct; a
  reaction is a light touch); inferred links are scaled by their confidence;
- ``latency_factor``: an answer that arrives late helps less (half-life 24 h, floor 0.5);
- ``codified_bonus``: +0.1 when the message links a document or attaches a file (codified
  knowledge survives the sender's graduation: DOMAIN.md's codified vs institutional);
- ``acknowledged_bonus``: +0.1 when the receiver acknowledged (thanks, a reaction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

TYPE_VALUE = {
    "handoff": 0.95,
    "documentation": 0.9,
    "answer": 0.8,
    "announcement": 0.5,
    "question": 0.3,
    "other": 0.2,
}
INTERACTION_FACTOR = {
    "reply": 1.0,
    "inferred_reply": 1.0,
    "mention": 0.9,
    "dm": 0.9,
    "thread": 0.6,
    "reaction": 0.3,
}
LATENCY_HALF_LIFE_HOURS = 24.0
LATENCY_FLOOR = 0.5
CODIFIED_BONUS = 0.1
ACKNOWLEDGED_BONUS = 0.1


@dataclass(frozen=True, slots=True)
class ScoreParts:
    type_value: float
    interaction_factor: float
    latency_factor: float
    codified_bonus: float
    acknowledged_bonus: float

    @property
    def score(self) -> float:
        raw = self.type_value * self.interaction_factor * self.latency_factor
        return round(min(1.0, max(0.0, raw + self.codified_bonus + self.acknowledged_bonus)), 4)

    def as_features(self) -> dict[str, float]:
        return {
            "kts_type": self.type_value,
            "kts_interaction": self.interaction_factor,
            "kts_latency": self.latency_factor,
            "kts_codified": self.codified_bonus,
            "kts_acknowledged": self.acknowledged_bonus,
        }


@lru_cache(maxsize=4096)
def score_parts(
    interaction_type: str,
    message_type: str,
    *,
    confidence: float = 1.0,
    latency_hours: float | None = None,
    codified: bool = False,
    acknowledged: bool = False,
) -> ScoreParts:
    latency = 1.0
    if message_type == "answer" and latency_hours is not None and latency_hours > 0:
        decay = math.exp(-math.log(2) * latency_hours / LATENCY_HALF_LIFE_HOURS)
        latency = LATENCY_FLOOR + (1 - LATENCY_FLOOR) * decay
    return ScoreParts(
        type_value=TYPE_VALUE.get(message_type, TYPE_VALUE["other"]),
        interaction_factor=INTERACTION_FACTOR[interaction_type] * max(0.0, min(1.0, confidence)),
        latency_factor=round(latency, 4),
        codified_bonus=CODIFIED_BONUS if codified else 0.0,
        acknowledged_bonus=ACKNOWLEDGED_BONUS if acknowledged else 0.0,
    )
