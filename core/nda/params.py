"""Engine parameters: windows and minimum-evidence rules, stored with every run."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class NDAParameters:
    window_weeks: int = 4  # rates (answers, E-I, shares) use the 4 weeks ending with the week
    baseline_weeks: int = 8  # coupling degradation compares the window with these weeks before it
    min_baseline_weeks: int = 2  # ...and needs at least this many of them inside the data
    knowledge_weeks: int = 8  # knowledge at risk looks back this far
    answer_within_hours: float = 24.0  # later than this, a question was answered late
    handoff_lookahead_days: int = 28  # outgoing people graduating this soon are due a handoff
    handoff_crammed_days: int = 7  # a handoff this close to graduation came late
    min_interfaces: int = 20  # interfaces touching the module in the window
    min_answered_questions: int = 5  # actor autonomy
    min_requests: int = 8  # temporal misalignment: decidable questions + tasks due
    min_tasks: int = 5  # emergent outputs: active tasks
    min_knowledge_messages: int = 5  # codified share, knowledge at risk
    min_dependency_tasks: int = 3  # integration cost's task components
    min_program_teams: int = 2  # program values need this many teams with data
    louvain_seed: int = 7

    @property
    def trend_weeks(self) -> int:
        """Weeks of weekly weights coupling degradation reads: baseline, then window."""
        return self.window_weeks + self.baseline_weeks

    @property
    def lookback_weeks(self) -> int:
        """Weeks before a week whose data can change that week's results."""
        return max(self.window_weeks + self.baseline_weeks, self.knowledge_weeks) - 1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:16]


class NDASettings(BaseSettings):
    """``FRAMES_NDA_*`` settings of the engine's process pool."""

    model_config = SettingsConfigDict(env_prefix="FRAMES_NDA_", env_file=".env", extra="ignore")

    workers: int | None = Field(default=None, ge=1, description="pool size; default: CPU count")
    pseudonym_salt: str | None = Field(
        default=None, description="salt for --pseudonymise; unset: a fresh salt per report"
    )
