"""The NDA engine at program scale, against igraph's own time on the same graph, in one run.

    python benchmarks/nda.py [--people 1000] [--interfaces 1000000] [--weeks 16] [--seed 1]

1. starts a fresh embedded PostgreSQL, migrates it, and builds a program: 1,000 people in
   50 teams at 8 universities, ~400k messages (questions, answers with their reply links,
   documentation), 1,000,000 Discord interfaces over 16 weeks (80% inside a team), and 2,000
   project-tool tasks with events and dependencies (COPY; not timed);
2. times a full ``frames nda run`` as a user runs it (a subprocess against that server);
3. aggregates every interface into one person graph (the same graph for both sides) and
   times igraph's own PageRank, exact betweenness, Louvain and clustering on it, then our
   engine's (``core.nda.measures.FAST``, graph building included) on the same edges;
4. prints the figures and their ratio. Targets: the run under 30 s; ours ≤ 1.5 × igraph's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import igraph as ig
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.db.embedded import EmbeddedPostgres
from core.db.engine import open_database
from core.nda.graph import WeightedGraph, aggregate_edges
from core.nda.measures import FAST
from core.settings import Settings

START = dt.datetime(2026, 8, 24, tzinfo=dt.UTC)  # a Monday
TEAMS, UNIVERSITIES = 50, 8
KTS = {"reply": 0.8, "mention": 0.5, "thread": 0.4, "reaction": 0.15}


def moments(rng: np.random.Generator, count: int, weeks: int) -> np.ndarray:
    """Seconds since START: uniform days, daytime hours (students work 9 am to midnight)."""
    days = rng.integers(0, weeks * 7, count)
    return days * 86_400 + rng.integers(9 * 3600, 24 * 3600, count)


def stamp(seconds: np.ndarray) -> list[dt.datetime]:
    return [START + dt.timedelta(seconds=int(s)) for s in seconds]


async def build_program(url: str, people: int, interfaces: int, weeks: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    team_of = np.arange(people) % TEAMS
    university_of = team_of % UNIVERSITIES
    person_ids = [f"p{i:05d}" for i in range(people)]
    discord = 10**17 + np.arange(people, dtype=np.int64)
    faculty = np.zeros(people, dtype=bool)
    faculty[:TEAMS] = True  # the first person of each team advises it
    members = [np.flatnonzero(team_of == t) for t in range(TEAMS)]
    same_university = [np.flatnonzero(university_of == u) for u in range(UNIVERSITIES)]

    def partners(authors: np.ndarray) -> np.ndarray:
        """80% a teammate, 10% someone at the same university, 10% anyone."""
        draw = rng.random(len(authors))
        result = rng.integers(0, people, len(authors))
        for t in range(TEAMS):
            mine = (team_of[authors] == t) & (draw < 0.8)
            result[mine] = rng.choice(members[t], int(mine.sum()))
        for u in range(UNIVERSITIES):
            mine = (university_of[authors] == u) & (draw >= 0.8) & (draw < 0.9)
            result[mine] = rng.choice(same_university[u], int(mine.sum()))
        return result

    # Messages: questions, answers replying to them, documentation and the rest.
    questions = int(interfaces * 0.12)
    q_author = rng.integers(0, people, questions)
    q_time = moments(rng, questions, weeks)
    answered = rng.random(questions) < 0.85
    a_author = partners(q_author[answered])
    a_time = q_time[answered] + rng.lognormal(np.log(3 * 3600), 1.2, int(answered.sum())).astype(
        np.int64
    )
    others = int(interfaces * 0.18)
    o_author = rng.integers(0, people, others)
    o_time = moments(rng, others, weeks)
    o_type = np.where(rng.random(others) < 0.15, "documentation", "other")
    q_ids = 10**15 + np.arange(questions, dtype=np.int64)
    a_ids = q_ids[-1] + 1 + np.arange(int(answered.sum()), dtype=np.int64)
    o_ids = a_ids[-1] + 1 + np.arange(others, dtype=np.int64)
    message_ids = np.concatenate([q_ids, a_ids, o_ids])
    message_author = np.concatenate([q_author, a_author, o_author])
    message_time = np.concatenate([q_time, a_time, o_time])
    message_type = np.concatenate(
        [np.full(questions, "question"), np.full(len(a_ids), "answer"), o_type]
    )
    reference = np.concatenate(
        [np.zeros(questions, np.int64), q_ids[answered], np.zeros(others, np.int64)]
    )
    keep = message_time < weeks * 7 * 86_400
    message_ids, message_author, message_time = (
        message_ids[keep],
        message_author[keep],
        message_time[keep],
    )
    message_type, reference = message_type[keep], reference[keep]

    # Interfaces: a reply per answer, then mentions, thread co-participation and reactions
    # on random messages until there are ``interfaces`` distinct ones.
    is_answer = (message_type == "answer") & (reference > 0)
    asker = dict(zip(q_ids.tolist(), q_author.tolist(), strict=True))
    rows: dict[tuple[str, int, int, int], tuple[int, float]] = {}
    for mid, author, when, ref in zip(
        message_ids[is_answer].tolist(),
        message_author[is_answer].tolist(),
        message_time[is_answer].tolist(),
        reference[is_answer].tolist(),
        strict=True,
    ):
        rows[("reply", mid, author, asker[ref])] = (when, 1.0)
    while len(rows) < interfaces:
        count = int((interfaces - len(rows)) * 1.1) + 10
        pick = rng.integers(0, len(message_ids), count)
        kinds = rng.choice(["mention", "thread", "reaction"], count, p=[0.45, 0.35, 0.2])
        targets = partners(message_author[pick])
        for index, kind, target in zip(
            pick.tolist(), kinds.tolist(), targets.tolist(), strict=True
        ):
            author = int(message_author[index])
            if target == author:
                continue
            src, dst = (target, author) if kind == "reaction" else (author, target)
            weight = 0.5 if kind == "reaction" else 1.0
            rows.setdefault(
                (kind, int(message_ids[index]), src, dst), (int(message_time[index]), weight)
            )
            if len(rows) >= interfaces:
                break

    connection = await asyncpg.connect(url)
    try:
        await connection.executemany(
            "INSERT INTO universities (id, name) VALUES ($1, $2)",
            [(f"u{u}", f"University {u}") for u in range(UNIVERSITIES)],
        )
        await connection.execute(
            "INSERT INTO programs (id, name) VALUES ('bench', 'Benchmark program')"
        )
        terms = [
            ("2026-fall", dt.date(2026, 8, 24), dt.date(2026, 12, 11)),
            ("2027-spring", dt.date(2027, 1, 18), dt.date(2027, 5, 7)),
            ("2027-fall", dt.date(2027, 8, 23), dt.date(2027, 12, 10)),
            ("2028-spring", dt.date(2028, 1, 17), dt.date(2028, 5, 5)),
        ]
        await connection.executemany(
            "INSERT INTO academic_terms (university_id, name, starts_on, ends_on) "
            "VALUES ($1, $2, $3, $4)",
            [(f"u{u}", *term) for u in range(UNIVERSITIES) for term in terms],
        )
        await connection.executemany(
            "INSERT INTO teams (id, name, university_id, program_id, discipline) "
            "VALUES ($1, $2, $3, 'bench', $4)",
            [
                (f"t{t:02d}", f"Team {t}", f"u{t % UNIVERSITIES}", f"discipline {t % 6}")
                for t in range(TEAMS)
            ],
        )
        stages = rng.choice(["incoming", "established", "outgoing"], people, p=[0.3, 0.45, 0.25])
        await connection.copy_records_to_table(
            "people",
            columns=[
                "id",
                "university_id",
                "display_name",
                "role",
                "lifecycle",
                "graduation_term",
                "discipline",
            ],
            records=[
                (
                    person_ids[i],
                    f"u{university_of[i]}",
                    f"Person {i}",
                    "faculty" if faculty[i] else "student",
                    None if faculty[i] else str(stages[i]),
                    None
                    if faculty[i]
                    else ("2026-fall" if stages[i] == "outgoing" else "2028-spring"),
                    f"discipline {team_of[i] % 6}",
                )
                for i in range(people)
            ],
        )
        await connection.copy_records_to_table(
            "team_memberships",
            columns=["team_id", "person_id", "university_id", "role"],
            records=[
                (
                    f"t{team_of[i]:02d}",
                    person_ids[i],
                    f"u{university_of[i]}",
                    "advisor" if faculty[i] else "member",
                )
                for i in range(people)
            ],
        )
        await connection.copy_records_to_table(
            "identities",
            columns=["provider", "external_id", "person_id", "university_id"],
            records=[
                ("discord", str(discord[i]), person_ids[i], f"u{university_of[i]}")
                for i in range(people)
            ],
        )
        await connection.copy_records_to_table(
            "discord_messages",
            columns=[
                "id",
                "channel_id",
                "author_id",
                "timestamp",
                "university_id",
                "team_id",
                "message_type",
                "reference_id",
                "guild_id",
            ],
            records=[
                (
                    int(mid),
                    1000 + int(team_of[a]),
                    int(discord[a]),
                    when,
                    f"u{university_of[a]}",
                    f"t{team_of[a]:02d}",
                    str(kind),
                    int(ref) or None,
                    1,
                )
                for mid, a, when, kind, ref in zip(
                    message_ids,
                    message_author,
                    stamp(message_time),
                    message_type,
                    reference,
                    strict=True,
                )
            ],
        )
        ordered = list(rows.items())
        await connection.copy_records_to_table(
            "discord_interfaces",
            columns=[
                "from_user_id",
                "to_user_id",
                "interaction_type",
                "knowledge_transfer_score",
                "timestamp",
                "message_ids",
                "source_message_id",
                "university_id",
                "team_id",
                "weight",
                "confidence",
            ],
            records=[
                (
                    int(discord[src]),
                    int(discord[dst]),
                    kind,
                    KTS[kind],
                    START + dt.timedelta(seconds=when),
                    [mid],
                    mid,
                    f"u{university_of[src]}",
                    f"t{team_of[src]:02d}",
                    weight,
                    1.0,
                )
                for (kind, mid, src, dst), (when, weight) in ordered
            ],
        )
        tasks = 2000
        task_team = rng.integers(0, TEAMS, tasks)
        created = moments(rng, tasks, weeks)
        done = rng.random(tasks) < 0.6
        await connection.copy_records_to_table(
            "pm_tasks",
            columns=[
                "id",
                "title",
                "assigned_to",
                "status",
                "created_at",
                "completed_at",
                "due_at",
                "source",
                "team_id",
                "university_id",
            ],
            records=[
                (
                    f"task-{i}",
                    f"Task {i}",
                    [f"person:{person_ids[rng.choice(members[task_team[i]])]}"]
                    if rng.random() < 0.9
                    else [],
                    "done" if done[i] else "in_progress",
                    START + dt.timedelta(seconds=int(created[i])),
                    START + dt.timedelta(seconds=int(created[i]) + 86_400 * 10)
                    if done[i]
                    else None,
                    START + dt.timedelta(seconds=int(created[i]) + 86_400 * 14),
                    "github",
                    f"t{task_team[i]:02d}",
                    f"u{task_team[i] % UNIVERSITIES}",
                )
                for i in range(tasks)
            ],
        )
        events = rng.integers(0, tasks, 6000)
        kinds = rng.choice(["commented", "reassigned", "status_changed"], 6000, p=[0.6, 0.2, 0.2])
        await connection.copy_records_to_table(
            "pm_task_events",
            columns=[
                "task_id",
                "event_type",
                "from_value",
                "to_value",
                "occurred_at",
                "dedupe_key",
            ],
            records=[
                (
                    f"task-{t}",
                    str(kind),
                    "done" if kind == "status_changed" else None,
                    "in_progress" if kind == "status_changed" else None,
                    START + dt.timedelta(seconds=int(created[t]) + 3600 * (1 + n % 200)),
                    f"e{n}",
                )
                for n, (t, kind) in enumerate(zip(events.tolist(), kinds.tolist(), strict=True))
            ],
        )
        pairs = {(int(a), int(b)) for a, b in rng.integers(0, tasks, (600, 2)) if a != b}
        await connection.copy_records_to_table(
            "pm_task_dependencies",
            columns=["task_id", "depends_on_task_id", "kind"],
            records=[(f"task-{a}", f"task-{b}", "blocks") for a, b in sorted(pairs)],
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def person_graph(url: str) -> WeightedGraph:
    """Every interface summed per (from, to) person pair: the aggregated person graph."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT from_person_id, to_person_id, "
            "sum(weight * knowledge_transfer_score) FROM interfaces "
            "WHERE from_person_id IS NOT NULL AND to_person_id IS NOT NULL GROUP BY 1, 2"
        )
    finally:
        await connection.close()
    labels = sorted({r[0] for r in rows} | {r[1] for r in rows})
    index = {label: i for i, label in enumerate(labels)}
    src = np.array([index[r[0]] for r in rows])
    dst = np.array([index[r[1]] for r in rows])
    return aggregate_edges(labels, src, dst, np.array([float(r[2]) for r in rows]))


