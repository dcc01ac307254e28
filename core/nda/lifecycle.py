"""Lifecycle: incoming, established and outgoing people, and the knowledge that leaves.

A roster's explicit ``lifecycle`` wins. Otherwise a student's stage is derived from their
graduation term and their university's academic calendar on a given day:

- **outgoing**: the graduation term is the current term (or already over);
- **incoming**: joined less than ``INCOMING_DAYS`` ago, or (join date unknown) five or more
  regular terms remain after the current one;
- **established**: everyone else with a known graduation term.

Faculty, external partners and researchers have no stage.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.nda.dataset import NDADataset

STAGES = ("incoming", "established", "outgoing")
INCOMING_DAYS = 183
INCOMING_TERMS_LEFT = 5


def graduation_dates(ds: NDADataset) -> np.ndarray:
    """Last day of each person's graduation term (None when unknown)."""
    terms = ds.terms
    ends = {
        (u, n): e
        for u, n, e in zip(terms["university_id"], terms["name"], terms["ends_on"], strict=True)
    }
    return np.array(
        [
            ends.get((u, g)) if isinstance(g, str) else None
            for u, g in zip(ds.people["university_id"], ds.people["graduation_term"], strict=True)
        ],
        dtype=object,
    )


def stages(ds: NDADataset, on: dt.date) -> np.ndarray:
    """Each person's lifecycle stage on ``on`` (None for staff and unknown terms)."""
    people, terms = ds.people, ds.terms
    result = np.array(
        [v if isinstance(v, str) else None for v in people["lifecycle"]], dtype=object
    )
    calendars: dict[str, tuple[dt.date | None, list[dt.date]]] = {}
    for university, frame in terms.groupby("university_id"):
        ends = sorted(frame["ends_on"])
        current = next((end for end in ends if end >= on), None)
        regular = sorted(
            e
            for e, name in zip(frame["ends_on"], frame["name"], strict=True)
            if not str(name).endswith("summer")
        )
        calendars[str(university)] = (current, regular)
    graduation = graduation_dates(ds)
    roles = people["role"].tolist()
    universities = people["university_id"].tolist()
    joined = people["joined_on"].tolist()
    for index in np.flatnonzero([v is None for v in result]):
        graduates_on = graduation[index]
        calendar = calendars.get(universities[index])
        if roles[index] != "student" or graduates_on is None or calendar is None:
            continue
        current_end, regular = calendar
        if current_end is None or graduates_on <= current_end:
            result[index] = "outgoing"
        elif isinstance(joined[index], dt.date):
            recent = (on - joined[index]).days < INCOMING_DAYS
            result[index] = "incoming" if recent else "established"
        else:
            left = bisect.bisect_right(regular, graduates_on) - bisect.bisect_right(
                regular, current_end
            )
            result[index] = "incoming" if left >= INCOMING_TERMS_LEFT else "established"
    return result


def stage_shares(
    stage: np.ndarray, module: np.ndarray, students: np.ndarray, k: int
) -> pd.DataFrame:
    """Per module: number of staged students and the share in each stage."""
    staged = students & (module >= 0) & pd.notna(stage)
    counts = {s: np.bincount(module[staged & (stage == s)], minlength=k) for s in STAGES}
    total = np.bincount(module[staged], minlength=k).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame({f"{s}_share": counts[s] / total for s in STAGES})
    frame["students"] = total
    return frame


def bus_factor(contributions: np.ndarray, share: float = 0.5) -> int:
    """Fewest contributors who together hold ``share`` of all contributions (0: none)."""
    values = np.sort(np.asarray(contributions, dtype=float))[::-1]
    total = values.sum()
    if total <= 0:
        return 0
    return int(np.searchsorted(np.cumsum(values), share * total - 1e-9) + 1)


def bus_factor_at_graduation(
    contributions: np.ndarray, outgoing: np.ndarray, share: float = 0.5
) -> int:
    """The bus factor left once outgoing people graduate, against today's total.

    0 means those who stay hold less than ``share`` of what the module knows today.
    """
    values = np.asarray(contributions, dtype=float)
    total = values.sum()
    staying = np.sort(values[~np.asarray(outgoing, dtype=bool)])[::-1]
    if total <= 0 or staying.sum() < share * total - 1e-9:
        return 0
    return int(np.searchsorted(np.cumsum(staying), share * total - 1e-9) + 1)


@dataclass(frozen=True)
class KnowledgeAtRisk:
    """What a module knows only through people about to leave."""

    contributions: int  # answers given and documentation written by the module's people
    outgoing_share: float  # share of those by outgoing people (NaN: no contributions)
    topics: int  # topics (threads or channels) where the module's people answered
    outgoing_only_topics: int  # topics where only outgoing people answered
    bus_factor: int
    bus_factor_at_graduation: int


def knowledge_at_risk(
    authors: np.ndarray, topics: np.ndarray, is_answer: np.ndarray, outgoing: np.ndarray
) -> KnowledgeAtRisk:
    """From one module's knowledge messages: author codes, topic ids, answer flags.

    ``outgoing`` is indexed by person code.
    """
    if len(authors) == 0:
        return KnowledgeAtRisk(0, float("nan"), 0, 0, 0, 0)
    leaving = outgoing[authors]
    people, per_person = np.unique(authors, return_counts=True)
    answered = pd.DataFrame({"topic": topics[is_answer], "leaving": leaving[is_answer]})
    by_topic = answered.groupby("topic")["leaving"].all()
    return KnowledgeAtRisk(
        contributions=len(authors),
        outgoing_share=float(leaving.mean()),
        topics=len(by_topic),
        outgoing_only_topics=int(by_topic.sum()),
        bus_factor=bus_factor(per_person),
        bus_factor_at_graduation=bus_factor_at_graduation(per_person, outgoing[people]),
    )


def knowledge_by_module(
    module: np.ndarray,
    authors: np.ndarray,
    topics: np.ndarray,
    is_answer: np.ndarray,
    outgoing: np.ndarray,
    k: int,
) -> list[KnowledgeAtRisk]:
    """:func:`knowledge_at_risk` for every module at once (``module`` per message, -1: none)."""
    placed = module >= 0
    frame = pd.DataFrame(
        {
            "module": module[placed],
            "author": authors[placed],
            "topic": topics[placed],
            "answer": is_answer[placed],
            "leaving": outgoing[authors[placed]],
        }
    )
    result = [KnowledgeAtRisk(0, float("nan"), 0, 0, 0, 0) for _ in range(k)]
    if frame.empty:
        return result
    contributions = np.bincount(frame["module"], minlength=k)
    leaving = np.bincount(frame["module"], weights=frame["leaving"].astype(float), minlength=k)
    answered = frame[frame["answer"]].groupby(["module", "topic"])["leaving"].all().reset_index()
    topics_count = np.bincount(answered["module"], minlength=k)
    only_leaving = np.bincount(
        answered["module"], weights=answered["leaving"].astype(float), minlength=k
    )
    per_person = frame.groupby(["module", "author"]).size().reset_index(name="count")
    for index, group in per_person.groupby("module"):
        counts = group["count"].to_numpy()
        people = group["author"].to_numpy(np.int64)
        result[int(index)] = KnowledgeAtRisk(
            contributions=int(contributions[index]),
            outgoing_share=float(leaving[index] / contributions[index]),
            topics=int(topics_count[index]),
            outgoing_only_topics=int(only_leaving[index]),
            bus_factor=bus_factor(counts),
            bus_factor_at_graduation=bus_factor_at_graduation(counts, outgoing[people]),
        )
    return result
