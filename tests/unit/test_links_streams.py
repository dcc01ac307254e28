"""Many streams linked in one call give exactly what linking each stream alone gives.

Imports and live capture link a batch's channels and threads together (``infer_streams``),
with each stream's recent history as context and its texts read once. Every link,
confidence and deciding feature must equal one-shot ``infer_links`` over the same messages.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import deque
from dataclasses import replace
from pathlib import Path

import pytest

from core.capture import derive
from core.capture.derive import LINK_CONTEXT, ReplyInference
from core.capture.records import MessageRecord
from core.imports.dce import dce_files, read_dce_file
from core.links import ChatMessage, InferredLink, infer_links
from core.links.infer import LinkStream, infer_streams
from core.links.records import author_names, chat_message
from core.links.text import read_text
from core.simulate import SimulationConfig, simulate


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[MessageRecord]:
    """A simulated program's messages in export order: files of channels and threads."""
    out = tmp_path_factory.mktemp("simulated")
    simulate(SimulationConfig(seed=5, universities=2, weeks=3), out)
    found: list[MessageRecord] = []
    for path in dce_files([out / "discord"]):
        found += read_dce_file(path)[1]
    return found


def by_stream(records: list[MessageRecord]) -> dict[int, list[ChatMessage]]:
    streams: dict[int, list[ChatMessage]] = {}
    for record in records:
        streams.setdefault(record.channel_id, []).append(chat_message(record))
    return streams


def test_streams_linked_together_match_each_stream_linked_alone(
    records: list[MessageRecord],
) -> None:
    names = author_names(records)
    generator = random.Random(11)
    streams = []
    for messages in by_stream(records).values():
        first_new = generator.choice([0, generator.randint(0, len(messages))])
        texts = [read_text(m) for m in messages] if generator.random() < 0.5 else None
        streams.append(LinkStream(messages, first_new, texts))
    sizes = sorted(len(s.messages) for s in streams)
    assert sizes[0] < 10 and sizes[-1] > LINK_CONTEXT  # short threads and long channels

    together = infer_streams(streams, mode="fast", author_names=names)

    alone = [
        infer_links(s.messages, mode="fast", author_names=names)[s.first_new :] for s in streams
    ]
    assert together == alone
    assert any(link.links_to != (link.message_id,) for links in together for link in links)

    # Without explaining conversation starts, only their features go.
    terse = infer_streams(streams, mode="fast", author_names=names, explain_starts=False)
    for links, terse_links in zip(together, terse, strict=True):
        for link, short in zip(links, terse_links, strict=True):
            starts = link.links_to == (link.message_id,)
            assert short == (replace(link, features={}) if starts else link)


def test_an_empty_call_and_streams_with_nothing_new() -> None:
    assert infer_streams([]) == []
    assert infer_streams([LinkStream([], 0)]) == [[]]


def _batch_links(
    records: list[MessageRecord], batch_sizes: list[int]
) -> tuple[dict[int, tuple[tuple[int, ...], float, dict[str, float]]], int]:
    """Inferred antecedents as the capture stage finds them, batch by batch."""
    channels = {r.parent_channel_id or r.channel_id for r in records}
    inference = ReplyInference()
    found = {}
    done = 0
    for size in batch_sizes:
        batch = records[done : done + size]
        done += size
        for message_id, inferred in inference.infer(batch, channels).items():
            found[message_id] = (inferred.targets, inferred.confidence, inferred.features)
    return found, done


def _one_shot_per_batch(
    records: list[MessageRecord], batch_sizes: list[int]
) -> dict[int, tuple[tuple[int, ...], float, dict[str, float]]]:
    """The same, with ``infer_links`` over each stream's last 100 messages plus the batch's."""
    history: dict[int, deque[ChatMessage]] = {}
    names: dict[str, list[str]] = {}
    found = {}
    done = 0
    for size in batch_sizes:
        batch = records[done : done + size]
        done += size
        display = {r.author_id: [r.author_display_name] for r in batch if r.author_display_name}
        for author, extra in author_names(batch, display).items():
            known = names.setdefault(author, [])
            known.extend(name for name in extra if name not in known)
        for stream_id, new in by_stream(batch).items():
            before = history.setdefault(stream_id, deque(maxlen=LINK_CONTEXT))
            links: list[InferredLink] = infer_links(
                [*before, *new], mode="fast", author_names=names
            )
            for link in links[len(before) :]:
                targets = tuple(int(t) for t in link.links_to if t != link.message_id)
                if targets:
                    found[int(link.message_id)] = (targets, link.confidence, link.features)
            before.extend(new)
    return found


@pytest.mark.parametrize("seed", [1, 2])
def test_capture_batches_link_as_one_shot_inference_over_history_and_batch(
    records: list[MessageRecord], seed: int
) -> None:
    generator = random.Random(seed)
    sizes: list[int] = []
    while sum(sizes) < len(records):
        sizes.append(generator.choice([1, 7, 60, 400, 2_500]))

    batched, read = _batch_links(records, sizes)

    assert read >= len(records)
    assert batched == _one_shot_per_batch(records, sizes)
    assert len(batched) > 500


_LINKS_OF_DEV = """
import json, sys
from core.links import infer_links
from core.links.irc import read_split
from tests.conftest import shared_data
messages, _ = read_split(shared_data("irc-disentanglement", "dev"))
links = infer_links(messages, mode="fast")
print(json.dumps([[l.links_to, l.confidence, l.features] for l in links]))
"""


def test_links_do_not_depend_on_the_string_hash_seed() -> None:
    """Imports link in a second process, and re-imports run in new ones: the same messages
    must give the same bits whatever a process's hash seed (word sets once ordered words)."""
    outputs = []
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", _LINKS_OF_DEV],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert len(json.loads(outputs[0])) > 10_000


def test_streams_quiet_the_longest_are_forgotten_first(
    records: list[MessageRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Histories are bounded: a stream evicted while others talk starts afresh."""
    monkeypatch.setattr(derive, "HISTORY_LIMIT", 150)
    streams = by_stream(records)
    first = max(streams, key=lambda stream_id: len(streams[stream_id]))
    second = next(i for i, ms in streams.items() if i != first and len(ms) >= 60)
    channels = {r.parent_channel_id or r.channel_id for r in records}
    inference = ReplyInference()
    mine = [r for r in records if r.channel_id == first]
    theirs = [r for r in records if r.channel_id == second]
    inference.infer(mine[:100], channels)  # 100 kept
    inference.infer(theirs[:60], channels)  # 160 > 150: the first stream goes
    resumed = inference.infer(mine[100:120], channels)

    seen = mine[:120] + theirs[:60]
    display = {r.author_id: [r.author_display_name] for r in seen if r.author_display_name}
    names = author_names(seen, display)
    alone = infer_links([chat_message(r) for r in mine[100:120]], mode="fast", author_names=names)
    expected = {
        int(link.message_id): tuple(int(t) for t in link.links_to if t != link.message_id)
        for link in alone
    }
    assert {k: v.targets for k, v in resumed.items()} == {k: v for k, v in expected.items() if v}
