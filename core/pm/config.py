"""Settings of the project-tool connectors (``FRAMES_PM_*``), read like every other setting.

Kept here rather than in ``core.settings`` so the connectors own their knobs; the delay scale
exists so tests run the real retry logic in milliseconds.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PMSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FRAMES_PM_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- HTTP: retries, rate limits, timeouts ---------------------------------------------
    max_attempts: int = Field(default=6, ge=1, description="Tries per request, first included.")
    base_delay_seconds: float = Field(default=1.0, gt=0)
    max_delay_seconds: float = Field(default=60.0, gt=0)
    delay_scale: float = Field(
        default=1.0, gt=0, description="Multiplies every wait (tests use 0.001)."
    )
    max_rate_limit_wait_seconds: float = Field(
        default=900.0, gt=0, description="Longest wait for a rate-limit reset before giving up."
    )
    timeout_seconds: float = Field(default=30.0, gt=0)
    page_size: int = Field(default=100, ge=1, le=100)

    # --- normalisation --------------------------------------------------------------------
    handoff_window_seconds: int = Field(
        default=3600,
        ge=0,
        description="An unassignment and an assignment this close together are one handoff.",
    )

    # --- webhooks -------------------------------------------------------------------------
    public_url: str | None = Field(
        default=None,
        description="Public base URL of the panel (Trello signs body + callback URL).",
    )
    webhook_body_limit_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    webhook_batch_size: int = Field(default=50, ge=1)
    webhook_max_attempts: int = Field(default=5, ge=1)
    webhook_sweep_seconds: float = Field(default=30.0, gt=0)

    # --- scheduler ------------------------------------------------------------------------
    lock_retry_seconds: float = Field(
        default=30.0, gt=0, description="How often a standby scheduler tries to take over."
    )
    reload_seconds: float = Field(
        default=300.0, gt=0, description="How often the scheduler re-reads pm_connections."
    )
