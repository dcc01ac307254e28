"""Module facts: the counts and weights each dimension's formula reads (vectorised)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from core.nda.context import KNOWLEDGE_TYPES, Modules, WeekContext
from core.nda.dimensions import ModuleFacts
from core.nda.graph import position
from core.nda.lifecycle import knowledge_by_module
from core.nda.tasks import task_windows

HANDOFF = "handoff"


def touching(ms: np.ndarray, md: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """Per module, the sum of ``values`` of rows with at least one end in it (once per row)."""
    first = np.bincount(ms[ms >= 0], weights=values[ms >= 0], minlength=k)
    other = (md >= 0) & (md != ms)
    return first + np.bincount(md[other], weights=values[other], minlength=k)


def module_facts(ctx: WeekContext, modules: Modules) -> list[ModuleFacts]:
    ds, k = ctx.ds, modules.k
    facts = [ModuleFacts(label) for label in modules.labels]
    members = np.bincount(modules.person_module[modules.person_module >= 0], minlength=k)

    # Interfaces in the window: internal and external weight, counts.
    rows = ctx.window_rows
    ms, md = modules.of_rows(rows, ds)
    weight = rows["weight"].to_numpy(float)
    ones = np.ones(len(rows))
    inside = (ms == md) & (ms >= 0)
    internal = np.bincount(ms[inside], weights=weight[inside], minlength=k)
    total = touching(ms, md, weight, k)
    count = touching(ms, md, ones, k)
    cross_count = touching(np.where(inside, -1, ms), np.where(inside, -1, md), ones, k)

    _questions(ctx, modules, facts)
    _knowledge(ctx, modules, facts)
    _trend(ctx, modules, facts)
    _handoffs(ctx, modules, facts)
    _tasks(ctx, modules, facts)
    for i, f in enumerate(facts):
        f.members = int(members[i])
        f.interfaces = int(count[i])
        f.cross_interfaces = int(cross_count[i])
        f.weight_internal = float(internal[i])
        f.weight_external = float(total[i] - internal[i])
    return facts


def _questions(ctx: WeekContext, modules: Modules, facts: list[ModuleFacts]) -> None:
    q = ctx.window_questions
    if q.empty:
        return
    pm, k = modules.person_module, modules.k
    end = pd.Timestamp(ctx.end)
    asker_module = pm[q["asker"].to_numpy(np.int64)]
    asker_student = ctx.students[q["asker"].to_numpy(np.int64)]
    answerer = q["answerer"].to_numpy(np.int64)
    has_answer = (answerer >= 0) & (q["answered_at"] < end).fillna(False).to_numpy(bool)
    answerer_safe = np.maximum(answerer, 0)
    answerer_module = np.where(has_answer, pm[answerer_safe], -2)
    internal = has_answer & (answerer_module == asker_module) & ctx.students[answerer_safe]
    by_faculty = has_answer & ctx.faculty[answerer_safe]
    own = (asker_module >= 0) & asker_student
    answered = np.bincount(asker_module[own & has_answer], minlength=k)
    answered_inside = np.bincount(asker_module[own & internal], minlength=k)
    answered_faculty = np.bincount(asker_module[own & by_faculty], minlength=k)

    # Timing: questions asked by the module's people or in its channel, old enough to judge.
    decidable = (q["ts"] < end - pd.Timedelta(hours=ctx.params.answer_within_hours)).to_numpy(bool)
    latency = q["latency_hours"].to_numpy(float)
    on_time = has_answer & (latency <= ctx.params.answer_within_hours)
    channel_module = np.full(len(q), -1, dtype=np.int64)
    if modules.level == "team":
        codes = q["channel_team"].to_numpy(np.int64)
        channel_module = np.where(codes >= 0, modules.team_module[np.maximum(codes, 0)], -1)
    for i, f in enumerate(facts):
        f.answered_questions = int(answered[i])
        f.answered_internally = int(answered_inside[i])
        f.answered_by_faculty = int(answered_faculty[i])
    mine_any = (asker_module >= 0) | (channel_module >= 0)
    if not mine_any.any():
        return
    for i, f in enumerate(facts):
        mine = ((asker_module == i) | (channel_module == i)) & decidable
        if not mine.any():
            continue
        f.decidable_questions = int(mine.sum())
        f.late_questions = int((mine & ~on_time).sum())
        answered_latency = latency[mine & has_answer]
        if len(answered_latency):
            f.median_latency_hours = float(np.median(answered_latency))


def _knowledge(ctx: WeekContext, modules: Modules, facts: list[ModuleFacts]) -> None:
    """Answers and documentation: codified share (window), knowledge at risk (longer)."""
    pm = modules.person_module
    recent = ctx.messages(ctx.window_start, KNOWLEDGE_TYPES)
    module_of = pm[recent["author"].to_numpy(np.int64)]
    is_doc = (recent["message_type"] == "documentation").to_numpy()
    knowledge = np.bincount(module_of[module_of >= 0], minlength=modules.k)
    docs = np.bincount(module_of[(module_of >= 0) & is_doc], minlength=modules.k)
    longer = ctx.messages(ctx.knowledge_start, KNOWLEDGE_TYPES)
    authors = longer["author"].to_numpy(np.int64)
    at_risk = knowledge_by_module(
        pm[authors],
        authors,
        longer["topic"].to_numpy(np.int64),
        (longer["message_type"] == "answer").to_numpy(),
        ctx.outgoing,
        modules.k,
    )
    for i, f in enumerate(facts):
        f.knowledge_messages = int(knowledge[i])
        f.documentation_messages = int(docs[i])
        f.knowledge = at_risk[i]


def _trend(ctx: WeekContext, modules: Modules, facts: list[ModuleFacts]) -> None:
    """Weekly weights over the trend weeks, and ties gone silent since the previous window."""
    k, ds = modules.k, ctx.ds
    starts = ctx.trend_week_starts()
    rows = ctx.trend_rows
    ms, md = modules.of_rows(rows, ds)
    weight = rows["weight"].to_numpy(float)
    ts = rows["ts"]
    series = np.zeros((k, len(starts)))
    counts = np.zeros(k)
    for column, start in enumerate(starts):
        lo, hi = position(ts, start), position(ts, start + dt.timedelta(weeks=1))
        series[:, column] = touching(ms[lo:hi], md[lo:hi], weight[lo:hi], k)
        counts += touching(ms[lo:hi], md[lo:hi], np.ones(hi - lo), k)
    # Silent ties: person pairs with weight in the previous window and none in this one.
    previous_keys, previous_weights = ctx.previous_pairs
    current_keys, _ = ctx.window_pairs
    people = len(modules.person_module)
    low, high = previous_keys // people, previous_keys % people
    ml, mh = modules.person_module[low], modules.person_module[high]
    silent = ~np.isin(previous_keys, current_keys, assume_unique=True)
    previous_total = touching(ml, mh, previous_weights, k)
    silent_total = touching(ml, mh, previous_weights * silent, k)
    previous_ok = ctx.ds.data_start is None or ctx.previous_start.date() >= ctx.ds.data_start
    for i, f in enumerate(facts):
        f.weekly_weight = series[i].tolist()
        f.trend_interfaces = int(counts[i])
        if previous_ok:
            f.previous_weight = float(previous_total[i])
            f.silent_weight = float(silent_total[i])


def _handoffs(ctx: WeekContext, modules: Modules, facts: list[ModuleFacts]) -> None:
    """Outgoing people graduating soon, whether they handed off, and how late."""
    p = ctx.params
    graduation = ctx.graduation
    soon = ctx.on + pd.Timedelta(days=p.handoff_lookahead_days)
    due = np.array(
        [
            bool(out) and g is not None and ctx.window_start.date() <= g <= soon
            for out, g in zip(ctx.outgoing, graduation, strict=True)
        ],
        dtype=bool,
    )
    if not due.any():
        return
    # Handoff events: handoff messages, and handoff interfaces from project tools or logged
    # by hand (Discord handoff interfaces come from those same messages: not counted twice).
    messages = ctx.messages(ctx.knowledge_start, (HANDOFF,))
    rows = ctx.rows(ctx.knowledge_start, ctx.end)
    tool_rows = rows[(rows["interface_type"] == HANDOFF) & (rows["source"] != "discord")]
    staying_target = np.where(
        tool_rows["dst"].to_numpy(np.int64) >= 0,
        ~ctx.outgoing[np.maximum(tool_rows["dst"].to_numpy(np.int64), 0)],
        True,
    )
    tool_rows = tool_rows[staying_target]
    events = pd.DataFrame(
        {
            "person": np.concatenate(
                [messages["author"].to_numpy(np.int64), tool_rows["src"].to_numpy(np.int64)]
            ),
            "ts": pd.concat([messages["ts"], tool_rows["ts"]], ignore_index=True),
        }
    )
    events = events[due[events["person"].to_numpy(np.int64)]]
    covered_people = set(events["person"].tolist())
    grad = pd.to_datetime(
        pd.Series(graduation[events["person"].to_numpy(np.int64)], dtype=object), utc=True
    )
    # Graduation day counts whole: a handoff on it is 0 days before, not negative.
    last_moment = grad.reset_index(drop=True) + pd.Timedelta(days=1)
    days_before = (last_moment - events["ts"].reset_index(drop=True)).dt.total_seconds() / 86400
    crammed = (days_before < p.handoff_crammed_days + 1).to_numpy(bool)
    event_module = modules.person_module[events["person"].to_numpy(np.int64)]
    for i, f in enumerate(facts):
        mine = (modules.person_module == i) & due
        f.handoffs_due = int(mine.sum())
        f.handoffs_covered = sum(1 for person in np.flatnonzero(mine) if person in covered_people)
        f.handoffs = int((event_module == i).sum())
        f.handoffs_crammed = int(((event_module == i) & crammed).sum())


def _tasks(ctx: WeekContext, modules: Modules, facts: list[ModuleFacts]) -> None:
    ds = ctx.ds
    if ds.tasks.empty:
        return
    codes = ds.tasks["team_id"].map(ds.team_code).fillna(-1).to_numpy(np.int64)
    task_module = np.where(codes >= 0, modules.team_module[np.maximum(codes, 0)], -1)
    windows = task_windows(
        ds.tasks,
        ds.task_events,
        ds.task_dependencies,
        task_module,
        modules.labels,
        ctx.window_start,
        ctx.end,
        ctx.talked,
    )
    for f in facts:
        f.tasks = windows.get(f.module)
