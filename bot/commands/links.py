"""``frames links``: infer reply links in any chat stream (JSONL in, JSONL out) and score them."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.commands.runtime import console, err_console
from core.errors import InputError, InputProblem
from core.links.evaluate import LinkScore, score_links
from core.links.infer import run_inference
from core.links.jsonl import link_record, read_links, read_messages, write_jsonl
from core.links.model import LinkModel, Mode, shipped_model
from core.links.types import ChatMessage, InferredLink

LONG_RUN = 5000  # messages from which a progress bar is worth showing
PROBLEMS_SHOWN = 20


@click.command("links")
@click.option(
    "--input",
    "input_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Messages, one JSON object a line: id, author, timestamp, content, reply_to, mentions.",
)
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the links go, one JSON object a line: id, links_to, confidence ('-': stdout).",
)
@click.option("--fast", is_flag=True, help="Use the fast model (keeps up with imports).")
@click.option(
    "--evaluate",
    "gold_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="GOLD.jsonl (output format): print reply-link precision, recall and F1.",
)
@click.option(
    "--predictions",
    "predictions_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --evaluate: score this links file instead of running inference.",
)
@click.option(
    "--names",
    "names_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON object: author id -> names people call them (display names, nicknames).",
)
@click.option("--explain", is_flag=True, help="Add each link's deciding features to the output.")
@click.option("--json", "as_json", is_flag=True, help="With --evaluate: print the scores as JSON.")
def links_command(
    input_path: Path | None,
    output_path: Path | None,
    fast: bool,
    gold_path: Path | None,
    predictions_path: Path | None,
    names_path: Path | None,
    explain: bool,
    as_json: bool,
) -> None:
    """Infer which earlier message(s) each message answers, or score links against gold.

    \b
    frames links --input messages.jsonl --output links.jsonl [--fast]
    frames links --evaluate GOLD.jsonl --input messages.jsonl [--output links.jsonl] [--fast]
    frames links --evaluate GOLD.jsonl --predictions links.jsonl

    A message that links only to itself starts a conversation. Bad input lines are
    reported with their line number and the rest are processed. Scores count links the
    way Kummerfeld et al. (ACL 2019) do: unordered pairs, self-links included, and only
    messages present in the gold file.
    """
    if predictions_path is not None and (input_path is not None or gold_path is None):
        raise click.UsageError("--predictions goes with --evaluate and without --input")
    if input_path is None and predictions_path is None:
        raise click.UsageError("give --input (and --output or --evaluate), or --predictions")
    if input_path is not None and output_path is None and gold_path is None:
        raise click.UsageError("give --output (or --evaluate) to say what to do with the links")

    predicted: dict[str, tuple[str, ...]]
    if predictions_path is not None:
        link_file = read_links(predictions_path)
        _report_problems(link_file.problems, "predictions")
        predicted = link_file.links
    else:
        assert input_path is not None
        mode: Mode = "fast" if fast else "accurate"
        links = _infer(input_path, mode, _author_names(names_path))
        if output_path is not None:
            _write(output_path, links, explain)
        predicted = {link.message_id: link.links_to for link in links}

    if gold_path is not None:
        gold_file = read_links(gold_path)
        _report_problems(gold_file.problems, "gold")
        score = score_links(gold_file.links, predicted)
        _print_score(score, as_json)


def _infer(
    input_path: Path, mode: Mode, author_names: Mapping[str, Sequence[str]] | None
) -> list[InferredLink]:
    read = read_messages(input_path)
    _report_problems(read.problems, "input")
    if not read.messages:
        raise InputError([InputProblem(str(input_path), None, None, "no readable messages")])
    model = shipped_model(mode)
    started = time.perf_counter()
    links = _run_with_progress(read.messages, mode, author_names, model)
    elapsed = time.perf_counter() - started
    rate = len(read.messages) / elapsed if elapsed > 0 else float("inf")
    err_console.print(
        f"Linked {len(read.messages):,} messages with the {mode} model "
        f"in {elapsed:.1f} s ({rate:,.0f} messages/s)."
    )
    return links


def _run_with_progress(
    messages: list[ChatMessage],
    mode: Mode,
    author_names: Mapping[str, Sequence[str]] | None,
    model: LinkModel,
) -> list[InferredLink]:
    if len(messages) < LONG_RUN:
        return run_inference(messages, model, author_names=author_names)
    with Progress(
        TextColumn(f"Linking ({mode})"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("links", total=len(messages))
        return run_inference(
            messages,
            model,
            author_names=author_names,
            progress=lambda done: progress.advance(task, done),
        )


def _author_names(path: Path | None) -> dict[str, list[str]] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError([InputProblem(str(path), None, None, f"not JSON ({exc})")]) from None
    valid = isinstance(data, dict) and all(
        isinstance(names, list) and all(isinstance(name, str) for name in names)
        for names in data.values()
    )
    if not valid:
        reason = "must be a JSON object mapping author ids to lists of names"
        raise InputError([InputProblem(str(path), None, None, reason)])
    return {str(author): list(names) for author, names in data.items()}


def _write(path: Path, links: list[InferredLink], explain: bool) -> None:
    records = (link_record(link, explain=explain) for link in links)
    if str(path) == "-":
        write_jsonl(sys.stdout, records)
        return
    with path.open("w", encoding="utf-8") as handle:
        count = write_jsonl(handle, records)
    err_console.print(f"Wrote {count:,} links to {path}.")


def _report_problems(problems: list[InputProblem], what: str) -> None:
    if not problems:
        return
    for problem in problems[:PROBLEMS_SHOWN]:
        err_console.print(f"skipped {problem}")
    more = len(problems) - PROBLEMS_SHOWN
    tail = f" ({more} more not shown)" if more > 0 else ""
    err_console.print(f"{len(problems)} bad {what} line(s) skipped{tail}; the rest were read.")


def _print_score(score: LinkScore, as_json: bool) -> None:
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "precision": round(100 * score.precision, 2),
                    "recall": round(100 * score.recall, 2),
                    "f1": round(100 * score.f1, 2),
                    "gold_links": score.gold_links,
                    "predicted_links": score.predicted_links,
                    "matched": score.matched,
                    "messages_scored": score.messages_scored,
                    "messages_without_prediction": score.messages_without_prediction,
                }
            )
        )
        return
    table = Table(title="Reply links (unordered pairs, self-links count)")
    for column in ("precision", "recall", "F1", "gold", "predicted", "matched", "messages"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{100 * score.precision:.1f}",
        f"{100 * score.recall:.1f}",
        f"{100 * score.f1:.1f}",
        f"{score.gold_links:,}",
        f"{score.predicted_links:,}",
        f"{score.matched:,}",
        f"{score.messages_scored:,}",
    )
    console.print(table)
    if score.messages_without_prediction:
        console.print(
            f"{score.messages_without_prediction:,} gold messages had no prediction "
            "(counted as predicting nothing)."
        )
