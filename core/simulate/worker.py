"""A worker process that generates some of a simulation's channels.

Run as ``python -m core.simulate.worker``: it reads a pickled job (config, output folder,
channel indices) on stdin and writes framed records on stdout: ``P`` with a count of
messages written, ``R`` with a pickled ``ChannelResult`` per finished channel. A fresh
interpreter rather than ``multiprocessing`` because spawn re-imports the caller's main
module (scripts without a ``__main__`` guard break) and fork copies a process whose other
threads (a progress bar) may hold locks.
"""

from __future__ import annotations

import pickle
import struct
import sys
from pathlib import Path
from typing import IO

from core.simulate.config import SimulationConfig
from core.simulate.conversation import simulate_channel
from core.simulate.organisation import build_organisation
from core.simulate.volume import plan_volume

FRAME = struct.Struct(">cQ")  # tag, payload length (P: the count itself, no payload)


def write_frame(out: IO[bytes], tag: bytes, payload: bytes = b"", count: int = 0) -> None:
    out.write(FRAME.pack(tag, count if tag == b"P" else len(payload)))
    if payload:
        out.write(payload)
    out.flush()


def read_frame(stream: IO[bytes]) -> tuple[bytes, int | bytes] | None:
    header = stream.read(FRAME.size)
    if len(header) < FRAME.size:
        return None
    tag, value = FRAME.unpack(header)
    if tag == b"P":
        return tag, value
    return tag, stream.read(value)


def run_job(config: SimulationConfig, out_dir: Path, indices: list[int], out: IO[bytes]) -> None:
    org = build_organisation(config)
    plan = plan_volume(org, config)
    for index in indices:
        result = simulate_channel(
            org,
            plan.casts[index],
            plan.day_quotas(index),
            out_dir,
            lambda count: write_frame(out, b"P", count=count),
        )
        write_frame(out, b"R", pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


def main() -> None:
    config, out_dir, indices = pickle.loads(sys.stdin.buffer.read())
    run_job(config, Path(out_dir), indices, sys.stdout.buffer)


if __name__ == "__main__":
    main()
