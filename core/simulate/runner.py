"""Running a simulation: plan, write every file, then the manifest."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from core.errors import FramesError
from core.simulate.config import SimulationConfig, SimulationSummary, validate
from core.simulate.conversation import DISCORD_DIR, THREADS_DIR, ChannelResult, simulate_channel
from core.simulate.dce_writer import FileRecord
from core.simulate.manifest import MANIFEST, write_manifest
from core.simulate.organisation import Organisation, build_organisation
from core.simulate.outcomes import OUTCOME_COLUMNS, build_outcomes
from core.simulate.tables import (
    CHANNELS_COLUMNS,
    ROSTER_COLUMNS,
    TERMS_COLUMNS,
    channel_rows,
    csv_text,
    roster_rows,
    terms_rows,
)
from core.simulate.tasks import build_tasks
from core.simulate.volume import VolumePlan, plan_volume
from core.simulate.worker import read_frame

TOP_LEVEL_FILES = ("roster.csv", "terms.csv", "channels.csv", "outcomes.csv", MANIFEST)
TASKS_FILE = "pm/tasks.json"
_EXPORT_NAME = re.compile(r" \[[0-9]+\]\.json$")


def planned_messages(config: SimulationConfig) -> int:
    """The number of messages ``simulate`` will write for ``config`` (known up front)."""
    validate(config)
    return plan_volume(build_organisation(config), config).total


def planted_failures(config: SimulationConfig) -> list[dict[str, str]]:
    """The planted failures ``simulate`` writes to the manifest: team, dimension and why."""
    validate(config)
    org = build_organisation(config)
    return [
        {"team_id": team_id, "dimension": dimension, "why": org.team(team_id).behaviour.why}
        for team_id, dimension in org.planted.items()
    ]


def clear_output(out_dir: Path) -> None:
    """Remove what a previous run wrote (and nothing else) so a re-run leaves no stale file."""
    for name in (*TOP_LEVEL_FILES, TASKS_FILE):
        (out_dir / name).unlink(missing_ok=True)
    for folder in (THREADS_DIR, DISCORD_DIR):
        directory = out_dir / folder
        if directory.is_dir():
            for path in directory.iterdir():
                if path.is_file() and _EXPORT_NAME.search(path.name):
                    path.unlink()
    for folder in (THREADS_DIR, DISCORD_DIR, "pm"):
        directory = out_dir / folder
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()


def _write_text(out_dir: Path, rel_path: str, content: str) -> FileRecord:
    data = content.encode("utf-8")
    (out_dir / rel_path).write_bytes(data)
    return FileRecord(rel_path, hashlib.sha256(data).hexdigest(), len(data), 0)


def _write_static(org: Organisation, out_dir: Path) -> tuple[list[FileRecord], int]:
    tasks = build_tasks(org)
    files = [
        _write_text(out_dir, "roster.csv", csv_text(ROSTER_COLUMNS, roster_rows(org))),
        _write_text(out_dir, "terms.csv", csv_text(TERMS_COLUMNS, terms_rows(org))),
        _write_text(out_dir, "channels.csv", csv_text(CHANNELS_COLUMNS, channel_rows(org))),
        _write_text(out_dir, "outcomes.csv", csv_text(OUTCOME_COLUMNS, build_outcomes(org))),
        _write_text(out_dir, TASKS_FILE, json.dumps(tasks, indent=2, ensure_ascii=False) + "\n"),
    ]
    return files, len(tasks)


def _run_channels(
    org: Organisation, plan: VolumePlan, out_dir: Path, progress: Callable[[int], None] | None
) -> list[ChannelResult]:
    workers = min(os.cpu_count() or 1, MAX_WORKERS, len(plan.casts))
    if plan.total < PARALLEL_FROM or workers < 2:
        return [
            simulate_channel(org, cast, plan.day_quotas(cast.channel.index), out_dir, progress)
            for cast in plan.casts
        ]
    return _run_in_processes(org.config, plan, out_dir, progress, workers)


# Channels are independent (each has its own random stream and id bits), so big runs
# spread them over worker processes; the bytes written are the same as in one process.
PARALLEL_FROM = 100_000
MAX_WORKERS = 8


def _partition(plan: VolumePlan, workers: int) -> list[list[int]]:
    """Largest channels first, each to the least loaded worker (ties: lowest worker)."""
    loads = [0] * workers
    jobs: list[list[int]] = [[] for _ in range(workers)]
    for index in sorted(range(len(plan.casts)), key=lambda i: (-plan.channel_quotas[i], i)):
        worker = min(range(workers), key=lambda w: (loads[w], w))
        jobs[worker].append(index)
        loads[worker] += plan.channel_quotas[index] + 1
    return [job for job in jobs if job]


def _read_worker(
    number: int, stream: IO[bytes], inbox: queue.Queue[tuple[int, bytes, Any]]
) -> None:
    while (frame := read_frame(stream)) is not None:
        inbox.put((number, *frame))
    inbox.put((number, b"", None))


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Workers still running after an error are ended; they only ever write our files."""
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _run_in_processes(
    config: SimulationConfig,
    plan: VolumePlan,
    out_dir: Path,
    progress: Callable[[int], None] | None,
    workers: int,
) -> list[ChannelResult]:
    env = dict(os.environ)
    # The workers import this package the way this process did, installed or not.
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    inbox: queue.Queue[tuple[int, bytes, Any]] = queue.Queue()
    processes: list[subprocess.Popen[bytes]] = []
    errors: list[IO[bytes]] = []
    results: dict[int, ChannelResult] = {}
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(_stop, processes)  # runs last: after the error logs are closed
        for number, indices in enumerate(_partition(plan, workers)):
            error_log = cleanup.enter_context(tempfile.TemporaryFile())
            errors.append(error_log)
            process = subprocess.Popen(
                [sys.executable, "-m", "core.simulate.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=error_log,
                env=env,
            )
            processes.append(process)
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(pickle.dumps((config, str(out_dir), indices)))
            process.stdin.close()
            threading.Thread(
                target=_read_worker, args=(number, process.stdout, inbox), daemon=True
            ).start()
        running = len(processes)
        while running:
            _, tag, value = inbox.get()
            if tag == b"P" and progress is not None:
                progress(value)
            elif tag == b"R":
                result: ChannelResult = pickle.loads(value)
                results[result.channel_index] = result
            elif tag == b"":
                running -= 1
        for process, log in zip(processes, errors, strict=True):
            if process.wait() != 0:
                log.seek(0)
                lines = log.read().decode(errors="replace").strip().splitlines()
                detail = lines[-1] if lines else f"exit status {process.returncode}"
                raise FramesError(f"a simulator worker failed: {detail}")
    return [results[index] for index in range(len(plan.casts))]


def simulate(
    config: SimulationConfig,
    out_dir: Path,
    progress: Callable[[int], None] | None = None,
) -> SimulationSummary:
    """Write a simulated consortium's files under ``out_dir`` (created if missing).

    Files a previous run left there are replaced; other files are left alone. ``progress``
    is called with the number of messages written since its previous call.
    """
    validate(config)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        clear_output(out_dir)
        (out_dir / THREADS_DIR).mkdir(parents=True, exist_ok=True)
        (out_dir / "pm").mkdir(exist_ok=True)
    except OSError as exc:
        raise FramesError(f"cannot write to {out_dir}: {exc.strerror or exc}") from None

    org = build_organisation(config)
    plan = plan_volume(org, config)
    files, task_count = _write_static(org, out_dir)
    results = _run_channels(org, plan, out_dir, progress)
    for result in results:
        files += result.files
    if not any((out_dir / THREADS_DIR).iterdir()):
        shutil.rmtree(out_dir / THREADS_DIR)

    messages = sum(r.messages for r in results)
    threads = sum(r.threads for r in results)
    deleted = sum(len(r.deleted) for r in results)
    inferred = sum(len(r.inferred) // 2 for r in results)
    counts = {
        "messages": messages,
        "threads": threads,
        "channels": len(org.channels),
        "people": org.people_count,
        "teams": len(org.teams),
        "tasks": task_count,
        "reactions": sum(r.reactions for r in results),
        "edits": sum(r.edits for r in results),
        "deleted": deleted,
    }
    planted = planted_failures(config)
    write_manifest(
        out_dir,
        config,
        counts=counts,
        files=files,
        planted=planted,
        inferred=[r.inferred for r in results],
        explicit_replies=sum(r.explicit_replies for r in results),
        deleted=[r.deleted for r in results],
    )
    return SimulationSummary(
        out_dir=out_dir,
        messages=messages,
        threads=threads,
        channels=len(org.channels),
        people=org.people_count,
        teams=len(org.teams),
        tasks=task_count,
        files=len(files) + 1,
        planted_failures=len(planted),
        inferred_replies=inferred,
    )
