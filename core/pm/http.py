"""One shared ``httpx.AsyncClient`` per connection, with the vendors' rate-limit rules.

* 429 (any vendor): wait ``Retry-After`` (seconds or an HTTP date), else back off.
* GitHub: ``x-ratelimit-remaining: 0`` on a 403/429 means wait until ``x-ratelimit-reset``;
  a success that leaves nothing remaining makes the *next* request wait for the reset.
* Jira and Asana: 429/503 with or without ``Retry-After``; without it, exponential backoff.
* 5xx and transport errors/timeouts: exponential backoff with full jitter.

Every wait goes through ``_sleep`` and is multiplied by ``delay_scale``, so tests run the
same decisions in milliseconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from core.errors import FramesError
from core.pm.config import PMSettings

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
LINK_PART = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";]+)"?')


class VendorError(FramesError):
    """A vendor API refused a request, or kept failing after every retry."""

    def __init__(
        self, message: str, *, tool: str, status: int | None = None, url: str = ""
    ) -> None:
        super().__init__(message, tool=tool, status=status, url=url)
        self.tool = tool
        self.status = status
        self.url = url


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    delay_scale: float = 1.0
    max_rate_limit_wait: float = 900.0
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: PMSettings) -> RetryPolicy:
        return cls(
            max_attempts=settings.max_attempts,
            base_delay=settings.base_delay_seconds,
            max_delay=settings.max_delay_seconds,
            delay_scale=settings.delay_scale,
            max_rate_limit_wait=settings.max_rate_limit_wait_seconds,
            timeout=settings.timeout_seconds,
        )

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base·2^attempt)] (attempt counts from 0)."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return rng.uniform(0, ceiling)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def github_reset_wait(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds until GitHub's rate-limit window resets, when the window is spent."""
    if headers.get("x-ratelimit-remaining") != "0":
        return None
    reset = headers.get("x-ratelimit-reset")
    if reset is None:
        return None
    try:
        reset_at = float(reset)
    except ValueError:
        return None
    if reset_at > 1e11:  # some recordings normalise the epoch to milliseconds
        reset_at /= 1000
    current = time.time() if now is None else now
    return max(0.0, reset_at - current) + 1.0


def parse_link_header(value: str | None) -> dict[str, str]:
    """RFC 8288 ``Link`` header → {rel: url} (GitHub pagination)."""
    if not value:
        return {}
    return {rel: url for url, rel in LINK_PART.findall(value)}


Sleep = Callable[[float], Awaitable[None]]


class VendorClient:
    """Requests to one vendor for one connection, retried and rate-limited as the vendor asks."""

    def __init__(
        self,
        tool: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.tool = tool
        self.policy = policy or RetryPolicy()
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers or {}),
            timeout=httpx.Timeout(self.policy.timeout),
            transport=transport,
            follow_redirects=True,
        )
        self._sleep: Sleep = sleep if sleep is not None else asyncio.sleep
        self._rng = rng if rng is not None else random.Random()
        self._wait_until: float = 0.0  # monotonic time before which no request may start
        self.requests_sent = 0
        self.waited_seconds = 0.0

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> VendorClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _wait(self, seconds: float, reason: str, url: str) -> None:
        scaled = seconds * self.policy.delay_scale
        if scaled <= 0:
            return
        log.info("%s: waiting %.3fs before retrying %s (%s)", self.tool, scaled, url, reason)
        self.waited_seconds += scaled
        await self._sleep(scaled)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send with retries; returns a 2xx response or raises :class:`VendorError`."""
        attempt = 0
        while True:
            pause = self._wait_until - time.monotonic()
            if pause > 0:
                await self._wait(pause / self.policy.delay_scale, "rate-limit window spent", url)
            self.requests_sent += 1
            try:
                response = await self._client.request(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                attempt += 1
                if attempt >= self.policy.max_attempts:
                    raise VendorError(
                        f"{self.tool}: {method} {url} failed after {attempt} attempts: "
                        f"{type(exc).__name__}",
                        tool=self.tool,
                        url=url,
                    ) from exc
                await self._wait(
                    self.policy.backoff(attempt - 1, self._rng), type(exc).__name__, url
                )
                continue

            self._note_quota(response)
            if response.is_success:
                return response
            delay = self._retry_delay(response, attempt)
            attempt += 1
            if delay is None or attempt >= self.policy.max_attempts:
                raise VendorError(
                    f"{self.tool}: {method} {response.request.url.path} answered "
                    f"{response.status_code}: {_error_summary(response)}",
                    tool=self.tool,
                    status=response.status_code,
                    url=str(response.request.url),
                )
            if delay > self.policy.max_rate_limit_wait:
                raise VendorError(
                    f"{self.tool}: rate limit resets in {delay:.0f}s, more than the "
                    f"{self.policy.max_rate_limit_wait:.0f}s allowed; will try on the next run",
                    tool=self.tool,
                    status=response.status_code,
                    url=str(response.request.url),
                )
            await self._wait(delay, f"HTTP {response.status_code}", url)

    def _note_quota(self, response: httpx.Response) -> None:
        if response.is_success:
            reset = github_reset_wait(response.headers)
            if reset is not None:
                self._wait_until = time.monotonic() + reset * self.policy.delay_scale

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when the failure is not retryable."""
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if status == 429:
            return (
                retry_after if retry_after is not None else self.policy.backoff(attempt, self._rng)
            )
        if status == 403:
            # GitHub: primary limit (remaining 0) or secondary limit (retry-after).
            reset = github_reset_wait(response.headers)
            if reset is not None:
                return reset
            if retry_after is not None:
                return retry_after
            return None
        if status in RETRYABLE_STATUS:
            if retry_after is not None:
                return retry_after
            return self.policy.backoff(attempt, self._rng)
        return None

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        return _json(await self.request("GET", url, **kwargs), self.tool)

    async def post_json(self, url: str, payload: Any, **kwargs: Any) -> Any:
        return _json(await self.request("POST", url, json=payload, **kwargs), self.tool)


def _json(response: httpx.Response, tool: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise VendorError(
            f"{tool}: {response.request.url.path} returned a body that is not JSON",
            tool=tool,
            status=response.status_code,
            url=str(response.request.url),
        ) from exc


def _error_summary(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(body, dict):
        for key in ("message", "errorMessages", "errors", "error"):
            if body.get(key):
                value = body[key]
                return str(value[0] if isinstance(value, list) else value)[:200]
    return response.reason_phrase or "error"
