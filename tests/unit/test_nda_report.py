"""Report pieces that need no database: formatting, pseudonyms, the default week, HTML."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.nda import DIMENSIONS
from core.nda.render import format_value, render_html
from core.nda.report import ACTIONS, Pseudonyms, default_week, ranking


def dimension(
    value: float | None, unit: str, risk: float | None, band: str | None
) -> dict[str, Any]:
    return {
        "value": value,
        "unit": unit,
        "risk": risk,
        "band": band,
        "insufficient_data": value is None,
        "reading": "Insufficient data: too few." if value is None else "A <plain> reading.",
        "trend": {"direction": "worsening", "risk_change": 7.0, "series": []},
        "evidence": [{"kind": "question", "from": "Ana", "to": "Ben", "latency_hours": 30.0}],
        "actions": ACTIONS["actor_autonomy"] if band in ("high", "critical") else [],
    }


def test_values_read_in_their_units() -> None:
    assert format_value(dimension(0.123, "share of answered questions", 10, "low")) == "12%"
    assert format_value(dimension(-0.5, "E-I index", 10, "low")) == "-0.50"
    assert format_value(dimension(-0.42, "change vs baseline", 10, "low")) == "-42%"
    assert format_value(dimension(1.25, "churn events per task", 10, "low")) == "1.25"
    assert format_value(dimension(None, "share", None, None)) == "—"


def test_pseudonyms_are_stable_per_salt_and_hide_ids() -> None:
    first, again, other = Pseudonyms("salt"), Pseudonyms("salt"), Pseudonyms("pepper")
    assert first("cpp-s001") == again("cpp-s001") != other("cpp-s001")
    assert first("cpp-s001") != first("cpp-s002")
    assert first("cpp-s001").startswith("P-") and "cpp" not in first("cpp-s001")


def test_the_default_week_is_the_last_complete_one() -> None:
    weeks = [dt.date(2026, 11, 30), dt.date(2026, 12, 7), dt.date(2026, 12, 14)]
    # Data ends on Tuesday 15 Dec: the week of 14 Dec is partial.
    assert default_week(weeks, dt.datetime(2026, 12, 15, 9, tzinfo=dt.UTC)) == dt.date(2026, 12, 7)
    assert default_week(weeks, dt.datetime(2026, 12, 21, 0, tzinfo=dt.UTC)) == dt.date(2026, 12, 14)
    assert default_week(weeks, None) == dt.date(2026, 12, 14)


def report() -> dict[str, Any]:
    dims = {name: dimension(0.4, "share", 60.0, "high") for name in DIMENSIONS}
    dims["emergent_outputs"] = dimension(None, "churn events per task", None, None)
    calm = {name: dimension(0.9, "share", 5.0, "low") for name in DIMENSIONS}
    energy = dimension(0.3, "share of knowledge lost", 30.0, "moderate")
    return {
        "scope": {"type": "program", "id": "proves"},
        "week": "2026-W50",
        "engine_version": "nda-1.0",
        "energy_loss_model": "prototype-defaults",
        "teams": [
            {
                "team_id": "a",
                "team_name": "A <team>",
                "university_id": "u",
                "dimensions": dims,
                "energy_loss": energy,
            },
            {
                "team_id": "b",
                "team_name": "B",
                "university_id": "u",
                "dimensions": calm,
                "energy_loss": energy,
            },
        ],
        "program": {"program_id": "proves", "dimensions": calm, "energy_loss": energy},
    }


def test_html_report_is_self_contained_and_escaped() -> None:
    html = render_html(report())
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert "<script" not in html and "http" not in html  # nothing fetched, nothing run
    assert "A &lt;team&gt;" in html and "A <plain>" not in html
    assert html.count("insufficient data") == 1
    assert "Pair each newer member" in html  # a suggested action for a high risk
    assert "↑ worsening" in html


def test_ranking_puts_the_worst_first_and_skips_insufficient() -> None:
    r = report()
    assert ranking(r, "actor_autonomy") == [("a", 60.0), ("b", 5.0)]
    assert ranking(r, "emergent_outputs") == [("b", 5.0)]
