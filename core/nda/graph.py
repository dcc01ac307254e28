"""Interface graphs: select interfaces, then project them to people, teams, universities or
the program as directed, weighted graphs (parallel interfaces summed into one edge).

An edge's weight is the sum of ``interface_weight`` (weight × knowledge-transfer score ×
confidence) of its interfaces, and its ``count`` the number of interfaces. Edges that carry
no knowledge (weight 0: a reaction scored 0, say) are dropped from the weighted graph.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import igraph as ig
import numpy as np
import pandas as pd

from core.nda.dataset import NDADataset

if TYPE_CHECKING:
    import networkx as nx

Level = Literal["person", "team", "university", "program"]
LEVELS: tuple[Level, ...] = ("person", "team", "university", "program")


@dataclass(frozen=True)
class InterfaceFilter:
    """Which interfaces to use: a [start, end) window, types and sources (None: all)."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    types: frozenset[str] | None = None
    sources: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        types: Iterable[str] | None = None,
        sources: Iterable[str] | None = None,
    ) -> InterfaceFilter:
        return cls(
            start,
            end,
            frozenset(types) if types is not None else None,
            frozenset(sources) if sources is not None else None,
        )


def select_interfaces(interfaces: pd.DataFrame, flt: InterfaceFilter) -> pd.DataFrame:
    """Rows of ``interfaces`` that pass the filter (binary search on the sorted timestamps)."""
    frame = interfaces
    if flt.start is not None or flt.end is not None:
        lo = 0 if flt.start is None else position(frame["ts"], flt.start)
        hi = len(frame) if flt.end is None else position(frame["ts"], flt.end)
        frame = frame.iloc[lo:hi]
    if flt.types is not None:
        frame = frame[frame["interface_type"].isin(flt.types)]
    if flt.sources is not None:
        frame = frame[frame["source"].isin(flt.sources)]
    return frame


def position(timestamps: pd.Series, moment: dt.datetime) -> int:
    """Index of the first of the sorted UTC ``timestamps`` at or after ``moment``."""
    return int(timestamps.searchsorted(pd.Timestamp(moment)))


@dataclass
class WeightedGraph:
    """A directed graph on ``labels``; parallel edges already summed, no self-loops."""

    labels: list[str]
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    count: np.ndarray

    @property
    def n(self) -> int:
        return len(self.labels)

    @property
    def m(self) -> int:
        return len(self.src)

    def to_networkx(self) -> nx.DiGraph:
        import networkx as nx  # the reference engine's: not loaded where only igraph runs

        graph = nx.DiGraph()
        graph.add_nodes_from(range(self.n))
        graph.add_weighted_edges_from(
            zip(self.src.tolist(), self.dst.tolist(), self.weight.tolist(), strict=True)
        )
        return graph

    def to_igraph(self) -> ig.Graph:
        # Plain lists: igraph converts numpy scalars one by one, several times slower.
        edges = list(zip(self.src.tolist(), self.dst.tolist(), strict=True))
        graph = ig.Graph(n=self.n, edges=edges, directed=True)
        graph.es["weight"] = self.weight.tolist()
        return graph


def aggregate_edges(
    labels: list[str], src: np.ndarray, dst: np.ndarray, weight: np.ndarray
) -> WeightedGraph:
    """Sum parallel edges; drop self-loops, unplaced ends (-1) and weightless edges."""
    n = len(labels)
    keep = (src >= 0) & (dst >= 0) & (src != dst)
    s, d, w = src[keep].astype(np.int64), dst[keep].astype(np.int64), weight[keep]
    if len(s) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return WeightedGraph(labels, empty, empty, np.zeros(0), empty)
    unique, inverse = np.unique(s * n + d, return_inverse=True)
    total = np.bincount(inverse, weights=w)
    count = np.bincount(inverse).astype(np.int64)
    carries = total > 0
    return WeightedGraph(
        labels, (unique // n)[carries], (unique % n)[carries], total[carries], count[carries]
    )


def person_graph(
    ds: NDADataset, rows: pd.DataFrame, *, active_only: bool = True
) -> tuple[WeightedGraph, np.ndarray]:
    """People as nodes; returns the graph and each node's person code.

    With ``active_only`` only people with an interface in ``rows`` are nodes, so measures
    such as density and PageRank are not diluted by people absent that week.
    """
    src = rows["src"].to_numpy(np.int64)
    dst = rows["dst"].to_numpy(np.int64)
    weight = rows["weight"].to_numpy(float)
    if active_only:
        present = np.unique(np.concatenate([src, dst[dst >= 0]]))
    else:
        present = np.arange(len(ds.people))
    position = np.full(len(ds.people), -1, dtype=np.int64)
    position[present] = np.arange(len(present))
    labels = ds.people["person_id"].to_numpy(object)[present].tolist()
    mapped_dst = np.where(dst >= 0, position[np.maximum(dst, 0)], -1)
    return aggregate_edges(labels, position[src], mapped_dst, weight), present


def group_codes(ds: NDADataset, level: Level, person_team: np.ndarray) -> tuple[list[str], Any]:
    """Labels of the groups at ``level`` and a function mapping interface ends to them.

    The function takes (person codes, team codes of team-targeted ends) and returns group
    indices (-1 for an end that has no group at this level, e.g. a person in no team).
    """
    teams = ds.teams
    if level == "team":
        labels = teams["team_id"].tolist()
        team_group = np.arange(len(labels))
        person_group = person_team
    elif level == "university":
        labels = sorted(set(ds.people["university_id"].dropna()) | set(teams["university_id"]))
        index = {u: i for i, u in enumerate(labels)}
        team_group = teams["university_id"].map(index).fillna(-1).to_numpy(np.int64)
        person_group = ds.people["university_id"].map(index).fillna(-1).to_numpy(np.int64)
    elif level == "program":
        labels = [ds.program_id or "program"]
        team_group = np.zeros(len(teams), dtype=np.int64)
        person_group = np.zeros(len(ds.people), dtype=np.int64)
    else:
        raise ValueError(f"group level {level!r}; use team, university or program")

    def of(persons: np.ndarray, to_teams: np.ndarray | None = None) -> np.ndarray:
        groups = np.where(persons >= 0, person_group[np.maximum(persons, 0)], -1)
        if to_teams is not None:
            groups = np.where(
                (persons < 0) & (to_teams >= 0), team_group[np.maximum(to_teams, 0)], groups
            )
        return groups.astype(np.int64)

    return labels, of


def project(ds: NDADataset, rows: pd.DataFrame, level: Level, on: dt.date) -> WeightedGraph:
    """The interface graph of ``rows`` at ``level``, with memberships as of ``on``."""
    person_team = ds.person_teams(on)
    if level == "person":
        return person_graph(ds, rows)[0]
    labels, of = group_codes(ds, level, person_team)
    src = of(rows["src"].to_numpy(np.int64))
    dst = of(rows["dst"].to_numpy(np.int64), rows["to_team"].to_numpy(np.int64))
    return aggregate_edges(labels, src, dst, rows["weight"].to_numpy(float))
