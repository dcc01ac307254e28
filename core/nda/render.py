"""Reports as self-contained HTML (one file, no scripts, no external assets)."""

from __future__ import annotations

from html import escape
from typing import Any

from core.nda import DIMENSIONS

TITLES = {
    "actor_autonomy": "Actor autonomy",
    "partitioned_knowledge": "Partitioned knowledge",
    "emergent_outputs": "Emergent outputs",
    "temporal_misalignment": "Temporal misalignment",
    "integration_cost": "Integration cost",
    "coupling_degradation": "Coupling degradation",
    "energy_loss": "Energy loss",
}
QUESTIONS = {
    "actor_autonomy": "Does the module work on its own, or wait on others?",
    "partitioned_knowledge": "Is its knowledge siloed?",
    "emergent_outputs": "Are its goals shifting or undefined?",
    "temporal_misalignment": "Does knowledge arrive when it is needed?",
    "integration_cost": "How much coordination does integration take?",
    "coupling_degradation": "Are its bonds weakening?",
    "energy_loss": "How much knowledge is lost across its interfaces?",
}
BAND_COLOURS = {"low": "#2e7d32", "moderate": "#f9a825", "high": "#ef6c00", "critical": "#c62828"}
ARROWS = {
    "worsening": "↑ worsening",
    "improving": "↓ improving",
    "steady": "→ steady",
    "unknown": "",
}

STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222;line-height:1.4}
h1{font-size:1.5rem} h2{font-size:1.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
td,th{border-bottom:1px solid #eee;padding:.35rem .5rem;text-align:left;vertical-align:top}
.band{color:#fff;border-radius:.3rem;padding:.05rem .4rem;font-size:.85rem}
.muted{color:#777} ul{margin:.2rem 0 .2rem 1.1rem;padding:0} small{color:#555}
"""


def format_value(dimension: dict[str, Any]) -> str:
    value, unit = dimension.get("value"), dimension.get("unit") or ""
    if value is None:
        return "—"
    if unit.startswith("share"):
        return f"{100 * value:.0f}%"
    if unit.startswith("change"):
        return f"{100 * value:+.0f}%"
    return f"{value:+.2f}" if unit == "E-I index" else f"{value:.2f}"


def _band(dimension: dict[str, Any]) -> str:
    band = dimension.get("band")
    if band is None:
        return '<span class="muted">insufficient data</span>'
    risk = dimension.get("risk")
    colour = BAND_COLOURS.get(band, "#555")
    return f'<span class="band" style="background:{colour}">{escape(band)}</span> {risk:.0f}/100'


def _after(latency: float | None) -> str:
    if latency is None:
        return ""
    return " within the hour" if latency < 1 else f" after {latency:.0f} h"


def evidence_lines(items: list[dict[str, Any]], limit: int = 3) -> list[str]:
    """The first evidence items as short plain sentences (for text and HTML)."""
    lines = []
    for item in items[:limit]:
        if item.get("kind") == "task":
            lines.append(f"task {item['task_id']}: {item['churn_events']} churn events")
        elif item.get("kind") == "question":
            latency = item.get("latency_hours")
            if item.get("from") is None:
                lines.append(f"{item.get('to')} asked; no answer")
            else:
                lines.append(
                    f"{item.get('to')} asked; {item.get('from')} answered{_after(latency)}"
                )
        elif item.get("kind") == "interface":
            target = item.get("to") or f"team {item.get('to_team')}"
            categories = ", ".join(str(c) for c in item.get("categories", {}).values())
            lines.append(
                f"{item.get('from')} → {target} ({item.get('type')}): loses "
                f"{100 * item['loss']:.0f}% ({categories})"
            )
        elif item.get("kind") == "interfaces":
            target = item.get("to") or f"team {item.get('to_team')}"
            count = item["interfaces"]
            plural = "interface" if count == 1 else "interfaces"
            lines.append(f"{item.get('from')} → {target}: {count} {plural} ({item.get('why', '')})")
    return lines


def _evidence(items: list[dict[str, Any]]) -> str:
    lines = evidence_lines(items)
    if not lines:
        return ""
    return "<ul>" + "".join(f"<li><small>{escape(line)}</small></li>" for line in lines) + "</ul>"


def _table(dimensions: dict[str, Any], energy: dict[str, Any] | None) -> str:
    rows = []
    entries = [(d, dimensions[d]) for d in DIMENSIONS]
    if energy is not None:
        entries.append(("energy_loss", energy))
    for name, dimension in entries:
        actions = dimension.get("actions") or []
        action_html = (
            "<ul>" + "".join(f"<li>{escape(a)}</li>" for a in actions) + "</ul>" if actions else ""
        )
        arrow = ARROWS.get(dimension["trend"]["direction"], "")
        reading = escape(dimension.get("reading") or "")
        rows.append(
            "<tr>"
            f"<td><b>{TITLES[name]}</b><br><small>{QUESTIONS[name]}</small></td>"
            f"<td>{escape(format_value(dimension))}</td>"
            f"<td>{_band(dimension)}<br><small>{arrow}</small></td>"
            f"<td>{reading}{_evidence(dimension.get('evidence') or [])}{action_html}</td>"
            "</tr>"
        )
    header = "<tr><th>dimension</th><th>value</th><th>risk</th><th>reading and actions</th></tr>"
    return "<table>" + header + "".join(rows) + "</table>"


def render_html(report: dict[str, Any]) -> str:
    scope = report["scope"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>NDA report: {escape(scope['type'])} {escape(str(scope['id']))}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>NDA diagnostic — {escape(scope['type'])} {escape(str(scope['id']))}, "
        f"week {report['week']}</h1>",
        f"<p class='muted'>Engine {escape(report['engine_version'])}; energy-loss model "
        f"{escape(str(report['energy_loss_model']))}. Risk runs from 0 (healthy) to 100; "
        "see docs/nda.md for every formula.</p>",
    ]
    if "program" in report:
        program = report["program"]
        parts.append(f"<h2>Program {escape(program['program_id'])}</h2>")
        parts.append(_table(program["dimensions"], program["energy_loss"]))
    for university in report.get("universities", []):
        parts.append(f"<h2>University: {escape(university['name'])}</h2>")
        parts.append(_table(university["dimensions"], university["energy_loss"]))
    for team in report["teams"]:
        parts.append(
            f"<h2>Team {escape(team['team_name'])} <small>({escape(team['team_id'])})</small></h2>"
        )
        parts.append(_table(team["dimensions"], team["energy_loss"]))
    parts.append("</body></html>")
    return "\n".join(parts)
