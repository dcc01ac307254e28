"""Reply-link inference on the IRC dev split, beside Kummerfeld et al. (ACL 2019, Table 3).

    .venv/bin/python benchmarks/links.py [--data ../shared/data/irc-disentanglement]

1. converts the dev split to `frames links` JSONL (``python -m core.links.irc``);
2. runs ``frames links --evaluate`` in both modes and prints P/R/F1 beside the paper's
   test-set F1 and a "previous message" baseline scored in this run;
3. measures throughput on one core (messages/s), beside the cost of reading the same
   messages from JSONL;
4. recovery of the simulator's planted inferred-only replies;
5. an ablation: each model retrained without each feature family (dev F1).

The fast model's ablation uses every training file (a minute per model). The accurate
model's retrains eight models; ``--ablation-every 2`` (the default) trains them on every
second training file with 200 rounds to keep it near half an hour on two cores, and prints
the full-feature model under the same settings as the reference row.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.imports.dce import dce_files, read_dce_file  # noqa: E402
from core.links.evaluate import LinkScore, score_links  # noqa: E402
from core.links.features import FAMILIES  # noqa: E402
from core.links.infer import run_inference  # noqa: E402
from core.links.irc import gold_lines, read_split  # noqa: E402
from core.links.jsonl import message_record, read_messages, write_jsonl  # noqa: E402
from core.links.model import Mode, shipped_model  # noqa: E402
from core.links.records import author_names, chat_stream  # noqa: E402
from core.links.train import (  # noqa: E402
    WINDOWS,
    EmbeddingCache,
    PairData,
    build_pairs,
    train_first_pass_folds,
    train_model,
    tune_threshold,
)
from core.links.types import SYSTEM_AUTHOR, ChatMessage  # noqa: E402

PAPER_TEST_F1 = (
    ("previous message", 35.0),
    ("linear", 63.5),
    ("feed-forward", 72.3),
    ("ten-model vote", 73.5),
)
FAST_TARGET = 20_000  # messages/s on one core: the bar for imports


def convert(data: Path, folder: Path) -> tuple[Path, Path, list[ChatMessage], dict]:
    messages, gold = read_split(data / "dev")
    messages_path, gold_path = folder / "dev.jsonl", folder / "dev-gold.jsonl"
    with messages_path.open("w", encoding="utf-8") as handle:
        write_jsonl(handle, (message_record(message) for message in messages))
    with gold_path.open("w", encoding="utf-8") as handle:
        write_jsonl(handle, gold_lines(gold))
    return messages_path, gold_path, messages, gold


def evaluate_with_cli(mode: Mode, messages: Path, gold: Path) -> dict[str, float]:
    command = [sys.executable, "-m", "bot.cli", "links", "--evaluate", str(gold)]
    command += ["--input", str(messages), "--json"] + (["--fast"] if mode == "fast" else [])
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    score: dict[str, float] = json.loads(done.stdout)
    score["seconds"] = time.perf_counter() - started
    return score


def previous_message(messages: Sequence[ChatMessage], gold: dict) -> LinkScore:
    """Each chat message answers the chat message before it; system lines stand alone."""
    predicted: dict[str, list[str]] = {}
    last_chat: str | None = None
    for message in messages:
        if message.author == SYSTEM_AUTHOR:
            predicted[message.id] = [message.id]
            continue
        predicted[message.id] = [last_chat or message.id]
        last_chat = message.id
    return score_links(gold, predicted)


def one_core_rate(mode: Mode, messages: Sequence[ChatMessage], repeats: int) -> tuple[float, float]:
    """Messages per second (wall clock, CPU time), best of ``repeats``, in this process."""
    model = shipped_model(mode)
    run_inference(messages[:500], model)  # load and warm up outside the timing
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        run_inference(messages, model)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return len(messages) / best_wall, len(messages) / best_cpu


def reading_rate(path: Path, repeats: int) -> tuple[float, float]:
    best_wall = best_cpu = float("inf")
    count = 0
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        count = len(read_messages(path).messages)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return count / best_wall, count / best_cpu


def measure_child(what: str, path: Path, count: int) -> None:
    """Runs in a child process pinned to one core: print (wall, cpu) messages/s as JSON."""
    if what == "read":
        print(json.dumps(reading_rate(path, repeats=3)))
        return
    messages = read_messages(path).messages[:count]
    repeats = 3 if what == "fast" else 1
    print(json.dumps(one_core_rate(what, messages, repeats)))  # type: ignore[arg-type]


def on_one_core(what: str, path: Path, count: int) -> tuple[float, float]:
    """Measure in a fresh process whose every thread is pinned to one core."""
    core = min(os.sched_getaffinity(0))
    single = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    done = subprocess.run(
        [sys.executable, __file__, "--measure", what, str(path), str(count)],
        cwd=REPO,
        env={**os.environ, **single},
        # Set before exec, so every thread the child ever starts stays on this core.
        preexec_fn=lambda: os.sched_setaffinity(0, {core}),
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu = json.loads(done.stdout.strip().splitlines()[-1])
    return wall, cpu


def throughput(data: Path, folder: Path) -> None:
    stream, _ = read_split(data / "train")
    path = folder / "throughput.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        write_jsonl(handle, (message_record(message) for message in stream[:100_000]))
    read_wall, read_cpu = on_one_core("read", path, 100_000)
    fast_wall, fast_cpu = on_one_core("fast", path, 100_000)
    accurate_wall, accurate_cpu = on_one_core("accurate", path, 3_000)
    print("\nThroughput on one core, every thread pinned (messages/s: wall clock, CPU time)")
    print(f"  reading the same JSONL (baseline) {read_wall:>10,.0f} {read_cpu:>10,.0f}")
    print(
        f"  fast mode (100,000 messages)      {fast_wall:>10,.0f} {fast_cpu:>10,.0f}"
        f"   {fast_wall / read_wall:.2f}x reading; target {FAST_TARGET:,}: "
        f"{'met' if fast_wall >= FAST_TARGET else 'MISSED'}"
    )
    print(
        f"  accurate mode (3,000 messages)    {accurate_wall:>10,.0f} {accurate_cpu:>10,.0f}"
        f"   {accurate_wall / fast_wall:.4f}x fast"
    )


def simulator_recovery(folder: Path) -> None:
    from core.simulate import SimulationConfig, simulate

    print("\nSimulator: planted inferred-only replies recovered (issue: at least 90%)")
    runs: list[tuple[SimulationConfig, tuple[Mode, ...]]] = [
        (SimulationConfig(seed=1), ("fast",)),
        (SimulationConfig(seed=1, universities=2, weeks=4), ("fast", "accurate")),
    ]
    for config, modes in runs:
        out = folder / f"simulated-{config.universities}-{config.weeks}"
        simulate(config, out)
        planted = json.loads((out / "manifest.json").read_text())["inferred_replies"]
        with (out / "roster.csv").open(encoding="utf-8") as handle:
            roster = {
                row["discord_user_id"]: [row["display_name"], row["discord_username"]]
                for row in csv.DictReader(handle)
            }
        streams = []
        for path in dce_files([out / "discord"]):
            records = list(read_dce_file(path)[1])
            names = author_names(records)
            for author, extra in roster.items():
                names.setdefault(author, []).extend(extra)
            streams.append((chat_stream(records), names))
        for mode in modes:
            hits = 0
            for messages, names in streams:
                for link in run_inference(messages, shipped_model(mode), author_names=names):
                    hits += planted.get(link.message_id, "") in link.links_to
            total = sum(len(messages) for messages, _ in streams)
            print(
                f"  seed {config.seed}, {config.universities} universities, {config.weeks} weeks "
                f"({total:,} messages), {mode:<8}: {hits:,}/{len(planted):,} = "
                f"{100 * hits / len(planted):.1f}%"
            )


def ablation(data: Path, every: int, rounds: int, cache: Path | None) -> None:
    embedder = EmbeddingCache(cache)
    dev = read_split(data / "dev")

    # The fast model is one pass: leaving a family out removes it entirely.
    started = time.perf_counter()
    pairs = build_pairs(data / "train", WINDOWS["fast"], None)
    print("\nAblation of the fast model (all training files; dev F1)")
    fast_families = ("names", "time", "turn_taking", "question_answer", "lexical")
    _ablate("fast", pairs, fast_families, dev=dev, embedder=embedder)
    print(f"  ({time.perf_counter() - started:.0f} s)")

    # The accurate model's structure features come from the fast first pass, which still
    # sees every family; leaving a family out of the second pass measures what it adds there.
    started = time.perf_counter()
    folds = train_first_pass_folds(data / "train", augment=True, seed=1)
    pairs = build_pairs(
        data / "train", WINDOWS["accurate"], embedder, every=every, first_pass=folds
    )
    print(
        f"\nAblation of the accurate model (every {every}. training file, {rounds} rounds; "
        "dev F1; the family is left out of the second pass)"
    )
    families = [family for family in FAMILIES if family != "position"]
    _ablate("accurate", pairs, families, dev=dev, embedder=embedder, rounds=rounds)
    print(f"  ({time.perf_counter() - started:.0f} s)")


def _ablate(
    mode: Mode,
    pairs: PairData,
    families: Sequence[str],
    *,
    dev: tuple[list[ChatMessage], dict[str, list[str]]],
    embedder: EmbeddingCache,
    rounds: int | None = None,
) -> None:
    reference = None
    first_pass = shipped_model("fast") if mode == "accurate" else None
    for family in (None, *families):
        without = [family] if family else []
        model = train_model(mode, pairs, without=without, rounds=rounds, first_pass=first_pass)
        f1 = max(tune_threshold(model, dev[0], dev[1], embedder).values())
        if reference is None:
            reference = f1
            print(f"  all families                 F1 {f1:5.1f}")
        else:
            print(f"  without {family:<20} F1 {f1:5.1f}   the family adds {reference - f1:+5.1f}")


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--measure":
        measure_child(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=REPO.parent / "shared/data/irc-disentanglement"
    )
    parser.add_argument("--embedding-cache", type=Path, help="keep embeddings between runs here")
    parser.add_argument("--ablation-every", type=int, default=2)
    parser.add_argument("--ablation-rounds", type=int, default=200)
    parser.add_argument("--skip-ablation", action="store_true")
    args = parser.parse_args()
    if not (args.data / "dev").is_dir():
        sys.exit(f"IRC data not found at {args.data} (see ../shared/data/irc-disentanglement)")

    with tempfile.TemporaryDirectory(prefix="frames-links-") as scratch:
        folder = Path(scratch)
        messages_path, gold_path, messages, gold = convert(args.data, folder)
        print(f"Dev split: {len(messages):,} messages, {len(gold):,} annotated")
        baseline = previous_message(messages, gold)
        scores = {
            mode: evaluate_with_cli(mode, messages_path, gold_path) for mode in ("fast", "accurate")
        }

        print("\nReply links, dev split (ours) beside the paper's test-set F1")
        print(f"  {'system':<34}{'P':>6}{'R':>6}{'F1':>6}")
        print(
            f"  {'previous message (this run)':<34}{100 * baseline.precision:6.1f}"
            f"{100 * baseline.recall:6.1f}{100 * baseline.f1:6.1f}"
        )
        for mode, score in scores.items():
            label = f"frames links {'--fast' if mode == 'fast' else '(accurate)'}"
            print(f"  {label:<34}{score['precision']:6.1f}{score['recall']:6.1f}{score['f1']:6.1f}")
        for name, f1 in PAPER_TEST_F1:
            print(f"  {'paper: ' + name:<34}{'':>12}{f1:6.1f}")
        best = scores["accurate"]["f1"]
        print(
            f"  accurate vs previous-message baseline: {best / (100 * baseline.f1):.2f}x F1; "
            f"floor 63.5 {'beaten' if best > 63.5 else 'NOT beaten'}, "
            f"goal 73.5 {'beaten' if best > 73.5 else 'not beaten'}"
        )

        throughput(args.data, folder)
        simulator_recovery(folder)
        if not args.skip_ablation:
            ablation(args.data, args.ablation_every, args.ablation_rounds, args.embedding_cache)


if __name__ == "__main__":
    main()
