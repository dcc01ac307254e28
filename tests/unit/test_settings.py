"""Settings: conventional names without prefix, FRAMES_* for the rest, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.db.urls import parse_database_url
from core.errors import ConfigurationError
from core.settings import Settings


def test_conventional_names_and_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:hunter2@db.example:5433/frames")
    monkeypatch.setenv("DISCORD_TOKEN", "token-value")
    monkeypatch.setenv("DISCORD_API_BASE", "http://127.0.0.1:9999/api/v10")
    monkeypatch.setenv("DISCORD_GATEWAY_URL", "ws://127.0.0.1:9999/gateway")
    monkeypatch.setenv("FRAMES_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FRAMES_SHARD_IDS", "0,1")
    monkeypatch.setenv("FRAMES_SHARD_COUNT", "2")
    monkeypatch.setenv("FRAMES_PANEL_PORT", "8181")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.discord_api_base == "http://127.0.0.1:9999/api/v10"
    assert settings.discord_gateway_url == "ws://127.0.0.1:9999/gateway"
    assert settings.data_dir == tmp_path and settings.pgdata_dir == tmp_path / "pgdata"
    assert settings.shard_ids == [0, 1] and settings.shard_count == 2
    assert settings.panel_port == 8181
    assert not settings.embedded_database
    assert "hunter2" not in repr(settings) and "token-value" not in repr(settings)


def test_prefixed_database_url_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("FRAMES_DATABASE_URL", "postgresql://x@y/z")
    assert Settings(_env_file=None).embedded_database  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("raw", "driver_url", "libpq"),
    [
        (
            "postgres://u:p@h:5433/db",
            "postgresql+asyncpg://u:***@h:5433/db",
            "postgresql://u:p@h:5433/db",
        ),
        (
            "postgresql://u@/db?host=/run/pg",
            "postgresql+asyncpg://u@/db?host=%2Frun%2Fpg",
            "postgresql://u@/db?host=/run/pg",
        ),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db", "postgresql://u@h/db"),
    ],
)
def test_database_urls(raw: str, driver_url: str, libpq: str) -> None:
    url = parse_database_url(raw)
    assert url.redacted == driver_url
    assert url.libpq == libpq


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("mysql://u@h/db", "not supported"),
        ("just-a-name", "not a URL"),
        ("postgresql://u@h", "names no database"),
    ],
)
def test_bad_database_urls(raw: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_database_url(raw)
