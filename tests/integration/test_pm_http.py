"""The shared HTTP client's retry and rate-limit decisions, over real loopback HTTP.

Waits go through an injected ``sleep`` that records them (and returns at once), so each
test sees exactly how long the client would have waited and why.
"""

from __future__ import annotations

import time

import httpx
import pytest

from core.pm.http import RetryPolicy, VendorClient, VendorError
from tests.fakes.vendor_servers import Fault, ReplayServer


class Waits(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def client_for(server: ReplayServer, waits: Waits, **policy: float) -> VendorClient:
    values = {"max_attempts": 5, "base_delay": 1.0, "max_delay": 8.0, "timeout": 2.0, **policy}
    return VendorClient("github", server.base_url, policy=RetryPolicy(**values), sleep=waits)  # type: ignore[arg-type]


async def test_github_spent_quota_waits_for_the_reset() -> None:
    reset = int(time.time()) + 30
    async with ReplayServer() as server:
        server.add_json("GET", "/rate", [1])
        server.fail_first(
            "GET",
            "/rate",
            [Fault(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})],
        )
        waits = Waits()
        async with await client_for(server, waits) as client:
            assert (await client.get_json("/rate")) == [1]
    assert len(waits) == 1 and 29 <= waits[0] <= 32


async def test_a_success_that_spends_the_quota_delays_the_next_request() -> None:
    reset = int(time.time()) + 20
    async with ReplayServer() as server:
        server.add_json(
            "GET",
            "/last",
            [1],
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        )
        waits = Waits()
        async with await client_for(server, waits) as client:
            await client.get_json("/last")
            assert waits == []
            await client.get_json("/last")
    assert len(waits) == 1 and 18 <= waits[0] <= 22


async def test_retry_after_is_honoured_and_5xx_backs_off_with_jitter() -> None:
    async with ReplayServer() as server:
        server.add_json("GET", "/flaky", [1])
        server.fail_first(
            "GET", "/flaky", [Fault(429, {"Retry-After": "3"}), Fault(500), Fault(503), Fault(502)]
        )
        waits = Waits()
        async with await client_for(server, waits) as client:
            assert (await client.get_json("/flaky")) == [1]
    assert waits[0] == 3.0
    assert [0 <= w <= c for w, c in zip(waits[1:], (2, 4, 8), strict=True)] == [True, True, True]


async def test_giving_up_names_the_vendor_and_the_status() -> None:
    async with ReplayServer() as server:
        server.fail_first("GET", "/down", [Fault(500)] * 5)
        waits = Waits()
        async with await client_for(server, waits, max_attempts=3) as client:
            with pytest.raises(VendorError, match=r"github: GET /down answered 500") as error:
                await client.get_json("/down")
    assert error.value.status == 500 and len(waits) == 2


async def test_a_client_error_is_not_retried() -> None:
    async with ReplayServer() as server:
        server.add_json("GET", "/missing", {"message": "Not Found"}, status=404)
        waits = Waits()
        async with await client_for(server, waits) as client:
            with pytest.raises(VendorError, match="answered 404: Not Found"):
                await client.get_json("/missing")
    assert waits == [] and len(server.requests) == 1


async def test_a_rate_limit_longer_than_allowed_is_reported_not_slept() -> None:
    async with ReplayServer() as server:
        server.fail_first("GET", "/slow", [Fault(429, {"Retry-After": "7200"})])
        waits = Waits()
        async with await client_for(server, waits, max_rate_limit_wait=600) as client:
            with pytest.raises(VendorError, match="rate limit resets in 7200s"):
                await client.get_json("/slow")
    assert waits == []


async def test_timeouts_are_retried_then_reported() -> None:
    waits = Waits()
    client = VendorClient(
        "jira", "http://127.0.0.1:9", policy=RetryPolicy(max_attempts=2, timeout=0.5), sleep=waits
    )  # port 9 (discard) is closed: every attempt fails to connect
    async with client:
        with pytest.raises(VendorError, match="failed after 2 attempts: ConnectError"):
            await client.get_json("/x")
    assert len(waits) == 1
    assert isinstance(httpx.ConnectError("x"), httpx.TransportError)
