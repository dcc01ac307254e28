"""The hand-labelled classification sample: gold labels beside the classifier's output."""

from __future__ import annotations

import csv
from pathlib import Path

from core.capture.derive import MESSAGE_COLUMNS, CaptureContext, ChannelContext, ChannelStreams
from core.capture.records import MessageRecord
from core.imports.dce import dce_files, read_dce_file
from core.simulate import SimulationConfig, simulate

SAMPLE = Path(__file__).resolve().parent / "data" / "labelled_message_types.csv"
EXAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "discord-dce-example-guild"
TYPE_AT = MESSAGE_COLUMNS.index("message_type")


def _predict(paths: list[Path]) -> dict[int, str]:
    records: list[MessageRecord] = []
    for path in dce_files(paths):
        _, messages = read_dce_file(path)
        records += messages
    # Every channel mapped, so every message is classified.
    channels = {
        channel: ChannelContext(channel, None, "team", None, None)
        for r in records
        for channel in (r.channel_id, r.parent_channel_id)
        if channel
    }
    derived = ChannelStreams().derive(records, CaptureContext(channels, {}, {}))
    return {int(row[0]): str(row[TYPE_AT]) for row in derived.messages}  # type: ignore[call-overload]


def classify_sample(work: Path) -> list[tuple[str, str]]:
    """(gold, predicted) for every labelled message."""
    program = work / "program"
    simulate(SimulationConfig(seed=1), program)
    predicted = {"simulator": _predict([program / "discord"]), "example": _predict([EXAMPLE])}
    with SAMPLE.open(newline="") as handle:
        return [
            (row["label"], predicted[row["source"]][int(row["message_id"])])
            for row in csv.DictReader(handle)
        ]
