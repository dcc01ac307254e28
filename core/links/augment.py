"""Training streams for slow channels, made from the annotated IRC logs.

#ubuntu is fast and heavily interleaved: an answer rarely sits right after its question,
so answerers name the asker. Student Discords are slow, one topic at a time, and an answer
often just follows the question without a name. To teach the model both kinds of channel
from the IRC data alone, each training log is also replayed with its annotated
conversations laid out one after another (``deinterleave``); the ``channel_adjacency``
feature tells the model which kind of channel it is reading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace

from core.links.types import ChatMessage


def conversations(
    messages: Sequence[ChatMessage], gold: Mapping[str, Sequence[str]]
) -> list[list[int]]:
    """Positions of each conversation (connected by gold links), in order of first message."""
    position = {message.id: number for number, message in enumerate(messages)}
    parent = list(range(len(messages)))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for message_id, targets in gold.items():
        for target in targets:
            if message_id in position and target in position:
                a, b = root(position[message_id]), root(position[target])
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for node in range(len(messages)):
        groups.setdefault(root(node), []).append(node)
    return [groups[key] for key in sorted(groups)]


def deinterleave(
    messages: Sequence[ChatMessage], gold: Mapping[str, Sequence[str]]
) -> list[ChatMessage]:
    """The same messages with every conversation told in one piece.

    Conversations follow each other in order of their first message. Inside one, the gaps
    between messages are the original ones; a conversation starts after the gap that
    preceded its first message. Ids, and so the gold links, are unchanged.
    """
    if not messages:
        return []
    clock = messages[0].timestamp
    replayed: list[ChatMessage] = []
    for group in conversations(messages, gold):
        first = group[0]
        if replayed:
            clock += max(messages[first].timestamp - messages[first - 1].timestamp, dt.timedelta())
        previous = messages[first].timestamp
        for node in group:
            clock += max(messages[node].timestamp - previous, dt.timedelta())
            previous = messages[node].timestamp
            replayed.append(replace(messages[node], timestamp=clock))
    return replayed
