"""Energy loss: the factor model as data, measured categories, losses and paths, by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigurationError
from core.nda.builder import DatasetBuilder
from core.nda.energy import (
    PROTOTYPE_FACTORS,
    EnergyModel,
    alignment_categories,
    autonomy_categories,
    bond_categories,
    bond_scores,
    knowledge_categories,
    path_losses,
)
from core.nda.engine import compute_week

PROTOTYPE = EnergyModel.prototype()


def test_prototype_losses_are_the_sum_of_contributions_capped_at_one() -> None:
    categories = {
        "knowledge_type": np.array(["codified", "institutional"]),
        "bond_strength": np.array(["strong", "weak"]),
        "temporal_alignment": np.array(["aligned", "misaligned"]),
        "actor_autonomy": np.array(["low", "high"]),
    }
    # 0.10 + 0.05 + 0.05 + 0.05, and 0.40 + 0.35 + 0.25 + 0.15 = 1.15 → 1.
    assert PROTOTYPE.losses(categories).tolist() == pytest.approx([0.25, 1.0])
    assert [PROTOTYPE.band(x) for x in (0.1, 0.2, 0.5, 0.6)] == [
        "low",
        "moderate",
        "high",
        "critical",
    ]


def test_weights_and_new_factors_are_data() -> None:
    factors = PROTOTYPE_FACTORS | {
        "weights": {"bond_strength": 2.0},
        # A layer added by researchers: its categories come from assessments.
        "documentation_quality": {"poor": 0.2, "good": 0.0, "default": 0.1},
    }
    model = EnergyModel.from_factors(7, "weighted", factors)
    assert model.assessed_factors == ["documentation_quality"]
    categories = {
        "knowledge_type": np.array(["codified"]),
        "bond_strength": np.array(["moderate"]),
        "temporal_alignment": np.array(["aligned"]),
        "actor_autonomy": np.array(["low"]),
        "documentation_quality": np.array(["unassessed"]),  # falls back to "default"
    }
    # 0.10 + 2 × 0.20 + 0.05 + 0.05 + 0.1
    assert model.losses(categories).tolist() == pytest.approx([0.70])


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ({"knowledge_type": {"codified": 1.5}}, "knowledge_type.codified must be a number in 0..1"),
        ({"knowledge_type": "high"}, "knowledge_type must map categories"),
        (PROTOTYPE_FACTORS | {"weights": {"nope": 1}}, "weights.nope names no factor"),
        (
            PROTOTYPE_FACTORS | {"risk_bands": {"low": 0.5, "moderate": 0.3, "high": 0.6}},
            "must increase",
        ),
        (PROTOTYPE_FACTORS | {"thresholds": {"bond_fuzzy": 1}}, "thresholds.bond_fuzzy is unknown"),
    ],
)
def test_a_bad_model_is_refused_with_the_key_named(
    factors: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        EnergyModel.from_factors(None, "bad", factors)


def test_bond_strength_from_frequency_recency_and_reciprocity() -> None:
    thresholds = PROTOTYPE.thresholds
    # 3 a week (→1), today (→1), both ways (→1): 1.0, strong.
    # 1.5 a week (→0.5), 14 days ago (→e⁻¹), one way: (0.5 + 0.368)/3 = 0.289, weak.
    # 3 a week, 14 days ago, both ways: (1 + 0.368 + 1)/3 = 0.789, strong; 0.6/wk, today, one way: 0.4, moderate.
    scores = bond_scores(
        np.array([3.0, 1.5, 3.0, 0.6]),
        np.array([0.0, 14.0, 14.0, 0.0]),
        np.array([True, False, True, False]),
        thresholds,
    )
    assert scores.tolist() == pytest.approx(
        [1.0, (0.5 + np.exp(-1)) / 3, (2 + np.exp(-1)) / 3, 0.4]
    )
    assert bond_categories(scores, thresholds).tolist() == ["strong", "weak", "strong", "moderate"]


def test_other_measured_categories() -> None:
    thresholds = PROTOTYPE.thresholds
    assert knowledge_categories(np.array([True, False])).tolist() == ["codified", "institutional"]
    latency = np.array([2.0, 30.0, np.nan, np.nan])
    past_due = np.array([False, False, True, False])
    assert alignment_categories(latency, past_due, thresholds).tolist() == [
        "aligned",
        "misaligned",
        "misaligned",
        "aligned",
    ]
    assert autonomy_categories(np.array([0.8, 0.6, 0.3]), thresholds).tolist() == [
        "high",
        "high",
        "low",
    ]


def test_path_losses_multiply_retained_shares() -> None:
    labels = ["A", "B", "C"]
    # A→B loses 0.5, B→C loses 0.5, A→C directly loses 0.8: through B keeps 0.25 > 0.2.
    src, dst = np.array([0, 1, 0, 0]), np.array([1, 2, 2, 0])
    loss = np.array([0.5, 0.5, 0.8, 0.9])  # the last is inside A: ignored
    paths = {(p.source, p.target): p for p in path_losses(labels, src, dst, loss, np.ones(4))}
    assert paths[("A", "C")].loss == pytest.approx(0.75)
    assert paths[("A", "C")].via == ("A", "B", "C")
    assert paths[("A", "B")].loss == pytest.approx(0.5)
    assert ("C", "A") not in paths  # no path back


def test_module_edge_loss_is_weight_averaged() -> None:
    # Two A→B interfaces: loss 0.2 with weight 3 and loss 0.6 with weight 1 → 0.3.
    paths = path_losses(
        ["A", "B"], np.array([0, 0]), np.array([1, 1]), np.array([0.2, 0.6]), np.array([3.0, 1.0])
    )
    assert paths[0].loss == pytest.approx(0.3)


def two_teams(model: EnergyModel | None = None) -> pd.DataFrame:
    b = DatasetBuilder(program_id="p", data_start=dt.date(2026, 9, 7))
    b.energy_model = model
    b.team("t1", "u").team("t2", "u")
    b.person("a", "u", "t1").person("b", "u", "t1").person("c", "u", "t2")
    start = dt.datetime(2026, 9, 28, 9, tzinfo=dt.UTC)
    b.interface("a", "b", start).interface("b", "a", start)  # reciprocated, inside t1
    b.interface("a", "c", start, codified=True)  # one way, across, documentation
    result = compute_week(b.build(), dt.date(2026, 9, 28))
    reports = pd.DataFrame(result.reports)
    return reports[reports["dimension"] == "energy_loss"].set_index(["scope_type", "scope_id"])


def test_energy_loss_per_team_by_hand() -> None:
    energy = two_teams()
    # Window of 4 weeks ending 5 Oct 00:00; every interface is from 28 Sep 09:00, so
    # recency = e^(−6.625/14) = 0.623.
    recency = np.exp(-6.625 / 14)
    # a⇄b: 2 in 4 weeks (0.5/wk → 1/6), reciprocated: (1/6 + 0.623 + 1)/3 = 0.597 < 0.6:
    # moderate 0.20; institutional 0.40; aligned 0.05; t1's intra share 2/3 ≥ 0.6: high 0.15.
    assert (1 / 6 + recency + 1) / 3 == pytest.approx(0.5966, abs=1e-4)
    inside = 0.40 + 0.20 + 0.05 + 0.15
    # a→c: (1/12 + 0.623 + 0)/3 = 0.235: weak 0.35; codified 0.10; aligned 0.05; autonomy
    # from the mean of t1's (2/3) and t2's (0: c only receives) intra shares, 1/3: low 0.05.
    assert (1 / 12 + recency) / 3 == pytest.approx(0.2354, abs=1e-4)
    across = 0.10 + 0.35 + 0.05 + 0.05
    assert energy.loc[("team", "t1"), "raw_value"] == pytest.approx((2 * inside + across) / 3)
    assert energy.loc[("team", "t2"), "raw_value"] == pytest.approx(across)
    # Energy loss per interface: t2's one interface, with the categories that gave it.
    lossiest = energy.loc[("team", "t2"), "inputs"]["evidence"][2]
    assert lossiest["loss"] == pytest.approx(across, abs=1e-3)
    assert lossiest["categories"] == {
        "knowledge_type": "codified",
        "bond_strength": "weak",
        "temporal_alignment": "aligned",
        "actor_autonomy": "low",
    }
    paths = energy.loc[("team", "t1"), "inputs"]["evidence"][1]["paths"]
    assert paths == [{"to": "t2", "loss": pytest.approx(across), "via": ["t1", "t2"]}]


def test_changing_a_weight_changes_energy_loss_without_code() -> None:
    heavier = EnergyModel.from_factors(
        2, "heavier", PROTOTYPE_FACTORS | {"weights": {"knowledge_type": 2.0}}
    )
    before = two_teams()
    after = two_teams(heavier)
    # Only knowledge type doubles: t2's one interface is codified, 0.10 more.
    assert after.loc[("team", "t2"), "raw_value"] == pytest.approx(
        before.loc[("team", "t2"), "raw_value"] + 0.10
    )
