"""Network measures on small hand-built graphs: values worked out by hand, both engines.

Every test runs on the networkx reference and on the igraph/sparse fast engine, so the
hand values also show that the two agree; a last test compares them on random graphs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.nda.graph import WeightedGraph, aggregate_edges
from core.nda.measures import (
    BROKERAGE_ROLES,
    FAST,
    REFERENCE,
    graph_density,
    graph_reciprocity,
    group_measures,
)

ENGINES = [pytest.param(REFERENCE, id="networkx"), pytest.param(FAST, id="igraph")]


def graph(n: int, edges: list[tuple[int, int, float]]) -> WeightedGraph:
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    weight = np.array([e[2] for e in edges], dtype=float)
    return aggregate_edges([f"n{i}" for i in range(n)], src, dst, weight)


def test_parallel_edges_are_summed_and_loops_and_weightless_edges_dropped() -> None:
    g = aggregate_edges(
        ["a", "b", "c"],
        np.array([0, 0, 1, 2, 0]),
        np.array([1, 1, 1, 0, 2]),
        np.array([1.0, 2.0, 5.0, 0.5, 0.0]),
    )
    assert list(
        zip(g.src.tolist(), g.dst.tolist(), g.weight.tolist(), g.count.tolist(), strict=True)
    ) == [
        (0, 1, 3.0, 2),  # two interfaces a→b: weights 1 + 2
        (2, 0, 0.5, 1),
    ]  # b→b is a loop, a→c carries no knowledge


@pytest.mark.parametrize("engine", ENGINES)
def test_degree_strength_and_reciprocity(engine: object) -> None:
    # a⇄b (weights 2 and 1), a→c (3): a has out-degree 2, in-degree 1.
    g = graph(3, [(0, 1, 2.0), (1, 0, 1.0), (0, 2, 3.0)])
    m = engine.node_measures(g, np.zeros(3, dtype=np.int64))  # type: ignore[attr-defined]
    assert m["out_degree"].tolist() == [2, 1, 0]
    assert m["in_degree"].tolist() == [1, 1, 1]
    assert m["out_strength"].tolist() == [5.0, 1.0, 0.0]
    assert m["in_strength"].tolist() == [1.0, 2.0, 3.0]
    # networkx's node reciprocity: 2·|pred ∩ succ| / (|pred| + |succ|): a: 2·1/3, b: 2·1/2, c: 0.
    assert m["reciprocity"].tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    assert graph_reciprocity(g) == pytest.approx(2 / 3)  # 2 of 3 edges have a reverse edge
    assert graph_density(g) == pytest.approx(3 / 6)


@pytest.mark.parametrize("engine", ENGINES)
def test_betweenness_uses_inverse_weight_as_distance(engine: object) -> None:
    # a→b→c (strong ties, weight 2: distance 0.5 each) and a weak direct a→c (weight 0.5:
    # distance 2). The shortest a→c path goes through b, the only pair b lies between.
    g = graph(3, [(0, 1, 2.0), (1, 2, 2.0), (0, 2, 0.5)])
    m = engine.node_measures(g, np.zeros(3, dtype=np.int64))  # type: ignore[attr-defined]
    # normalised by (n−1)(n−2) = 2 ordered pairs per node
    assert m["betweenness"].tolist() == pytest.approx([0.0, 0.5, 0.0])


@pytest.mark.parametrize("engine", ENGINES)
def test_pagerank_with_a_dangling_node(engine: object) -> None:
    # a→b only. b has no out-edges, so its rank is spread evenly (d = 0.85, n = 2):
    # x = 0.15/2 + 0.85·y/2, y = 0.15/2 + 0.85·(x + y/2), x + y = 1 ⇒ x = 0.5/1.425.
    g = graph(2, [(0, 1, 1.0)])
    m = engine.node_measures(g, np.zeros(2, dtype=np.int64))  # type: ignore[attr-defined]
    assert m["pagerank"].tolist() == pytest.approx([0.5 / 1.425, 1 - 0.5 / 1.425], abs=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_clustering_of_a_triangle_with_a_tail(engine: object) -> None:
    # Triangle a, b, c (edges in either direction count once) and c–d.
    g = graph(4, [(0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0), (0, 2, 1.0), (2, 3, 1.0)])
    m = engine.node_measures(g, np.zeros(4, dtype=np.int64))  # type: ignore[attr-defined]
    # c's neighbours a, b, d: one of their three pairs (a–b) is linked.
    assert m["clustering"].tolist() == pytest.approx([1.0, 1.0, 1 / 3, 0.0])


@pytest.mark.parametrize("engine", ENGINES)
def test_burt_constraint(engine: object) -> None:
    # Ego 0 with two contacts. Unlinked contacts: p = 1/2 each, c = 2·(1/2)² = 0.5.
    open_ego = graph(3, [(0, 1, 1.0), (0, 2, 1.0)])
    m = engine.node_measures(open_ego, np.zeros(3, dtype=np.int64))  # type: ignore[attr-defined]
    assert m["constraint"].iloc[0] == pytest.approx(0.5)
    # Linked contacts (a triangle of equal mutual weights): each indirect path adds
    # p_iq·p_qj = 1/4, so c = 2·(1/2 + 1/4)² = 1.125.
    closed = graph(3, [(0, 1, 1.0), (0, 2, 1.0), (1, 2, 1.0)])
    m = engine.node_measures(closed, np.zeros(3, dtype=np.int64))  # type: ignore[attr-defined]
    assert m["constraint"].iloc[0] == pytest.approx(1.125)


BROKERAGE_CASES = {
    # a→b→c with groups (a, b, c): the role of b.
    "coordinator": (0, 0, 0),
    "itinerant": (0, 1, 0),
    "representative": (0, 0, 1),
    "gatekeeper": (1, 0, 0),
    "liaison": (0, 1, 2),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("role", BROKERAGE_ROLES)
def test_gould_fernandez_roles(engine: object, role: str) -> None:
    g = graph(3, [(0, 1, 1.0), (1, 2, 1.0)])
    groups = np.array(BROKERAGE_CASES[role])
    m = engine.node_measures(g, groups)  # type: ignore[attr-defined]
    expected = {r: [0.0, 1.0 if r == role else 0.0, 0.0] for r in BROKERAGE_ROLES}
    assert {r: m[r].tolist() for r in BROKERAGE_ROLES} == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_brokerage_skips_closed_and_back_paths(engine: object) -> None:
    # a→b→c is closed by a→c; b→a makes a→b→a, which is no brokerage. d→b→c is open:
    # d (group 1) to c (group 0) through b (group 0): b is a gatekeeper once.
    g = graph(4, [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0), (1, 0, 1.0), (3, 1, 1.0)])
    m = engine.node_measures(g, np.array([0, 0, 0, 1]))  # type: ignore[attr-defined]
    # Open two-paths through b: d→b→c (gatekeeper), d→b→a (gatekeeper). Through a:
    # b→a→c is closed by b→c. Through c: none (c has no out-edges).
    assert m["gatekeeper"].tolist() == [0.0, 2.0, 0.0, 0.0]
    assert sum(m[r].sum() for r in BROKERAGE_ROLES) == 2.0


def test_people_without_a_team_are_each_their_own_group() -> None:
    # a→b→c, nobody in a team: three singleton groups, so b is a liaison.
    g = graph(3, [(0, 1, 1.0), (1, 2, 1.0)])
    for engine in (REFERENCE, FAST):
        m = engine.node_measures(g, np.array([-1, -1, -1]))
        assert m["liaison"].tolist() == [0.0, 1.0, 0.0]


def test_group_measures_by_hand() -> None:
    # Team 0 = {a, b}: a⇄b weights 2 and 1 (internal 3). b→c (team 1) weight 1: external.
    g = graph(3, [(0, 1, 2.0), (1, 0, 1.0), (1, 2, 1.0)])
    frame = group_measures(g, np.array([0, 0, 1]), ["t0", "t1"]).set_index("group")
    t0, t1 = frame.loc["t0"], frame.loc["t1"]
    assert t0["size"] == 2 and t0["internal_ties"] == 2 and t0["external_ties"] == 1
    assert t0["density"] == pytest.approx(2 / 2)  # 2 of 2·1 possible directed ties
    assert t0["reciprocity"] == pytest.approx(1.0)
    assert t0["ei_index"] == pytest.approx((1 - 3) / (1 + 3))  # −0.5
    assert t0["ei_ties"] == pytest.approx((1 - 2) / (1 + 2))
    assert t1["ei_index"] == pytest.approx(1.0)  # only external ties
    assert math.isnan(t1["density"])  # one member: density undefined


def test_a_graph_with_one_team() -> None:
    # Everyone in the same team: modularity of the team partition is 0 and E-I is −1.
    g = graph(3, [(0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0)])
    teams = np.zeros(3, dtype=np.int64)
    frame = group_measures(g, teams, ["only"])
    assert frame["ei_index"].iloc[0] == -1.0
    for engine in (REFERENCE, FAST):
        assert engine.modularity(g, teams) == pytest.approx(0.0)


TWO_TRIANGLES = [
    (0, 1, 1.0),
    (1, 2, 1.0),
    (2, 0, 1.0),
    (3, 4, 1.0),
    (4, 5, 1.0),
    (5, 3, 1.0),
    (2, 3, 1.0),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_louvain_finds_two_triangles_and_their_modularity(engine: object) -> None:
    # 7 undirected edges; each triangle holds 3 and has degree sum 7:
    # Q = 2·(3/7 − (7/14)²) = 5/14.
    g = graph(6, TWO_TRIANGLES)
    partition = engine.louvain(g, seed=3)  # type: ignore[attr-defined]
    assert partition.membership.tolist() == [0, 0, 0, 1, 1, 1]
    assert partition.modularity == pytest.approx(5 / 14)
    assert engine.modularity(g, np.array([0, 0, 0, 1, 1, 1])) == pytest.approx(5 / 14)  # type: ignore[attr-defined]


def test_engines_agree_on_random_graphs() -> None:
    rng = np.random.default_rng(11)
    for _ in range(8):
        n = int(rng.integers(5, 25))
        m = int(rng.integers(n, 4 * n))
        # Distances 1/w of 1, 1/2 and 1/4 add up exactly, so equal-length paths tie in
        # both libraries (they compare float path lengths differently).
        src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
        key = np.unique(src * n + dst)  # one interface per pair keeps summed weights in the set
        g = aggregate_edges(
            [str(i) for i in range(n)], key // n, key % n, rng.choice([1.0, 2.0, 4.0], len(key))
        )
        groups = rng.integers(-1, 3, n)
        fast, reference = FAST.node_measures(g, groups), REFERENCE.node_measures(g, groups)
        for column in fast.columns:
            assert np.allclose(fast[column], reference[column], atol=1e-7, equal_nan=True), column
        membership = rng.integers(0, 3, n)
        assert FAST.modularity(g, membership) == pytest.approx(REFERENCE.modularity(g, membership))
