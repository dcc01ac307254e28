"""Peak memory of importing a large simulated export (target: under 500 MB at 1,000,000).

    python benchmarks/import_memory.py [--messages 1000000]

Simulates the export first (in a separate process, so its memory is not counted), then
imports it into a fresh embedded PostgreSQL and prints the importer's peak resident memory,
and that of its reply-inference process, beside the export's size on disk.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.db.embedded import EmbeddedPostgres  # noqa: E402
from core.db.engine import open_database  # noqa: E402
from core.imports.discord_import import import_discord  # noqa: E402
from core.org.channels import map_channels, parse_channels_csv  # noqa: E402
from core.org.roster import parse_roster  # noqa: E402
from core.org.service import import_roster  # noqa: E402
from core.settings import Settings  # noqa: E402


async def run_import(program: Path, url: str) -> None:
    async with open_database(Settings(DATABASE_URL=url), migrate=True) as db:  # type: ignore[call-arg]
        async with db.transaction() as session:
            roster = parse_roster(program / "roster.csv", program / "terms.csv")
            await import_roster(session, roster, actor="benchmark", source="roster.csv")
            channels = parse_channels_csv(program / "channels.csv")
            await map_channels(session, channels, actor="benchmark", source="channels.csv")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        watcher = ChildPeaks()
        watcher.start()
        started = time.perf_counter()
        report = await import_discord(db, [program / "discord"], actor="benchmark")
        seconds = time.perf_counter() - started
        watcher.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    linker = max(watcher.peaks.values(), default=0.0)
    size = sum(p.stat().st_size for p in (program / "discord").rglob("*.json")) / 1e6
    print(f"messages imported      {report.messages_read:>12,}")
    print(f"export size on disk    {size:>12,.0f} MB")
    rate = report.messages_read / seconds
    print(f"import time            {seconds:>12,.1f} s ({rate:,.0f} messages/s)")
    print(f"peak RSS before import {before:>12,.0f} MB")
    print(f"peak RSS of importer   {peak:>12,.0f} MB   (target < 500 MB)")
    print(f"peak RSS of its linker {linker:>12,.0f} MB   (the reply-inference process)")
    print(f"both together, at most {peak + linker:>12,.0f} MB")


class ChildPeaks(threading.Thread):
    """Peak resident memory (VmHWM) of this process's children, sampled while they run."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peaks: dict[int, float] = {}
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        me = os.getpid()
        while not self._done.wait(0.2):
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    self._sample(entry, me)

    def _sample(self, entry: Path, parent: int) -> None:
        try:
            status = (entry / "status").read_text()
        except OSError:
            return
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("PPid", "0")) == parent and "VmHWM" in fields:
            self.peaks[int(entry.name)] = int(fields["VmHWM"].split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frames-memory-") as work:
        program = Path(work) / "program"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "simulate",
                "--seed",
                str(args.seed),
                "--messages",
                str(args.messages),
                "--out",
                str(program),
            ],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        server = EmbeddedPostgres(Path(work) / "pgdata")
        url = server.start()
        try:
            asyncio.run(run_import(program, url))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
