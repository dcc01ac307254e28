"""A test server on an event loop of its own, in a thread: for tests of the ``frames`` CLI,
which runs its own loop (``asyncio.run``) and so cannot share the test's."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Server = TypeVar("Server")


class ServerThread(Generic[Server]):
    """``with ServerThread(server, server.start, server.stop) as server:`` runs it meanwhile."""

    def __init__(
        self,
        server: Server,
        start: Callable[[], Awaitable[object]],
        stop: Callable[[], Awaitable[object]],
    ) -> None:
        self.server = server
        self._start, self._stop = start, stop
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> Server:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._run(self._start), self._loop).result(10)
        return self.server

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._run(self._stop), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @staticmethod
    async def _run(step: Callable[[], Awaitable[object]]) -> None:
        await step()
