"""Typed application keys: what the panel's handlers may reach through ``request.app``."""

from __future__ import annotations

from aiohttp import web

from core.db.engine import Database
from core.pm.config import PMSettings
from core.pm.sync import ConnectorPool
from core.pm.webhooks import DeliveryProcessor, WebhookReceiver
from core.settings import Settings

SETTINGS_KEY = web.AppKey("settings", Settings)
DB_KEY = web.AppKey("db", Database)
PM_SETTINGS_KEY = web.AppKey("pm_settings", PMSettings)
POOL_KEY = web.AppKey("connector_pool", ConnectorPool)
RECEIVER_KEY = web.AppKey("webhook_receiver", WebhookReceiver)
PROCESSOR_KEY = web.AppKey("delivery_processor", DeliveryProcessor)
