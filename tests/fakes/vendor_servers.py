"""Loopback HTTP servers that replay recorded vendor traffic (real sockets, real aiohttp).

A :class:`ReplayServer` answers requests from a list of recordings (method, path, the query
parameters that must match, status, headers, JSON body). Absolute vendor URLs in the
recorded ``Link`` headers are rewritten to the server's own address, as the vendor would
have written them for this host. Faults (429 with ``Retry-After``, 5xx) can be queued in
front of a recording to exercise the retry logic; every request is logged for assertions.
Recordings come from ../shared/data (see each folder's SOURCE.txt); nothing is copied here.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

KEPT_HEADERS = {
    "link",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-ratelimit-used",
    "x-ratelimit-resource",
    "retry-after",
    "content-type",
}


@dataclass
class Recording:
    method: str
    path: str
    body: Any
    status: int = 200
    query: dict[str, str] = field(default_factory=dict)  # must all match the request's
    headers: dict[str, str] = field(default_factory=dict)
    match_json: Callable[[Any], bool] | None = None  # for GraphQL: pick by request body
    source: str = ""  # where the recording came from, for failure messages


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any


class ReplayServer:
    def __init__(self, vendor_origins: tuple[str, ...] = ()) -> None:
        self.recordings: list[Recording] = []
        self.requests: list[Request] = []
        self.unmatched: list[Request] = []
        self.vendor_origins = vendor_origins
        self._faults: list[tuple[str, str, dict[str, str], list[Fault]]] = []
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1")

    async def start(self) -> str:
        await self._server.start_server()
        return self.base_url

    async def close(self) -> None:
        await self._server.close()

    async def __aenter__(self) -> ReplayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return str(self._server.make_url("")).rstrip("/")

    # --- what to answer -----------------------------------------------------------------
    def add(self, recording: Recording) -> None:
        self.recordings.append(recording)

    def add_json(self, method: str, path: str, body: Any, **kwargs: Any) -> None:
        self.add(Recording(method.upper(), path, body, **kwargs))

    def fail_first(
        self, method: str, path: str, faults: list[Fault], query: dict[str, str] | None = None
    ) -> None:
        """Answer the next len(faults) matching requests with these faults, then replay."""
        self._faults.append((method.upper(), path, query or {}, list(faults)))

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    # --- serving ------------------------------------------------------------------------
    def _rewrite(self, value: str) -> str:
        for origin in self.vendor_origins:
            value = value.replace(origin, self.base_url)
        return value

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body_text = await request.text()
        try:
            payload = json.loads(body_text) if body_text else None
        except ValueError:
            payload = body_text
        seen = Request(
            request.method, request.path, dict(request.query), dict(request.headers), payload
        )
        self.requests.append(seen)
        for method, path, query, faults in self._faults:
            if (
                faults
                and method == request.method
                and path == request.path
                and _subset(query, seen.query)
            ):
                fault = faults.pop(0)
                return web.json_response(
                    fault.body or {"message": "injected fault"},
                    status=fault.status,
                    headers=fault.headers,
                )
        candidates = [
            r
            for r in self.recordings
            if r.method == request.method
            and r.path == request.path
            and _subset(r.query, seen.query)
            and (r.match_json is None or r.match_json(payload))
        ]
        if not candidates:
            self.unmatched.append(seen)
            return web.json_response({"message": "Not Found (no recording)"}, status=404)
        chosen = max(candidates, key=lambda r: len(r.query))
        headers = {
            k: self._rewrite(v) for k, v in chosen.headers.items() if k.lower() in KEPT_HEADERS
        }
        headers.pop("content-type", None)
        if chosen.body is None:
            return web.Response(status=chosen.status, headers=headers)
        return web.json_response(chosen.body, status=chosen.status, headers=headers)


def _subset(expected: dict[str, str], actual: dict[str, str]) -> bool:
    return all(actual.get(k) == v for k, v in expected.items())


# --- loaders for the recordings in ../shared/data ------------------------------------------
def octokit_recordings(fixture: Path) -> list[Recording]:
    """An @octokit/fixtures scenario (nock-style: scope, method, path?query, status, headers)."""
    recordings = []
    for item in json.loads(fixture.read_text(encoding="utf-8")):
        parsed = urllib.parse.urlsplit(item["path"])
        query = dict(urllib.parse.parse_qsl(parsed.query))
        recordings.append(
            Recording(
                item["method"].upper(),
                parsed.path,
                item["response"] if item["response"] != "" else None,
                status=item["status"],
                query=query,
                headers={k: str(v) for k, v in item.get("headers", {}).items()},
                source=f"{fixture.parent.name}: {item['method']} {item['path']}",
            )
        )
    return recordings


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
