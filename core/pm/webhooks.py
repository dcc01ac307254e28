"""Webhook receipt and processing, without a web framework (the panel adapts aiohttp to this).

Receipt: find the connection, answer the vendor's handshake, verify the signature (401 and
nothing stored otherwise), then write the delivery to ``pm_webhook_deliveries`` — unique on
the vendor's delivery id, so a redelivery is acknowledged and changes nothing — and wake the
processor. A burst therefore waits in PostgreSQL, not in memory, and survives a restart.

Processing: claim pending deliveries (``FOR UPDATE SKIP LOCKED``, so several panels can
share the queue), turn each into a change set with the connection's connector and store it
with the same :func:`core.pm.ingest.ingest` that polling uses.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from core.db.engine import Database
from core.db.models import PMConnection, PMWebhookDelivery
from core.db.repositories.pm import PMRepository
from core.pm import signatures
from core.pm.config import PMSettings
from core.pm.http import VendorError
from core.pm.ingest import ingest
from core.pm.protocol import DeliveryInfo
from core.pm.records import ChangeSet, MalformedPayload
from core.pm.secrets import SecretResolver
from core.pm.sync import ConnectorPool, connection_info

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookRequest:
    tool: str
    connection_id: str
    method: str
    path: str
    url: str  # as the sender addressed it (path and query), for Trello's signature
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def body_hash(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def delivery_info(tool: str, headers: Mapping[str, str], payload: Any, body: bytes) -> DeliveryInfo:
    """The vendor's delivery (or event) id, else a hash of the body, and the event type."""
    data: dict[str, Any] = payload if isinstance(payload, dict) else {}
    if tool == "github":
        return DeliveryInfo(
            _header(headers, "X-GitHub-Delivery") or body_hash(body),
            _header(headers, "X-GitHub-Event"),
        )
    if tool == "jira":
        return DeliveryInfo(
            _header(headers, "X-Atlassian-Webhook-Identifier") or body_hash(body),
            data.get("webhookEvent") if isinstance(data.get("webhookEvent"), str) else None,
        )
    if tool == "trello":
        action: dict[str, Any] = data["action"] if isinstance(data.get("action"), dict) else {}
        action_id = action.get("id")
        return DeliveryInfo(
            f"action:{action_id}" if isinstance(action_id, str) and action_id else body_hash(body),
            action.get("type") if isinstance(action.get("type"), str) else None,
        )
    if tool == "monday":
        event: dict[str, Any] = data["event"] if isinstance(data.get("event"), dict) else {}
        trigger = event.get("triggerUuid")
        return DeliveryInfo(
            f"trigger:{trigger}" if isinstance(trigger, str) and trigger else body_hash(body),
            event.get("type") if isinstance(event.get("type"), str) else None,
        )
    return DeliveryInfo(body_hash(body), "events" if tool == "asana" else None)