def best_of(repeats: int, work: object) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def igraph_chain(graph: WeightedGraph) -> dict[str, float]:
    """igraph's own calls with its defaults, on a graph built beforehand (not timed)."""
    g = ig.Graph(
        n=graph.n,
        edges=list(zip(graph.src.tolist(), graph.dst.tolist(), strict=True)),
        directed=True,
    )
    g.es["weight"] = graph.weight.tolist()
    distances = (1.0 / graph.weight).tolist()
    undirected = g.as_undirected(mode="collapse", combine_edges="sum")
    simple = g.as_undirected(mode="collapse")
    return {
        "pagerank": best_of(3, lambda: g.pagerank(directed=True, damping=0.85, weights="weight")),
        "betweenness": best_of(3, lambda: g.betweenness(directed=True, weights=distances)),
        "louvain": best_of(3, lambda: undirected.community_multilevel(weights="weight")),
        "clustering": best_of(3, lambda: simple.transitivity_local_undirected(mode="zero")),
    }


def our_chain(graph: WeightedGraph) -> dict[str, float]:
    """The engine's functions on the same edges; building its igraph graph is timed apart."""
    g = graph.to_igraph()
    return {
        "graph building": best_of(3, graph.to_igraph),
        "pagerank": best_of(3, lambda: FAST.pagerank(g)),
        "betweenness": best_of(3, lambda: FAST.betweenness(g, graph)),
        # Louvain builds its own undirected graph from the edges, as in the engine.
        "louvain": best_of(3, lambda: FAST.louvain(graph)),
        "clustering": best_of(3, lambda: FAST.clustering(g)),
    }


