"""One week's view of the dataset: its windows, memberships, stages and modules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from core.nda.dataset import NDADataset
from core.nda.graph import InterfaceFilter, select_interfaces
from core.nda.lifecycle import graduation_dates, stages
from core.nda.params import NDAParameters
from core.nda.weeks import week_bounds

ModuleLevel = Literal["team", "university"]
KNOWLEDGE_TYPES = ("answer", "documentation")


@dataclass(frozen=True)
class Modules:
    """The modules of one level: labels, and the module index of each person and team."""

    level: ModuleLevel
    labels: list[str]
    person_module: np.ndarray  # by person code; -1: in no module of this level
    team_module: np.ndarray  # by team code
    university: list[str | None]  # each module's university (itself, for universities)

    @property
    def k(self) -> int:
        return len(self.labels)

    def of_rows(self, rows: pd.DataFrame, ds: NDADataset) -> tuple[np.ndarray, np.ndarray]:
        """Module of each interface's source and target (team-targeted ends included)."""
        src = rows["src"].to_numpy(np.int64)
        dst = rows["dst"].to_numpy(np.int64)
        ms = self.person_module[src]
        md = np.where(dst >= 0, self.person_module[np.maximum(dst, 0)], -1)
        if (dst < 0).any():
            codes = rows["to_team"].to_numpy(np.int64)
            team_target = (dst < 0) & (codes >= 0)
            md = np.where(team_target, self.team_module[np.maximum(codes, 0)], md)
        return ms, md


class WeekContext:
    """Everything one week's computation reads, built once per week in a worker."""

    def __init__(
        self, ds: NDADataset, week_start: dt.date, params: NDAParameters, questions: pd.DataFrame
    ) -> None:
        self.ds = ds
        self.params = params
        self.week_start = week_start
        self.start, self.end = week_bounds(week_start)
        weeks = dt.timedelta(weeks=1)
        self.window_start = self.end - params.window_weeks * weeks
        self.previous_start = self.window_start - params.window_weeks * weeks
        self.trend_start = self.end - params.trend_weeks * weeks
        self.knowledge_start = self.end - params.knowledge_weeks * weeks
        self.on = (self.end - dt.timedelta(days=1)).date()
        self.all_questions = questions

    def rows(self, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
        return select_interfaces(self.ds.interfaces, InterfaceFilter(start, end))

    @cached_property
    def week_rows(self) -> pd.DataFrame:
        return self.rows(self.start, self.end)

    @cached_property
    def window_rows(self) -> pd.DataFrame:
        return self.rows(self.window_start, self.end)

    @cached_property
    def previous_rows(self) -> pd.DataFrame:
        return self.rows(self.previous_start, self.window_start)

    @cached_property
    def trend_rows(self) -> pd.DataFrame:
        return self.rows(self.trend_start, self.end)

    def _pairs(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Unordered person pairs of ``rows`` as sorted keys (low · n + high), and their weight."""
        person = rows["dst"].to_numpy() >= 0
        src = rows["src"].to_numpy(np.int64)[person]
        dst = rows["dst"].to_numpy(np.int64)[person]
        n = len(self.ds.people)
        keys, inverse = np.unique(
            np.minimum(src, dst) * n + np.maximum(src, dst), return_inverse=True
        )
        return keys, np.bincount(
            inverse, weights=rows["weight"].to_numpy(float)[person], minlength=len(keys)
        )

    @cached_property
    def window_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        return self._pairs(self.window_rows)

    @cached_property
    def talked(self) -> set[tuple[int, int]]:
        """Unordered person pairs (low, high) with an interface in the window."""
        keys, _ = self.window_pairs
        n = len(self.ds.people)
        return set(zip((keys // n).tolist(), (keys % n).tolist(), strict=True))

    @cached_property
    def previous_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        return self._pairs(self.previous_rows)

    @cached_property
    def person_team(self) -> np.ndarray:
        return self.ds.person_teams(self.on)

    @cached_property
    def stage(self) -> np.ndarray:
        return stages(self.ds, self.on)

    @cached_property
    def outgoing(self) -> np.ndarray:
        return np.asarray(self.stage == "outgoing", dtype=bool)

    @cached_property
    def students(self) -> np.ndarray:
        return self.ds.is_student()

    @cached_property
    def faculty(self) -> np.ndarray:
        return self.ds.is_faculty()

    @cached_property
    def graduation(self) -> np.ndarray:
        return graduation_dates(self.ds)

    @cached_property
    def window_questions(self) -> pd.DataFrame:
        q = self.all_questions
        ts = q["ts"]
        return q[(ts >= pd.Timestamp(self.window_start)) & (ts < pd.Timestamp(self.end))]

    def messages(self, start: dt.datetime, types: tuple[str, ...]) -> pd.DataFrame:
        m = self.ds.messages
        ts = m["ts"]
        chosen = (ts >= pd.Timestamp(start)) & (ts < pd.Timestamp(self.end))
        return m[chosen & m["message_type"].isin(types)]

    def trend_week_starts(self) -> list[dt.datetime]:
        """Starts of the baseline and window weeks inside the captured data, oldest first."""
        first = self.ds.data_start
        starts = []
        for back in range(self.params.trend_weeks - 1, -1, -1):
            start = self.start - dt.timedelta(weeks=back)
            if first is None or start.date() >= first:
                starts.append(start)
        return starts

    @cached_property
    def teams(self) -> Modules:
        ds = self.ds
        universities = ds.teams["university_id"].tolist()
        return Modules(
            "team",
            ds.teams["team_id"].tolist(),
            self.person_team,
            np.arange(len(ds.teams), dtype=np.int64),
            universities,
        )

    @cached_property
    def universities(self) -> Modules:
        ds = self.ds
        labels = sorted(
            set(ds.people["university_id"].dropna()) | set(ds.teams["university_id"].dropna())
        )
        index = {u: i for i, u in enumerate(labels)}
        return Modules(
            "university",
            labels,
            ds.people["university_id"].map(index).fillna(-1).to_numpy(np.int64),
            ds.teams["university_id"].map(index).fillna(-1).to_numpy(np.int64),
            list(labels),
        )
