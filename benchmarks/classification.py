"""Message classification against the hand-labelled sample (tests/data/labelled_message_types.csv).

    python benchmarks/classification.py

The sample holds every message of the DiscordChatExporter example export (../shared/data)
and messages of the simulator's default program (seed 1), labelled by hand by intent. Each
source is classified in channel order, with the context the capture stage uses.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.capture.evaluation import macro_f1, render, score_classes  # noqa: E402
from tests.classification_sample import classify_sample  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        pairs = classify_sample(Path(work))
    scores = score_classes(pairs)
    accuracy = sum(1 for gold, predicted in pairs if gold == predicted) / len(pairs)
    print(render(scores, {"accuracy": accuracy, "macro F1": macro_f1(scores)}))


if __name__ == "__main__":
    main()