def _fernet(connection_id: str, key_material: str) -> Fernet:
    digest = hashlib.sha256(f"frames-webhook:{connection_id}:{key_material}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class WebhookReceiver:
    """Verifies and queues deliveries; ``wake`` tells the processor there is work."""

    def __init__(
        self,
        db: Database,
        pm_settings: PMSettings,
        secrets: SecretResolver,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.pm_settings = pm_settings
        self.secrets = secrets
        self.wake = wake

    async def receive(self, request: WebhookRequest) -> WebhookResponse:
        async with self.db.sessions() as session:
            connection = await PMRepository(session).get_connection(request.connection_id)
        if connection is None or connection.tool != request.tool or not connection.enabled:
            log.warning(
                "%s webhook for unknown or disabled connection %s refused",
                request.tool,
                request.connection_id,
            )
            return WebhookResponse(404, {"error": "unknown connection"})
        if request.method == "HEAD":
            return WebhookResponse(200)  # Trello checks the callback URL with HEAD first
        if request.tool == "asana" and _header(request.headers, "X-Hook-Secret") is not None:
            return await self._asana_handshake(connection, request)

        secret = await self._verification_secret(connection)
        if secret is None:
            log.warning(
                "%s webhook for connection %s refused: no webhook secret configured",
                request.tool,
                connection.id,
            )
            return WebhookResponse(401, {"error": "unauthorised"})
        reason = self._verify(connection, request, secret)
        try:
            payload = json.loads(request.body) if request.body else None
        except ValueError:
            payload = None
        info = delivery_info(request.tool, request.headers, payload, request.body)
        if reason is not None:
            log.warning(
                "%s webhook refused on connection %s (delivery %s): %s",
                request.tool,
                connection.id,
                info.delivery_id,
                reason,
            )
            return WebhookResponse(401, {"error": "unauthorised"})
        if payload is None:
            log.warning(
                "%s webhook on connection %s (delivery %s) is malformed: body is not JSON",
                request.tool,
                connection.id,
                info.delivery_id,
            )
            return WebhookResponse(400, {"error": "body is not JSON"})
        if request.tool == "monday" and isinstance(payload, dict) and "challenge" in payload:
            return WebhookResponse(200, {"challenge": payload["challenge"]})

        async with self.db.transaction() as session:
            queued = await PMRepository(session).enqueue_delivery(
                {
                    "connection_id": connection.id,
                    "tool": request.tool,
                    "delivery_id": info.delivery_id,
                    "event_type": info.event_type,
                    "payload": payload,
                }
            )
        if queued:
            self.wake()
        else:
            log.info(
                "%s delivery %s on connection %s already received",
                request.tool,
                info.delivery_id,
                connection.id,
            )
        return WebhookResponse(200, {"status": "queued" if queued else "duplicate"})

    async def _verification_secret(self, connection: PMConnection) -> str | None:
        key = (
            self.secrets.lookup(connection.webhook_secret_ref)
            if connection.webhook_secret_ref
            else None
        )
        if key is None:
            return None
        if connection.tool != "asana":
            return key.get_secret_value()
        async with self.db.sessions() as session:
            encrypted = await PMRepository(session).webhook_secret(connection.id)
        if encrypted is None:
            return None
        try:
            return (
                _fernet(connection.id, key.get_secret_value()).decrypt(encrypted.encode()).decode()
            )
        except InvalidToken:
            log.error(
                "asana: the stored hook secret of %s no longer decrypts (was %s changed?)",
                connection.id,
                connection.webhook_secret_ref,
            )
            return None

    def _verify(self, connection: PMConnection, request: WebhookRequest, secret: str) -> str | None:
        tool, body, headers = request.tool, request.body, request.headers
        if tool == "github":
            return signatures.verify_github(secret, body, headers)
        if tool == "asana":
            return signatures.verify_asana(secret, body, headers)
        if tool == "trello":
            base = self.pm_settings.public_url
            callback = base.rstrip("/") + request.path if base else request.url
            return signatures.verify_trello(secret, body, headers, callback)
        if tool == "jira":
            return signatures.verify_jira(
                secret, body, headers, method=request.method, path=request.path, query=request.query
            )
        if tool == "monday":
            if (connection.scope or {}).get("webhook_mode", "board") == "app":
                return signatures.verify_monday_jwt(secret, headers)
            return signatures.verify_url_token(secret, request.query.get("token"))
        return f"no signature scheme for {tool}"

    async def _asana_handshake(
        self, connection: PMConnection, request: WebhookRequest
    ) -> WebhookResponse:
        hook_secret = _header(request.headers, "X-Hook-Secret") or ""
        key = (
            self.secrets.lookup(connection.webhook_secret_ref)
            if connection.webhook_secret_ref
            else None
        )
        if not hook_secret or key is None:
            log.warning(
                "asana handshake on %s refused: %s",
                connection.id,
                "empty X-Hook-Secret"
                if not hook_secret
                else "no webhook_secret_ref to encrypt with",
            )
            return WebhookResponse(401, {"error": "unauthorised"})
        encrypted = (
            _fernet(connection.id, key.get_secret_value()).encrypt(hook_secret.encode()).decode()
        )
        async with self.db.transaction() as session:
            stored = await PMRepository(session).store_webhook_secret(connection.id, encrypted)
        if not stored:
            # Only the first handshake arms a connection; anyone could send a second one.
            log.warning(
                "asana handshake on %s refused: a hook secret is already armed "
                "(`frames pm rearm %s` to accept a new one)",
                connection.id,
                connection.id,
            )
            return WebhookResponse(401, {"error": "unauthorised"})
        log.info("asana: handshake armed connection %s", connection.id)
        return WebhookResponse(200, headers={"X-Hook-Secret": hook_secret})


class DeliveryProcessor:
    """Drains the delivery queue: woken on receipt, and sweeping now and then for leftovers."""

    def __init__(
        self,
        db: Database,
        pool: ConnectorPool,
        pm_settings: PMSettings,
        *,
        batch_ingest: bool = True,
    ) -> None:
        self.db = db
        self.pool = pool
        self.pm_settings = pm_settings
        self.batch_ingest = batch_ingest  # False: one ingest per delivery (benchmark baseline)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Process until cancelled; a failing batch is logged and retried on the next wake."""
        while True:
            try:
                await self.process_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook processing failed; retrying on the next wake")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.pm_settings.webhook_sweep_seconds)
            self._wake.clear()

    async def process_pending(self) -> int:
        """Process every pending delivery; returns how many were handled."""
        handled = 0
        while True:
            async with self.db.transaction() as session:
                repo = PMRepository(session)
                batch = await repo.claim_deliveries(
                    self.pm_settings.webhook_batch_size, self.pm_settings.webhook_max_attempts
                )
                if not batch:
                    return handled
                groups: dict[str, list[PMWebhookDelivery]] = {}
                for delivery in batch:
                    groups.setdefault(delivery.connection_id, []).append(delivery)
                for connection_id, deliveries in groups.items():
                    outcomes = await self._process_group(session, connection_id, deliveries)
                    now = dt.datetime.now(dt.UTC)
                    for delivery in deliveries:
                        status, error = outcomes[delivery.id]
                        await repo.finish_delivery(delivery.id, status, error, now)
                        handled += 1

    def _failure(self, delivery: PMWebhookDelivery, exc: Exception) -> tuple[str, str]:
        retry = delivery.attempts + 1 < self.pm_settings.webhook_max_attempts
        if isinstance(exc, VendorError | OSError):
            log.warning(
                "%s delivery %s on connection %s failed (%s): %s",
                delivery.tool,
                delivery.delivery_id,
                delivery.connection_id,
                "will retry" if retry else "giving up",
                exc,
            )
            return ("pending" if retry else "failed"), str(exc)[:500]
        log.error(
            "%s delivery %s on connection %s could not be stored",
            delivery.tool,
            delivery.delivery_id,
            delivery.connection_id,
            exc_info=exc,
        )
        return ("pending" if retry else "failed"), f"{type(exc).__name__}: {exc}"[:500]

    async def _process_group(
        self, session: Any, connection_id: str, deliveries: list[PMWebhookDelivery]
    ) -> dict[int, tuple[str, str | None]]:
        """Turn one connection's deliveries into changes and store them with one ingest.

        A malformed delivery fails alone; if the combined write fails, each delivery is
        retried on its own so one bad change cannot hold back the rest.
        """
        repo = PMRepository(session)
        outcomes: dict[int, tuple[str, str | None]] = {}
        connection = await repo.get_connection(connection_id)
        if connection is None:
            return {d.id: ("ignored", "connection removed") for d in deliveries}
        team = await repo.team(connection.team_id) if connection.team_id else None
        info = connection_info(connection, team.project_id if team else None)
        window = dt.timedelta(seconds=self.pm_settings.handoff_window_seconds)
        ready: list[tuple[PMWebhookDelivery, ChangeSet]] = []
        for delivery in deliveries:
            try:
                connector = await self.pool.get(connection, info, token_required=False)
                changes = await connector.webhook_changes(delivery.payload, delivery.event_type)
            except MalformedPayload as exc:
                log.warning(
                    "%s delivery %s on connection %s is malformed: %s",
                    delivery.tool,
                    delivery.delivery_id,
                    connection.id,
                    exc,
                )
                outcomes[delivery.id] = ("failed", f"malformed: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - one delivery must not stop the queue
                outcomes[delivery.id] = self._failure(delivery, exc)
                continue
            for item_id, reason in changes.skipped:
                log.warning(
                    "%s delivery %s on %s skipped item %s: %s",
                    delivery.tool,
                    delivery.delivery_id,
                    connection.id,
                    item_id,
                    reason,
                )
            if changes:
                ready.append((delivery, changes))
            else:
                outcomes[delivery.id] = ("ignored", None)
        if not ready:
            return outcomes
        if self.batch_ingest and len(ready) > 1:
            combined = ChangeSet()
            for _, changes in ready:
                combined.extend(changes)
            try:
                async with session.begin_nested():
                    await ingest(session, info, combined, handoff_window=window)
            except Exception:
                log.warning(
                    "storing %d deliveries of %s together failed; storing them one by one",
                    len(ready),
                    connection.id,
                    exc_info=True,
                )
            else:
                outcomes.update({d.id: ("processed", None) for d, _ in ready})
                return outcomes
        for delivery, changes in ready:
            try:
                async with session.begin_nested():
                    await ingest(session, info, changes, handoff_window=window)
                outcomes[delivery.id] = ("processed", None)
            except Exception as exc:  # noqa: BLE001 - logged by _failure; the rest go on
                outcomes[delivery.id] = self._failure(delivery, exc)
        return outcomes
