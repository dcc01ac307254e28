"""``frames nda``: compute the NDA diagnostics, report them, manage energy-loss models."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from bot.commands.runtime import (
    actor,
    configure_logging,
    console,
    database,
    err_console,
    load_settings,
    run,
)
from core.db.repositories.audit import AuditRepository
from core.db.repositories.nda import NDARepository
from core.errors import InputError, InputProblem, NotFoundError
from core.nda import DIMENSIONS, ENERGY_LOSS
from core.nda.energy import EnergyModel
from core.nda.params import NDASettings
from core.nda.render import TITLES, evidence_lines, format_value, render_html
from core.nda.report import ReportRequest, build_report
from core.nda.weeks import parse_week, week_label


def _week(value: str | None) -> dt.date | None:
    return parse_week(value) if value else None


@click.group("nda")
def nda_group() -> None:
    """NDA diagnostics: the six dimensions per team, university and program, per week."""


@nda_group.command("run")
@click.option("--week", help="Only this ISO week, e.g. 2026-W47 (default: every week with data).")
@click.option("--force", is_flag=True, help="Recompute even weeks whose data has not changed.")
@click.option("--workers", type=click.IntRange(min=1), help="Processes (default: CPU count).")
def nda_run(week: str | None, force: bool, workers: int | None) -> None:
    """Compute the weeks whose data changed since the last run, and store the results."""
    from core.nda.service import run_nda

    chosen = _week(week)
    settings = load_settings()
    configure_logging(settings)
    nda_settings = NDASettings()

    async def go() -> Any:
        async with database(settings) as db:
            summary = await run_nda(
                db,
                week=chosen,
                force=force,
                workers=workers or nda_settings.workers,
                actor=actor(),
                progress=lambda message: err_console.print(f"[dim]{message}[/dim]"),
            )
            if summary.run_id is not None:
                async with db.transaction() as session:
                    await AuditRepository(session).record(
                        actor(),
                        "nda.run",
                        target_type="nda_run",
                        target_id=str(summary.run_id),
                        details={
                            "weeks": [week_label(w) for w in summary.weeks_computed],
                            "energy_loss_model": summary.energy_model,
                        },
                    )
            return summary

    summary = run(go())
    if not summary.weeks_considered:
        console.print("No captured interfaces or messages yet: nothing to compute.")
        return
    if summary.up_to_date:
        console.print(
            f"All {len(summary.weeks_considered)} weeks are up to date; nothing recomputed."
        )
        return
    first, last = summary.weeks_computed[0], summary.weeks_computed[-1]
    console.print(
        f"Computed {len(summary.weeks_computed)} of {len(summary.weeks_considered)} weeks "
        f"({week_label(first)}–{week_label(last)}) with energy-loss model "
        f"{summary.energy_model!r} in {summary.seconds.get('total', 0):.1f} s: "
        f"{summary.reports:,} report rows, {summary.metrics:,} metrics, "
        f"{summary.engagement:,} engagement scores. Run {summary.run_id}."
    )


@nda_group.command("report")
@click.option("--team", help="One team (TEAM_ID).")
@click.option("--university", help="A university and its teams.")
@click.option("--program", is_flag=True, help="The whole program: every team and university.")
@click.option("--week", help="ISO week, e.g. 2026-W47 (default: the latest computed).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help="json: stdout holds only the JSON.",
)
@click.option("--pseudonymise", is_flag=True, help="Replace people's names with salted pseudonyms.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
def nda_report(
    team: str | None,
    university: str | None,
    program: bool,
    week: str | None,
    output_format: str,
    pseudonymise: bool,
    output: Path | None,
) -> None:
    """A diagnostic per dimension: value, risk, band, trend, evidence and suggested actions."""
    chosen = [
        name
        for name, given in (("--team", team), ("--university", university), ("--program", program))
        if given
    ]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --team, --university and --program")
    if team:
        request = ReportRequest("team", team, _week(week), pseudonymise)
    elif university:
        request = ReportRequest("university", university, _week(week), pseudonymise)
    else:
        request = ReportRequest("program", None, _week(week), pseudonymise)
    settings = load_settings()
    configure_logging(settings)
    salt = NDASettings().pseudonym_salt
    request = ReportRequest(request.scope_type, request.scope_id, request.week, pseudonymise, salt)

    async def go() -> dict[str, Any]:
        async with database(settings) as db:
            return await build_report(db, request)

    report = run(go())
    if output_format == "json":
        text = json.dumps(report, indent=2, ensure_ascii=False, default=str)
    elif output_format == "html":
        text = render_html(report)
    else:
        _print_text(report)
        return
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
        err_console.print(f"Wrote {output}.")
    else:
        click.echo(text)


def _risk_cell(dimension: dict[str, Any]) -> str:
    if dimension["band"] is None:
        return "[dim]too little data[/dim]"
    colour = {"low": "green", "moderate": "yellow", "high": "dark_orange", "critical": "red"}
    trend = {"worsening": " ↑", "improving": " ↓", "steady": " →"}.get(
        dimension["trend"]["direction"], ""
    )
    style = colour.get(dimension["band"], "white")
    return f"[{style}]{dimension['risk']:.0f} {dimension['band']}[/]{trend}"


def _module_table(title: str, dimensions: dict[str, Any], energy: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True, expand=True)
    table.add_column("dimension", ratio=2)
    table.add_column("value", ratio=1)
    table.add_column("risk", ratio=1, min_width=9)
    table.add_column("reading and suggested actions", ratio=6)
    for name, dimension in [*((d, dimensions[d]) for d in DIMENSIONS), (ENERGY_LOSS, energy)]:
        reading = dimension.get("reading") or ""
        for line in evidence_lines(dimension.get("evidence") or [], limit=2):
            reading += f"\n[dim]· {escape(line)}[/dim]"
        for action in dimension.get("actions") or []:
            reading += f"\n→ {action}"
        table.add_row(TITLES[name], format_value(dimension), _risk_cell(dimension), reading)
    return table


def _print_text(report: dict[str, Any]) -> None:
    console.print(
        f"[bold]NDA diagnostic[/bold] — {report['scope']['type']} {report['scope']['id']}, "
        f"week {report['week']} (engine {report['engine_version']}, energy-loss model "
        f"{report['energy_loss_model']}). Risk: 0 healthy … 100 worst; ↑ worsening, ↓ improving."
    )
    if "program" in report:
        program = report["program"]
        console.print(
            _module_table(
                f"Program {program['program_id']}", program["dimensions"], program["energy_loss"]
            )
        )
        overview = Table(title="Teams by risk", title_justify="left")
        overview.add_column("team")
        for name in DIMENSIONS:
            overview.add_column(TITLES[name])
        for team in report["teams"]:
            overview.add_row(
                team["team_id"], *(_risk_cell(team["dimensions"][d]) for d in DIMENSIONS)
            )
        console.print(overview)
        return
    for university in report.get("universities", []):
        console.print(
            _module_table(
                f"University {university['name']}",
                university["dimensions"],
                university["energy_loss"],
            )
        )
    for team in report["teams"]:
        console.print(
            _module_table(
                f"Team {team['team_name']} ({team['team_id']})",
                team["dimensions"],
                team["energy_loss"],
            )
        )


# --- energy-loss models ----------------------------------------------------------------------


@nda_group.group("models")
def models_group() -> None:
    """Energy-loss factor models: several coexist, one is active (data, not code)."""


@models_group.command("list")
def models_list() -> None:
    """List the models; the active one is marked."""
    settings = load_settings()
    configure_logging(settings)

    async def go() -> list[Any]:
        async with database(settings) as db, db.sessions() as session:
            return await NDARepository(session).energy_models()

    table = Table()
    for column in ("", "name", "factors", "created by"):
        table.add_column(column)
    for model in run(go()):
        factors = ", ".join(
            f"{factor}: " + "/".join(f"{k} {v:g}" for k, v in values.items())
            for factor, values in model.factors.items()
            if isinstance(values, dict)
        )
        table.add_row("*" if model.is_active else "", model.name, factors, model.created_by or "")
    console.print(table)


def _setting(text: str) -> tuple[list[str], float]:
    path, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not sep or "." not in path or number != number:
        raise InputError(
            [
                InputProblem(
                    "--set",
                    None,
                    None,
                    f"{text!r} is not FACTOR.CATEGORY=NUMBER, e.g. bond_strength.weak=0.5",
                )
            ]
        )
    return path.split("."), number


@models_group.command("create")
@click.argument("name")
@click.option("--from", "base", default=None, help="Copy this model (default: the active one).")
@click.option(
    "--set", "settings_", multiple=True, help="FACTOR.CATEGORY=NUMBER or weights.FACTOR=NUMBER."
)
@click.option("--activate", is_flag=True, help="Make the new model the active one.")
def models_create(name: str, base: str | None, settings_: tuple[str, ...], activate: bool) -> None:
    """Create a model from another with some values changed; the next run uses it if active."""
    changes = [_setting(s) for s in settings_]
    settings = load_settings()
    configure_logging(settings)

    async def go() -> None:
        async with database(settings) as db, db.transaction() as session:
            repo = NDARepository(session)
            source = await (repo.energy_model(base) if base else repo.active_energy_model())
            if source is None:
                raise NotFoundError(
                    f"no energy-loss model {base!r}" if base else "no active energy-loss model"
                )
            if await repo.energy_model(name) is not None:
                raise InputError(
                    [InputProblem("NAME", None, None, f"a model named {name!r} exists")]
                )
            factors = json.loads(json.dumps(source.factors))
            for path, value in changes:
                node = factors
                for key in path[:-1]:
                    node = node.setdefault(key, {})
                node[path[-1]] = value
            EnergyModel.from_factors(None, name, factors)  # refuse a bad model before storing it
            created = await repo.add_energy_model(name, factors, actor())
            if activate:
                await repo.activate_energy_model(created.id)
            await AuditRepository(session).record(
                actor(),
                "nda.model.create",
                target_type="energy_loss_model",
                target_id=name,
                details={"from": source.name, "changes": list(settings_), "activated": activate},
            )

    run(go())
    console.print(
        f"Created energy-loss model {name!r}" + (" and made it active." if activate else ".")
    )


@models_group.command("activate")
@click.argument("name")
def models_activate(name: str) -> None:
    """Make NAME the active model; the next `frames nda run` recomputes with it."""
    settings = load_settings()
    configure_logging(settings)

    async def go() -> None:
        async with database(settings) as db, db.transaction() as session:
            repo = NDARepository(session)
            model = await repo.energy_model(name)
            if model is None:
                raise NotFoundError(
                    f"no energy-loss model {name!r}; `frames nda models list` shows them"
                )
            EnergyModel.from_factors(model.id, model.name, model.factors)
            await repo.activate_energy_model(model.id)
            await AuditRepository(session).record(
                actor(), "nda.model.activate", target_type="energy_loss_model", target_id=name
            )

    run(go())
    console.print(f"Energy-loss model {name!r} is now active.")
