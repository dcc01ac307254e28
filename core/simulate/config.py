"""The simulator's configuration and summary, and their validation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigurationError

GENERATOR = "frames-simulator 1.0"

MAX_UNIVERSITIES = 26
MAX_WEEKS = 520
# Far above anything useful; it guards against typos such as an extra zero or three.
MAX_MESSAGES = 100_000_000


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. The same config and seed always give byte-identical files."""

    seed: int = 1
    universities: int = 8  # 8 named universities, up to 26 with generated names
    weeks: int = 16
    messages: int | None = None  # None: volume follows from people and weeks
    start: dt.date = dt.date(2026, 8, 24)  # a Monday: the fall term's first day

    @property
    def end(self) -> dt.date:
        """The first day after the simulated window."""
        return self.start + dt.timedelta(weeks=self.weeks)


@dataclass(frozen=True)
class SimulationSummary:
    out_dir: Path
    messages: int
    threads: int
    channels: int
    people: int
    teams: int
    tasks: int
    files: int
    planted_failures: int
    inferred_replies: int


def _is_int(value: object) -> bool:
    # bool is an int subclass; True universities is a mistake, not 1.
    return isinstance(value, int) and not isinstance(value, bool)


def validate(config: SimulationConfig) -> None:
    """Raise ``ConfigurationError`` naming the first bad value."""
    if not _is_int(config.seed):
        raise ConfigurationError(f"seed must be an integer, not {config.seed!r}", field="seed")
    if not _is_int(config.universities) or not 1 <= config.universities <= MAX_UNIVERSITIES:
        raise ConfigurationError(
            f"universities must be between 1 and {MAX_UNIVERSITIES}, not {config.universities!r}",
            field="universities",
        )
    if not _is_int(config.weeks) or not 1 <= config.weeks <= MAX_WEEKS:
        raise ConfigurationError(
            f"weeks must be between 1 and {MAX_WEEKS}, not {config.weeks!r}", field="weeks"
        )
    if config.messages is not None and (
        not _is_int(config.messages) or not 0 <= config.messages <= MAX_MESSAGES
    ):
        raise ConfigurationError(
            f"messages must be between 0 and {MAX_MESSAGES:,}, not {config.messages!r}",
            field="messages",
        )
    if not isinstance(config.start, dt.date) or isinstance(config.start, dt.datetime):
        raise ConfigurationError(f"start must be a date, not {config.start!r}", field="start")
    if not 2000 <= config.start.year <= 2090:
        raise ConfigurationError(
            f"start must be between 2000 and 2090, not {config.start}", field="start"
        )
