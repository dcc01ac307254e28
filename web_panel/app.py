"""The panel's aiohttp application factory: ``create_app(settings, db)``.

For now it serves ``/healthz`` and the project tools' webhook receivers; researcher pages
come later. Everything the handlers need is reached through typed ``web.AppKey``s, and the
webhook queue's processor lives in a ``cleanup_ctx`` so it starts and stops with the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from sqlalchemy import text

from core.db.engine import Database
from core.errors import FramesError, NotFoundError
from core.pm.config import PMSettings
from core.pm.secrets import SecretResolver
from core.pm.sync import ConnectorPool
from core.pm.webhooks import DeliveryProcessor, WebhookReceiver
from core.settings import Settings
from web_panel.keys import (
    DB_KEY,
    PM_SETTINGS_KEY,
    POOL_KEY,
    PROCESSOR_KEY,
    RECEIVER_KEY,
    SETTINGS_KEY,
)
from web_panel.webhooks import receive_webhook

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """User errors become short JSON answers; anything else is logged and answered 500."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except NotFoundError as exc:
        return web.json_response({"error": exc.message}, status=404)
    except FramesError as exc:
        return web.json_response({"error": exc.message}, status=400)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("panel: %s %s failed", request.method, request.path)
        return web.json_response({"error": "internal error"}, status=500)


async def healthz(request: web.Request) -> web.Response:
    db = request.app[DB_KEY]
    try:
        async with db.engine.connect() as connection:
            await connection.scalar(text("SELECT 1"))
    except Exception:
        log.warning("healthz: database unreachable", exc_info=True)
        return web.json_response({"status": "unhealthy", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


async def _webhook_processing(app: web.Application) -> AsyncIterator[None]:
    processor = app[PROCESSOR_KEY]
    task = asyncio.create_task(processor.run(), name="pm-webhook-processor")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(
    settings: Settings,
    db: Database,
    *,
    pm_settings: PMSettings | None = None,
    pool: ConnectorPool | None = None,
) -> web.Application:
    """Build the panel; ``pool`` is shared with the scheduler when both run in one process."""
    pm_settings = pm_settings or PMSettings()
    secrets = SecretResolver(settings.secrets_file)
    owns_pool = pool is None
    pool = pool or ConnectorPool(pm_settings, secrets)
    processor = DeliveryProcessor(db, pool, pm_settings)

    app = web.Application(
        middlewares=[error_middleware], client_max_size=pm_settings.webhook_body_limit_bytes
    )
    app[SETTINGS_KEY] = settings
    app[DB_KEY] = db
    app[PM_SETTINGS_KEY] = pm_settings
    app[POOL_KEY] = pool
    app[PROCESSOR_KEY] = processor
    app[RECEIVER_KEY] = WebhookReceiver(db, pm_settings, secrets, wake=processor.wake)

    app.cleanup_ctx.append(_webhook_processing)
    if owns_pool:

        async def close_pool(app: web.Application) -> AsyncIterator[None]:
            yield
            await app[POOL_KEY].aclose()

        app.cleanup_ctx.append(close_pool)

    app.router.add_get("/healthz", healthz)
    app.router.add_route("POST", "/webhooks/{tool}/{connection}", receive_webhook)
    app.router.add_route("HEAD", "/webhooks/{tool}/{connection}", receive_webhook)
    return app
