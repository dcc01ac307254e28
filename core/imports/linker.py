"""Reply inference for an import, in a process of its own.

Inference needs nothing but the records (``ReplyInference``), so a second process reads
the same export into the same batches and links them while the importing process
classifies, derives and writes: the two CPU-bound halves of an import then run on two
cores instead of sharing one interpreter. Each batch's inferences come back in order,
checked against the batch they belong to.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import queue
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

from core.capture.derive import Inference, ReplyInference
from core.capture.records import MessageRecord
from core.process import GC_THRESHOLD

log = logging.getLogger(__name__)

BatchReader = Callable[[], list[MessageRecord]]  # the next batch; empty at the end
AHEAD = 4  # batches the linker may run ahead of derivation (their inferences are small)
_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class LinkedBatch:
    """A batch's inferences and which batch they are: its size and first and last ids."""

    count: int
    first_id: int
    last_id: int
    inferred: dict[int, Inference]

    def belongs_to(self, batch: list[MessageRecord]) -> bool:
        return (
            self.count == len(batch)
            and self.first_id == batch[0].id
            and self.last_id == batch[-1].id
        )


def link_batches(
    open_batches: Callable[[], BatchReader], channels: frozenset[int], out: Any
) -> None:
    """The linker process: reads the batches again and sends each one's inferences.

    ``open_batches`` must give exactly the batches the importer reads (same files, same
    batch size). The end is ``None``; a failure is sent as its description.
    """
    gc.set_threshold(*GC_THRESHOLD)  # as in the importer: millions of short-lived objects
    try:
        next_batch = open_batches()
        inference = ReplyInference()
        while batch := next_batch():
            inferred = inference.infer(batch, channels)
            out.put(LinkedBatch(len(batch), batch[0].id, batch[-1].id, inferred))
        out.put(None)
    except BaseException as error:  # reported to the importer, which raises; logged here
        out.put(f"{type(error).__name__}: {error}")
        raise


class LinkerError(RuntimeError):
    """The linker process failed or fell out of step with the importer."""


class Linker:
    """Owns the linker process of one import: ``async with Linker(...) as linker`` starts it,
    ``await linker.inferred(batch)`` gives each batch's inferences, leaving stops it."""

    def __init__(self, open_batches: Callable[[], BatchReader], channels: frozenset[int]):
        # spawn, not fork: the importer has an event loop, threads and database connections.
        context = multiprocessing.get_context("spawn")
        self._queue = context.Queue(maxsize=AHEAD)
        self._process: BaseProcess = context.Process(
            target=link_batches,
            args=(open_batches, channels, self._queue),
            name="frames-import-linker",
            daemon=True,
        )

    async def __aenter__(self) -> Linker:
        # Starting pickles the file list into a pipe, which waits for the child to read it.
        await asyncio.to_thread(self._process.start)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self._stop)

    def _stop(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)
        self._queue.close()
        self._queue.cancel_join_thread()

    async def inferred(self, batch: list[MessageRecord]) -> dict[int, Inference]:
        """The inferences of ``batch``, the next batch the importer read."""
        linked = await asyncio.to_thread(self._next)
        if not isinstance(linked, LinkedBatch):
            raise LinkerError(f"reply inference failed: {linked or 'it ended early'}")
        if not linked.belongs_to(batch):
            raise LinkerError(
                f"reply inference is out of step: it linked {linked.count} messages "
                f"{linked.first_id}..{linked.last_id}, the import read {len(batch)}"
            )
        return linked.inferred

    def _next(self) -> LinkedBatch | str | None:
        while True:
            try:
                result: LinkedBatch | str | None = self._queue.get(timeout=_POLL_SECONDS)
                return result
            except queue.Empty:
                if not self._process.is_alive():
                    code = self._process.exitcode
                    log.error("the import's linker process ended with code %s", code)
                    return f"the linker process ended with code {code}"