async def forget_results(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "TRUNCATE nda_reports, nda_week_states, nda_runs, activity_metrics, engagement_scores"
        )
    finally:
        await connection.close()


async def run_stats(url: str) -> dict[str, object]:
    connection = await asyncpg.connect(url)
    try:
        stats = await connection.fetchval(
            "SELECT stats FROM nda_runs ORDER BY started_at DESC LIMIT 1"
        )
    finally:
        await connection.close()
    return json.loads(stats) if isinstance(stats, str) else dict(stats or {})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--interfaces", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="Keep the database here and reuse it next time.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="frames-nda-bench-") as scratch:
        tmp = str(args.keep or scratch)
        reuse = args.keep is not None and (Path(tmp) / "pgdata").exists()
        server = EmbeddedPostgres(Path(tmp) / "pgdata")
        url = server.start()
        try:
            settings = Settings(DATABASE_URL=url, data_dir=Path(tmp))  # type: ignore[call-arg]

            async def migrate() -> None:
                async with open_database(settings, migrate=True):
                    pass

            asyncio.run(migrate())
            if reuse:
                asyncio.run(forget_results(url))
                print(f"reusing the program in {tmp} (results of earlier runs removed)")
            else:
                started = time.perf_counter()
                asyncio.run(build_program(url, args.people, args.interfaces, args.weeks, args.seed))
                print(
                    f"built {args.people:,} people, {args.interfaces:,} interfaces over "
                    f"{args.weeks} weeks in {time.perf_counter() - started:.1f} s (not timed below)"
                )

            env = os.environ | {
                "DATABASE_URL": url,
                "FRAMES_DATA_DIR": tmp,
                "FRAMES_LOG_LEVEL": "WARNING",
            }
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "bot.cli", "nda", "run"],
                env=env,
                capture_output=True,
                text=True,
                cwd=Path(__file__).resolve().parents[1],
                check=False,
            )
            run_seconds = time.perf_counter() - started
            if result.returncode != 0:
                sys.exit(f"frames nda run failed:\n{result.stderr}")
            print(result.stdout.strip())
            stats = asyncio.run(run_stats(url))

            graph = asyncio.run(person_graph(url))
            theirs = igraph_chain(graph)
            ours = our_chain(graph)
        finally:
            server.stop()

    print()
    print(
        f"full `frames nda run`: {run_seconds:.1f} s (target < 30 s); phases: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in dict(stats.get("seconds", {})).items())
    )
    print(
        "  worker time by part (all weeks): "
        + ", ".join(f"{k} {v:.1f} s" for k, v in dict(stats.get("worker_seconds", {})).items())
    )
    print()
    print(f"aggregated person graph: {graph.n:,} people, {graph.m:,} weighted edges (best of 3)")
    print(f"{'measure':<16}{'igraph':>10}{'ours':>10}{'ratio':>8}")
    for name in theirs:
        print(
            f"{name:<16}{theirs[name]:>9.3f}s{ours[name]:>9.3f}s{ours[name] / theirs[name]:>8.2f}"
        )
    print(f"{'graph building':<16}{'(untimed)':>10}{ours['graph building']:>9.3f}s")
    total_theirs, total_ours = sum(theirs.values()), sum(ours.values())
    print(
        f"{'all four':<16}{total_theirs:>9.3f}s{total_ours:>9.3f}s{total_ours / total_theirs:>8.2f}"
        "   (ours with graph building; target ≤ 1.5)"
    )


if __name__ == "__main__":
    main()
