"""Typed settings, read from the environment or a ``.env`` file.

Four settings keep their conventional names (``DATABASE_URL``, ``DISCORD_TOKEN``,
``DISCORD_API_BASE``, ``DISCORD_GATEWAY_URL``); everything else is ``FRAMES_*``.
Secrets are ``SecretStr`` so they never appear in reprs or logs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "frames"


def _default_alembic_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "alembic"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FRAMES_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # --- conventional names, no prefix -------------------------------------------------
    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL"),
        description="PostgreSQL URL; unset means the embedded server under data_dir.",
    )
    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN")
    )
    discord_api_base: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DISCORD_API_BASE"),
        description="Full REST base of a Discord-compatible server, e.g. http://127.0.0.1:PORT/api/v10",
    )
    discord_gateway_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_GATEWAY_URL")
    )

    # --- FRAMES_* ------------------------------------------------------------------------
    data_dir: Path = Field(default_factory=_default_data_dir)
    alembic_dir: Path = Field(default_factory=_default_alembic_dir)
    log_level: str = "INFO"

    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)

    shard_count: int | None = Field(default=None, ge=1)
    # NoDecode: read "0,1" as written rather than as JSON
    shard_ids: Annotated[list[int] | None, NoDecode] = None

    panel_host: str = "127.0.0.1"
    panel_port: int = Field(default=8080, ge=1, le=65535)
    panel_secret: SecretStr | None = None

    run_scheduler: bool = True
    mlflow_tracking_uri: str | None = None
    embedding_model: str = "all-MiniLM-L6-v2"
    secrets_file: Path | None = Field(
        default=None, description="Per-tool credentials (KEY=VALUE lines), referenced by name."
    )

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _parse_shard_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.split(",") if part.strip()]
        return value

    @field_validator("log_level")
    @classmethod
    def _upper_log_level(cls, value: str) -> str:
        return value.upper()

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def pgdata_dir(self) -> Path:
        return self.data_dir / "pgdata"
